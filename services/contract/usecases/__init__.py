"""Event types per use case, one module each; :mod:`services.contract.registry` lists them."""

"""HTTP API of the central service: ``create_app(settings)`` in ``app.py``."""

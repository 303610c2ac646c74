"""API keys: scopes, principals, creation and lookup."""

from services.central.auth.keys import (
    CreatedKey,
    KeyRequestError,
    Principal,
    Scope,
    authenticate,
    create_key,
    parse_scopes,
    revoke_key,
)

__all__ = [
    "CreatedKey", "KeyRequestError", "Principal", "Scope", "authenticate", "create_key", "parse_scopes", "revoke_key",
]

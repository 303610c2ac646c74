"""Password hashing with argon2id (argon2-cffi's defaults: RFC 9106 low-memory profile).

>>> h = hash_password("correct horse battery staple")
>>> h.startswith("$argon2id$"), verify_password(h, "correct horse battery staple"), verify_password(h, "wrong")
(True, True, False)
>>> check_strength("short")
Traceback (most recent call last):
...
ValueError: password must be at least 10 characters (got 5)
"""

from __future__ import annotations

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

MIN_LENGTH = 10
MAX_LENGTH = 1024  # argon2 takes any length; a cap keeps a huge form field from costing much

_hasher = PasswordHasher()
# Verified when the name is unknown, so a wrong name costs as long as a wrong password and the
# response time does not tell which names exist.
_DUMMY_HASH = _hasher.hash("not a real password: equalises timing for unknown names")


def check_strength(password: str) -> None:
    """Raise ValueError naming the rule a new password breaks."""
    if len(password) < MIN_LENGTH:
        raise ValueError(f"password must be at least {MIN_LENGTH} characters (got {len(password)})")
    if len(password) > MAX_LENGTH:
        raise ValueError(f"password must be at most {MAX_LENGTH} characters")


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(password_hash: str, password: str) -> bool:
    """True when ``password`` matches; never raises for a wrong or malformed input."""
    if len(password) > MAX_LENGTH:
        return False
    try:
        return _hasher.verify(password_hash, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def burn_time(password: str) -> None:
    """Spend one verification's time (for unknown or disabled accounts)."""
    verify_password(_DUMMY_HASH, password[:MAX_LENGTH])


def needs_rehash(password_hash: str) -> bool:
    return _hasher.check_needs_rehash(password_hash)

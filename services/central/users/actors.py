"""How people appear in the audit chain and on review decisions: ``user:<id>``, never a name.

Names are personal data and stay in the ``users`` table, so erasing an account never breaks the chain.
"""

from __future__ import annotations


def actor_of(user_id: int) -> str:
    """How a user appears as the actor of audit entries and review decisions.

    >>> actor_of(7)
    'user:7'
    """
    return f"user:{user_id}"


def user_id_of(actor: str) -> int | None:
    """The user id inside an actor string, or None for API keys and the system.

    >>> user_id_of("user:7"), user_id_of("edge-tokyo-01"), user_id_of("user:x")
    (7, None, None)
    """
    if actor.startswith("user:") and actor[5:].isdigit():
        return int(actor[5:])
    return None

"""Hash-chained, append-only audit log: :func:`append` in the same transaction as the change,
:func:`verify` to detect edited, deleted or reordered entries."""

from services.central.audit.chain import GENESIS_HASH, VerifyResult, append, entry_hash, lock, verify

__all__ = ["GENESIS_HASH", "VerifyResult", "append", "entry_hash", "lock", "verify"]

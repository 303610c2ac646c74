"""Envelope encryption of face templates (AES-256-GCM, ``cryptography``).

Each member has a random 256-bit data key. The template (float32 embeddings) is encrypted with it,
with the member id as associated data (a ciphertext moved to another member does not decrypt).
The data key is stored only wrapped by the store master key (again AES-GCM, AAD = member id).
Deleting the wrapped key makes the template unrecoverable: crypto-shredding.

The master key comes from ``ANSHIN_CHECKOUT_MASTER_KEY`` (url-safe base64 of 32 bytes; ``anshin
secrets generate`` writes one).

>>> master = new_master_key()
>>> sealed = seal_template(master, "m_1", np.ones((2, 128), np.float32))
>>> open_template(master, "m_1", sealed).shape
(2, 128)
>>> try:
...     open_template(master, "m_2", sealed)
... except TemplateUnavailable as e:
...     print(e)
template of m_2 cannot be decrypted (wrong key or tampered)
"""

from __future__ import annotations

import base64
import binascii
import os
from dataclasses import dataclass

import numpy as np
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

MASTER_KEY_ENV = "ANSHIN_CHECKOUT_MASTER_KEY"
DIM = 128


class TemplateUnavailable(Exception):
    """The template cannot be decrypted: its key is gone (erased) or the data does not match."""


@dataclass(frozen=True, slots=True)
class SealedTemplate:
    nonce: bytes
    ciphertext: bytes
    wrap_nonce: bytes
    wrapped_key: bytes


def new_master_key() -> bytes:
    return AESGCM.generate_key(bit_length=256)


def encode_master_key(key: bytes) -> str:
    return base64.urlsafe_b64encode(key).decode("ascii")


def parse_master_key(text: str | None) -> bytes:
    """The master key from its base64 text; ValueError with a clear message when missing or malformed.

    >>> len(parse_master_key(encode_master_key(bytes(32))))
    32
    >>> parse_master_key("short")
    Traceback (most recent call last):
    ...
    ValueError: ANSHIN_CHECKOUT_MASTER_KEY must be url-safe base64 of 32 random bytes (anshin secrets generate writes one)
    """
    problem = ValueError(f"{MASTER_KEY_ENV} must be url-safe base64 of 32 random bytes (anshin secrets generate writes one)")
    if not text:
        raise problem
    try:
        key = base64.urlsafe_b64decode(text.strip() + "=" * (-len(text.strip()) % 4))
    except (binascii.Error, ValueError):
        raise problem from None
    if len(key) != 32:
        raise problem
    return key


def master_key_from_env() -> bytes:
    return parse_master_key(os.environ.get(MASTER_KEY_ENV))


def seal_template(master: bytes, member_id: str, vectors: np.ndarray) -> SealedTemplate:
    """Encrypt ``vectors`` (n x 128) under a fresh data key, and wrap that key with ``master``."""
    data = np.ascontiguousarray(vectors, dtype="<f4")
    if data.ndim != 2 or data.shape[1] != DIM or not 1 <= data.shape[0] <= 3:
        raise ValueError(f"a template is 1-3 embeddings of {DIM} numbers, got shape {data.shape}")
    aad = member_id.encode("utf-8")
    data_key = AESGCM.generate_key(bit_length=256)
    nonce, wrap_nonce = os.urandom(12), os.urandom(12)
    return SealedTemplate(nonce, AESGCM(data_key).encrypt(nonce, data.tobytes(), aad),
                          wrap_nonce, AESGCM(master).encrypt(wrap_nonce, data_key, aad))


def open_template(master: bytes, member_id: str, sealed: SealedTemplate) -> np.ndarray:
    """The embeddings (n x 128), or :class:`TemplateUnavailable`."""
    aad = member_id.encode("utf-8")
    try:
        data_key = AESGCM(master).decrypt(sealed.wrap_nonce, sealed.wrapped_key, aad)
        raw = AESGCM(data_key).decrypt(sealed.nonce, sealed.ciphertext, aad)
    except (InvalidTag, ValueError):
        raise TemplateUnavailable(f"template of {member_id} cannot be decrypted (wrong key or tampered)") from None
    return np.frombuffer(raw, dtype="<f4").reshape(-1, DIM)

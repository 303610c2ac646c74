"""Evidence pictures over MQTT: one QoS 1 message per picture, published by the edge before the
event that refers to it, so an edge with ``publisher: mqtt`` needs no HTTP key for its pictures.

Topic ``anshin/v1/{store_id}/{camera_id}/_blob/{sha256}`` (lower-case hex digest of the JPEG);
never retained. Payload: one line of JSON header (``{"v":1,"anonymised":true}``), a newline, then
the JPEG bytes as they are. The header travels in the payload rather than in MQTT 5 user
properties so that a bridge or broker speaking MQTT 3.1.1 in between loses nothing.

The event carries ``evidence.snapshot_ref = "sha256:<hex>"`` (:func:`snapshot_ref`); central
stores the picture through its snapshot service, idempotently by digest, and checks that the
digest in the topic is the digest of the bytes.

>>> jpeg = b"\\xff\\xd8 a tiny jpeg"
>>> sha = digest(jpeg)
>>> topic = blob_topic("tokyo-01", "entrance", sha)
>>> topic == f"anshin/v1/tokyo-01/entrance/_blob/{sha}"
True
>>> parse_blob_topic(topic) == ("tokyo-01", "entrance", sha)
True
>>> parse_blob_topic("anshin/v1/tokyo-01/entrance/zone.occupancy") is None
True
>>> decode_blob(encode_blob(jpeg, anonymised=False))
BlobPayload(jpeg=b'\\xff\\xd8 a tiny jpeg', anonymised=False)
>>> snapshot_ref(sha) == "sha256:" + sha
True

**Evidence clips** ride with the picture: a *bundle* is the JPEG, then a WebM video
(:func:`bundle`). A JPEG ends at its end-of-image marker, so every JPEG reader (the outbox, both
publishers, central's upload check) takes a bundle as the event's picture unchanged, and the
sha256 in the topic and in ``snapshot_ref`` covers both. Central splits it (:func:`split_bundle`)
to play the clip.

>>> jpeg = bytes.fromhex("ffd8ffe0") + b"pixels" + JPEG_END
>>> split_bundle(bundle(jpeg, WEBM_MAGIC + b"video")) == (jpeg, WEBM_MAGIC + b"video")
True
>>> split_bundle(jpeg) == (jpeg, None)
True
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass

#: The topic level under a camera that carries pictures (``.../{camera}/_blob/{sha256}``).
BLOB_TOPIC_LEVEL = "_blob"
#: Largest JPEG an edge sends over MQTT: the broker's ``message_size_limit`` (1 MiB in the shipped
#: config) minus room for the header. A larger picture is dropped on the edge with an error line.
MAX_BLOB_BYTES = 1_048_576 - 1024
#: The header is one short JSON line; anything longer is not a blob message.
MAX_HEADER_BYTES = 256

_HEX = re.compile(r"[0-9a-f]{64}")

#: A JPEG's end-of-image marker and the first bytes of every WebM (Matroska EBML header).
JPEG_END = b"\xff\xd9"
WEBM_MAGIC = b"\x1a\x45\xdf\xa3"


def bundle(jpeg: bytes, webm: bytes) -> bytes:
    """The event's picture with its clip after it (one blob; see the module doc)."""
    if not jpeg.endswith(JPEG_END):
        raise ValueError("bundle: the picture must be a whole JPEG (ending with FF D9)")
    if not webm.startswith(WEBM_MAGIC):
        raise ValueError("bundle: the clip must be WebM (starting with 1A 45 DF A3)")
    return jpeg + webm


def split_bundle(data: bytes) -> tuple[bytes, bytes | None]:
    """``(jpeg, webm)`` of a bundle; ``(data, None)`` for a plain picture."""
    at = data.find(JPEG_END + WEBM_MAGIC)
    if at < 0:
        return data, None
    cut = at + len(JPEG_END)
    return data[:cut], data[cut:]


@dataclass(frozen=True, slots=True)
class BlobPayload:
    """One picture as it travels: the JPEG bytes and whether the edge blurred heads and faces."""

    jpeg: bytes
    anonymised: bool


def digest(jpeg: bytes) -> str:
    """Lower-case hex sha256 of the picture: its name on the topic and in the event."""
    return hashlib.sha256(jpeg).hexdigest()


def snapshot_ref(sha256: str) -> str:
    """The ``evidence.snapshot_ref`` of an event whose picture went as a blob message."""
    return f"sha256:{sha256}"


def blob_topic(store_id: str, camera_id: str, sha256: str) -> str:
    """Where a camera's picture is published."""
    if not _HEX.fullmatch(sha256):
        raise ValueError(f"not a lower-case sha256 hex digest: {sha256!r}")
    return f"anshin/v1/{store_id}/{camera_id}/{BLOB_TOPIC_LEVEL}/{sha256}"


def parse_blob_topic(topic: str) -> tuple[str, str, str] | None:
    """``(store_id, camera_id, sha256)`` of a blob topic; None for any other topic."""
    parts = topic.split("/")
    if len(parts) != 6 or parts[:2] != ["anshin", "v1"] or parts[4] != BLOB_TOPIC_LEVEL:
        return None
    store, camera, sha = parts[2], parts[3], parts[5]
    if not store or not camera or not _HEX.fullmatch(sha):
        return None
    return store, camera, sha


def is_blob_topic(topic: str) -> bool:
    """True for ``anshin/v1/{store}/{camera}/_blob/...`` (even with a malformed digest: it is still
    a picture, to be refused as one, not read as an event).

    >>> is_blob_topic("anshin/v1/s/c/_blob/xyz"), is_blob_topic("anshin/v1/s/c/_ack")
    (True, False)
    """
    parts = topic.split("/")
    return len(parts) >= 5 and parts[:2] == ["anshin", "v1"] and parts[4] == BLOB_TOPIC_LEVEL


def encode_blob(jpeg: bytes, anonymised: bool) -> bytes:
    """The message payload: header line, newline, JPEG."""
    header = json.dumps({"v": 1, "anonymised": bool(anonymised)}, separators=(",", ":")).encode()
    return header + b"\n" + jpeg


def decode_blob(payload: bytes) -> BlobPayload:
    """Split a payload into header and JPEG; raises ValueError naming what is wrong.

    >>> decode_blob(b"\\xff\\xd8 no header")
    Traceback (most recent call last):
    ...
    ValueError: blob payload: no header line (expected {"v":1,"anonymised":true} and a newline before the JPEG)
    """
    newline = payload.find(b"\n", 0, MAX_HEADER_BYTES + 1)
    if newline < 0:
        raise ValueError('blob payload: no header line (expected {"v":1,"anonymised":true} and a newline before the JPEG)')
    try:
        header = json.loads(payload[:newline])
    except ValueError:
        raise ValueError("blob payload: the header line is not JSON") from None
    if not isinstance(header, dict) or header.get("v") != 1 or not isinstance(header.get("anonymised"), bool):
        raise ValueError(f"blob payload: header must be {{\"v\": 1, \"anonymised\": true|false}}, got {header!r}"[:300])
    return BlobPayload(jpeg=payload[newline + 1:], anonymised=header["anonymised"])

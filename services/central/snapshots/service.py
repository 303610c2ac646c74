"""Accept snapshot uploads and find them again; decide what a viewer may see.

An upload is checked before anything is stored: a JPEG that decodes (and, when an evidence clip
follows it, a clip that plays: :mod:`services.central.snapshots.clips`), a known kind, a store whose
privacy profile allows images (``minimal`` keeps none). Evidence snapshots are kept (retention is
the purge job's business); live pictures are pruned to the newest ``live_snapshots_kept`` per
camera.

Audited (``snapshot.upload``, actor: the uploading key): every new evidence picture and every
picture the edge did *not* anonymise (faces in the clear: personal data arriving), with its
digest, kind, store, camera and size. Anonymised live pictures are not audited one by one:
they arrive every few seconds, are blurred, and are deleted again within minutes.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from services.central import audit
from services.central.db.tables import SnapshotRow
from services.central.snapshots import clips
from services.central.snapshots.blobs import BlobStore
from services.central.snapshots.images import ImageError, decode_jpeg, encode_jpeg
from services.central.stores import StoreProfile
from services.shared.anonymise import anonymise, pixelate_all

KINDS = ("evidence", "live")
_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")


class SnapshotRejected(Exception):
    """An upload central refuses; ``status`` is the HTTP status, the message says why."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


@dataclass(frozen=True, slots=True)
class Upload:
    """One snapshot as the edge sends it."""

    data: bytes
    store_id: str
    camera_id: str
    kind: str = "evidence"
    anonymised: bool = True  # the edge blurred heads and faces before sending


def accept(
    session: Session, blobs: BlobStore, upload: Upload, profile: StoreProfile, uploader: str,
    now: datetime, keep_live: int,
) -> SnapshotRow:
    """Validate and store one upload (the caller commits); raises :class:`SnapshotRejected`."""
    for name in ("store_id", "camera_id"):
        if not _ID.fullmatch(getattr(upload, name)):
            raise SnapshotRejected(422, f"{name}: 1-64 letters, digits, '_', '.', '-', starting with a letter or digit")
    if upload.kind not in KINDS:
        raise SnapshotRejected(422, f"kind {upload.kind!r}: must be one of {', '.join(KINDS)}")
    if profile.privacy_profile == "minimal":
        raise SnapshotRejected(
            403, f"store {upload.store_id!r} has privacy profile 'minimal': central keeps no images for it"
        )
    try:
        image = decode_jpeg(upload.data)
        clips.check_upload(upload.data)  # a picture with an evidence clip after it: the clip must play
    except (ImageError, clips.ClipError) as e:
        raise SnapshotRejected(422, f"body: {e}") from None
    height, width = image.shape[:2]
    sha = blobs.save(upload.data)
    row = session.get(SnapshotRow, (sha, upload.kind))
    is_new = row is None
    if row is None:
        row = SnapshotRow(
            sha256=sha, store_id=upload.store_id, camera_id=upload.camera_id, kind=upload.kind, width=width,
            height=height, size_bytes=len(upload.data), anonymised=upload.anonymised, uploaded_by=uploader,
            created_at=now,
        )
        session.add(row)
    elif upload.kind == "live":
        row.created_at = now  # the same picture again (a still camera): it is the newest now
    session.flush()
    if upload.kind == "live":
        _prune_live(session, blobs, upload.store_id, upload.camera_id, keep_live)
    if is_new and (upload.kind == "evidence" or not upload.anonymised):
        audit.append(session, uploader, "snapshot.upload", f"snapshot:{sha}", {
            "sha256": sha, "kind": upload.kind, "store_id": upload.store_id, "camera_id": upload.camera_id,
            "anonymised": upload.anonymised, "size_bytes": len(upload.data),
        })
    return row


def _prune_live(session: Session, blobs: BlobStore, store_id: str, camera_id: str, keep: int) -> None:
    old = session.scalars(
        select(SnapshotRow)
        .where(SnapshotRow.store_id == store_id, SnapshotRow.camera_id == camera_id, SnapshotRow.kind == "live")
        .order_by(SnapshotRow.created_at.desc())
        .offset(keep)
    ).all()
    for row in old:
        session.delete(row)
    session.flush()
    for row in old:
        still_used = session.scalar(select(SnapshotRow.sha256).where(SnapshotRow.sha256 == row.sha256).limit(1))
        if still_used is None:  # the same bytes may also be an alert's evidence
            blobs.delete(row.sha256)  # a crash before this leaves a stray file, never a dangling row


def find(session: Session, sha256: str) -> SnapshotRow | None:
    """The snapshot with this digest (its evidence row first, if it is both)."""
    return session.get(SnapshotRow, (sha256, "evidence")) or session.get(SnapshotRow, (sha256, "live"))


def latest_live(session: Session, store_id: str) -> dict[str, SnapshotRow]:
    """The newest live picture of each camera of a store."""
    rows = session.scalars(
        select(SnapshotRow)
        .where(SnapshotRow.store_id == store_id, SnapshotRow.kind == "live")
        .order_by(SnapshotRow.camera_id, SnapshotRow.created_at.desc())
    ).all()
    latest: dict[str, SnapshotRow] = {}
    for row in rows:
        latest.setdefault(row.camera_id, row)
    return latest


def viewable(data: bytes, anonymised: bool, boxes: list[tuple[list[float], str]], show_faces: bool) -> bytes:
    """The JPEG a viewer gets.

    * ``show_faces`` (role and store profile allow it): the picture as uploaded;
    * an edge-anonymised picture: as uploaded, with the boxes' heads blurred once more (defence
      in depth: a detector on the edge may have missed nothing, but central does not rely on it);
    * a picture the edge did not anonymise (``identified`` stores): pixelated entirely, because
      faces may be anywhere in it, not only inside the alert's boxes.
    """
    data = clips.picture_of(data)  # a stored evidence clip is served on its own (clips.viewable_clip)
    if show_faces:
        return data
    if anonymised:
        return encode_jpeg(anonymise(decode_jpeg(data), boxes)) if boxes else data
    return encode_jpeg(pixelate_all(decode_jpeg(data)))


def blob_store(data_dir: object) -> BlobStore:
    from pathlib import Path

    return BlobStore(Path(str(data_dir)) / "snapshots")

"""``/api/v1/snapshots``: edge workers upload JPEGs; integrators read them, faces blurred.

Upload: ``POST /api/v1/snapshots?store_id=&camera_id=&kind=evidence|live&anonymised=true`` with
``Content-Type: image/jpeg`` and the JPEG as the body (at most ``snapshot_max_bytes``, 2 MiB by
default), scope ``events:write``. Answer: ``{"snapshot_ref": "sha256:<hex>", "width", "height"}``;
the edge puts the ref in the event's ``evidence.snapshot_ref``. Uploading the same bytes again
answers the same ref.
"""

from __future__ import annotations

from datetime import datetime, timezone

from fastapi import APIRouter, HTTPException, Request, status
from fastapi.responses import Response
from pydantic import BaseModel

from services.central.api.body import read_limited_body
from services.central.api.deps import DatabaseDep, EventsReader, EventsWriter, ReadSession, SettingsDep, store_scope
from services.central.snapshots import service
from services.central.snapshots.blobs import ref_of
from services.central.stores import get_profile

router = APIRouter(prefix="/api/v1/snapshots", tags=["snapshots"])

_UPLOAD_DOC = {
    "requestBody": {"required": True, "description": "one JPEG", "content": {"image/jpeg": {"schema": {"type": "string", "format": "binary"}}}}
}


class SnapshotOut(BaseModel):
    snapshot_ref: str
    width: int
    height: int


@router.post("", response_model=SnapshotOut, openapi_extra=_UPLOAD_DOC,
             responses={403: {"description": "store binding, or the store keeps no images (profile minimal)"},
                        413: {"description": "larger than snapshot_max_bytes"},
                        415: {"description": "not image/jpeg"}, 422: {"description": "not a decodable JPEG"}})
async def upload_snapshot(
    request: Request, db: DatabaseDep, settings: SettingsDep, principal: EventsWriter,
    store_id: str, camera_id: str, kind: str = "evidence", anonymised: bool = True,
) -> SnapshotOut:
    """Store one evidence or live JPEG for a camera."""
    store_scope(principal, store_id)
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if content_type != "image/jpeg":
        raise HTTPException(status.HTTP_415_UNSUPPORTED_MEDIA_TYPE, f"Content-Type must be image/jpeg, got {content_type or 'none'!r}")
    data = await read_limited_body(request, settings.snapshot_max_bytes)
    upload = service.Upload(data, store_id, camera_id, kind, anonymised)
    blobs = service.blob_store(settings.data_dir)

    def store() -> SnapshotOut:
        with db.unit_of_work() as session:
            profile = get_profile(session, store_id, settings)
            row = service.accept(session, blobs, upload, profile, principal.name, datetime.now(timezone.utc),
                                 settings.live_snapshots_kept)
            return SnapshotOut(snapshot_ref=ref_of(row.sha256), width=row.width, height=row.height)

    from starlette.concurrency import run_in_threadpool

    try:
        return await run_in_threadpool(store)
    except service.SnapshotRejected as e:
        raise HTTPException(e.status, str(e)) from None


@router.get("/{sha256}", response_class=Response, responses={200: {"content": {"image/jpeg": {}}}})
def read_snapshot(sha256: str, session: ReadSession, settings: SettingsDep, principal: EventsReader) -> Response:
    """A stored snapshot with faces blurred (an API key never sees faces)."""
    sha = sha256.removeprefix("sha256:").lower()
    row = service.find(session, sha) if len(sha) == 64 else None
    if row is None or (principal.store_id is not None and row.store_id != principal.store_id):
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"no snapshot {sha256!r}")
    data = service.blob_store(settings.data_dir).read(row.sha256)
    if data is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"snapshot {sha256!r} is recorded but its file is gone (purged?)")
    body = service.viewable(data, row.anonymised, [], show_faces=False)
    return Response(body, media_type="image/jpeg", headers={"Cache-Control": "private, max-age=3600"})

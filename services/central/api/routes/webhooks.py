"""``/api/v1/webhooks``: integrators manage signed webhooks and see dead deliveries (scope ``webhooks:manage``).

A store-bound key manages only webhooks filtered to its store.
"""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Depends, HTTPException, Path, Query, status
from fastapi.responses import JSONResponse

from services.central.api.deps import DatabaseDep, ReadSession, SettingsDep, require, store_scope
from services.central.api.errors import field_error, unprocessable
from services.central.api.schemas.common import Page
from services.central.api.schemas.ops import (
    DeliveryOut,
    RetryIn,
    RetryOut,
    WebhookCreatedOut,
    WebhookIn,
    WebhookOut,
)
from services.central.auth import Principal, Scope
from services.central.webhooks import service
from services.central.webhooks.service import WebhookError, WebhookNotFound

router = APIRouter(prefix="/api/v1/webhooks", tags=["webhooks"])
WebhooksManager = Annotated[Principal, Depends(require(Scope.WEBHOOKS_MANAGE))]
_NOT_FOUND = {404: {"description": "no such webhook (or not this key's store)"}}
WebhookId = Annotated[int, Path(ge=1, le=2_147_483_647, description="webhook id")]


def _not_found(exc: WebhookNotFound) -> HTTPException:
    return HTTPException(status.HTTP_404_NOT_FOUND, str(exc))


def _bound(principal: Principal) -> str | None:
    return principal.store_id


@router.post("", response_model=WebhookCreatedOut, status_code=201,
             responses={422: {"description": "invalid field"}, 503: {"description": "webhooks disabled on this server"}})
def create_webhook(body: WebhookIn, db: DatabaseDep, settings: SettingsDep, principal: WebhooksManager) -> WebhookCreatedOut | JSONResponse:
    """Subscribe a URL to stored events; the answer holds the signing secret, shown once."""
    store = store_scope(principal, body.store_id)
    key = settings.webhook_secret_key.get_secret_value() if settings.webhook_secret_key else None
    try:
        with db.unit_of_work() as session:
            created = service.create(session, key, body.name, body.url, body.event_types, store, principal.name,
                                     settings.webhook_allow_hosts)
            out = WebhookCreatedOut(**WebhookOut.model_validate(created.row).model_dump(), secret=created.secret)
    except WebhookError as exc:
        if exc.field == "server":
            return JSONResponse({"detail": str(exc)}, status_code=status.HTTP_503_SERVICE_UNAVAILABLE)
        if exc.field == "name" and "exists" in str(exc):
            return JSONResponse({"detail": str(exc)}, status_code=status.HTTP_409_CONFLICT)
        return unprocessable([field_error(["body", *exc.field.split(".")], str(exc), "value_error")])
    return out


@router.get("", response_model=Page[WebhookOut])
def list_webhooks(session: ReadSession, principal: WebhooksManager) -> Page[WebhookOut]:
    rows = service.list_active(session, _bound(principal))
    return Page[WebhookOut](data=[WebhookOut.model_validate(r) for r in rows], count=len(rows))


@router.delete("/{webhook_id}", status_code=204, responses=_NOT_FOUND)
def delete_webhook(webhook_id: WebhookId, db: DatabaseDep, principal: WebhooksManager) -> None:
    try:
        with db.unit_of_work() as session:
            service.delete(session, webhook_id, principal.name, _bound(principal))
    except WebhookNotFound as exc:
        raise _not_found(exc) from None


@router.post("/{webhook_id}/rotate", response_model=WebhookCreatedOut, responses=_NOT_FOUND)
def rotate_webhook(webhook_id: WebhookId, db: DatabaseDep, settings: SettingsDep, principal: WebhooksManager) -> WebhookCreatedOut | JSONResponse:
    """A new signing secret (shown once); the old one stops verifying at once."""
    key = settings.webhook_secret_key.get_secret_value() if settings.webhook_secret_key else None
    try:
        with db.unit_of_work() as session:
            created = service.rotate(session, key, webhook_id, principal.name, _bound(principal))
            return WebhookCreatedOut(**WebhookOut.model_validate(created.row).model_dump(), secret=created.secret)
    except WebhookNotFound as exc:
        raise _not_found(exc) from None
    except WebhookError as exc:
        return JSONResponse({"detail": str(exc)}, status_code=status.HTTP_503_SERVICE_UNAVAILABLE)


@router.get("/{webhook_id}/deliveries", response_model=Page[DeliveryOut], responses=_NOT_FOUND)
def list_deliveries(
    webhook_id: WebhookId,
    session: ReadSession,
    principal: WebhooksManager,
    state: Literal["pending", "delivered", "dead"] | None = Query(None, description="dead: the dead-letter view"),
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> Page[DeliveryOut]:
    """Deliveries of one webhook, newest first; ``?state=dead`` lists those that ran out of retries."""
    try:
        service.get(session, webhook_id, _bound(principal))
    except WebhookNotFound as exc:
        raise _not_found(exc) from None
    rows, total = service.deliveries(session, webhook_id, state, limit, offset)
    return Page[DeliveryOut](data=[DeliveryOut.model_validate(r) for r in rows], count=total)


@router.post("/{webhook_id}/deliveries/retry", response_model=RetryOut, responses=_NOT_FOUND)
def retry_deliveries(webhook_id: WebhookId, body: RetryIn, db: DatabaseDep, principal: WebhooksManager) -> RetryOut:
    """Send dead deliveries again (all, or the listed ids) once the endpoint is fixed."""
    try:
        with db.unit_of_work() as session:
            service.get(session, webhook_id, _bound(principal))
            n = service.retry_dead(session, webhook_id, body.delivery_ids, principal.name)
    except WebhookNotFound as exc:
        raise _not_found(exc) from None
    return RetryOut(requeued=n)

"""``/healthz``: liveness plus a database round trip, for load balancers (no auth)."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import JSONResponse
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from services.central.api.deps import DatabaseDep

router = APIRouter(tags=["health"])


@router.get("/healthz")
def healthz(db: DatabaseDep) -> JSONResponse:
    try:
        with db.read_session() as session:
            session.execute(text("SELECT 1"))
    except SQLAlchemyError as e:
        return JSONResponse({"status": "unavailable", "database": type(e).__name__}, status_code=503)
    return JSONResponse({"status": "ok", "database": db.dialect})

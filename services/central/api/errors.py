"""One error shape for the whole API.

``{"detail": "message"}`` for 4xx with one cause, ``{"detail": [{"loc", "msg", "type"}]}`` for
validation (422), where ``loc`` is the path to the bad field, e.g. ``["body", 3, "use_case"]``.
Input values are not echoed back: they may be large or hold personal data.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from typing import Any

from fastapi import FastAPI, Request, status
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from sqlalchemy.exc import DataError, OperationalError
from starlette.requests import ClientDisconnect

from services.central.review.machine import ReviewConflict
from services.central.review.service import ReviewInputError, ReviewNotFound

log = logging.getLogger(__name__)

#: Seconds a client should wait before retrying when the database is unreachable or busy.
RETRY_AFTER_S = 5
#: Status logged for a request whose client went away mid-body (nginx's 499; never delivered).
CLIENT_CLOSED_REQUEST = 499


def field_error(loc: Sequence[str | int], msg: str, type_: str) -> dict[str, Any]:
    return {"loc": list(loc), "msg": msg, "type": type_}


def clean_errors(errors: Iterable[dict[str, Any]], prefix: Sequence[str | int] = ()) -> list[dict[str, Any]]:
    """Pydantic errors reduced to loc/msg/type, with ``prefix`` put before each loc.

    >>> clean_errors([{"loc": ("use_case",), "msg": "bad", "type": "enum", "input": "Z"}], ("body", 0))
    [{'loc': ['body', 0, 'use_case'], 'msg': 'bad', 'type': 'enum'}]
    """
    return [field_error([*prefix, *e["loc"]], e["msg"], e["type"]) for e in errors]


def _printable(part: Any) -> Any:
    # A loc may name a key the client sent; a lone surrogate in it cannot be encoded as UTF-8.
    return part.encode("utf-8", "backslashreplace").decode("utf-8") if isinstance(part, str) else part


def unprocessable(errors: list[dict[str, Any]]) -> JSONResponse:
    r"""422 with ``errors``; their text is made encodable (a lone surrogate becomes ``\ud800``).

    >>> unprocessable([field_error(["body", chr(0xD800)], "bad", "t")]).body
    b'{"detail":[{"loc":["body","\\\\ud800"],"msg":"bad","type":"t"}]}'
    """
    safe = [{k: [_printable(p) for p in v] if k == "loc" else _printable(v) for k, v in e.items()} for e in errors]
    return JSONResponse({"detail": safe}, status_code=status.HTTP_422_UNPROCESSABLE_CONTENT)


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(RequestValidationError)
    async def _validation(_: Request, exc: RequestValidationError) -> JSONResponse:
        return unprocessable(clean_errors(exc.errors()))

    @app.exception_handler(ReviewConflict)
    async def _conflict(_: Request, exc: ReviewConflict) -> JSONResponse:
        return JSONResponse({"detail": str(exc)}, status_code=status.HTTP_409_CONFLICT)

    @app.exception_handler(ReviewNotFound)
    async def _not_found(_: Request, exc: ReviewNotFound) -> JSONResponse:
        return JSONResponse({"detail": str(exc)}, status_code=status.HTTP_404_NOT_FOUND)

    @app.exception_handler(ReviewInputError)
    async def _bad_input(_: Request, exc: ReviewInputError) -> JSONResponse:
        return unprocessable([field_error(["body", exc.field], str(exc), "value_error")])

    @app.exception_handler(DataError)
    async def _out_of_range(request: Request, exc: DataError) -> JSONResponse:
        # E.g. an id past 2**31-1 in a path: the database refuses the value; that is the caller's input.
        log.info("value refused by the database during %s %s: %s", request.method, request.url.path, exc.orig)
        return unprocessable([field_error(["path"], "a value is out of range (integers must fit in 32 bits)", "value_error")])

    @app.exception_handler(OverflowError)
    async def _too_large_for_database(request: Request, exc: OverflowError) -> JSONResponse:
        # SQLite's driver refuses Python ints past 2**63-1 with OverflowError before any SQL
        # runs (PostgreSQL answers DataError, above): the same caller mistake, the same answer.
        log.info("value too large for the database during %s %s: %s", request.method, request.url.path, exc)
        return unprocessable([field_error(["path"], "a value is out of range (integers must fit in 32 bits)", "value_error")])

    @app.exception_handler(ClientDisconnect)
    async def _client_left(request: Request, _: ClientDisconnect) -> Response:
        # The client hung up before sending its whole body: nothing was read, so nothing was
        # stored, and nobody is left to answer. Routine on mobile networks, not a server error.
        log.info("client disconnected during %s %s before its body arrived; nothing stored",
                 request.method, request.url.path)
        return Response(status_code=CLIENT_CLOSED_REQUEST)

    @app.exception_handler(OperationalError)
    async def _database_unavailable(request: Request, exc: OperationalError) -> JSONResponse:
        # Connection lost, database restarting, lock wait timed out: transient, so 503 and a
        # hint to retry (the edge publisher keeps the events in its outbox meanwhile).
        log.warning("database unavailable during %s %s: %s", request.method, request.url.path, exc.orig)
        return JSONResponse(
            {"detail": "database unavailable; nothing was stored, retry later"},
            status_code=status.HTTP_503_SERVICE_UNAVAILABLE,
            headers={"Retry-After": str(RETRY_AFTER_S)},
        )

"""What a route needs, as ``Annotated`` aliases, so its signature states it.

Secure by default: every ``/api/v1`` route takes one of the scope aliases below; a missing
or unknown key is 401, a key without the scope is 403.
"""

from __future__ import annotations

import collections.abc
import types
import typing
from collections.abc import Callable, Iterator
from typing import Annotated, Any

from fastapi import Depends, HTTPException, Request, status
from fastapi.exceptions import RequestValidationError
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy.orm import Session

from services.central.auth import Principal, Scope, authenticate
from services.central.db.session import Database
from services.central.settings import Settings

_bearer = HTTPBearer(auto_error=False, description="API key created with `anshin keys create`")


def get_settings(request: Request) -> Settings:
    return request.app.state.settings  # type: ignore[no-any-return]


def get_database(request: Request) -> Database:
    return request.app.state.db  # type: ignore[no-any-return]


def read_session(db: Annotated[Database, Depends(get_database)]) -> Iterator[Session]:
    """A session for reads; writes go through ``db.unit_of_work()`` so they commit before
    the response is sent."""
    session = db.read_session()
    try:
        yield session
    finally:
        session.close()


SettingsDep = Annotated[Settings, Depends(get_settings)]
DatabaseDep = Annotated[Database, Depends(get_database)]
ReadSession = Annotated[Session, Depends(read_session)]


def _unauthorized(message: str) -> HTTPException:
    return HTTPException(status.HTTP_401_UNAUTHORIZED, message, headers={"WWW-Authenticate": "Bearer"})


def get_principal(
    request: Request, db: DatabaseDep, credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)]
) -> Principal:
    if credentials is None:
        raise _unauthorized("missing API key: send 'Authorization: Bearer <key>'")
    with db.read_session() as session:
        principal = authenticate(session, credentials.credentials)
    verified = getattr(request.app.state, "verified_keys", None)  # the rate limiter's key buckets
    if principal is None:
        if verified is not None:
            verified.forget(credentials.credentials)
        raise _unauthorized("unknown or revoked API key")
    if verified is not None and principal.key_id is not None:
        verified.remember(credentials.credentials, principal.key_id)
    return principal


def require(scope: Scope) -> Callable[[Principal], Principal]:
    """Dependency: the caller's principal, which must hold ``scope`` (or ``admin``)."""

    def dependency(principal: Annotated[Principal, Depends(get_principal)]) -> Principal:
        if not principal.allows(scope):
            raise HTTPException(
                status.HTTP_403_FORBIDDEN, f"API key {principal.name!r} lacks scope {scope.value!r}"
            )
        return principal

    dependency.__name__ = f"require_{scope.name.lower()}"
    return dependency


EventsWriter = Annotated[Principal, Depends(require(Scope.EVENTS_WRITE))]
EventsReader = Annotated[Principal, Depends(require(Scope.EVENTS_READ))]
ReviewsReader = Annotated[Principal, Depends(require(Scope.REVIEWS_READ))]
ReviewsWriter = Annotated[Principal, Depends(require(Scope.REVIEWS_WRITE))]
AuditReader = Annotated[Principal, Depends(require(Scope.AUDIT_READ))]


def store_scope(principal: Principal, requested: str | None) -> str | None:
    """The store a read is limited to: a store-bound key sees only its own store.

    >>> p = Principal("edge", frozenset(), store_id="s1")
    >>> store_scope(p, None), store_scope(p, "s1"), store_scope(Principal("hq", frozenset()), "s2")
    ('s1', 's1', 's2')
    """
    if principal.store_id is None:
        return requested
    if requested is not None and requested != principal.store_id:
        raise HTTPException(
            status.HTTP_403_FORBIDDEN,
            f"API key {principal.name!r} is bound to store {principal.store_id!r}, not {requested!r}",
        )
    return principal.store_id


def single_query_values(request: Request) -> None:
    """Refuse a query parameter given more than once (422) unless the route takes a list for it
    (e.g. ``state`` on the review queue): silently using the last of several values would answer a
    question nobody asked."""
    keys = [k for k, _ in request.query_params.multi_items()]
    repeated = {k for k in keys if keys.count(k) > 1}
    # Only a request that repeats a key pays for looking at the route's parameter types.
    repeated = sorted(repeated - _list_parameters(request)) if repeated else []
    if repeated:
        raise RequestValidationError([
            {"loc": ("query", k), "msg": f"give {k} at most once", "type": "value_error"} for k in repeated
        ])


def _list_parameters(request: Request) -> set[str]:
    """Names of the matched route's query parameters declared as lists."""
    dependant = getattr(request.scope.get("route"), "dependant", None)
    fields = [f for d in _dependants(dependant) for f in d.query_params] if dependant is not None else []
    return {f.alias for f in fields if _is_sequence(f.field_info.annotation)}


def _dependants(dependant: Any) -> list[Any]:
    return [dependant, *(d for sub in dependant.dependencies for d in _dependants(sub))]


def _is_sequence(annotation: Any) -> bool:
    origin = typing.get_origin(annotation)
    if origin is typing.Annotated:
        return _is_sequence(typing.get_args(annotation)[0])
    if origin in (typing.Union, types.UnionType):
        return any(_is_sequence(a) for a in typing.get_args(annotation))
    return origin in (list, tuple, set, frozenset, collections.abc.Sequence)

"""Shapes shared by every resource."""

from __future__ import annotations

from typing import Generic, TypeVar

from pydantic import BaseModel, ConfigDict

from services.shared.strict import Strict

T = TypeVar("T")

#: Largest integer a path or query parameter may carry where it reaches the database (ids,
#: sequence numbers, offsets): the range of the ``Integer`` columns on PostgreSQL. Larger values
#: are a 422 from validation, never an overflow inside SQLite or PostgreSQL.
MAX_DB_INT = 2**31 - 1
MAX_OFFSET = MAX_DB_INT


class Out(BaseModel):
    """Base of response shapes: built from table rows by attribute."""

    model_config = ConfigDict(from_attributes=True)


class In(Strict):
    """Base of request shapes: unknown fields are an error."""


class Page(BaseModel, Generic[T]):
    """One page of a list: ``data`` and the total ``count`` matching the filters."""

    data: list[T]
    count: int

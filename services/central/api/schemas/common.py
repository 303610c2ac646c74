"""Shapes shared by every resource."""

from __future__ import annotations

from typing import Generic, TypeVar

from pydantic import BaseModel, ConfigDict

T = TypeVar("T")


class Out(BaseModel):
    """Base of response shapes: built from table rows by attribute."""

    model_config = ConfigDict(from_attributes=True)


class In(BaseModel):
    """Base of request shapes: unknown fields are an error."""

    model_config = ConfigDict(extra="forbid", frozen=True)


class Page(BaseModel, Generic[T]):
    """One page of a list: ``data`` and the total ``count`` matching the filters."""

    data: list[T]
    count: int

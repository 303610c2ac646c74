"""CSV import of sales and POS transactions: a column mapping, an explicit date format, all or nothing.

Parsing is pure (:func:`parse`): every row is checked first and every bad row is reported with
its line number in the file; only a file without a bad row is stored (:func:`store`), in one
transaction. Storing inserts by natural key and skips keys already stored, and a file already
imported (same sha256) is recognised, so importing the same file twice changes nothing.

Dates are parsed with the mapping's ``date_format`` only: the shared CSVs mix day-first and
month-first dates, and a guessed format silently swaps day and month.

>>> m = ColumnMapping(kind="transactions", transaction=("Member_number", "Date"), date="Date",
...                   date_format="%d-%m-%Y", item="itemDescription")
>>> rows = parse_text("Member_number,Date,itemDescription\\n1808,21-07-2015,tropical fruit\\n", m, "s1")
>>> rows[0].transaction_id, rows[0].at.isoformat(), rows[0].item
('1808|21-07-2015', '2015-07-21T00:00:00+00:00', 'tropical fruit')
>>> parse_text("Member_number,Date,itemDescription\\n1808,07/21/2015,milk\\n", m, "s1")
Traceback (most recent call last):
services.central.usecases.insights.importing.ImportRejected: 1 bad row, nothing imported:
  line 2 Date: '07/21/2015' does not match the date format '%d-%m-%Y'
"""

from __future__ import annotations

import csv
import hashlib
import io
import math
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, time, timezone
from pathlib import Path
from typing import Any, Literal

import pandas as pd
from pydantic import Field, model_validator
from sqlalchemy import func, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from services.shared.strict import Strict

#: Most bad rows listed in one report (the count says how many there were in all).
MAX_LISTED = 50


class ColumnMapping(Strict):
    """Which column of the file holds what. ``store`` names a column, or ``None`` when the
    importer is given one store for the whole file; ``only`` keeps rows whose column equals a value."""

    kind: Literal["sales", "transactions"] = "sales"
    date: str = Field(description="date column")
    date_format: str = Field(description="strptime format of the date column, e.g. %d-%m-%Y")
    time: str | None = Field(default=None, description="time-of-day column (transactions)")
    time_format: str = "%H:%M:%S"
    store: str | None = Field(default=None, description="store column; None: the store given to the import")
    series: str | None = Field(default=None, description="sales: series column (an item); None: 'total'")
    value: str | None = Field(default=None, description="sales: the value column (units or money)")
    features: tuple[str, ...] = Field(default=(), description="sales: numeric side columns kept with each period")
    transaction: tuple[str, ...] = Field(default=(), description="transactions: column(s) whose values, "
                                         "joined with '|', identify a basket")
    item: str | None = Field(default=None, description="transactions: item column")
    quantity: str | None = Field(default=None, description="transactions: quantity column; None: 1 per line")
    only: dict[str, str] = Field(default_factory=dict, description="keep only rows whose column has this value")
    ignore_items: tuple[str, ...] = Field(default=(), description="transactions: item values that are no item "
                                          "(BreadBasket's NONE)")

    @model_validator(mode="after")
    def _fields_for_kind(self) -> ColumnMapping:
        if self.kind == "sales" and not self.value:
            raise ValueError("a sales mapping needs value=<column>")
        if self.kind == "transactions" and (not self.transaction or not self.item):
            raise ValueError("a transactions mapping needs transaction=<column>[+<column>] and item=<column>")
        return self

    def columns(self) -> list[str]:
        cols = [self.date, self.time, self.store, self.series, self.value, self.item, self.quantity,
                *self.features, *self.transaction, *self.only]
        return sorted({c for c in cols if c})


@dataclass(frozen=True, slots=True)
class RowError:
    line: int
    column: str
    message: str

    def __str__(self) -> str:
        return f"line {self.line} {self.column}: {self.message}"


class ImportRejected(ValueError):
    """A file with bad rows (each with its line number) or a header that misses mapped columns."""

    def __init__(self, errors: list[RowError], rows: int = 0) -> None:
        self.errors = errors
        listed = "\n".join(f"  {e}" for e in errors[:MAX_LISTED])
        more = f"\n  ... and {len(errors) - MAX_LISTED} more" if len(errors) > MAX_LISTED else ""
        noun = "bad row" if len(errors) == 1 else "bad rows"
        super().__init__(f"{len(errors)} {noun}, nothing imported:\n{listed}{more}")


@dataclass(frozen=True, slots=True)
class SalesIn:
    store_id: str
    series: str
    period: date
    value: float
    features: dict[str, float] | None


@dataclass(frozen=True, slots=True)
class LineIn:
    store_id: str
    transaction_id: str
    item: str
    at: datetime
    quantity: float


def _number(text: str) -> float:
    v = float(text.replace(",", "")) if text.strip() else math.nan
    if not math.isfinite(v):
        raise ValueError
    return v


def _rows(text: str, mapping: ColumnMapping) -> Iterable[tuple[int, dict[str, str]]]:
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        header = next(reader)
    except StopIteration:
        raise ImportRejected([RowError(1, "-", "the file is empty")]) from None
    header = [h.strip().lstrip("\ufeff") for h in header]
    missing = [c for c in mapping.columns() if c not in header]
    if missing:
        raise ImportRejected([RowError(1, c, f"no such column; the header has {header}") for c in missing])
    for cells in reader:
        line = reader.line_num  # physical line where this record ended (quoted newlines count)
        if not cells or all(not c.strip() for c in cells):
            continue
        if len(cells) != len(header):
            yield line, {"__width__": f"{len(cells)} cells, the header has {len(header)}"}
            continue
        yield line, dict(zip(header, (c.strip() for c in cells), strict=True))


def parse_text(text: str, mapping: ColumnMapping, store_id: str | None = None) -> list[Any]:
    """Every row of ``text`` as :class:`SalesIn` or :class:`LineIn`; :class:`ImportRejected`
    listing every bad row if there is one. Repeated transaction lines add their quantities."""
    if mapping.store is None and not store_id:
        raise ValueError("give a store (--store) or map a store column")
    errors: list[RowError] = []
    sales: dict[tuple[str, str, date], SalesIn] = {}
    lines: dict[tuple[str, str, str], LineIn] = {}
    for line, row in _rows(text, mapping):
        if "__width__" in row:
            errors.append(RowError(line, "-", row["__width__"]))
            continue
        if any(row[c] != v for c, v in mapping.only.items()):
            continue

        def bad(column: str, message: str, line: int = line) -> None:
            errors.append(RowError(line, column, message))

        store = row[mapping.store] if mapping.store else str(store_id)
        if not store or len(store) > 64:
            bad(mapping.store or "store", f"{store!r} is not a store id (1-64 characters)")
            continue
        raw = row[mapping.date]
        try:
            day = datetime.strptime(raw, mapping.date_format).date()
        except ValueError:
            bad(mapping.date, f"{raw!r} does not match the date format {mapping.date_format!r}")
            continue
        if mapping.kind == "sales":
            assert mapping.value is not None
            series = row[mapping.series] if mapping.series else "total"
            try:
                value = _number(row[mapping.value])
            except ValueError:
                bad(mapping.value, f"{row[mapping.value]!r} is not a number")
                continue
            feats: dict[str, float] = {}
            for f in mapping.features:
                try:
                    feats[f] = _number(row[f])
                except ValueError:
                    bad(f, f"{row[f]!r} is not a number")
            key = (store, series, day)
            if key in sales:
                bad(mapping.date, f"a second value for series {series!r} on {day.isoformat()}")
                continue
            sales[key] = SalesIn(store, series, day, value, feats or None)
        else:
            assert mapping.item is not None
            at_time = time(0, 0)
            if mapping.time:
                try:
                    at_time = datetime.strptime(row[mapping.time], mapping.time_format).time()
                except ValueError:
                    bad(mapping.time, f"{row[mapping.time]!r} does not match the time format {mapping.time_format!r}")
                    continue
            tx = "|".join(row[c] for c in mapping.transaction)
            item = row[mapping.item]
            if item in mapping.ignore_items:
                continue
            if not item or len(item) > 128 or len(tx) > 128:
                bad(mapping.item, "item and transaction id must be 1-128 characters")
                continue
            qty = 1.0
            if mapping.quantity:
                try:
                    qty = _number(row[mapping.quantity])
                except ValueError:
                    bad(mapping.quantity, f"{row[mapping.quantity]!r} is not a number")
                    continue
            at = datetime.combine(day, at_time, tzinfo=timezone.utc)
            key2 = (store, tx, item)
            prev = lines.get(key2)
            lines[key2] = LineIn(store, tx, item, prev.at if prev else at, qty + (prev.quantity if prev else 0.0))
    if errors:
        raise ImportRejected(errors)
    return list(sales.values()) if mapping.kind == "sales" else list(lines.values())


def read_text(path: Path) -> str:
    """A CSV file's text (UTF-8, BOM tolerated)."""
    return path.read_bytes().decode("utf-8-sig")


def read_series(path: Path, mapping: ColumnMapping) -> pd.DataFrame:
    """unique_id, ds, y of a sales-like file (``mapping.store``... here: ``series`` names the
    series column); used by ``anshin eval forecast``, which stores nothing."""
    m = ColumnMapping(kind="sales", date=mapping.date, date_format=mapping.date_format,
                      series=mapping.series, value=mapping.value, store=None)
    rows = parse_text(read_text(path), m, store_id="eval")
    return pd.DataFrame({"unique_id": [r.series for r in rows], "ds": pd.to_datetime([r.period for r in rows]),
                         "y": [r.value for r in rows]}).sort_values(["unique_id", "ds"]).reset_index(drop=True)


@dataclass(frozen=True, slots=True)
class ImportResult:
    sha256: str
    rows: int
    inserted: int
    already_present: int
    already_imported: bool

    def as_dict(self) -> dict[str, Any]:
        return {"sha256": self.sha256, "rows": self.rows, "inserted": self.inserted,
                "already_present": self.already_present, "already_imported": self.already_imported}


def _insert_ignoring(session: Session, table: Any, rows: list[dict[str, Any]], keys: list[str]) -> int:
    """Insert rows whose natural key is new; returns how many went in."""
    if not rows:
        return 0
    dialect = session.get_bind().dialect.name
    make = {"postgresql": pg_insert, "sqlite": sqlite_insert}.get(dialect)
    if make is None:
        raise RuntimeError(f"insights import supports SQLite and PostgreSQL, not {dialect!r}")
    stmt = make(table).on_conflict_do_nothing(index_elements=keys)
    # Counted, not read from rowcount: drivers disagree on rowcount after an executemany.
    stores = sorted({r["store_id"] for r in rows})
    count = select(func.count()).select_from(table).where(table.c.store_id.in_(stores))
    before = session.scalar(count) or 0
    for start in range(0, len(rows), 2000):
        session.connection().execute(stmt, rows[start:start + 2000])
    return int((session.scalar(count) or 0) - before)


def store(session: Session, rows: list[Any], kind: str, sha256: str, file_name: str, actor: str,
          store_id: str | None = None, now: datetime | None = None) -> ImportResult:
    """Store parsed rows in the caller's transaction; the caller commits. Idempotent."""
    from services.central import audit
    from services.central.usecases.insights.tables import ImportRecord, SalesRow, TransactionLine

    now = now or datetime.now(timezone.utc)
    if session.get(ImportRecord, sha256) is not None:
        return ImportResult(sha256, len(rows), 0, len(rows), True)
    if kind == "sales":
        data = [{"store_id": r.store_id, "series": r.series, "period": r.period, "value": r.value,
                 "features": r.features} for r in rows]
        inserted = _insert_ignoring(session, SalesRow.__table__, data, ["store_id", "series", "period"])
    else:
        data = [{"store_id": r.store_id, "transaction_id": r.transaction_id, "item": r.item, "at": r.at,
                 "quantity": r.quantity} for r in rows]
        inserted = _insert_ignoring(session, TransactionLine.__table__, data, ["store_id", "transaction_id", "item"])
    session.add(ImportRecord(sha256=sha256, kind=kind, store_id=store_id, file_name=file_name[-256:],
                             rows=len(rows), inserted=inserted, at=now))
    stores = sorted({r.store_id for r in rows})
    audit.append(session, actor, "insights.import", f"file:{sha256[:16]}",
                 {"sha256": sha256, "kind": kind, "rows": len(rows), "inserted": inserted, "stores": stores[:50]},
                 at=now)
    return ImportResult(sha256, len(rows), inserted, len(rows) - inserted, False)


def import_file(session: Session, path: Path, mapping: ColumnMapping, actor: str,
                store_id: str | None = None) -> ImportResult:
    """Parse ``path`` (all or nothing) and store it in the caller's transaction."""
    raw = path.read_bytes()
    rows = parse_text(raw.decode("utf-8-sig"), mapping, store_id)
    return store(session, rows, mapping.kind, import_key(raw, mapping, store_id), path.name, actor, store_id)


def import_key(raw: bytes, mapping: ColumnMapping, store_id: str | None) -> str:
    """sha256 over the file's bytes, the mapping and the store: the same file read another way
    (another ``only`` filter, another store) is another import.

    >>> m = ColumnMapping(date="d", date_format="%Y-%m-%d", value="v")
    >>> import_key(b"x", m, "a") == import_key(b"x", m, "a"), import_key(b"x", m, "a") == import_key(b"x", m, "b")
    (True, False)
    """
    h = hashlib.sha256(raw)
    h.update(mapping.model_dump_json().encode())
    h.update(f"|{store_id or ''}".encode())
    return h.hexdigest()


"""Use case J data in: CSV import (line numbers for bad rows, all or nothing, idempotent) and the
live POS API, on SQLite and PostgreSQL. Real rows from the shared retail CSVs."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from services.central.db.session import Database
from services.central.usecases.insights.data import BREADBASKET, GROCERIES, WALMART, retail_dir
from services.central.usecases.insights.importing import ColumnMapping, ImportRejected, import_file, parse_text
from services.central.usecases.insights.tables import ImportRecord, SalesRow, TransactionLine


def _head(name: str, lines: int) -> str:
    with open(retail_dir() / name, encoding="utf-8", newline="") as f:
        return "".join(f.readline() for _ in range(lines))


def _count(db: Database, table: type) -> int:
    with db.read_session() as s:
        return int(s.scalar(select(func.count()).select_from(table)) or 0)


def test_bad_rows_are_listed_with_their_line_numbers() -> None:
    text = ("Member_number,Date,itemDescription\r\n"
            "1808,21-07-2015,tropical fruit\r\n"  # line 2: fine
            "2552,2015-01-05,whole milk\r\n"      # line 3: ISO date, the mapping says day-first
            '2300,"19-09-2015",\r\n'              # line 4: no item
            "1187,12-12-2015\r\n"                 # line 5: a cell short
            '3037,"01-02-2015","pip\nfruit"\r\n'  # lines 6-7: a quoted newline; the row is fine
            "4941,31-02-2015,rolls/buns\r\n")     # line 8: no 31 February
    with pytest.raises(ImportRejected) as caught:
        parse_text(text, GROCERIES, "s1")
    assert [(e.line, e.column) for e in caught.value.errors] == [
        (3, "Date"), (4, "itemDescription"), (5, "-"), (8, "Date")]
    assert "line 3 Date: '2015-01-05' does not match the date format '%d-%m-%Y'" in str(caught.value)
    assert str(caught.value).startswith("4 bad rows, nothing imported")


def test_the_mapping_must_match_the_header() -> None:
    with pytest.raises(ImportRejected, match="line 1 Weekly: no such column"):
        parse_text(_head("Walmart_Store_sales.csv", 3), WALMART.model_copy(update={"value": "Weekly"}), "s1")


def test_day_and_month_are_never_guessed() -> None:
    rows = parse_text(_head("Groceries_dataset.csv", 3), GROCERIES, "s1")
    # 05-01-2015 is 5 January (day-first, as the file is); a guessing parser reads 1 May.
    assert [r.at.date().isoformat() for r in rows] == ["2015-07-21", "2015-01-05"]


def test_a_file_with_one_bad_row_imports_nothing(db: Database, tmp_path: Path) -> None:
    lines = _head("BreadBasket_DMS.csv", 200).splitlines(keepends=True)
    lines[150] = lines[150].replace("2016-", "30/10/", 1)
    bad = tmp_path / "bread.csv"
    bad.write_text("".join(lines), encoding="utf-8", newline="")
    with pytest.raises(ImportRejected) as caught, db.unit_of_work() as s:
        import_file(s, bad, BREADBASKET, actor="test", store_id="s1")
    assert [e.line for e in caught.value.errors] == [151]
    assert _count(db, TransactionLine) == 0 and _count(db, ImportRecord) == 0


def test_importing_the_same_file_twice_changes_nothing(db: Database, tmp_path: Path) -> None:
    part = tmp_path / "bread.csv"
    part.write_text(_head("BreadBasket_DMS.csv", 400), encoding="utf-8", newline="")
    with db.unit_of_work() as s:
        first = import_file(s, part, BREADBASKET, actor="test", store_id="s1")
    with db.read_session() as s:
        before = s.execute(select(TransactionLine.transaction_id, TransactionLine.item, TransactionLine.quantity)
                           .order_by(TransactionLine.id)).all()
    with db.unit_of_work() as s:
        again = import_file(s, part, BREADBASKET, actor="test", store_id="s1")
    with db.read_session() as s:
        after = s.execute(select(TransactionLine.transaction_id, TransactionLine.item, TransactionLine.quantity)
                          .order_by(TransactionLine.id)).all()
    assert first.inserted == len(before) > 300 and not first.already_imported
    assert (again.inserted, again.already_imported) == (0, True) and after == before
    # A longer export of the same till (other bytes) adds only its new rows.
    longer = tmp_path / "bread-longer.csv"
    longer.write_text(_head("BreadBasket_DMS.csv", 500), encoding="utf-8", newline="")
    with db.unit_of_work() as s:
        more = import_file(s, longer, BREADBASKET, actor="test", store_id="s1")
    assert more.already_present == len(before) and more.inserted == _count(db, TransactionLine) - len(before) > 0


def test_sales_import_keeps_one_store_and_its_side_columns(db: Database) -> None:
    one = WALMART.model_copy(update={"only": {"Store": "2"}})
    with db.unit_of_work() as s:
        result = import_file(s, retail_dir() / "Walmart_Store_sales.csv", one, actor="test", store_id="demo")
    assert result.inserted == 135
    with db.read_session() as s:
        first = s.scalars(select(SalesRow).order_by(SalesRow.period).limit(1)).one()
    assert (first.period.isoformat(), first.value) == ("2010-02-05", 2136989.46)
    assert first.features == {"Holiday_Flag": 0.0, "Temperature": 40.19, "Fuel_Price": 2.572, "CPI": 210.7526053}


def test_mapping_errors_are_clear() -> None:
    with pytest.raises(ValueError, match="needs transaction="):
        ColumnMapping(kind="transactions", date="Date", date_format="%Y-%m-%d")


POS = "/api/v1/insights/s1/transactions"


def test_live_pos_batches_are_stored_once(client: TestClient, db: Database, auth: Callable[..., dict[str, str]]) -> None:
    till = auth("till-1", "events:write", store="s1")
    batch = {"lines": [
        {"transaction_id": "t1", "item": "Coffee", "at": "2026-01-05T09:00:00Z"},
        {"transaction_id": "t1", "item": "Coffee", "at": "2026-01-05T09:00:00Z"},
        {"transaction_id": "t1", "item": "Bread", "at": "2026-01-05T09:00:00Z", "quantity": 2},
    ]}
    first = client.post(POS, json=batch, headers=till)
    assert first.status_code == 200, first.text
    assert first.json() == {"received": 3, "inserted": 2, "already_present": 0}
    again = client.post(POS, json=batch, headers=till).json()
    assert (again["inserted"], _count(db, TransactionLine)) == (0, 2)
    with db.read_session() as s:
        assert dict(s.execute(select(TransactionLine.item, TransactionLine.quantity)).all()) == {"Coffee": 2.0, "Bread": 2.0}


def test_live_pos_refuses_a_bad_line_whole_and_other_stores(client: TestClient, db: Database,
                                                           auth: Callable[..., dict[str, str]]) -> None:
    till = auth("till-1", "events:write", store="s1")
    bad = {"lines": [{"transaction_id": "t1", "item": "Tea", "at": "2026-01-05T09:00:00Z"},
                     {"transaction_id": "t2", "item": "Tea", "at": "2026-01-05T09:00:00", "quantity": -1}]}
    r = client.post(POS, json=bad, headers=till)
    assert r.status_code == 422
    assert {tuple(e["loc"][:4]) for e in r.json()["detail"]} == {("body", "lines", 1, "at"), ("body", "lines", 1, "quantity")}
    assert _count(db, TransactionLine) == 0
    other = client.post("/api/v1/insights/s2/transactions", headers=till,
                        json={"lines": [{"transaction_id": "t1", "item": "Tea", "at": "2026-01-05T09:00:00Z"}]})
    assert other.status_code == 403

"""Hostile input (issue 10): odd times, numbers, text, nesting, identifiers, duplicates, integer
overflow, the event stream and cross-store hints. Each gives a clear 4xx (or is handled), nothing
partial is stored, and every page still renders afterwards. The last two tests are properties
(Hypothesis) over generated envelopes and query strings."""

from __future__ import annotations

import asyncio
import json
import logging
import re
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta, timezone
from decimal import Decimal
from typing import Any
from urllib.parse import quote
from uuid import uuid4

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import ValidationError
from sqlalchemy import func, select

from services.central import audit
from services.central.api.schemas.ops import WebhookIn
from services.central.dashboard.views import stream
from services.central.dashboard.views.stream import _changes, head_seq, kinds_between, last_seen
from services.central.db.session import Database
from services.central.db.tables import EventRow, ReviewItem
from services.central.ingest.parse import hostile_parts
from services.central.metrics import INGEST_EVENTS
from services.contract import EdgeStatus, Event

from .builders import count_rows, crowding_alert, fever_alert, occupancy, wire
from .ui_builders import item_id, sign_in

URL = "/api/v1/events"
Auth = Callable[..., dict[str, str]]


@pytest.fixture
def reader(auth: Auth) -> dict[str, str]:
    return auth("hq-reader", "events:read", "audit:read")


def _valid(**changes: Any) -> dict[str, Any]:
    doc = wire(occupancy())[0]
    doc.update(changes)
    return doc


def _body(doc: Any, **raw: str) -> bytes:
    """``doc`` as JSON, with each string ``"<name>"`` replaced by the raw JSON text ``raw[name]``
    (numbers and nesting that ``json.dumps`` would not write)."""
    text = json.dumps(doc)
    for name, token in raw.items():
        assert f'"<{name}>"' in text, name
        text = text.replace(f'"<{name}>"', token)
    return text.encode()


def _post(client: TestClient, edge: dict[str, str], body: bytes) -> Any:
    return client.post(URL, content=body, headers={**edge, "Content-Type": "application/json"})


def _refused(client: TestClient, db: Database, edge: dict[str, str], body: bytes, status: int = 422) -> list[dict[str, Any]]:
    before = count_rows(db, "events")
    r = _post(client, edge, body)
    assert r.status_code == status, r.text
    assert count_rows(db, "events") == before
    return r.json()["detail"]  # type: ignore[no-any-return]


# ------------------------------------------------------------------------------------ times

def _iso(t: datetime) -> str:
    return t.isoformat()


@pytest.mark.parametrize(("value", "reason"), [
    pytest.param("0001-01-01T00:00:00+01:00", "cannot be expressed in UTC", id="year 1 east of UTC"),
    pytest.param("9999-12-31T23:59:59-01:00", "cannot be expressed in UTC", id="year 9999 west of UTC"),
    pytest.param("9999-12-31T23:59:59Z", "days ahead of the receiver's clock", id="year 9999"),
    # A callable: the time is taken when the test runs, not when pytest collects it (a slow suite can
    # reach this test more than 5 minutes after collection, when "10 minutes ahead" is no longer).
    pytest.param(lambda: _iso(datetime.now(timezone.utc) + timedelta(minutes=10)), "minutes ahead", id="10 minutes ahead"),
    pytest.param("1970-01-01T00:00:00Z", "before 2000", id="clock never set"),
    pytest.param("1999-12-31T23:59:59+00:00", "before 2000", id="last second of 1999"),
])
def test_event_times_out_of_range_are_422_saying_why(
    client: TestClient, db: Database, edge: dict[str, str], value: str | Callable[[], str], reason: str
) -> None:
    value = value() if callable(value) else value
    detail = _refused(client, db, edge, _body([_valid(), _valid(occurred_at=value)]))
    assert [e["loc"] for e in detail] == [["body", 1, "occurred_at"]]
    assert reason in detail[0]["msg"]


def test_small_clock_skew_is_accepted(client: TestClient, edge: dict[str, str]) -> None:
    ahead = _valid(occurred_at=_iso(datetime.now(timezone.utc) + timedelta(minutes=4)))
    assert _post(client, edge, _body(ahead)).status_code == 200


def test_contract_time_conversion_raises_only_validation_errors() -> None:
    # Straight through the contract, as the MQTT path uses it: a ValidationError, never OverflowError.
    for value in ("0001-01-01T00:00:00+23:59", "9999-12-31T23:59:59-23:59"):
        with pytest.raises(ValidationError, match="cannot be expressed in UTC"):
            Event.model_validate(_valid(occurred_at=value))


@pytest.mark.parametrize("value", ["0001-01-01T00:00:00+01:00", "9999-12-31T23:59:59-01:00",
                                   "9999-12-31T23:59:59Z", "1970-01-01T00:00:00Z"])
def test_edge_status_times_out_of_range_are_422(client: TestClient, edge: dict[str, str], value: str) -> None:
    report = {"store_id": "tokyo-01", "camera_id": "aisle-1", "at": value, "outbox_depth": 0, "dead_letters": 0}
    r = client.post("/api/v1/edges/status", json=report, headers=edge)
    assert r.status_code == 422, r.text
    assert r.json()["detail"][0]["loc"][-1] == "at"
    assert client.get("/api/v1/edges", headers=edge).json()["count"] == 0
    with pytest.raises(ValidationError):
        EdgeStatus.model_validate(report)


@pytest.mark.parametrize(("name", "value", "status"), [
    ("since", "0001-01-01T00:00:00+01:00", 422),
    ("until", "9999-12-31T23:59:59-01:00", 422),
    ("until", "9999-12-31T23:59:59Z", 200),  # asking about the future is fine; it is just empty
    ("since", "0001-01-01T00:00:00Z", 200),
])
def test_query_times_out_of_range_are_422(client: TestClient, edge: dict[str, str], name: str, value: str,
                                          status: int) -> None:
    r = client.get(URL, params={name: value}, headers=edge)
    assert r.status_code == status, r.text
    if status == 422:
        assert r.json()["detail"][0]["loc"] == ["query", name]


# ------------------------------------------------------------------------- numbers and text

@pytest.mark.parametrize("token", ["1" + "0" * 400, str(2**53 + 1), str(-(2**63)), "1e999", "-1e999", "1e300"])
@pytest.mark.parametrize("where", ["payload", "measured", "box"])
def test_numbers_beyond_2_53_or_overflowing_are_422(
    client: TestClient, db: Database, edge: dict[str, str], token: str, where: str
) -> None:
    doc = wire(crowding_alert())[0]
    if where == "payload":
        doc["payload"]["count"] = "<n>"
        loc = ["body", "payload", "count"]
    elif where == "measured":
        doc["explanation"]["measured"]["count"] = "<n>"
        loc = ["body", "explanation", "measured", "count"]
    else:
        doc["evidence"] = {"boxes": [{"xyxy": [0, 0, "<n>", 10], "label": "person", "score": 0.9}]}
        loc = ["body", "evidence", "boxes", 0, "xyxy", 2]
    detail = _refused(client, db, edge, _body(doc, n=token))
    assert detail == [{"loc": loc, "msg": detail[0]["msg"], "type": "number_range"}]
    assert count_rows(db, "review_items") == 0


def test_numbers_up_to_2_53_pass_the_ingest_check() -> None:
    edge_of_range = {"a": 2**53, "b": -(2**53), "c": 9.007e15, "d": -0.0, "e": 5e-324, "f": [1.5, 0]}
    assert hostile_parts(edge_of_range, ["body"]) == []
    assert [e["loc"] for e in hostile_parts({"a": 2**53 + 1, "b": -9.1e15}, ["body"])] == [["body", "a"], ["body", "b"]]


@pytest.mark.parametrize(("doc", "loc"), [
    pytest.param(lambda: _valid(camera_id="<s>"), ["body", "camera_id"], id="identifier"),
    pytest.param(lambda: {**_valid(), "payload": {**_valid()["payload"], "zone": "<s>"}}, ["body", "payload", "zone"],
                 id="payload value"),
])
@pytest.mark.parametrize("token", ['"\\ud800"', '"a\\udfffb"', '"\\u0000"'])
def test_lone_surrogates_and_nul_are_422(
    client: TestClient, db: Database, edge: dict[str, str], doc: Callable[[], dict[str, Any]], loc: list[Any], token: str
) -> None:
    detail = _refused(client, db, edge, _body(doc(), s=token))
    assert detail[0]["loc"] == loc and detail[0]["type"] in ("string_surrogate", "string_nul")


def test_a_surrogate_in_a_key_is_422(client: TestClient, db: Database, edge: dict[str, str]) -> None:
    body = _body(_valid()).replace(b'"zone"', b'"\\ud83d"', 1)
    assert _refused(client, db, edge, body)[0]["type"] == "string_surrogate"


@pytest.mark.parametrize("depth", [33, 500, 900])
def test_deep_nesting_is_422_before_validation(client: TestClient, db: Database, edge: dict[str, str], depth: int) -> None:
    doc = _valid()
    doc["payload"]["zone"] = "<deep>"
    detail = _refused(client, db, edge, _body(doc, deep="[" * depth + "]" * depth))
    assert len(detail) == 1 and detail[0]["type"] == "too_deep"


def test_nesting_past_the_json_reader_is_400(client: TestClient, db: Database, edge: dict[str, str]) -> None:
    doc = _valid()
    doc["payload"]["zone"] = "<deep>"
    _refused(client, db, edge, _body(doc, deep="[" * 100_000 + "]" * 100_000), status=400)


# ------------------------------------------------------------------------------- identifiers

@pytest.mark.parametrize(("field", "value"), [
    ("store_id", "tokyo-01\n"), ("camera_id", "aisle-1\n"), ("type", "zone.occupancy\n"),
    ("store_id", "tokyo-01\r"), ("store_id", "\ntokyo-01"),
])
def test_identifiers_with_a_trailing_newline_are_422(
    client: TestClient, db: Database, edge: dict[str, str], field: str, value: str
) -> None:
    detail = _refused(client, db, edge, _body(_valid(**{field: value})))
    assert ["body", field] in [e["loc"] for e in detail]


def test_webhook_event_type_filter_refuses_a_trailing_newline() -> None:
    with pytest.raises(ValidationError, match="is not an event type"):
        WebhookIn(url="https://example.com/hook", event_types=["zone.occupancy\n"])


# -------------------------------------------------------------------------------- duplicates

def _counter(result: str) -> float:
    return INGEST_EVENTS.labels("http", result)._value.get()  # type: ignore[attr-defined,no-any-return]


def test_the_same_event_twice_in_one_batch_is_stored_once_and_reported_as_a_duplicate(
    client: TestClient, db: Database, edge: dict[str, str]
) -> None:
    alert = crowding_alert()
    stored_before, dup_before = _counter("stored"), _counter("duplicate")
    r = client.post(URL, json=wire(alert, alert), headers=edge)
    assert r.status_code == 200, r.text
    assert r.json() == {"stored": [str(alert.event_id)], "duplicates": [str(alert.event_id)]}
    assert (count_rows(db, "events"), count_rows(db, "review_items")) == (1, 1)
    assert (_counter("stored") - stored_before, _counter("duplicate") - dup_before) == (1, 1)
    with db.read_session() as session:
        assert audit.verify(session).ok
    # Redelivered, twice again: both copies are duplicates now, and the metric only grows.
    r = client.post(URL, json=wire(alert, alert), headers=edge)
    assert r.json() == {"stored": [], "duplicates": [str(alert.event_id)]}
    assert (_counter("stored") - stored_before, _counter("duplicate") - dup_before) == (1, 3)


# ------------------------------------------------------------------------ integer overflow

@pytest.mark.parametrize(("path", "params"), [
    (URL, {"offset": 2**63}), (URL, {"offset": 2**64 + 1}), (URL, {"offset": 2**31}), (URL, {"limit": 2**63}),
    ("/api/v1/audit", {"after_seq": 2**63}), ("/api/v1/audit", {"offset": 2**63}),
    ("/api/v1/audit", {"after_seq": 2**31}), ("/api/v1/audit", {"limit": -(2**63)}),
])
def test_huge_integers_in_queries_are_422(client: TestClient, auth: Auth, path: str, params: dict[str, int]) -> None:
    headers = auth("hq", "events:read", "audit:read")
    r = client.get(path, params=params, headers=headers)
    assert r.status_code == 422, r.text
    assert r.json()["detail"][0]["loc"][0] == "query"


@pytest.mark.parametrize("number", [2**31, 2**63, 2**64, 10**30])
def test_huge_integers_in_paths_are_4xx(client: TestClient, db: Database, auth: Auth, number: int) -> None:
    r = client.get(f"/api/v1/reviews/{number}", headers=auth("hq", "reviews:read"))
    assert 400 <= r.status_code < 500, r.text
    sign_in(client, db, "sato", role="admin")
    assert client.get(f"/reviews/{number}").status_code == 404
    assert client.get(f"/reviews/{number}/panel").status_code == 404


@pytest.mark.parametrize("query", ["before=9223372036854775808", "offset=9223372036854775808",
                                   "before=2147483648&offset=2147483648", "offset=" + "9" * 30])
def test_huge_integers_in_the_audit_views_query_are_not_5xx(client: TestClient, db: Database, query: str) -> None:
    sign_in(client, db, "sato", role="admin")
    assert client.get(f"/audit?{query}").status_code in (200, 422)


# ------------------------------------------------------------------------ the event stream

@pytest.mark.parametrize("header", ["²", "١٢", "-1", "1e3", "9" * 5000, " 3", "abc"])
def test_a_last_event_id_that_is_not_ascii_digits_starts_from_now(
    client: TestClient, db: Database, edge: dict[str, str], header: str
) -> None:
    assert last_seen(header) is None
    client.post(URL, json=wire(crowding_alert()), headers=edge)  # a change before the connection

    async def first_messages() -> list[str]:
        changes = _changes(db, header)
        first = await anext(changes)
        await asyncio.to_thread(client.post, URL, json=wire(occupancy()), headers=edge)  # after it
        return [first, await anext(changes)]

    with ThreadPoolExecutor(1) as pool:
        retry, message = pool.submit(asyncio.run, first_messages()).result()
    assert retry.startswith("retry:")
    # Only the change after connecting: the alert's "queue" from before was not replayed.
    assert message == f'id: {head_seq(db)}\nevent: events\ndata: {{"seq": {head_seq(db)}, "kinds": ["events"]}}\n\n'


def test_catch_up_reads_only_the_newest_entries(db: Database, client: TestClient, edge: dict[str, str],
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    client.post(URL, json=wire(crowding_alert()), headers=edge)
    for _ in range(3):
        client.post(URL, json=wire(occupancy()), headers=edge)
    assert kinds_between(db, 0, head_seq(db)) == ["events", "queue"]
    monkeypatch.setattr(stream, "CATCH_UP", 3)
    assert kinds_between(db, 0, head_seq(db)) == ["events"]  # the alert is older than the window


def test_the_stream_tells_a_store_only_its_own_changes(
    client: TestClient, db: Database, edge: dict[str, str], auth: Auth
) -> None:
    before = head_seq(db)
    client.post(URL, json=wire(crowding_alert(store="osaka-03"), occupancy(store="tokyo-01")), headers=edge)
    head = head_seq(db)
    assert kinds_between(db, before, head) == ["events", "queue"]
    assert kinds_between(db, before, head, store="osaka-03") == ["events", "queue"]
    assert kinds_between(db, before, head, store="tokyo-01") == ["events"]
    assert kinds_between(db, before, head, store="nagoya-02") == []
    # A claim in Osaka is no news in Tokyo.
    osaka_item = client.get("/api/v1/reviews", headers=auth("r", "reviews:read")).json()["data"][0]["id"]
    claimed = client.post(f"/api/v1/reviews/{osaka_item}/claim", headers=auth("rw", "reviews:write", "reviews:read"))
    assert claimed.status_code == 200, claimed.text
    assert kinds_between(db, head, head_seq(db), store="tokyo-01") == []
    assert kinds_between(db, head, head_seq(db), store="osaka-03") == ["queue"]
    # Ingest entries written before they named their stores are looked up by event id.
    tokyo = occupancy(store="tokyo-01")
    with db.unit_of_work() as session:
        session.add(EventRow(**_row(tokyo)))
        session.flush()
        audit.append(session, "edge-worker", "events.ingest", "events",
                     {"received": 1, "stored": [str(tokyo.event_id)], "duplicates": [], "review_items": []})
    assert kinds_between(db, head_seq(db) - 1, head_seq(db), store="tokyo-01") == ["events"]
    assert kinds_between(db, head_seq(db) - 1, head_seq(db), store="osaka-03") == []

    async def replay(store: str) -> str:
        changes = _changes(db, str(before), store)
        await anext(changes)
        return await anext(changes)

    with ThreadPoolExecutor(1) as pool:
        message = pool.submit(asyncio.run, replay("tokyo-01")).result()
    assert "event: events\n" in message and "event: queue" not in message


def _row(event: Event) -> dict[str, Any]:
    from services.central.ingest.store import to_row

    return to_row(event, datetime.now(timezone.utc))


def test_the_queue_filter_lists_only_the_viewers_stores_use_cases(client: TestClient, db: Database,
                                                                   edge: dict[str, str]) -> None:
    client.post(URL, json=wire(fever_alert(store="osaka-03"), crowding_alert(store="tokyo-01")), headers=edge)
    sign_in(client, db, "sato", store="tokyo-01")
    page = client.get("/queue").text
    options = re.findall(r'<option value="([A-J])"', page)
    assert options == ["F"]  # not "A": only Osaka has use case A items
    assert 'value="entrance"' not in page  # nor Osaka's camera


# --------------------------------------------------------------------------- odd stored values

def test_pages_render_whatever_numbers_were_stored(client: TestClient, db: Database, edge: dict[str, str],
                                                   backend: str) -> None:
    alert = crowding_alert()
    client.post(URL, json=wire(alert), headers=edge)
    odd: list[Any] = [10**400, -(10**30), 2**63, 1e308]
    if backend == "sqlite":  # PostgreSQL's jsonb has no infinity or NaN
        odd += [float("inf"), float("nan")]
    with db.unit_of_work() as session:
        row = session.get(EventRow, alert.event_id)
        assert row is not None
        row.payload = {"zone": "aisle", "count": odd[0], **{f"v{i}": v for i, v in enumerate(odd)}}
        row.explanation = {"rule": "occupancy_over_capacity", "thresholds": {"capacity": odd[-1]},
                           "measured": {f"m{i}": v for i, v in enumerate(odd)}}
        row.evidence = {"frame_size": [10**400, 2], "scores": {"s": odd[-1]},
                        "boxes": [{"xyxy": [v, 0, v, odd[-1]], "label": "person", "score": v, "track_id": v}
                                  for v in odd]}
    sign_in(client, db, "sato", role="admin")
    item = item_id(db, alert.event_id)
    for path in ("/queue", "/queue/items", f"/reviews/{item}", f"/reviews/{item}/panel", "/stores",
                 "/stores/tokyo-01", "/audit"):
        r = client.get(path)
        assert r.status_code == 200, (path, r.text[-2000:])


# ------------------------------------------------------------------------------ disconnects

def test_a_client_that_disconnects_mid_body_is_logged_at_info(
    app: FastAPI, edge: dict[str, str], caplog: pytest.LogCaptureFixture
) -> None:
    messages = iter([{"type": "http.request", "body": b'[{"type": ', "more_body": True}, {"type": "http.disconnect"}])
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        return next(messages)

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    headers = [(k.lower().encode(), v.encode()) for k, v in {**edge, "Content-Type": "application/json"}.items()]
    scope = {"type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "POST", "scheme": "http",
             "path": URL, "raw_path": URL.encode(), "query_string": b"", "headers": headers,
             "client": ("127.0.0.1", 50000), "server": ("testserver", 80), "root_path": "", "state": {}}
    with caplog.at_level(logging.INFO):
        asyncio.run(app(scope, receive, send))
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert any("client disconnected" in r.getMessage() and r.levelno == logging.INFO for r in caplog.records)
    assert sent[0]["status"] == 499


# ------------------------------------------------------------------------------ properties

NOW = datetime.now(timezone.utc)
_ODD_NUMBERS = ["1" + "0" * 400, str(2**53 + 1), str(-(2**53) - 1), str(2**63), "1e999", "-1e999", "1e300",
                "-0.0", "0", "1e-320", str(2**53), "12.5"]
_HOSTILE_TEXT = st.text(st.characters(min_codepoint=0, max_codepoint=0xDFFF, exclude_categories=()), min_size=1,
                        max_size=6)


def _time_ok(t: datetime) -> bool:
    """The contract's rule, restated: expressible in UTC, from 2000 up to 5 minutes ahead."""
    try:
        utc = t.astimezone(timezone.utc)
    except OverflowError:
        return False
    return datetime(2000, 1, 1, tzinfo=timezone.utc) <= utc <= datetime.now(timezone.utc) + timedelta(minutes=5)


@st.composite
def _times(draw: st.DrawFn) -> tuple[str, bool | None]:
    """An ``occurred_at`` text and whether it is valid (None: not a time at all, so invalid)."""
    if draw(st.booleans()):
        base = draw(st.datetimes(min_value=datetime(1, 1, 1), max_value=datetime(9999, 12, 31, 23, 59, 59)))
        if draw(st.booleans()):  # near now, where the clock-skew bound lies
            base = (NOW + timedelta(seconds=draw(st.integers(-3600, 3600)))).replace(tzinfo=None)
        offset = timezone(timedelta(minutes=draw(st.integers(-1439, 1439))))
        t = base.replace(tzinfo=offset)
        return t.isoformat(), _time_ok(t)
    return draw(st.sampled_from(["0001-01-01T00:00:00+01:00", "9999-12-31T23:59:59-01:00", "2026-13-01T00:00:00Z",
                                 "", "now", "2026-01-01T00:00:00"])), None


@st.composite
def _envelope(draw: st.DrawFn) -> tuple[dict[str, Any], dict[str, str], bool]:
    """One envelope (maybe an alert), its raw JSON tokens, and whether it must be refused."""
    event = draw(st.sampled_from([occupancy, crowding_alert]))()
    doc = wire(event)[0]
    raw: dict[str, str] = {}
    hostile = False
    kind = draw(st.sampled_from(["valid", "time", "number", "text", "identifier", "nesting"]))
    if kind == "time":
        doc["occurred_at"], ok = draw(_times())
        hostile = not ok
    elif kind == "number":
        token = draw(st.sampled_from(_ODD_NUMBERS))
        name = f"n{uuid4().hex}"
        raw[name] = token
        where = draw(st.sampled_from(["payload", "box", "thresholds"]))
        if where == "payload":
            doc["payload"]["extra"] = f"<{name}>"
        elif where == "box":
            doc["evidence"] = {"boxes": [{"xyxy": [0, 0, f"<{name}>", 1], "label": "person", "score": 0.5}]}
        else:
            doc["explanation"] = {"rule": "r", "thresholds": {"x": f"<{name}>"}}
        hostile = abs(Decimal(token)) > 2**53
    elif kind == "text":
        value = draw(_HOSTILE_TEXT)
        doc["payload"]["zone"] = value
        hostile = any(0xD800 <= ord(c) <= 0xDFFF for c in value) or "\x00" in value
    elif kind == "identifier":
        field = draw(st.sampled_from(["store_id", "camera_id", "type"]))
        doc[field] = doc[field] + draw(st.sampled_from(["\n", "\r\n", "\t", "\x00", " ", "\u2028", "\ud800"]))
        hostile = True
    elif kind == "nesting":
        depth = draw(st.integers(1, 950))
        name = f"d{uuid4().hex}"
        raw[name] = "[" * depth + "]" * depth
        doc["payload"]["zone"] = f"<{name}>"
        hostile = depth + 2 > 32  # the envelope is level 0, payload 1, the first array 2
    return doc, raw, hostile


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(batch=st.lists(_envelope(), min_size=1, max_size=4), repeat=st.booleans())
def test_property_hostile_envelopes_never_5xx_and_store_all_or_nothing(
    client: TestClient, db: Database, edge: dict[str, str], batch: list[tuple[dict[str, Any], dict[str, str], bool]],
    repeat: bool,
) -> None:
    docs = [doc for doc, _, _ in batch]
    if repeat:  # the same event twice in one batch
        docs.append(docs[0])
    raw = {k: v for _, tokens, _ in batch for k, v in tokens.items()}
    body = json.dumps(docs)  # ensure_ascii: a lone surrogate travels as \ud800, as an attacker would send it
    for name, token in raw.items():
        body = body.replace(f'"<{name}>"', token)
    before = count_rows(db, "events")
    r = _post(client, edge, body.encode())
    assert r.status_code < 500, r.text
    stored = count_rows(db, "events") - before
    if any(hostile for _, _, hostile in batch):
        assert 400 <= r.status_code < 500, body[:500]
    if r.status_code == 200:
        ack = r.json()
        assert stored == len(ack["stored"]) == len({d["event_id"] for d in docs})
        assert set(ack["stored"]) | set(ack["duplicates"]) == {d["event_id"] for d in docs}
    else:
        assert stored == 0
    _pages_render(client, db)


def _pages_render(client: TestClient, db: Database) -> None:
    """Queue, the newest review item, the store view and the audit view all answer 200."""
    if not client.cookies.get("anshin_session"):
        sign_in(client, db, "hq-admin", role="admin")
    with db.read_session() as session:
        newest = session.scalar(select(func.max(ReviewItem.id)))
    paths = ["/queue", "/stores/tokyo-01", "/audit", *([f"/reviews/{newest}"] if newest else [])]
    for path in paths:
        assert client.get(path).status_code == 200, path


_HUGE = st.sampled_from([2**31, 2**53, 2**63, 2**64, -(2**63) - 1, 10**30]).map(str)
_QUERY_VALUES = st.one_of(_HUGE, st.integers(-5, 600).map(str), st.sampled_from([
    "0001-01-01T00:00:00+01:00", "9999-12-31T23:59:59-01:00", "9999-12-31T23:59:59Z", "2026-01-01T00:00:00",
    "2026-02-30T00:00:00Z", "1e999", "NaN", "", "²", "2026-01-01T00:00:00+99:00"]), _HOSTILE_TEXT)


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(path=st.sampled_from([URL, "/api/v1/audit"]),
       params=st.dictionaries(st.sampled_from(["since", "until", "offset", "limit", "after_seq", "store_id", "type"]),
                              _QUERY_VALUES, max_size=4))
def test_property_hostile_queries_never_5xx(client: TestClient, reader: dict[str, str], path: str,
                                            params: dict[str, str]) -> None:
    # Percent-encode the bytes ourselves: a lone surrogate becomes the invalid UTF-8 an attacker
    # would send (%ED%A0%80), which no client library would produce from a str.
    query = "&".join(f"{k}={quote(v.encode('utf-8', 'surrogatepass'), safe='')}" for k, v in params.items())
    r = client.get(f"{path}?{query}" if query else path, headers=reader)
    assert r.status_code in (200, 422), (params, r.text)
    if r.status_code == 200:
        assert isinstance(r.json()["data"], list)


@pytest.mark.parametrize("query", ["/api/v1/audit?actor=a&actor=b", "/api/v1/events?store_id=s1&store_id=s2",
                                   "/api/v1/events?limit=5&limit=6"])
def test_a_query_parameter_given_twice_is_a_422_naming_it(client: TestClient, reader: dict[str, str], query: str) -> None:
    """No API route takes a list: answering for the last of several values answers a question nobody asked."""
    r = client.get(query, headers=reader)
    assert r.status_code == 422, r.text
    name = query.split("?")[1].split("=")[0]
    assert r.json()["detail"][0]["loc"] == ["query", name]

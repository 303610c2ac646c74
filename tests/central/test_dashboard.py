"""The staff dashboard over HTTP (the browser tests drive the same pages in chromium): access
rules, the queue's order, filters and counts, decisions through the forms, the audit view, the
event stream and the language."""

from __future__ import annotations

import asyncio
import re
from concurrent.futures import ThreadPoolExecutor
from uuid import uuid4

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import select, text

from services.central.dashboard.views.stream import _changes, head_seq, kinds_between
from services.central.db.session import Database
from services.central.db.tables import AuditEntry, ReviewItem
from services.central.stores import set_profile

from .builders import crowding_alert, fever_alert, minutes_ago, occupancy, wire
from .ui_builders import item_id, post_form, sign_in

DASHBOARD_PATHS = ["/queue", "/queue/items", "/reviews/1", "/reviews/1/panel", "/stores", "/stores/tokyo-01",
                   "/stores/tokyo-01/live", "/audit", "/audit/verify"]
UI_PATHS = ["/ui/stream", f"/ui/evidence/{uuid4()}.jpg", "/ui/live/tokyo-01/aisle-1.jpg"]


def ingest(client: TestClient, edge: dict[str, str], *events: object) -> None:
    r = client.post("/api/v1/events", json=wire(*events), headers=edge)  # type: ignore[arg-type]
    assert r.status_code == 200, r.text


def rows_in_order(html: str) -> list[int]:
    return [int(i) for i in re.findall(r'data-item-id="(\d+)"', html)]


def state_of(db: Database, item: int) -> str:
    with db.read_session() as s:
        return str(s.get(ReviewItem, item).state)


# ---------------------------------------------------------------------------------- access


@pytest.mark.parametrize("path", DASHBOARD_PATHS)
def test_every_page_sends_a_stranger_to_sign_in(client: TestClient, path: str) -> None:
    r = client.get(path, follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == f"/login?next={path}"
    htmx = client.get(path, headers={"HX-Request": "true"}, follow_redirects=False)
    assert htmx.status_code == 401 and htmx.headers["HX-Redirect"] == f"/login?next={path}"


@pytest.mark.parametrize("path", UI_PATHS)
def test_pictures_and_the_stream_need_a_signed_in_user(client: TestClient, path: str) -> None:
    assert client.get(path, follow_redirects=False).status_code == 401


def test_every_api_read_needs_a_key(app: FastAPI, client: TestClient) -> None:
    reads = [p for p, ops in app.openapi()["paths"].items() if p.startswith("/api/v1") and "get" in ops]
    assert len(reads) >= 6 and "/api/v1/snapshots/{sha256}" in reads
    for route in reads:
        assert client.get(re.sub(r"\{[^}]+\}", "x", route)).status_code == 401, route


def test_a_staff_user_cannot_open_the_audit_view(client: TestClient, db: Database) -> None:
    sign_in(client, db, "sato", "staff")
    assert "/audit" not in client.get("/queue").text  # no link either
    for path in ("/audit", "/audit/verify"):
        r = client.get(path)
        assert r.status_code == 403 and "Your role does not allow this page." in r.text


@pytest.mark.parametrize("role", ["auditor", "manager", "admin"])
def test_auditors_managers_and_admins_open_the_audit_view(client: TestClient, db: Database, role: str) -> None:
    sign_in(client, db, "ito", role)
    r = client.get("/audit")
    assert r.status_code == 200 and "user.login" in r.text


def test_pages_carry_a_strict_content_security_policy(client: TestClient, db: Database) -> None:
    sign_in(client, db, "sato")
    r = client.get("/queue")
    assert "script-src 'self'" in r.headers["content-security-policy"] and r.headers["x-frame-options"] == "DENY"
    assert "<script>" not in r.text and " style=" not in r.text  # nothing inline for the policy to allow


# ---------------------------------------------------------------------------------- queue


def test_queue_orders_by_severity_then_deadline_and_marks_overdue(client: TestClient, db: Database, edge) -> None:  # type: ignore[no-untyped-def]
    late_fever, fresh_fever = fever_alert(at=minutes_ago(10)), fever_alert(at=minutes_ago(1))
    critical, notice = crowding_alert(at=minutes_ago(2)), crowding_alert(at=minutes_ago(3), severity="notice")
    ingest(client, edge, fresh_fever, notice, late_fever, critical)
    sign_in(client, db, "sato")
    page = client.get("/queue").text
    expected = [item_id(db, e.event_id) for e in (critical, late_fever, fresh_fever, notice)]
    assert rows_in_order(page) == expected
    late_row = re.search(rf'<tr class="([^"]+)" data-item-id="{expected[1]}"', page).group(1)
    fresh_row = re.search(rf'<tr class="([^"]+)" data-item-id="{expected[2]}"', page).group(1)
    assert "overdue" in late_row.split() and "overdue" not in fresh_row.split()
    assert re.search(r"overdue by [5-6] min", page)
    assert re.search(r'data-count="pending">4<', page) and re.search(r'data-count="overdue">1<', page)


def test_queue_filters_by_store_camera_use_case_and_state(client: TestClient, db: Database, edge) -> None:  # type: ignore[no-untyped-def]
    a = fever_alert(store="tokyo-01", camera="entrance")
    b = crowding_alert(store="tokyo-01", camera="aisle-1")
    c = crowding_alert(store="osaka-03", camera="aisle-1")
    ingest(client, edge, a, b, c)
    sign_in(client, db, "sato")
    ids = {k: item_id(db, e.event_id) for k, e in (("a", a), ("b", b), ("c", c))}
    cases = {
        "store=osaka-03": [ids["c"]], "camera=entrance": [ids["a"]], "use_case=F": sorted([ids["b"], ids["c"]]),
        "store=tokyo-01&use_case=F": [ids["b"]], "state=dismissed": [], "state=pending": sorted(ids.values()),
    }
    for query, want in cases.items():
        r = client.get(f"/queue/items?{query}", headers={"HX-Request": "true"})
        assert sorted(rows_in_order(r.text)) == want, query
        assert r.headers["HX-Replace-Url"].startswith("/queue?")


def test_a_store_bound_user_sees_only_their_store(client: TestClient, db: Database, edge) -> None:  # type: ignore[no-untyped-def]
    mine, theirs = crowding_alert(store="tokyo-01"), crowding_alert(store="osaka-03")
    ingest(client, edge, mine, theirs)
    sign_in(client, db, "sato", store="tokyo-01")
    assert rows_in_order(client.get("/queue?store=osaka-03").text) == [item_id(db, mine.event_id)]
    assert client.get(f"/reviews/{item_id(db, theirs.event_id)}").status_code == 404
    assert client.get("/stores/osaka-03").status_code == 404


# ---------------------------------------------------------------------------------- decisions


def test_confirm_is_one_click_and_audited_with_the_user_id(client: TestClient, db: Database, edge) -> None:  # type: ignore[no-untyped-def]
    alert = crowding_alert()
    ingest(client, edge, alert)
    item = item_id(db, alert.event_id)
    csrf = sign_in(client, db, "sato")
    assert post_form(client, f"/reviews/{item}/decision", "not-the-token", decision="confirm").status_code == 403
    r = post_form(client, f"/reviews/{item}/decision", csrf, decision="confirm")
    assert r.status_code == 303 and r.headers["location"] == f"/queue?done={item}"
    assert state_of(db, item) == "confirmed"
    with db.read_session() as s:
        entries = s.scalars(select(AuditEntry).where(AuditEntry.subject == f"review_item:{item}").order_by(AuditEntry.seq)).all()
    assert [(e.action, e.details.get("decision")) for e in entries] == [("review.claim", None), ("review.decision", "confirm")]
    assert {e.actor for e in entries} == {"user:1"}


@pytest.mark.parametrize(("fields", "message"), [
    pytest.param({}, "A dismissal needs a reason.", id="no reason"),
    pytest.param({"reason": "because I said so"}, "A dismissal needs a reason.", id="reason not from the list"),
    pytest.param({"reason": "other"}, "Please explain “other” in the details.", id="other without details"),
])
def test_dismissal_needs_a_listed_reason(client: TestClient, db: Database, edge, fields, message) -> None:  # type: ignore[no-untyped-def]
    alert = crowding_alert()
    ingest(client, edge, alert)
    item = item_id(db, alert.event_id)
    csrf = sign_in(client, db, "sato")
    r = post_form(client, f"/reviews/{item}/decision", csrf, decision="dismiss", **fields)
    assert r.status_code == 422 and message in r.text
    assert state_of(db, item) == "pending"  # nothing half-done: the claim rolled back too


def test_dismissal_records_the_reason_code_in_clear_and_the_note_as_a_digest(client: TestClient, db: Database, edge) -> None:  # type: ignore[no-untyped-def]
    alert = crowding_alert()
    ingest(client, edge, alert)
    item = item_id(db, alert.event_id)
    csrf = sign_in(client, db, "sato")
    r = post_form(client, f"/reviews/{item}/decision", csrf, decision="dismiss", reason="other", note="Mr Sato's tour group")
    assert r.status_code == 303 and state_of(db, item) == "dismissed"
    with db.read_session() as s:
        entry = s.scalars(select(AuditEntry).where(AuditEntry.action == "review.decision")).one()
    assert entry.details["reason_code"] == "other" and len(entry.details["note_sha256"]) == 64
    assert "Sato" not in str(entry.details)
    assert "Other (explain in the details)" in client.get(f"/reviews/{item}").text


def test_the_two_person_rule_needs_a_second_different_user(app: FastAPI, db: Database, edge) -> None:  # type: ignore[no-untyped-def]
    alert = fever_alert()
    with TestClient(app) as first, TestClient(app) as second:
        ingest(first, edge, alert)
        item = item_id(db, alert.event_id)
        a, b = sign_in(first, db, "sato"), sign_in(second, db, "suzuki")
        assert post_form(first, f"/reviews/{item}/decision", a, decision="confirm").headers["location"] == f"/reviews/{item}"
        page = first.get(f"/reviews/{item}").text
        assert "You made the first decision." in page and 'value="confirm"' not in page
        again = post_form(first, f"/reviews/{item}/decision", a, decision="confirm")
        assert again.status_code == 409 and "Refused by the two-person rule" in again.text
        assert "Waiting for a second person: sato decided “confirmed”." in second.get(f"/reviews/{item}").text
        assert post_form(second, f"/reviews/{item}/decision", b, decision="confirm").headers["location"] == f"/queue?done={item}"
    assert state_of(db, item) == "confirmed"


def test_claims_keep_two_people_off_one_item_and_escalations_go_to_a_manager(app: FastAPI, db: Database, edge) -> None:  # type: ignore[no-untyped-def]
    alert = crowding_alert()
    with TestClient(app) as sato, TestClient(app) as suzuki, TestClient(app) as boss:
        ingest(sato, edge, alert)
        item = item_id(db, alert.event_id)
        a, b, m = sign_in(sato, db, "sato"), sign_in(suzuki, db, "suzuki"), sign_in(boss, db, "takahashi", "manager")
        assert post_form(sato, f"/reviews/{item}/claim", a).status_code == 303
        assert "Claimed by sato" in suzuki.get(f"/reviews/{item}").text
        taken = post_form(suzuki, f"/reviews/{item}/decision", b, decision="confirm")
        assert taken.status_code == 409 and "sato has claimed this item." in taken.text
        assert post_form(sato, f"/reviews/{item}/decision", a, decision="escalate", note="not sure").status_code == 303
        assert state_of(db, item) == "escalated"
        refused = post_form(suzuki, f"/reviews/{item}/decision", b, decision="confirm")
        assert refused.status_code == 403 and "Only a manager can decide an escalated item." in refused.text
        assert post_form(boss, f"/reviews/{item}/decision", m, decision="confirm").status_code == 303
    assert state_of(db, item) == "confirmed"


@pytest.mark.parametrize("role", ["operator", "auditor"])
def test_read_only_roles_can_look_but_not_decide(client: TestClient, db: Database, edge, role: str) -> None:  # type: ignore[no-untyped-def]
    alert = crowding_alert()
    ingest(client, edge, alert)
    item = item_id(db, alert.event_id)
    csrf = sign_in(client, db, "kato", role)
    page = client.get(f"/reviews/{item}").text
    assert "Your role can look but not decide." in page and 'value="confirm"' not in page
    assert post_form(client, f"/reviews/{item}/decision", csrf, decision="confirm").status_code == 403
    assert post_form(client, f"/reviews/{item}/claim", csrf).status_code == 403
    assert state_of(db, item) == "pending"


# ---------------------------------------------------------------------------------- audit, stream, language


def test_verify_reports_intact_then_the_first_tampered_entry(client: TestClient, db: Database, edge) -> None:  # type: ignore[no-untyped-def]
    ingest(client, edge, crowding_alert(), occupancy())
    sign_in(client, db, "ito", "auditor")
    assert 'data-verify="intact"' in client.get("/audit/verify").text
    with db.unit_of_work() as s:
        seq = s.scalar(select(AuditEntry.seq).where(AuditEntry.action == "events.ingest"))
        s.execute(text("UPDATE audit_log SET actor = 'someone-else' WHERE seq = :s"), {"s": seq})
    r = client.get("/audit/verify").text
    assert f'data-first-bad="{seq}"' in r and f"Chain BROKEN at entry #{seq}" in r and "hash mismatch" in r
    page = client.get(f"/audit?verify=1&before={seq + 5}").text
    assert f'<tr id="seq-{seq}" class="broken"' in page


def test_audit_view_filters_by_action_and_by_a_users_name(client: TestClient, db: Database, edge) -> None:  # type: ignore[no-untyped-def]
    ingest(client, edge, occupancy())
    sign_in(client, db, "ito", "auditor")
    by_action = client.get("/audit?action=events.ingest").text
    assert "1 entries match" in by_action and "<code>events.ingest</code>" in by_action
    by_name = client.get("/audit?actor=ito").text  # people type a name; the chain holds user:<id>
    assert "user.login" in by_name and "events.ingest</code>" not in by_name


def test_the_stream_names_what_changed_and_replays_after_a_reconnect(client: TestClient, db: Database, edge) -> None:  # type: ignore[no-untyped-def]
    before = head_seq(db)
    ingest(client, edge, occupancy())
    assert kinds_between(db, before, head_seq(db)) == ["events"]
    middle = head_seq(db)
    ingest(client, edge, crowding_alert())
    assert kinds_between(db, middle, head_seq(db)) == ["events", "queue"]

    async def first_two(last_id: str | None) -> list[str]:
        stream = _changes(db, last_id)
        return [await anext(stream), await anext(stream)]

    with ThreadPoolExecutor(1) as pool:  # a loop of its own, whatever else runs in this process
        retry, replay = pool.submit(asyncio.run, first_two(str(before))).result()
    assert retry.startswith("retry:")
    assert f"id: {head_seq(db)}\nevent: events\n" in replay and "event: queue\n" in replay


def test_the_stream_itself_needs_sign_in_and_answers_event_stream(client: TestClient, db: Database) -> None:
    sign_in(client, db, "sato")
    with client.stream("GET", "/ui/stream") as r:
        assert r.status_code == 200 and r.headers["content-type"].startswith("text/event-stream")
        assert next(r.iter_lines()).startswith("retry:")


@pytest.mark.parametrize(("country", "account_locale", "cookie", "expected"), [
    pytest.param("JP", None, None, "ja", id="store in Japan"),
    pytest.param("US", None, None, "en", id="store elsewhere"),
    pytest.param("JP", "en", None, "en", id="account prefers English"),
    pytest.param("JP", None, "en", "en", id="switched in the page"),
])
def test_language_follows_switch_then_account_then_store_country(
    client: TestClient, db: Database, country: str, account_locale: str | None, cookie: str | None, expected: str
) -> None:
    with db.unit_of_work() as s:
        set_profile(s, "tokyo-01", "standard", country)
    sign_in(client, db, "sato", store="tokyo-01", locale=account_locale)
    if cookie:
        assert client.get(f"/lang/{cookie}?next=/stores", follow_redirects=False).headers["location"] == "/stores"
    page = client.get("/queue").text
    assert f'<html lang="{expected}">' in page
    assert ("レビュー待ち" in page) == (expected == "ja")


def test_language_switch_only_goes_back_to_local_pages(client: TestClient) -> None:
    r = client.get("/lang/en?next=//evil.example/x", follow_redirects=False)
    assert r.headers["location"] == "/queue"


def test_store_view_lists_zone_counts_and_recent_events(client: TestClient, db: Database, edge) -> None:  # type: ignore[no-untyped-def]
    alert = crowding_alert()
    ingest(client, edge, occupancy(zone="aisle", count=12, capacity=10), occupancy(zone="till", count=1), alert)
    sign_in(client, db, "sato")
    page = client.get("/stores/tokyo-01/live").text
    assert re.search(r'data-zone="aisle">\s*<th scope="row">aisle</th>\s*<td class="num">12 / 10 <strong', page)
    assert 'data-zone="till"' in page
    assert f'href="/reviews/{item_id(db, alert.event_id)}"' in page
    assert "tokyo-01" in client.get("/stores").text

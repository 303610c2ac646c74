"""Use case E on central (SQLite and PostgreSQL): consent first, crypto-shredding, charged exactly
once, non-members leave nothing behind, doubt goes to staff. Against the real fake payment provider
over HTTP. Embeddings here are synthetic unit vectors (the logic is what is tested); the demo test
(test_checkout_demo.py) runs the real face model on real photos."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np
import pytest
from sqlalchemy import func, select

from services.central import audit
from services.central.db.session import Database
from services.central.db.tables import AuditEntry, Base, EventRow, ReviewItem
from services.central.usecases.checkout import service
from services.central.usecases.checkout.crypto import (
    MASTER_KEY_ENV,
    SealedTemplate,
    TemplateUnavailable,
    encode_master_key,
    new_master_key,
    open_template,
)
from services.central.usecases.checkout.fake_provider import RunningProvider, running_provider
from services.central.usecases.checkout.payment import PaymentAdapter, PaymentError
from services.central.usecases.checkout.tables import CheckoutCharge, CheckoutMember, CheckoutMemberKey

STORE = "s1"
MASTER = new_master_key()


def unit(seed: int) -> np.ndarray:
    v = np.random.default_rng(seed).normal(size=128)
    return (v / np.linalg.norm(v)).astype(np.float32)  # unit length, as the edge sends them


def near(v: np.ndarray, seed: int, size: float = 0.1) -> list[float]:
    """A unit vector about ``size`` away from ``v`` (the edge sends unit-length embeddings)."""
    noise = np.random.default_rng(seed).normal(size=128)
    w = v + noise / np.linalg.norm(noise) * size
    return [float(x) for x in w / np.linalg.norm(w)]


@pytest.fixture(autouse=True)
def master_key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(MASTER_KEY_ENV, encode_master_key(MASTER))


@pytest.fixture
def provider(monkeypatch: pytest.MonkeyPatch) -> Iterator[RunningProvider]:
    with running_provider() as p:
        monkeypatch.setenv("ANSHIN_CHECKOUT_PROVIDER_URL", p.url)
        monkeypatch.setenv("ANSHIN_CHECKOUT_PROVIDER_KEY", p.secret_key)
        yield p


@pytest.fixture
def kiosk(auth: Callable[..., dict[str, str]], db: Database) -> dict[str, str]:
    from services.central.stores import set_profile

    with db.unit_of_work() as session:  # face checkout runs only in `identified` stores
        set_profile(session, STORE, "identified", "JP", actor="test")
    return auth("kiosk", "events:write", store=STORE)


def enrol_body(vectors: list[np.ndarray], token: str = "tok_x", consent: bool = True, version: str = "2026-11") -> dict:
    return {"consent": consent, "consent_version": version, "language": "ja", "channel": "kiosk", "payment_token": token,
            "embeddings": [[float(x) for x in v] for v in vectors]}


def counts(db: Database) -> dict[str, int]:
    with db.read_session() as session:
        return {t.name: session.execute(select(func.count()).select_from(t)).scalar_one() for t in Base.metadata.sorted_tables}


def files(folder: Path) -> set[tuple[str, int]]:
    return {(str(p), p.stat().st_size) for p in folder.rglob("*") if p.is_file() and not p.name.endswith(("-wal", "-shm", "-journal"))}


def test_enrolment_needs_consent_and_stores_nothing_without_it(db: Database, client, kiosk) -> None:  # noqa: ANN001
    before = counts(db)
    refused = client.post(f"/api/v1/stores/{STORE}/checkout/members", json=enrol_body([unit(1)], consent=False), headers=kiosk)
    assert refused.status_code == 422 and "consent" in refused.json()["detail"]
    unknown = client.post(f"/api/v1/stores/{STORE}/checkout/members", json=enrol_body([unit(1)], version="1999-01"), headers=kiosk)
    assert unknown.status_code == 422
    missing = client.post(f"/api/v1/stores/{STORE}/checkout/members", json={"embeddings": [[0.1] * 128]}, headers=kiosk)
    assert missing.status_code == 422
    raw = client.post(f"/api/v1/stores/{STORE}/checkout/members", json=enrol_body([unit(1) * 1.4]), headers=kiosk)
    assert raw.status_code == 422 and "unit length" in raw.text
    assert counts(db) == before  # not a member row, key, audit entry or event
    with db.unit_of_work() as session, pytest.raises(service.ConsentRequired):
        service.enrol(session, MASTER, STORE, [unit(1)], service.Consent(False, "2026-11", "en", "kiosk"), "tok", "t")
    ok = client.post(f"/api/v1/stores/{STORE}/checkout/members", json=enrol_body([unit(1), unit(2)]), headers=kiosk)
    assert ok.status_code == 201
    with db.read_session() as session:
        member = session.get(CheckoutMember, ok.json()["member_id"])
        assert member.consent_version == "2026-11" and member.consent_language == "ja" and len(member.consent_sha256) == 64
        assert member.photos == 2 and member.payment_token == "tok_x"


def test_erasure_deletes_the_key_so_even_a_backup_cannot_be_read_and_the_audit_chain_stays_valid(db: Database) -> None:
    consent = service.Consent(True, "2026-11", "en", "staff_desk")
    with db.unit_of_work() as session:
        member = service.enrol(session, MASTER, STORE, [unit(1)], consent, "tok_a", "desk")
        other = service.enrol(session, MASTER, STORE, [unit(2)], consent, "tok_b", "desk")
    with db.read_session() as session:
        assert np.allclose(service.member_template(session, MASTER, member)[0], unit(1))
        row = session.get(CheckoutMember, member)
        backup = (row.template_nonce, row.template_ciphertext)  # what a database backup holds
        key = session.get(CheckoutMemberKey, member)
        assert backup[1] is not None and unit(1).tobytes() not in backup[1]  # encrypted at rest
        sealed = SealedTemplate(backup[0], backup[1], key.wrap_nonce, key.wrapped_key)
        assert np.allclose(open_template(MASTER, member, sealed)[0], unit(1))
    with db.unit_of_work() as session:
        service.withdraw(session, member, "desk")
    with db.read_session() as session:
        assert session.get(CheckoutMemberKey, member) is None
        row = session.get(CheckoutMember, member)
        assert row.state == "withdrawn" and row.template_ciphertext is None and row.payment_token is None
        with pytest.raises(TemplateUnavailable):
            service.member_template(session, MASTER, member)
        # The backup's ciphertext with every key left in the database: none opens it.
        for k in session.scalars(select(CheckoutMemberKey)).all():
            with pytest.raises(TemplateUnavailable):
                open_template(MASTER, member, SealedTemplate(backup[0], backup[1], k.wrap_nonce, k.wrapped_key))
        assert set(service.gallery(session, MASTER, STORE)) == {other}
        assert audit.verify(session).ok
        entries = session.scalars(select(AuditEntry).where(AuditEntry.action.like("checkout.%"))).all()
        assert [e.action for e in entries] == ["checkout.enrol", "checkout.enrol", "checkout.withdraw"]
        text = json.dumps([e.details for e in entries])
        assert "template_sha256" in text and f"{float(unit(1)[0]):.6f}"[:8] not in text  # digests only, no numbers of the face


def test_charge_happens_once_when_the_exit_is_delivered_twice(db: Database, client, kiosk, provider: RunningProvider) -> None:  # noqa: ANN001
    adapter = PaymentAdapter(provider.url, provider.secret_key)
    token = adapter.tokenize("4242424242424242")
    member = client.post(f"/api/v1/stores/{STORE}/checkout/members", json=enrol_body([unit(1)], token), headers=kiosk).json()["member_id"]
    client.post(f"/api/v1/stores/{STORE}/checkout/members", json=enrol_body([unit(2)], token), headers=kiosk)
    added = client.post(f"/api/v1/stores/{STORE}/checkout/members/{member}/items", headers=kiosk,
                        json={"source": "pos", "items": [{"sku": "a", "qty": 3, "unit_yen": 100}]})
    assert added.json() == {"items": 3, "amount_yen": 300}
    exit_body = {"exit_id": "gate-1", "camera_id": "exit-1", "embedding": near(unit(1), 9), "quality_ok": True, "live": True}
    first = client.post(f"/api/v1/stores/{STORE}/checkout/exits", json=exit_body, headers=kiosk).json()
    second = client.post(f"/api/v1/stores/{STORE}/checkout/exits", json=exit_body, headers=kiosk).json()
    assert first["outcome"] == "charged" and first["member_id"] == member and first["amount_yen"] == 300
    assert second["charge_id"] == first["charge_id"] and second["replayed"] is True
    assert len(provider.ledger.charges) == 1
    with db.read_session() as session:
        assert session.scalar(select(func.count()).select_from(EventRow).where(EventRow.type == "checkout.charged")) == 1
        assert session.scalar(select(func.count()).select_from(CheckoutCharge)) == 1
    # The provider side of the same guarantee: a retried request with the same key charges once,
    # and the key cannot be reused for a different amount.
    again = adapter.charge(token, 300, idempotency_key=f"{STORE}:gate-1")
    assert again.id == first["charge_id"] and again.replayed and len(provider.ledger.charges) == 1
    with pytest.raises(PaymentError, match="idempotency_key_reused"):
        adapter.charge(token, 999, idempotency_key=f"{STORE}:gate-1")
    with db.unit_of_work() as session:
        refund_id = service.refund(session, adapter, STORE, "gate-1", "staff")
    with db.unit_of_work() as session:
        assert service.refund(session, adapter, STORE, "gate-1", "staff") == refund_id  # once
    assert len(provider.ledger.refunds) == 1
    adapter.close()


def test_a_non_member_face_is_not_persisted(db: Database, client, kiosk, provider: RunningProvider, settings) -> None:  # noqa: ANN001
    client.post(f"/api/v1/stores/{STORE}/checkout/members", json=enrol_body([unit(1)], "tok_z"), headers=kiosk)
    rows, disk = counts(db), files(Path(settings.data_dir))
    stranger = {"exit_id": "gate-9", "camera_id": "exit-1", "embedding": [float(x) for x in unit(77)], "quality_ok": True, "live": True}
    for _ in range(2):
        answer = client.post(f"/api/v1/stores/{STORE}/checkout/exits", json=stranger, headers=kiosk)
        assert answer.json()["outcome"] == "ignored" and answer.json()["member_id"] is None
    assert counts(db) == rows  # no charge, event, review item, audit entry or anything else
    assert files(Path(settings.data_dir)) == disk
    assert provider.ledger.charges == {}


def test_doubtful_matches_go_to_staff_and_are_never_charged_automatically(db: Database, client, kiosk,  # noqa: ANN001
                                                                          provider: RunningProvider) -> None:
    adapter = PaymentAdapter(provider.url, provider.secret_key)
    good, declined = adapter.tokenize("4242424242424242"), adapter.tokenize("4000000000000002")
    twin_a = unit(5)
    twin_b = (unit(5) + np.float32(0.02)) / np.linalg.norm(unit(5) + np.float32(0.02))  # two members almost equally close
    a = client.post(f"/api/v1/stores/{STORE}/checkout/members", json=enrol_body([twin_a], good), headers=kiosk).json()["member_id"]
    client.post(f"/api/v1/stores/{STORE}/checkout/members", json=enrol_body([twin_b], good), headers=kiosk)
    c = client.post(f"/api/v1/stores/{STORE}/checkout/members", json=enrol_body([unit(6)], declined), headers=kiosk).json()["member_id"]
    client.post(f"/api/v1/stores/{STORE}/checkout/members/{a}/items", headers=kiosk, json={"source": "self_scan", "items": [{"sku": "x", "qty": 1, "unit_yen": 50}]})
    client.post(f"/api/v1/stores/{STORE}/checkout/members/{c}/items", headers=kiosk, json={"source": "self_scan", "items": [{"sku": "y", "qty": 1, "unit_yen": 70}]})

    def exit_(exit_id: str, embedding: list[float], live: bool = True) -> dict:
        body = {"exit_id": exit_id, "camera_id": "exit-1", "embedding": embedding, "quality_ok": True, "live": live}
        return client.post(f"/api/v1/stores/{STORE}/checkout/exits", json=body, headers=kiosk).json()

    mid = (twin_a + twin_b) / np.linalg.norm(twin_a + twin_b)
    assert exit_("g1", [float(x) for x in mid])["reason"] == "low_margin"
    assert exit_("g2", near(unit(6), 3, 0.38))["reason"] == "between_thresholds"
    assert exit_("g3", near(unit(6), 4), live=False)["reason"] == "liveness"
    # each doubtful exit took the basket to staff; the member shops again, and the card is declined
    client.post(f"/api/v1/stores/{STORE}/checkout/members/{c}/items", headers=kiosk, json={"source": "pos", "items": [{"sku": "z", "qty": 2, "unit_yen": 70}]})
    assert exit_("g4", near(unit(6), 5))["outcome"] == "declined"  # the card, not the face: staff settle it
    assert provider.ledger.charges == {}
    with db.read_session() as session:
        items = session.scalars(select(ReviewItem)).all()
        assert len(items) == 4
        types = {session.get(EventRow, i.event_id).type for i in items}
        assert types == {"checkout.doubtful"}
    adapter.close()


def test_clear_errors_for_a_missing_master_key_and_a_wrong_provider_key(client, kiosk, monkeypatch: pytest.MonkeyPatch,  # noqa: ANN001
                                                                        provider: RunningProvider) -> None:
    monkeypatch.delenv(MASTER_KEY_ENV)
    answer = client.post(f"/api/v1/stores/{STORE}/checkout/members", json=enrol_body([unit(1)]), headers=kiosk)
    assert answer.status_code == 503 and MASTER_KEY_ENV in answer.json()["detail"]
    with pytest.raises(PaymentError, match="unauthenticated"):
        PaymentAdapter(provider.url, "sk_wrong").tokenize("4242424242424242")
    other_store = client.post("/api/v1/stores/s2/checkout/members", json=enrol_body([unit(1)]), headers=kiosk)
    assert other_store.status_code == 403


def test_the_checkout_page_lists_members_and_doubtful_exits_and_withdraws_in_ja_and_en(  # noqa: ANN001
        db: Database, client, kiosk, provider: RunningProvider) -> None:
    from .ui_builders import post_form, sign_in

    member = client.post(f"/api/v1/stores/{STORE}/checkout/members", json=enrol_body([unit(1)], "tok_p"), headers=kiosk).json()["member_id"]
    client.post(f"/api/v1/stores/{STORE}/checkout/members/{member}/items", headers=kiosk,
                json={"source": "self_scan", "items": [{"sku": "x", "qty": 1, "unit_yen": 10}]})
    body = {"exit_id": "g-page", "camera_id": "exit-1", "embedding": near(unit(1), 2), "quality_ok": True, "live": False}
    assert client.post(f"/api/v1/stores/{STORE}/checkout/exits", json=body, headers=kiosk).json()["outcome"] == "review"
    csrf = sign_in(client, db, "aiko", "staff", locale="en")
    page = client.get(f"/stores/{STORE}/checkout")
    assert page.status_code == 200 and "Face checkout" in page.text and member in page.text
    assert "consent given" in page.text and "staff check (not charged)" in page.text and 'href="/reviews/' in page.text
    r = post_form(client, f"/stores/{STORE}/checkout/members/{member}/withdraw", csrf)
    assert r.status_code == 303
    with db.read_session() as session:
        assert session.get(CheckoutMemberKey, member) is None and session.get(CheckoutMember, member).state == "withdrawn"
        assert audit.verify(session).ok
    client.cookies.clear()
    sign_in(client, db, "yui", "staff", locale="ja")
    page = client.get(f"/stores/{STORE}/checkout")
    assert "顔認証決済" in page.text and "撤回済み（テンプレート消去）" in page.text and "同意" in page.text


def test_only_identified_stores_run_face_checkout(db: Database, client, auth) -> None:  # noqa: ANN001
    from services.central.stores import set_profile

    with db.unit_of_work() as session:
        set_profile(session, "s3", "standard", "JP", actor="test")
    key = auth("kiosk-3", "events:write", store="s3")
    before = counts(db)
    r = client.post("/api/v1/stores/s3/checkout/members", json=enrol_body([unit(1)]), headers=key)
    assert r.status_code == 409 and "identified" in r.json()["detail"]
    exit_body = {"exit_id": "g", "camera_id": "exit-1", "embedding": [float(x) for x in unit(1)], "quality_ok": True, "live": True}
    assert client.post("/api/v1/stores/s3/checkout/exits", json=exit_body, headers=key).status_code == 409
    assert counts(db) == before


def test_staff_confirming_a_doubtful_exit_charges_it_once_and_a_dismissal_charges_nothing(  # noqa: ANN001
        db: Database, client, kiosk, provider: RunningProvider) -> None:
    from services.central.review import service as review
    from services.central.review.machine import Decision
    from services.central.users.service import actor_of, create_user

    token = PaymentAdapter(provider.url, provider.secret_key).tokenize("4242424242424242")
    member = client.post(f"/api/v1/stores/{STORE}/checkout/members", json=enrol_body([unit(1)], token), headers=kiosk).json()["member_id"]
    items = []
    for exit_id in ("g-confirm", "g-dismiss"):
        client.post(f"/api/v1/stores/{STORE}/checkout/members/{member}/items", headers=kiosk,
                    json={"source": "pos", "items": [{"sku": "a", "qty": 1, "unit_yen": 200}]})
        body = {"exit_id": exit_id, "camera_id": "exit-1", "embedding": near(unit(1), 7), "quality_ok": True, "live": False}
        assert client.post(f"/api/v1/stores/{STORE}/checkout/exits", json=body, headers=kiosk).json()["outcome"] == "review"
        with db.read_session() as session:
            charge = session.scalars(select(CheckoutCharge).where(CheckoutCharge.exit_id == exit_id)).one()
            items.append(session.scalars(select(ReviewItem.id).where(ReviewItem.event_id == charge.event_id)).one())
    assert provider.ledger.charges == {}
    with db.unit_of_work() as session:
        staff = actor_of(create_user(session, "ken", "correct horse battery", "staff", actor="test").id)
    for item, decision, reason in ((items[0], Decision.CONFIRM, None), (items[1], Decision.DISMISS, "not the member")):
        with db.unit_of_work() as session:
            review.claim(session, item, staff)
        with db.unit_of_work() as session:
            review.decide(session, item, staff, decision, reason)
    with db.read_session() as session:
        states = dict(session.execute(select(CheckoutCharge.exit_id, CheckoutCharge.state)).all())
    assert states == {"g-confirm": "charged", "g-dismiss": "dismissed"}
    assert [c["amount"] for c in provider.ledger.charges.values()] == [200]


def test_members_without_a_visit_for_12_months_are_erased(db: Database, tmp_path: Path) -> None:
    from datetime import datetime, timedelta, timezone

    from typer.testing import CliRunner

    from anshin.cli import app

    consent = service.Consent(True, "2026-11", "en", "kiosk")
    now = datetime.now(timezone.utc)
    with db.unit_of_work() as session:
        old = service.enrol(session, MASTER, STORE, [unit(1)], consent, "tok_o", "kiosk", now=now - timedelta(days=400))
        came_back = service.enrol(session, MASTER, STORE, [unit(2)], consent, "tok_c", "kiosk", now=now - timedelta(days=400))
        fresh = service.enrol(session, MASTER, STORE, [unit(3)], consent, "tok_f", "kiosk", now=now - timedelta(days=10))
        session.add(CheckoutCharge(store_id=STORE, exit_id="e1", member_id=came_back, amount_yen=0, state="empty_basket",
                                   reason="matched", created_at=now - timedelta(days=30), updated_at=now - timedelta(days=30)))
    with db.unit_of_work() as session:
        assert service.erase_inactive(session, now, dry_run=True) == [old]
    with db.read_session() as session:
        assert session.get(CheckoutMemberKey, old) is not None  # a dry run changes nothing
    r = CliRunner().invoke(app, ["checkout", "erase-inactive", "--database-url", str(db.engine.url.render_as_string(hide_password=False))])
    assert r.exit_code == 0, r.output
    assert json.loads(r.stdout)["members"] == [old]
    with db.read_session() as session:
        assert session.get(CheckoutMemberKey, old) is None and session.get(CheckoutMember, old).state == "withdrawn"
        assert {m for m in (came_back, fresh) if session.get(CheckoutMemberKey, m) is not None} == {came_back, fresh}
        assert audit.verify(session).ok


def test_centrals_retention_schedule_erases_inactive_members_audited(make_settings: Callable[..., object]) -> None:
    import time
    from datetime import datetime, timedelta, timezone

    from fastapi.testclient import TestClient
    from prometheus_client import REGISTRY

    from services.central.api.app import create_app

    settings = make_settings(retention_interval_s=0.2, checkout_inactive_days=30)  # configurable; 365 by default
    app = create_app(settings)
    consent = service.Consent(True, "2026-11", "en", "kiosk")
    now = datetime.now(timezone.utc)
    before = REGISTRY.get_sample_value("anshin_retention_purged_total", {"kind": "checkout_members"}) or 0.0
    try:
        db = app.state.db
        with db.unit_of_work() as session:
            old = service.enrol(session, MASTER, STORE, [unit(1)], consent, "tok_o", "kiosk", now=now - timedelta(days=40))
            fresh = service.enrol(session, MASTER, STORE, [unit(2)], consent, "tok_f", "kiosk", now=now - timedelta(days=20))
        with TestClient(app):
            deadline = time.monotonic() + 15
            while time.monotonic() < deadline:
                with db.read_session() as session:
                    if session.get(CheckoutMember, old).state == "withdrawn":
                        break
                time.sleep(0.1)
            else:
                raise AssertionError("central's schedule did not erase the member inactive for 40 days")
        with db.read_session() as session:
            assert session.get(CheckoutMemberKey, old) is None and session.get(CheckoutMember, old).template_ciphertext is None
            assert session.get(CheckoutMember, fresh).state == "active" and session.get(CheckoutMemberKey, fresh) is not None
            erasures = session.scalars(select(AuditEntry).where(AuditEntry.action == "checkout.withdraw")).all()
            assert [(e.actor, e.subject) for e in erasures] == [("retention", f"checkout_member:{old}")]
            assert audit.verify(session).ok
        after = REGISTRY.get_sample_value("anshin_retention_purged_total", {"kind": "checkout_members"}) or 0.0
        assert after - before == 1
    finally:
        app.state.db.dispose()

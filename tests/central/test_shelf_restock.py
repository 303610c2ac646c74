"""Use case I on central: shelf events posted to the real ingest API become restock tasks; robots
are simulated AMRs speaking VDA 5050 over the real Mosquitto (a unique topic prefix per test); the
back-room stock is J's inventory table. Runs on SQLite and PostgreSQL."""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta, timezone

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from services.central.db.session import Database
from services.central.usecases.insights.tables import InventoryRow
from services.central.usecases.shelf import restock
from services.central.usecases.shelf.config import ShelfConfig
from services.central.usecases.shelf.controller import RestockController
from services.central.usecases.shelf.runner import RestockLoop
from services.central.usecases.shelf.tables import RestockTask
from services.central.usecases.shelf.vda5050.fleet import Fleet
from services.central.usecases.shelf.vda5050.sim import SimulatedAMR

STORE = "shelf-store"
T0 = datetime.now(timezone.utc).replace(microsecond=0) - timedelta(minutes=5)


def shelf_event(kind: str, segment: str, sku: str, at: datetime, units: int = 4) -> dict:
    payload = {"segment": segment, "sku": sku, "capacity": 12, "facings": 6}
    if kind == "shelf.gap":
        payload |= {"gap_fraction": round(units / 12, 3), "units_missing": units, "frames": 2,
                    "polygon": [[0, 0], [1, 0], [1, 0.3], [0, 0.3]], "gaps": [[0.1, 0.0, 0.4, 0.3]]}
    else:
        payload |= {"gap_for_s": 30.0}
    return {"event_id": str(uuid.uuid4()), "type": kind, "use_case": "I", "store_id": STORE, "camera_id": "shelf-1",
            "occurred_at": at.isoformat(), "payload": payload, "severity": "notice"}


def config(prefix: str, robots: list[str], **overrides: object) -> ShelfConfig:
    return ShelfConfig.model_validate({
        "store_id": STORE, "robots": robots, "mqtt_prefix": prefix, "min_units": 2,
        "order_accept_timeout_s": 3, "order_progress_timeout_s": 5,
        "skus": {"spray": {"node": "produce", "position": [3.0, 5.0], "sales_per_day": 6.0},
                 "coil": {"node": "drinks", "position": [3.0, 10.5], "robot": False, "sales_per_day": 2.0}},
        **overrides})


@pytest.fixture
def prefix() -> str:
    return f"test-shelf-{uuid.uuid4().hex[:10]}"


@pytest.fixture
def stocked(db: Database) -> Callable[[dict[str, float]], None]:
    def put(stock: dict[str, float]) -> None:
        with db.unit_of_work() as session:
            for sku, units in stock.items():
                restock.set_stock(session, STORE, sku, units, T0)
    return put


@pytest.fixture
def fleet(prefix: str) -> Iterator[Fleet]:
    f = Fleet(prefix=prefix, client_id=f"fleet-{prefix}").start()
    yield f
    f.stop()


@pytest.fixture
def robots(prefix: str) -> Iterator[Callable[..., SimulatedAMR]]:
    started: list[SimulatedAMR] = []

    def start(serial: str, **kwargs: object) -> SimulatedAMR:
        robot = SimulatedAMR(serial, prefix=prefix, speed_m_s=20.0, action_s=0.1, state_every_s=0.3, **kwargs).start()  # type: ignore[arg-type]
        started.append(robot)
        return robot

    yield start
    for r in started:
        r.stop()


def post(client: TestClient, edge: dict[str, str], *events: dict) -> None:
    r = client.post("/api/v1/events", json=list(events), headers=edge)
    assert r.status_code == 200, r.text


def run_until(loop: RestockLoop, db: Database, done: Callable[[list[RestockTask]], bool], timeout_s: float = 8.0) -> list[RestockTask]:
    deadline = time.monotonic() + timeout_s
    while True:
        loop.round()
        with db.read_session() as session:
            tasks = list(session.scalars(select(RestockTask).order_by(RestockTask.created_at)))
        if done(tasks) or time.monotonic() > deadline:
            return tasks
        time.sleep(0.1)


def until_online(loop: RestockLoop, db: Database, serial: str = "amr-1", timeout_s: float = 10.0) -> None:
    """Run rounds until central has heard the robot say ONLINE (its retained connection message)."""
    from services.central.usecases.shelf.tables import Robot

    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        loop.round()
        with db.read_session() as session:
            robot = session.get(Robot, serial)
            if robot is not None and robot.connection == "ONLINE" and robot.battery is not None:
                return
        time.sleep(0.1)
    raise AssertionError(f"{serial} never came online")


def on_hand(db: Database, sku: str) -> float:
    with db.read_session() as session:
        return restock.on_hand(session, STORE, sku)


def test_a_gap_goes_to_a_free_robot_and_the_camera_closes_the_task(client, edge, db, prefix, fleet, robots, stocked) -> None:
    stocked({"spray": 10})
    robots("amr-1")
    loop = RestockLoop(db, RestockController(config(prefix, ["amr-1"]), fleet), fleet)
    until_online(loop, db)  # the robot says ONLINE first
    post(client, edge, shelf_event("shelf.gap", "top", "spray", T0, units=4))
    tasks = run_until(loop, db, lambda t: bool(t) and t[0].order_state == "FINISHED")
    assert len(tasks) == 1
    task = tasks[0]
    assert (task.assignee, task.robot, task.order_state, task.units) == ("robot", "amr-1", "FINISHED", 4)
    assert task.priority == pytest.approx(4 * 6.0) and task.sales_source == "config"
    assert on_hand(db, "spray") == 6  # four units left the back room with the task
    assert fleet.rejected == 0, fleet.last_rejection  # every vehicle message fitted its schema
    post(client, edge, shelf_event("shelf.refilled", "top", "spray", T0 + timedelta(seconds=42)))
    task = run_until(loop, db, lambda t: t[0].state == "done")[0]
    assert (task.state, task.done_by, task.refill_s) == ("done", "camera", 42.0)


def test_a_robot_failure_falls_back_to_a_staff_task(client, edge, db, prefix, fleet, robots, stocked) -> None:
    stocked({"spray": 10})
    robots("amr-1", fail="pick")
    loop = RestockLoop(db, RestockController(config(prefix, ["amr-1"]), fleet), fleet)
    until_online(loop, db)
    post(client, edge, shelf_event("shelf.gap", "top", "spray", T0))
    task = run_until(loop, db, lambda t: bool(t) and t[0].assignee == "staff")[0]
    assert (task.assignee, task.fallback_reason, task.order_state, task.state) == ("staff", "robot_failed", "FAILED", "open")
    assert any("loadHandlingError" in h["what"] for h in task.history)


def test_a_robot_that_drops_offline_mid_order_falls_back_to_staff(client, edge, db, prefix, fleet, robots, stocked) -> None:
    stocked({"spray": 10})
    robots("amr-1", fail="offline", keepalive_s=1)
    loop = RestockLoop(db, RestockController(config(prefix, ["amr-1"]), fleet), fleet)
    until_online(loop, db)
    post(client, edge, shelf_event("shelf.gap", "top", "spray", T0))
    task = run_until(loop, db, lambda t: bool(t) and t[0].assignee == "staff", timeout_s=20)[0]
    assert task.fallback_reason == "robot_offline"


def test_no_free_robot_or_an_item_robots_cannot_carry_makes_a_staff_task(client, edge, db, prefix, fleet, stocked) -> None:
    stocked({"spray": 10, "coil": 10})
    loop = RestockLoop(db, RestockController(config(prefix, ["amr-9"]), fleet), fleet)  # amr-9 never comes online
    post(client, edge, shelf_event("shelf.gap", "top", "spray", T0), shelf_event("shelf.gap", "low", "coil", T0))
    tasks = run_until(loop, db, lambda t: len(t) == 2)
    assert sorted((t.sku, t.assignee, t.fallback_reason) for t in tasks) == [
        ("coil", "staff", "not_robot_handleable"), ("spray", "staff", "no_robot_free")]


def test_an_order_no_robot_answers_times_out_to_staff(db, prefix, fleet, stocked) -> None:
    """A robot listed ONLINE that never reports the order: after the accept timeout, staff."""
    from services.central.usecases.shelf.tables import Robot

    stocked({"spray": 10})
    controller = RestockController(config(prefix, ["ghost"]), fleet)
    now = datetime.now(timezone.utc)
    with db.unit_of_work() as session:
        session.add(Robot(serial="ghost", store_id=STORE, manufacturer="anshin-sim", connection="ONLINE",
                          battery=90.0, fatal=False, updated_at=now))
    from services.central.db.tables import EventRow
    gap = EventRow(event_id=uuid.uuid4(), schema_version="1.0", type="shelf.gap", use_case="I", store_id=STORE,
                   camera_id="shelf-1", occurred_at=now, payload=shelf_event("shelf.gap", "top", "spray", now)["payload"],
                   severity="notice", review_required=False, received_at=now)
    with db.unit_of_work() as session:
        task = controller.on_gap(session, gap, now)
        assert isinstance(task, RestockTask) and task.assignee == "robot" and task.order_state == "SENT"
    with db.unit_of_work() as session:
        controller.tick(session, now + timedelta(seconds=4))
    with db.read_session() as session:
        task = session.scalars(select(RestockTask)).one()
    assert (task.assignee, task.fallback_reason, task.order_state) == ("staff", "robot_timeout", "TIMED_OUT")


def test_a_task_needs_back_room_stock_and_never_drives_it_negative(client, edge, db, prefix, fleet, stocked) -> None:
    stocked({"spray": 3})
    loop = RestockLoop(db, RestockController(config(prefix, []), fleet), fleet)
    post(client, edge, shelf_event("shelf.gap", "top", "spray", T0, units=5))
    tasks = run_until(loop, db, lambda t: len(t) == 1)
    assert tasks[0].units == 3 and on_hand(db, "spray") == 0  # only what the back room holds
    post(client, edge, shelf_event("shelf.gap", "middle", "spray", T0 + timedelta(seconds=1), units=5))
    tasks = run_until(loop, db, lambda t: len(t) == 2, timeout_s=1.5)
    assert len(tasks) == 1 and on_hand(db, "spray") == 0  # nothing left: no task, stock stays at 0
    with db.unit_of_work() as session:
        assert restock.take(session, STORE, "spray", 1, T0) is False  # a conditional update, never below zero
        with pytest.raises(ValueError, match="cannot be negative"):
            restock.set_stock(session, STORE, "spray", -1, T0)
    with db.read_session() as session:
        assert min(r.on_hand for r in session.scalars(select(InventoryRow))) >= 0


def test_below_the_threshold_no_task_and_one_task_per_open_gap(client, edge, db, prefix, fleet, stocked) -> None:
    stocked({"spray": 20})
    controller = RestockController(config(prefix, [], min_units=3), fleet)
    loop = RestockLoop(db, controller, fleet)
    post(client, edge, shelf_event("shelf.gap", "top", "spray", T0, units=2))
    assert run_until(loop, db, lambda t: bool(t), timeout_s=1.0) == []
    post(client, edge, shelf_event("shelf.gap", "top", "spray", T0 + timedelta(seconds=1), units=4),
         shelf_event("shelf.gap", "top", "spray", T0 + timedelta(seconds=2), units=5))
    tasks = run_until(loop, db, lambda t: len(t) >= 2, timeout_s=1.5)
    assert len(tasks) == 1 and on_hand(db, "spray") == 16


def test_a_task_open_too_long_escalates_and_staff_can_confirm(db, prefix, stocked) -> None:
    from services.central.db.tables import EventRow

    stocked({"spray": 5})
    controller = RestockController(config(prefix, [], escalate_after_s=60), None)
    now = datetime.now(timezone.utc)
    gap = EventRow(event_id=uuid.uuid4(), schema_version="1.0", type="shelf.gap", use_case="I", store_id=STORE,
                   camera_id="shelf-1", occurred_at=now, payload=shelf_event("shelf.gap", "top", "spray", now)["payload"],
                   severity="notice", review_required=False, received_at=now)
    with db.unit_of_work() as session:
        task_id = controller.on_gap(session, gap, now).id  # type: ignore[union-attr]
    with db.unit_of_work() as session:
        controller.tick(session, now + timedelta(seconds=61))
    with db.unit_of_work() as session:
        task = session.get(RestockTask, task_id)
        assert (task.state, task.escalated) == ("escalated", True)
        controller.confirm(session, task_id, "staff-1", now + timedelta(seconds=90))
    with db.read_session() as session:
        task = session.get(RestockTask, task_id)
    assert (task.state, task.done_by, task.refill_s) == ("done", "staff", 90.0)


def test_the_camera_closing_a_task_cancels_the_robot_through_instant_actions(client, edge, db, prefix, fleet, robots, stocked) -> None:
    stocked({"spray": 10})
    robot = SimulatedAMR("amr-1", prefix=prefix, speed_m_s=0.5, action_s=0.1, state_every_s=0.3).start()  # slow
    try:
        loop = RestockLoop(db, RestockController(config(prefix, ["amr-1"]), fleet), fleet)
        until_online(loop, db)
        post(client, edge, shelf_event("shelf.gap", "top", "spray", T0))
        run_until(loop, db, lambda t: bool(t) and t[0].order_state == "RUNNING")
        post(client, edge, shelf_event("shelf.refilled", "top", "spray", T0 + timedelta(seconds=20)))
        task = run_until(loop, db, lambda t: t[0].order_state == "CANCELLED")[0]
        assert (task.state, task.done_by, task.order_state) == ("done", "camera", "CANCELLED")
        assert robot.run is None and not robot.driving
    finally:
        robot.stop()


def test_priority_uses_j_sales_when_j_has_them(client, edge, db, prefix, fleet, stocked) -> None:
    from services.central.usecases.insights.tables import TransactionLine

    stocked({"spray": 10, "coil": 10})
    now = datetime.now(timezone.utc)
    with db.unit_of_work() as session:  # J's POS lines: 56 sprays over the last 28 days = 2 a day
        for day in range(28):
            session.add(TransactionLine(store_id=STORE, transaction_id=f"t{day}", item="spray",
                                        at=now - timedelta(days=day, hours=1), quantity=2.0))
    loop = RestockLoop(db, RestockController(config(prefix, []), fleet), fleet)
    post(client, edge, shelf_event("shelf.gap", "top", "spray", T0, units=4), shelf_event("shelf.gap", "low", "coil", T0, units=4))
    tasks = {t.sku: t for t in run_until(loop, db, lambda t: len(t) == 2)}
    assert (tasks["spray"].sales_source, tasks["spray"].sales_rate, tasks["spray"].priority) == ("insights", 2.0, 8.0)
    assert (tasks["coil"].sales_source, tasks["coil"].priority) == ("config", 8.0)  # no POS lines: config's 2 a day


def test_a_robot_with_a_low_battery_is_not_sent(client, edge, db, prefix, fleet, robots, stocked) -> None:
    stocked({"spray": 10})
    robots("amr-1", battery=10.0)
    loop = RestockLoop(db, RestockController(config(prefix, ["amr-1"], min_battery=25), fleet), fleet)
    until_online(loop, db)
    post(client, edge, shelf_event("shelf.gap", "top", "spray", T0))
    task = run_until(loop, db, lambda t: bool(t))[0]
    assert (task.assignee, task.fallback_reason) == ("staff", "no_robot_free")

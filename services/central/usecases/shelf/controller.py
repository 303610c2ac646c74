"""The restock loop: shelf events in, tasks and VDA 5050 orders out, the camera or staff close them.

* ``shelf.gap`` -> :meth:`RestockController.on_gap`: one task per open gap of a segment, if the
  decision (:mod:`.restock`) allows, taking its units from the back room; then :meth:`dispatch`.
* dispatch: a robot when the SKU is robot-handleable and a robot is free (ONLINE, no order, no fatal
  error, battery >= ``min_battery``): a VDA 5050 order dock -> shelf along the floor graph with pick
  and drop; otherwise a staff task, with the reason (``not_robot_handleable``, ``no_robot_free``).
* vehicle ``state``/``connection`` -> :meth:`on_received`: the order's :class:`OrderTracker` moves;
  a FAILED or TIMED_OUT order, or a robot that drops offline mid-order, turns the task into a staff
  task (``robot_failed``, ``robot_timeout``, ``robot_offline``).
* ``shelf.refilled`` -> :meth:`on_refilled`: the task is done (``done_by="camera"``), with the time
  from gap to refill; a robot still on it gets ``cancelOrder``. Staff may confirm instead
  (:meth:`confirm`). :meth:`tick` applies order timeouts and escalates tasks open too long.

Everything a step changes is written in the caller's session (one transaction per step).
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

from sqlalchemy import select
from sqlalchemy.orm import Session

from services.central.db.tables import EventRow
from services.central.usecases.shelf import restock
from services.central.usecases.shelf.config import ShelfConfig
from services.central.usecases.shelf.tables import RestockTask, Robot
from services.central.usecases.shelf.vda5050.fleet import Received
from services.central.usecases.shelf.vda5050.orders import OrderStatus, OrderTracker

log = logging.getLogger(__name__)

OPEN = ("open", "escalated")
FALLBACKS = {OrderStatus.FAILED: "robot_failed", OrderStatus.TIMED_OUT: "robot_timeout"}


class FleetPort(Protocol):
    def send_order(self, serial: str, order_id: str, path: list[tuple[str, tuple[float, float]]], map_id: str,
                   pick_at: str, drop_at: str, load_id: str) -> dict[str, Any]: ...

    def cancel(self, serial: str, action_id: str) -> dict[str, Any]: ...


Route = Callable[[str, str], list[tuple[str, tuple[float, float]]]]


def floor_route(config: ShelfConfig) -> Route:
    """Node path with positions from the store's floor graph (use case B), or a straight dock -> shelf
    leg from the configured positions when the store has no floor plan."""
    if config.floor is not None:
        from services.central.usecases.floor.plan import load_plan
        from services.central.usecases.floor.routing import Router

        plan = load_plan(config.floor)
        router = Router(plan, None)

        def route(start: str, end: str) -> list[tuple[str, tuple[float, float]]]:
            nodes = router.route(start, end).shortest.nodes
            return [(n, tuple(plan.nodes[n].at)) for n in nodes]  # type: ignore[misc]

        return route

    def straight(start: str, end: str) -> list[tuple[str, tuple[float, float]]]:
        sku = next(s for s in config.skus.values() if s.node == end)
        if sku.position is None:
            raise ValueError(f"no floor plan and no position for node {end!r}")
        return [(start, config.dock_position), (end, sku.position)]

    return straight


def _note(task: RestockTask, at: datetime, what: str) -> None:
    task.history = [*(task.history or []), {"at": at.isoformat(), "what": what}]
    task.updated_at = at


@dataclass
class RestockController:
    config: ShelfConfig
    fleet: FleetPort | None = None
    route: Route | None = None
    map_id: str = "demo-store"
    trackers: dict[str, OrderTracker] = field(default_factory=dict)  # order id -> tracker

    def __post_init__(self) -> None:
        if self.route is None:
            self.route = floor_route(self.config)

    # ------------------------------------------------------------------ events from the camera

    def handle(self, session: Session, event: EventRow, now: datetime) -> RestockTask | str | None:
        if event.type == "shelf.gap":
            return self.on_gap(session, event, now)
        if event.type == "shelf.refilled":
            return self.on_refilled(session, event, now)
        return None

    def on_gap(self, session: Session, event: EventRow, now: datetime) -> RestockTask | str:
        """A task for the gap, or the reason there is none."""
        if session.scalar(select(RestockTask.id).where(RestockTask.gap_event_id == event.event_id)) is not None:
            return "already_handled"
        p = event.payload
        if self._open_task(session, event.store_id, event.camera_id, p["segment"]) is not None:
            return "task_open"
        sku = self.config.skus.get(p["sku"])
        if sku is None:
            return "unknown_sku"
        decision = restock.decide(int(p["units_missing"]), self.config.min_units,
                                  restock.on_hand(session, event.store_id, p["sku"]))
        if not decision.units:
            return decision.reason
        if not restock.take(session, event.store_id, p["sku"], decision.units, now):
            return "no_backroom_stock"  # someone took the last units meanwhile
        rate, source = restock.sales_rate(session, event.store_id, p["sku"], sku.sales_per_day,
                                          self.config.sales_window_days, now)
        task = RestockTask(
            id=uuid.uuid4(), store_id=event.store_id, camera_id=event.camera_id, segment=p["segment"], sku=p["sku"],
            gap_event_id=event.event_id, units=decision.units, priority=round(decision.units * rate, 3),
            sales_rate=rate, sales_source=source, assignee="staff", state="open", escalated=False,
            gap_at=event.occurred_at, created_at=now, updated_at=now, history=[])
        _note(task, now, f"gap: {p['units_missing']} missing, {decision.units} taken from the back room")
        session.add(task)
        self.dispatch(session, task, now)
        return task

    def on_refilled(self, session: Session, event: EventRow, now: datetime) -> RestockTask | str:
        task = self._open_task(session, event.store_id, event.camera_id, event.payload["segment"])
        if task is None or task.gap_at > event.occurred_at:
            return "no_open_task"
        self._finish(session, task, event.occurred_at, "camera", now)
        return task

    def confirm(self, session: Session, task_id: uuid.UUID, who: str, now: datetime) -> RestockTask:
        """Staff say the shelf is refilled."""
        task = session.get(RestockTask, task_id)
        if task is None:
            raise KeyError(f"no restock task {task_id}")
        if task.state not in OPEN:
            raise ValueError(f"task {task_id} is already {task.state}")
        self._finish(session, task, now, "staff", now, who=who)
        return task

    def _finish(self, session: Session, task: RestockTask, at: datetime, by: str, now: datetime, who: str = "") -> None:
        task.state, task.done_by, task.done_at = "done", by, at
        task.refill_s = round(max((at - task.gap_at).total_seconds(), 0.0), 3)
        _note(task, now, f"done ({by}{': ' + who if who else ''}), gap to refill {task.refill_s:.0f} s")
        if task.order_id and task.order_state and not OrderStatus(task.order_state).final and self.fleet and task.robot:
            cancel_id = f"{task.order_id}-cancel"
            self.trackers.get(task.order_id, OrderTracker(task.order_id, set(), now.timestamp())).cancel(cancel_id)
            self.fleet.cancel(task.robot, cancel_id)
            task.order_state = OrderStatus.CANCELLING.value
            _note(task, now, f"cancelOrder sent to {task.robot}")
        self._release_robot(session, task)

    # ------------------------------------------------------------------ dispatch

    def dispatch(self, session: Session, task: RestockTask, now: datetime) -> None:
        sku = self.config.skus[task.sku]
        if not sku.robot:
            return self._to_staff(task, "not_robot_handleable", now)
        robot = self._free_robot(session, task.store_id) if self.fleet is not None else None
        if robot is None:
            return self._to_staff(task, "no_robot_free", now)
        order_id = f"restock-{task.id.hex[:12]}"
        assert self.route is not None
        try:
            path = self.route(self.config.dock_node, sku.node)
            self.fleet.send_order(robot.serial, order_id, path, self.map_id, self.config.dock_node, sku.node,  # type: ignore[union-attr]
                                  f"{task.sku} x{task.units}")
        except Exception as exc:  # noqa: BLE001 - any failure to send means a person does it
            log.warning("order for task %s not sent: %s", task.id, exc)
            return self._to_staff(task, "robot_failed", now)
        task.assignee, task.robot, task.order_id, task.order_state = "robot", robot.serial, order_id, OrderStatus.SENT.value
        robot.order_id = order_id
        self.trackers[order_id] = OrderTracker(order_id, {f"{order_id}-pick", f"{order_id}-drop"}, now.timestamp())
        _note(task, now, f"order {order_id} sent to {robot.serial}: {' > '.join(n for n, _ in path)}")

    def _to_staff(self, task: RestockTask, reason: str, now: datetime) -> None:
        task.assignee, task.fallback_reason = "staff", reason
        _note(task, now, f"staff task ({reason})")

    def _free_robot(self, session: Session, store_id: str) -> Robot | None:
        rows = session.scalars(select(Robot).where(Robot.store_id == store_id, Robot.connection == "ONLINE",
                                                   Robot.order_id.is_(None), Robot.fatal.is_(False))
                               .order_by(Robot.battery.desc(), Robot.serial)).all()
        return next((r for r in rows if r.serial in self.config.robots and (r.battery or 0) >= self.config.min_battery), None)

    def _release_robot(self, session: Session, task: RestockTask) -> None:
        if task.robot:
            robot = session.get(Robot, task.robot)
            if robot is not None and robot.order_id == task.order_id:
                robot.order_id = None

    # ------------------------------------------------------------------ vehicles

    def on_received(self, session: Session, received: Received, now: datetime) -> None:
        if received.serial not in self.config.robots:
            return
        robot = session.get(Robot, received.serial)
        if robot is None:
            robot = Robot(serial=received.serial, store_id=self.config.store_id, manufacturer=self.config.manufacturer,
                          connection="OFFLINE", fatal=False, updated_at=now)
            session.add(robot)
        robot.updated_at = now
        msg = received.message
        if received.kind == "connection":
            robot.connection = msg["connectionState"]
            if robot.connection != "ONLINE":
                self._robot_lost(session, robot, now)
            return
        robot.connection = "ONLINE"
        robot.battery = msg["batteryState"]["batteryCharge"]
        robot.fatal = any(e["errorLevel"] == "FATAL" for e in msg["errors"])
        robot.last_state = {k: msg[k] for k in ("orderId", "lastNodeId", "driving", "agvPosition", "errors") if k in msg}
        # By the order the vehicle names, not the robot's current one: a cancel sent after the task
        # closed still reaches its tracker (CANCELLING -> CANCELLED) once the robot was released.
        task = self._task_of_order(session, msg["orderId"] or robot.order_id)
        if task is None:
            return
        tracker = self._tracker(task, now)
        before = tracker.status
        after = tracker.on_state(msg, now.timestamp())
        if after != before:
            task.order_state = after.value
            _note(task, now, f"order {after.value.lower()}{': ' + tracker.reason if tracker.reason else ''}")
            self._order_ended(session, task, robot, tracker, now)

    def _robot_lost(self, session: Session, robot: Robot, now: datetime) -> None:
        task = self._task_of_order(session, robot.order_id) if robot.order_id else None
        if task is not None and task.state in OPEN and task.assignee == "robot":
            tracker = self._tracker(task, now)
            tracker.status, tracker.reason = OrderStatus.FAILED, "robot offline"
            task.order_state = OrderStatus.FAILED.value
            _note(task, now, f"robot {robot.serial} {robot.connection.lower()}")
            robot.order_id = None
            self._to_staff(task, "robot_offline", now)

    def _order_ended(self, session: Session, task: RestockTask, robot: Robot, tracker: OrderTracker, now: datetime) -> None:
        if not tracker.status.final:
            return
        if robot.order_id == task.order_id:
            robot.order_id = None
        if tracker.status in FALLBACKS and task.state in OPEN:
            self._to_staff(task, FALLBACKS[tracker.status], now)

    def _tracker(self, task: RestockTask, now: datetime) -> OrderTracker:
        assert task.order_id is not None
        if task.order_id not in self.trackers:  # a restarted controller picks up where the task says
            status = OrderStatus(task.order_state or "SENT")
            self.trackers[task.order_id] = OrderTracker(task.order_id, {f"{task.order_id}-pick", f"{task.order_id}-drop"},
                                                        now.timestamp(), status=status)
        return self.trackers[task.order_id]

    # ------------------------------------------------------------------ time

    def tick(self, session: Session, now: datetime) -> None:
        """Order timeouts (fall back to staff) and escalation of tasks open too long."""
        for order_id, tracker in list(self.trackers.items()):
            if tracker.status.final:
                continue
            before = tracker.status
            tracker.expire(now.timestamp(), self.config.order_accept_timeout_s, self.config.order_progress_timeout_s)
            if tracker.status != before:
                task = self._task_of_order(session, order_id)
                if task is not None:
                    task.order_state = tracker.status.value
                    _note(task, now, f"order timed out ({tracker.reason})")
                    robot = session.get(Robot, task.robot) if task.robot else None
                    if robot is not None:
                        self._order_ended(session, task, robot, tracker, now)
                    elif task.state in OPEN:
                        self._to_staff(task, "robot_timeout", now)
        if self.fleet is not None:  # staff confirmed (on the dashboard) while a robot was still on it
            busy = session.scalars(select(RestockTask).where(
                RestockTask.store_id == self.config.store_id, RestockTask.state == "done",
                RestockTask.order_state.in_((OrderStatus.SENT.value, OrderStatus.RUNNING.value)))).all()
            for task in busy:
                assert task.order_id is not None and task.robot is not None
                cancel_id = f"{task.order_id}-cancel"
                self._tracker(task, now).cancel(cancel_id)
                self.fleet.cancel(task.robot, cancel_id)
                task.order_state = OrderStatus.CANCELLING.value
                _note(task, now, f"cancelOrder sent to {task.robot}")
        late = session.scalars(select(RestockTask).where(
            RestockTask.store_id == self.config.store_id, RestockTask.state == "open")).all()
        for task in late:
            if (now - task.created_at).total_seconds() > self.config.escalate_after_s:
                task.state, task.escalated = "escalated", True
                _note(task, now, f"escalated: open for more than {self.config.escalate_after_s:.0f} s")

    # ------------------------------------------------------------------ lookups

    def _open_task(self, session: Session, store_id: str, camera_id: str, segment: str) -> RestockTask | None:
        return session.scalars(select(RestockTask).where(
            RestockTask.store_id == store_id, RestockTask.camera_id == camera_id, RestockTask.segment == segment,
            RestockTask.state.in_(OPEN)).order_by(RestockTask.created_at.desc())).first()

    def _task_of_order(self, session: Session, order_id: str | None) -> RestockTask | None:
        if order_id is None:
            return None
        return session.scalars(select(RestockTask).where(RestockTask.order_id == order_id)).first()


def new_shelf_events(session: Session, store_id: str, after: datetime) -> list[EventRow]:
    """Shelf events of a store received at or after ``after``, oldest first. The boundary event comes
    again in the next round on purpose (another event may share its timestamp); handling is idempotent:
    a gap already has its task, a refill finds no open task older than itself."""
    return list(session.scalars(select(EventRow).where(
        EventRow.store_id == store_id, EventRow.type.in_(("shelf.gap", "shelf.refilled")),
        EventRow.received_at >= after).order_by(EventRow.received_at, EventRow.occurred_at)))

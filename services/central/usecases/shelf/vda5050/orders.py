"""The lifecycle of one VDA 5050 order as central sees it, from the vehicle's state messages (pure).

::

    SENT --state names the order--> RUNNING --nodes and edges done, actions FINISHED--> FINISHED
      |                               |
      |                               +--FATAL error or an action FAILED--> FAILED
      +--no state naming it in accept_timeout_s-----------------------------> TIMED_OUT
    SENT/RUNNING --cancel sent--> CANCELLING --cancelOrder FINISHED--> CANCELLED
    RUNNING --no progress (last node, actions) in progress_timeout_s--> TIMED_OUT

>>> s = OrderTracker("o-1", {"o-1-pick", "o-1-drop"}, sent_at=0.0)
>>> str(s.on_state({"orderId": "o-1", "nodeStates": [{"nodeId": "b3"}], "edgeStates": [], "errors": [],
...             "lastNodeId": "", "actionStates": [{"actionId": "o-1-pick", "actionStatus": "RUNNING"}]}, at=1.0))
'RUNNING'
>>> str(s.on_state({"orderId": "o-1", "nodeStates": [], "edgeStates": [], "errors": [], "lastNodeId": "produce",
...             "actionStates": [{"actionId": "o-1-pick", "actionStatus": "FINISHED"},
...                              {"actionId": "o-1-drop", "actionStatus": "FINISHED"}]}, at=9.0))
'FINISHED'
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any


class OrderStatus(StrEnum):
    SENT = "SENT"
    RUNNING = "RUNNING"
    FINISHED = "FINISHED"
    FAILED = "FAILED"
    CANCELLING = "CANCELLING"
    CANCELLED = "CANCELLED"
    TIMED_OUT = "TIMED_OUT"

    @property
    def final(self) -> bool:
        return self in (OrderStatus.FINISHED, OrderStatus.FAILED, OrderStatus.CANCELLED, OrderStatus.TIMED_OUT)


@dataclass
class OrderTracker:
    """One order: its id, the ids of its actions, and what its vehicle said last.

    Times are seconds on any monotonic clock the caller uses consistently.
    """

    order_id: str
    action_ids: set[str]
    sent_at: float
    status: OrderStatus = OrderStatus.SENT
    reason: str = ""
    cancel_action_id: str | None = None
    progress_at: float = field(default=-1.0)  # last time the vehicle made progress on this order
    _progress_key: tuple[Any, ...] = ()

    def __post_init__(self) -> None:
        if self.progress_at < 0:
            self.progress_at = self.sent_at

    def cancel(self, action_id: str) -> OrderStatus:
        """Mark a cancel as sent (``instantActions`` with ``cancelOrder`` ``action_id``)."""
        if not self.status.final:
            self.status, self.cancel_action_id = OrderStatus.CANCELLING, action_id
        return self.status

    def on_state(self, state: dict[str, Any], at: float) -> OrderStatus:
        """Advance on one state message of the order's vehicle; returns the new status."""
        if self.status.final:
            return self.status
        actions = {a["actionId"]: a["actionStatus"] for a in state.get("actionStates", [])}
        if self.status == OrderStatus.CANCELLING and self.cancel_action_id is not None:
            if actions.get(self.cancel_action_id) == "FINISHED":
                return self._end(OrderStatus.CANCELLED, "cancelled")
            if actions.get(self.cancel_action_id) == "FAILED":
                return self._end(OrderStatus.FAILED, "cancel failed")
        if state.get("orderId") != self.order_id:
            return self.status  # still on another (or no) order: the accept timeout decides
        fatal = [e for e in state.get("errors", []) if e.get("errorLevel") == "FATAL"]
        if fatal:
            return self._end(OrderStatus.FAILED, fatal[0].get("errorType", "fatal error"))
        failed = [a for a, s in actions.items() if a in self.action_ids and s == "FAILED"]
        if failed and self.status != OrderStatus.CANCELLING:
            return self._end(OrderStatus.FAILED, f"action {failed[0]} failed")
        key = (state.get("lastNodeId"), len(state.get("nodeStates", [])),
               tuple(sorted((a, s) for a, s in actions.items() if a in self.action_ids)))
        if key != self._progress_key:
            self._progress_key, self.progress_at = key, at
        if self.status == OrderStatus.SENT:
            self.status = OrderStatus.RUNNING
        done = all(actions.get(a) == "FINISHED" for a in self.action_ids)
        if self.status == OrderStatus.RUNNING and not state.get("nodeStates") and not state.get("edgeStates") and done:
            return self._end(OrderStatus.FINISHED, "")
        return self.status

    def expire(self, now: float, accept_timeout_s: float, progress_timeout_s: float) -> OrderStatus:
        """TIMED_OUT when the vehicle never took the order, or stopped making progress on it."""
        if self.status == OrderStatus.SENT and now - self.sent_at > accept_timeout_s:
            return self._end(OrderStatus.TIMED_OUT, "not accepted")
        if self.status in (OrderStatus.RUNNING, OrderStatus.CANCELLING) and now - self.progress_at > progress_timeout_s:
            return self._end(OrderStatus.TIMED_OUT, "no progress")
        return self.status

    def _end(self, status: OrderStatus, reason: str) -> OrderStatus:
        self.status, self.reason = status, reason
        return status

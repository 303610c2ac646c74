"""Is a value comfortable, since when not, and when is a notice due: one pure state per value.

A value below ``low`` is ``low``, above ``high`` is ``high``. Once out, it counts as back (``ok``)
only when it is ``hysteresis`` inside the range; in between it keeps its status. A notice is due
once the value has been out for ``min_out_s`` seconds (one notice per spell out of range), and
a ``restored`` once it is back after a notice. An untrusted reading (a camera whose exposure
changed) neither starts nor ends a spell: it says nothing about the value.

>>> from datetime import datetime, timedelta, timezone
>>> t0 = datetime(2026, 1, 1, tzinfo=timezone.utc)
>>> m = ComfortMonitor(Target(high=1000, hysteresis=50), min_out_s=60)
>>> [(m.update(v, t0 + timedelta(seconds=s)).action, m.status) for s, v in
...  [(0, 900), (10, 1020), (40, 990), (75, 1010), (90, 960), (100, 940)]]
[(None, 'ok'), (None, 'high'), (None, 'high'), ('notice', 'high'), (None, 'high'), ('restored', 'ok')]
>>> m.out_of_range_s(t0 + timedelta(seconds=100))
0.0
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from edge.usecases.comfort.config import Target

Status = Literal["ok", "low", "high", "untrusted"]


@dataclass(frozen=True, slots=True)
class Step:
    """What one reading changed: ``action`` is ``"notice"``, ``"restored"`` or None; ``out_for_s``
    (with ``restored``) how long the value was out of range."""

    action: Literal["notice", "restored"] | None = None
    out_for_s: float | None = None


class ComfortMonitor:
    """The comfort state of one value (one quantity in one zone)."""

    def __init__(self, target: Target, min_out_s: float) -> None:
        self.target, self.min_out_s = target, min_out_s
        self.status: Status = "ok"
        self.value: float | None = None
        self.out_since: datetime | None = None  # start of the current spell out of range
        self.noticed = False  # a notice went out for the current spell
        self.trusted = True

    def _classify(self, value: float) -> Status:
        t, h = self.target, self.target.hysteresis
        if t.low is not None and value < t.low:
            return "low"
        if t.high is not None and value > t.high:
            return "high"
        if self.status in ("low", "high"):  # out before: back only well inside the range
            inside = (t.low is None or value >= t.low + h) and (t.high is None or value <= t.high - h)
            return "ok" if inside else self.status
        return "ok"

    def update(self, value: float | None, at: datetime) -> Step:
        """A reading at ``at``; ``None`` means untrusted (no value). Returns the action it triggers."""
        if value is None:
            self.trusted, self.value = False, None
            return Step()
        self.trusted, self.value = True, value
        status = self._classify(value)
        if status == "ok":
            was_noticed, since = self.noticed, self.out_since
            self.status, self.out_since, self.noticed = "ok", None, False
            if was_noticed and since is not None:
                return Step("restored", round((at - since).total_seconds(), 3))
            return Step()
        if self.out_since is None:  # a spell starts (low straight to high stays one spell)
            self.out_since = at
        self.status = status
        if not self.noticed and (at - self.out_since).total_seconds() >= self.min_out_s:
            self.noticed = True
            return Step("notice")
        return Step()

    @property
    def shown_status(self) -> Status:
        """The status to show: ``untrusted`` while the last reading was."""
        return self.status if self.trusted else "untrusted"

    def out_of_range_s(self, now: datetime) -> float:
        """Seconds the value has been out of range (0 when it is not)."""
        return round(max(0.0, (now - self.out_since).total_seconds()), 3) if self.out_since else 0.0

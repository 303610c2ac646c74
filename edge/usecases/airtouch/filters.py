"""One-Euro filter (Casiez, Roussel, Vogel, CHI 2012): an adaptive low-pass filter for pointers.

Slow movements get a low cut-off (jitter removed); fast movements raise it (little lag).

>>> f = OneEuroFilter(min_cutoff=1.0, beta=0.0)
>>> [round(f(x, t / 30), 2) for t, x in enumerate([10.0, 10.0, 12.0, 10.0])]
[10.0, 10.0, 10.35, 10.29]
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field


def _alpha(cutoff_hz: float, dt: float) -> float:
    tau = 1.0 / (2 * math.pi * cutoff_hz)
    return 1.0 / (1.0 + tau / dt)


@dataclass
class OneEuroFilter:
    """Filters one scalar signal sampled at (possibly irregular) times in seconds."""

    min_cutoff: float = 1.0  #: Hz; lower removes more jitter at rest
    beta: float = 0.01  #: how fast the cut-off rises with speed; higher lags less
    d_cutoff: float = 1.0  #: Hz, for the speed estimate
    _x: float | None = field(default=None, init=False)
    _dx: float = field(default=0.0, init=False)
    _t: float | None = field(default=None, init=False)

    def __call__(self, x: float, t: float) -> float:
        if self._x is None or self._t is None or t <= self._t:
            # first sample, or a clock that did not advance: nothing to filter against
            self._x, self._t = x, t if self._t is None else max(t, self._t)
            return x
        dt = t - self._t
        dx = (x - self._x) / dt
        self._dx += _alpha(self.d_cutoff, dt) * (dx - self._dx)
        cutoff = self.min_cutoff + self.beta * abs(self._dx)
        self._x += _alpha(cutoff, dt) * (x - self._x)
        self._t = t
        return self._x

    def reset(self) -> None:
        """Forget the signal (the hand left the view; the next one starts fresh)."""
        self._x, self._dx, self._t = None, 0.0, None

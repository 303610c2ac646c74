"""Order quantities from the forecast distribution: an order-up-to level per item.

Demand over the protection period (lead time + review period, in forecast periods) is taken as
normal with the forecast's mean and a spread read off its interval ((hi - lo) / (2 z_level)),
periods treated as independent. The order-up-to level S is the demand quantile at the service
level (the newsvendor critical fractile); the order is S minus stock on hand and on order,
rounded up to whole packs, never negative.

>>> line = order_line("bread", mean=[10.0, 10.0], lo=[6.0, 6.0], hi=[14.0, 14.0], level=80,
...                   on_hand=5.0, on_order=0.0, pack_size=6, service_level=0.95)
>>> line.order_up_to, line.order_units, line.packs
(27.3, 24, 4)
>>> round(line.expected_fill, 3)
0.998
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any

from scipy.stats import norm


@dataclass(frozen=True, slots=True)
class OrderLine:
    """One item of a purchase proposal, with what it is expected to achieve."""

    item: str
    demand_mean: float  # units over the protection period
    demand_sd: float
    order_up_to: float
    on_hand: float
    on_order: float
    pack_size: int
    packs: int
    order_units: int
    service_level: float  # target probability of not running out before the next delivery
    expected_fill: float  # share of demand served from stock with this order (normal loss function)
    unit_cost: float | None = None

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def order_line(item: str, mean: Sequence[float], lo: Sequence[float], hi: Sequence[float], level: int,
               on_hand: float, on_order: float, pack_size: int, service_level: float,
               unit_cost: float | None = None) -> OrderLine:
    """The order for one item over the forecast periods given (the protection period)."""
    if not 0.5 <= service_level < 1.0:
        raise ValueError(f"service level must be in [0.5, 1), got {service_level}")
    if pack_size < 1:
        raise ValueError(f"pack size must be at least 1, got {pack_size}")
    z_level = float(norm.ppf(0.5 + level / 200))
    mu = float(sum(mean))
    sd = math.sqrt(sum(((h - lw) / (2 * z_level)) ** 2 for lw, h in zip(lo, hi, strict=True)))
    s_level = mu + float(norm.ppf(service_level)) * sd
    need = max(0.0, s_level - on_hand - on_order)
    packs = math.ceil(need / pack_size - 1e-9) if need > 0 else 0
    units = packs * pack_size
    stock = on_hand + on_order + units
    if sd > 0:
        z = (stock - mu) / sd
        shortfall = sd * (float(norm.pdf(z)) - z * (1 - float(norm.cdf(z))))
    else:
        shortfall = max(0.0, mu - stock)
    fill = 1.0 if mu <= 0 else max(0.0, 1.0 - shortfall / mu)
    return OrderLine(item, round(mu, 3), round(sd, 3), round(s_level, 1), on_hand, on_order, pack_size, packs,
                     units, service_level, fill, unit_cost)

"""Scores of a forecast (``anshin eval forecast``, in ``eval_cli``): MASE, WAPE, interval coverage.

MASE is scaled per series by the in-sample mean absolute error of the seasonal naive forecast
(y_t - y_{t-season} over the history), then averaged over series; WAPE is sum |error| / sum
|actual| over every series and period; coverage is the share of actuals inside the interval.
Without ``--actuals`` the history's last ``--horizon`` periods per series are held out and
scored (a development figure; the selection never sees them, it backtests before them).

>>> import numpy as np
>>> seasonal_scale(np.array([1.0, 2.0, 4.0, 6.0]), season=2)
3.5
>>> round(wape(np.array([10.0, 10.0]), np.array([9.0, 12.0])), 3)
0.15
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd


def seasonal_scale(y: np.ndarray, season: int) -> float:
    """In-sample MAE of the seasonal naive forecast (the MASE denominator)."""
    if len(y) <= season:
        raise ValueError(f"a series of {len(y)} periods has no seasonal naive error at season {season}")
    return float(np.mean(np.abs(y[season:] - y[:-season])))


def wape(actual: np.ndarray, predicted: np.ndarray) -> float:
    """Weighted absolute percentage error (a fraction)."""
    return float(np.sum(np.abs(actual - predicted)) / max(float(np.sum(np.abs(actual))), 1e-12))


def score(history: pd.DataFrame, actuals: pd.DataFrame, table: pd.DataFrame, season: int,
          naive: pd.DataFrame | None = None) -> dict[str, Any]:
    """The figures of one forecast ``table`` (unique_id, ds, mean, lo, hi) against ``actuals``."""
    merged = table.merge(actuals[["unique_id", "ds", "y"]], on=["unique_id", "ds"], how="inner")
    if merged.empty:
        raise ValueError("no forecast date matches an actual: check --horizon and the files' dates")
    scales = {u: seasonal_scale(g["y"].to_numpy(float), season) for u, g in history.groupby("unique_id")}
    mase = merged.assign(e=(merged["y"] - merged["mean"]).abs()).groupby("unique_id")["e"].mean()
    per_series = {str(u): float(v / scales[u]) for u, v in mase.items()}
    out: dict[str, Any] = {
        "series": len(per_series),
        "mase": float(np.mean(list(per_series.values()))),
        "wape": wape(merged["y"].to_numpy(), merged["mean"].to_numpy()),
        "coverage_80": float(((merged["y"] >= merged["lo"]) & (merged["y"] <= merged["hi"])).mean()),
        "periods_scored": len(merged),
    }
    if naive is not None:
        nm = naive.merge(actuals[["unique_id", "ds", "y"]], on=["unique_id", "ds"])
        nmase = nm.assign(e=(nm["y"] - nm["mean"]).abs()).groupby("unique_id")["e"].mean()
        out["mase_seasonal_naive"] = float(np.mean([v / scales[u] for u, v in nmase.items()]))
    return out


def seasonal_naive(history: pd.DataFrame, horizon: int, season: int, freq: str) -> pd.DataFrame:
    """The seasonal naive forecast of every series (the baseline the figures are compared with)."""
    rows = []
    for uid, g in history.sort_values("ds").groupby("unique_id"):
        y = g["y"].to_numpy(float)
        ds = pd.date_range(g["ds"].max(), periods=horizon + 1, freq=freq)[1:]
        rows.append(pd.DataFrame({"unique_id": uid, "ds": ds, "mean": np.resize(y[-season:], horizon)}))
    return pd.concat(rows, ignore_index=True)

"""``anshin eval forecast``: forecast a history file, score the forecast against an actuals file.

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

import json
import sys
from pathlib import Path
from typing import Annotated, Any

import numpy as np
import pandas as pd
import typer

from services.central.usecases.insights.forecasting import Engine, ForecastSettings, forecast
from services.central.usecases.insights.importing import ColumnMapping, ImportRejected, read_series


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


def _progress(msg: str) -> None:
    print(f"[forecast] {msg}", file=sys.stderr, flush=True)


def forecast_eval(
    history: Annotated[Path, typer.Option(help="CSV of past sales (default columns: Walmart_Store_sales.csv)")],
    horizon: Annotated[int, typer.Option(help="periods to forecast and score")] = 8,
    actuals: Annotated[Path | None, typer.Option(help="CSV of the periods after the history; "
                                                 "omit to hold out the history's last --horizon periods")] = None,
    series: Annotated[str, typer.Option(help="column naming the series")] = "Store",
    date: Annotated[str, typer.Option(help="date column")] = "Date",
    value: Annotated[str, typer.Option(help="value column")] = "Weekly_Sales",
    date_format: Annotated[str, typer.Option(help="strptime format of the dates (explicit: files mix orders)")] = "%d-%m-%Y",
    season: Annotated[int, typer.Option(help="periods per season")] = 52,
    freq: Annotated[str, typer.Option(help="pandas frequency of the periods")] = "W-FRI",
    windows: Annotated[int, typer.Option(help="rolling origins in the backtest that chooses the models")] = 2,
    models: Annotated[str, typer.Option(help="comma-separated candidates")] = ",".join(ForecastSettings().models),
    engine: Annotated[str, typer.Option(help="local or dask (uses DASK_SCHEDULER_ADDRESS if set)")] = "local",
    as_json: Annotated[bool, typer.Option("--json", help="print one JSON object")] = False,
) -> None:
    """Forecast every series of --history, score against --actuals: MASE, WAPE, 80 % coverage."""
    mapping = ColumnMapping(series=series, date=date, value=value, date_format=date_format)
    try:
        hist = read_series(history, mapping)
        act = read_series(actuals, mapping) if actuals else None
    except ImportRejected as e:
        typer.echo(str(e), err=True)
        raise typer.Exit(2) from None
    source = str(actuals) if actuals else f"holdout: the last {horizon} periods of {history}"
    if act is None:
        rank = hist.groupby("unique_id")["ds"].rank(method="first", ascending=False)
        hist, act = hist[rank > horizon], hist[rank <= horizon]
    settings = ForecastSettings(season_length=season, freq=freq, horizon=horizon, windows=windows,
                                models=tuple(m.strip() for m in models.split(",") if m.strip()))
    eng: Engine = "dask" if engine == "dask" else "local"
    client = _dask_client() if eng == "dask" else None
    try:
        fc = forecast(hist, settings, eng, progress=_progress)
    finally:
        if client is not None:
            client.close()
    figures = score(hist, act, fc.table, season, seasonal_naive(hist, horizon, season, freq))
    chosen = pd.Series(fc.chosen).value_counts().to_dict()
    result = {**figures, "horizon": horizon, "actuals": source, "models_chosen": chosen,
              "settings": settings.model_dump(mode="json"),
              "note": "models chosen by rolling-origin backtest inside the history; the scored periods are never seen"}
    typer.echo(json.dumps(result, indent=None if as_json else 2, sort_keys=True))


def _dask_client() -> Any:
    """A client of the cluster at ``DASK_SCHEDULER_ADDRESS``, else a small local one."""
    import os

    from distributed import Client, LocalCluster

    address = os.environ.get("DASK_SCHEDULER_ADDRESS")
    if address:
        return Client(address)
    return Client(LocalCluster(n_workers=2, threads_per_worker=1, dashboard_address=None))

"""``anshin eval forecast``: forecast a history file, score the forecast against an actuals file.

Heavy imports (pandas, statsforecast) wait until the command runs: every ``anshin`` command loads
this module. Without ``--actuals`` the history's last ``--horizon`` periods per series are held
out and scored (``--skip N``: the ``--horizon`` periods before the last N, an earlier origin;
``--origin DATE``: the ``--horizon`` periods after DATE, from the history up to DATE, e.g. the same
weeks one year before the file's end); the model choice backtests before them and never sees them.

>>> from services.central.usecases.insights.forecasting import DEFAULT_MODELS as MODELS
>>> DEFAULT_MODELS == ",".join(MODELS)
True
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import Annotated

import typer

DEFAULT_MODELS = "arima,mstl,profile_4,profile_8"


def forecast_eval(
    history: Annotated[Path, typer.Option(help="CSV of past sales (default columns: Walmart_Store_sales.csv)")],
    horizon: Annotated[int, typer.Option(help="periods to forecast and score")] = 8,
    actuals: Annotated[Path | None, typer.Option(help="CSV of the periods after the history; "
                                                 "omit to hold out the history's last --horizon periods")] = None,
    skip: Annotated[int, typer.Option(min=0, help="without --actuals: first drop the history's last SKIP periods "
                                       "(an earlier rolling origin, e.g. 8 = the validation fold)")] = 0,
    origin: Annotated[str | None, typer.Option(help="without --actuals: forecast from the history up to this date "
                                               "(YYYY-MM-DD) and score the --horizon periods after it")] = None,
    series: Annotated[str, typer.Option(help="column naming the series")] = "Store",
    date: Annotated[str, typer.Option(help="date column")] = "Date",
    value: Annotated[str, typer.Option(help="value column")] = "Weekly_Sales",
    date_format: Annotated[str, typer.Option(help="strptime format of the dates (explicit: files mix orders)")] = "%d-%m-%Y",
    season: Annotated[int, typer.Option(help="periods per season")] = 52,
    freq: Annotated[str, typer.Option(help="pandas frequency of the periods")] = "W-FRI",
    windows: Annotated[int, typer.Option(help="rolling origins in the backtest that chooses the models")] = 2,
    models: Annotated[str, typer.Option(help="comma-separated candidates")] = DEFAULT_MODELS,
    combine: Annotated[str, typer.Option(help="mean (of every candidate that can forecast a series) or choose "
                                         "(per series by backtest)")] = "mean",
    pooling: Annotated[float, typer.Option(help="--combine choose: weight of the all-series backtest error "
                                           "in each series' choice")] = 0.5,
    engine: Annotated[str, typer.Option(help="local or dask (uses DASK_SCHEDULER_ADDRESS if set)")] = "local",
    as_json: Annotated[bool, typer.Option("--json", help="print one JSON object")] = False,
) -> None:
    """Forecast every series of --history, score against --actuals: MASE, WAPE, 80 % coverage."""
    import pandas as pd
    from pydantic import ValidationError
    from rich.console import Console
    from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

    from services.central.usecases.insights.evaluation import score, seasonal_naive
    from services.central.usecases.insights.forecasting import Engine, ForecastSettings, forecast
    from services.central.usecases.insights.importing import ColumnMapping, ImportRejected, read_series

    mapping = ColumnMapping(series=series, date=date, value=value, date_format=date_format)
    try:
        hist = read_series(history, mapping)
        act = read_series(actuals, mapping) if actuals else None
    except ImportRejected as e:
        typer.echo(str(e), err=True)
        raise typer.Exit(2) from None
    if (actuals and (skip or origin)) or (skip and origin):
        typer.echo("--actuals, --skip and --origin cannot be combined: each names the periods scored", err=True)
        raise typer.Exit(2)
    source = str(actuals) if actuals else f"holdout: the last {horizon} periods of {history}" + (
        f" without its last {skip}" if skip else "")
    if origin is not None:
        try:
            cut = pd.Timestamp(datetime.strptime(origin, "%Y-%m-%d"))
        except ValueError:
            typer.echo(f"--origin {origin!r} is not a YYYY-MM-DD date", err=True)
            raise typer.Exit(2) from None
        after = hist[hist["ds"] > cut]
        hist, act = hist[hist["ds"] <= cut], after[after.groupby("unique_id")["ds"].rank(method="first") <= horizon]
        if hist.empty or act.empty:
            typer.echo(f"--origin {origin}: the history needs periods on both sides of it", err=True)
            raise typer.Exit(2)
        source = f"holdout: the {horizon} periods of {history} after {origin}, forecast from the periods up to it"
    elif act is None:
        rank = hist.groupby("unique_id")["ds"].rank(method="first", ascending=False)
        hist, act = hist[rank > horizon + skip], hist[(rank > skip) & (rank <= horizon + skip)]
    try:
        settings = ForecastSettings(season_length=season, freq=freq, horizon=horizon, windows=windows, pooling=pooling,
                                    combine=combine,  # type: ignore[arg-type]  # validated here
                                    models=tuple(m.strip() for m in models.split(",") if m.strip()))
    except ValidationError as e:
        typer.echo(f"bad forecast settings: {e}", err=True)
        raise typer.Exit(2) from None
    eng: Engine = "dask" if engine == "dask" else "local"
    with _dask(eng), Progress(SpinnerColumn(), TextColumn("{task.description}"), TimeElapsedColumn(),
                              transient=True, console=Console(stderr=True)) as bar:
        task = bar.add_task("forecast", total=None)
        fc = forecast(hist, settings, eng, progress=lambda m: bar.update(task, description=m))
    figures = score(hist, act, fc.table, season, seasonal_naive(hist, horizon, season, freq))
    chosen = pd.Series(fc.chosen).value_counts().to_dict()
    result = {**figures, "horizon": horizon, "actuals": source, "models_chosen": chosen,
              "month_start_effect": round(fc.month_start_effect, 5),
              "settings": settings.model_dump(mode="json"),
              "note": "models and intervals from rolling-origin backtests inside the history; the scored periods are never seen"}
    typer.echo(json.dumps(result, indent=None if as_json else 2, sort_keys=True))


@contextmanager
def _dask(engine: str) -> Iterator[None]:
    """For ``engine == "dask"``: a client of the cluster at ``DASK_SCHEDULER_ADDRESS``, else of a
    small local cluster, current while the forecast runs; closed after."""
    if engine != "dask":
        yield
        return
    from distributed import Client, LocalCluster

    address = os.environ.get("DASK_SCHEDULER_ADDRESS")
    with (Client(address) if address else Client(LocalCluster(n_workers=2, threads_per_worker=1,
                                                               dashboard_address=None))) as client:
        try:
            yield
        finally:
            if not address:
                client.cluster.close()

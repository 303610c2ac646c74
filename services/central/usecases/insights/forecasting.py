"""Demand forecasts: candidate models per series, chosen by rolling-origin backtest, with intervals.

The candidates are statsforecast's seasonal naive, AutoETS, AutoARIMA and MSTL (trend by ETS),
Croston and TSB for intermittent item demand, and a level-scaled seasonal profile (last seasons'
shape, each divided by its own recent level, pulled a quarter of the way toward the median shape
of all series forecast from the same date, times today's level) implemented here. MSTL's seasonal
component, over its level, is pulled toward the same date's median the same way.

Two ways to combine them (``combine``):

* ``mean`` (the weekly sales default): every regular series gets the mean of all candidates that
  can forecast it (a member too short for its history drops out: MSTL asks 105 weeks). The
  default four, ARIMA + MSTL + profile_4 + profile_8, were picked by a backtest over 19 origins
  inside the file (docs/usecases/insights.md, "Toward the goal"), where a fixed mean beat the
  per-series choice at every late origin.
* ``choose``: each series gets the candidate, or the mean of two or three candidates, whose mean
  absolute error over the last ``windows`` rolling origins *inside its history* (never the period
  forecast), scaled by the series' level and blended with the same forecaster's mean over all
  series (``pooling``), was lowest. Intermittent series are always chosen this way.

Weekly forecasts are then scaled by the month-start effect fitted on the history
(:mod:`~services.central.usecases.insights.month_start`): the seasons back held other days of the month.

Intervals are empirical: the chosen forecaster's backtest errors, divided by each series' scale
(mean absolute value), pooled over all series of the run, give the error quantiles around the
point forecast, times ``interval_width``. Model outputs are rounded to float32 on every engine, because statsforecast's
distributed (fugue) schema is float32: a chain's forecasts do not depend on where they ran.

Leakage: every backtest window and the final forecast see only ``history`` up to their cut-off;
``tests/central/test_insights_forecasting.py`` changes the future and checks the past forecast.

>>> import pandas as pd
>>> weeks = pd.date_range("2024-01-05", periods=30, freq="W-FRI")
>>> hist = pd.DataFrame({"unique_id": "s1", "ds": weeks, "y": [10.0 + (i % 4) for i in range(30)]})
>>> fc = forecast(hist, ForecastSettings(season_length=4, freq="W-FRI", horizon=4,
...                                      models=("snaive", "profile_4"), windows=2, combine="choose"))
>>> fc.table[["ds", "mean", "model"]].to_string(index=False)
'        ds  mean     model\\n2024-08-02  12.0 profile_4\\n2024-08-09  13.0 profile_4\\n2024-08-16  10.0 profile_4\\n2024-08-23  11.0 profile_4'
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
import pandas as pd
from pydantic import Field, model_validator

from services.central.usecases.insights import month_start
from services.shared.strict import Strict

#: Candidate names this module knows; ``profile_<k>`` takes any recent-level window k.
STATS_MODELS = ("snaive", "ets", "arima", "mstl", "croston", "tsb")
#: Weekly retail default, averaged (``combine="mean"``): the lowest mean MASE over 5 season-matched
#: and 14 rolling origins inside the file (see the module docstring).
DEFAULT_MODELS = ("arima", "mstl", "profile_4", "profile_8")
INTERMITTENT_MODELS = ("croston", "tsb", "snaive")

Engine = Literal["local", "dask"]
Progress = Callable[[str], None]


class ForecastSettings(Strict):
    """How to forecast one set of series (all of one frequency)."""

    season_length: int = Field(default=52, ge=1, le=400, description="periods per season (52 weeks, 7 days)")
    freq: str = Field(default="W-FRI", description="pandas frequency of the series, e.g. W-FRI or D")
    horizon: int = Field(default=8, ge=1, le=400, description="periods to forecast")
    windows: int = Field(default=2, ge=1, le=20, description="rolling origins in the backtest")
    level: int = Field(default=80, ge=50, le=99, description="central prediction interval, percent")
    interval_width: float = Field(
        default=0.9, gt=0.0, le=2.0, description="factor on the backtest error quantiles: the backtest windows end "
        "earlier, with less history, and err more than the final forecast (weekly sales: 0.9, docs/usecases/insights.md)")
    models: tuple[str, ...] = Field(default=DEFAULT_MODELS, description="candidates for regular series")
    intermittent_models: tuple[str, ...] = Field(default=INTERMITTENT_MODELS,
                                                 description="candidates for series with many zero periods")
    intermittent_share: float = Field(default=0.3, ge=0.0, le=1.0,
                                      description="a series with at least this share of zero periods is intermittent")
    combine: Literal["mean", "choose"] = Field(
        default="mean", description="regular series: mean of every candidate that can forecast the series, "
        "or choose one (or a mean of 2-3) per series by backtest")
    ensembles: bool = Field(default=True, description="choose: also consider the mean of every 2 and 3 candidates")
    profile_pooling: float = Field(default=0.25, ge=0.0, le=1.0,
                                   description="weight of the median shape of all series forecast from the same date "
                                   "in each profile_<k> shape and in MSTL's seasonal component (0: each series' own)")
    month_start_days: int = Field(
        default=5, ge=0, le=28, description="weekly series: days 1..N of a month (pay and benefit days) lift a week's "
        "sales; forecasts are scaled by the month-start effect fitted on the history (month_start.py; 0: off)")
    pooling: float = Field(default=0.5, ge=0.0, le=1.0,
                           description="weight of the all-series mean backtest error in each series' choice "
                           "(0: each series alone; with few backtest periods, its own error is noisy)")

    @model_validator(mode="after")
    def _known_models(self) -> ForecastSettings:
        for m in (*self.models, *self.intermittent_models):
            if m not in STATS_MODELS and not _profile_k(m):
                raise ValueError(f"unknown model {m!r}; known: {', '.join(STATS_MODELS)}, profile_<k>")
        if not self.models:
            raise ValueError("models: give at least one candidate")
        return self


@dataclass(frozen=True)
class Forecast:
    """One run's result. ``table``: unique_id, ds, mean, lo, hi, model (the chosen forecaster,
    e.g. ``mstl`` or ``ets+profile_4``); ``backtest``: candidate -> per-series backtest MAE."""

    table: pd.DataFrame
    backtest: pd.DataFrame
    chosen: dict[str, str] = field(default_factory=dict)
    month_start_effect: float = 0.0  # log-sales change per month-start day, fitted on the history (0: not used)


def _profile_k(name: str) -> int | None:
    if name.startswith("profile_") and name[8:].isdigit() and int(name[8:]) > 0:
        return int(name[8:])
    return None


def min_length(name: str, season: int) -> int:
    """Shortest history a candidate can forecast from.

    >>> min_length("mstl", 52), min_length("profile_4", 52), min_length("ets", 7)
    (105, 56, 8)
    """
    k = _profile_k(name)
    if k:
        return season + k
    return {"snaive": season, "mstl": 2 * season + 1, "ets": season + 1, "arima": season + 1}.get(name, 2)


def _stats_model(name: str, season: int) -> Any:
    # Imported here: statsforecast loads in a second or two, and labels/routes must not pay for it.
    from statsforecast.models import (
        MSTL,
        TSB,
        AutoARIMA,
        AutoETS,
        CrostonClassic,
        SeasonalNaive,
    )

    made = {
        "snaive": lambda: SeasonalNaive(season_length=season, alias="snaive"),
        # A 52-week seasonal ETS is only tractable additively; "ZZA" lets it pick error and trend.
        "ets": lambda: AutoETS(season_length=season, model="ZZA" if season > 24 else "ZZZ", alias="ets"),
        "arima": lambda: AutoARIMA(season_length=season, alias="arima"),
        "mstl": lambda: MSTL(season_length=season, trend_forecaster=AutoETS(model="ZZN"), alias="mstl"),
        "croston": lambda: CrostonClassic(alias="croston"),
        "tsb": lambda: TSB(alpha_d=0.2, alpha_p=0.2, alias="tsb"),
    }
    return made[name]()


def profile_shape(y: np.ndarray, h: int, season: int, k: int) -> tuple[float, np.ndarray | None]:
    """Today's level (mean of the last ``k`` periods) and the seasonal shape ahead: the same periods
    one and two seasons back, each divided by the mean of the ``k`` periods before it, averaged.
    The shape is None when no season back has a positive level (the caller repeats the last season).

    >>> profile_shape(np.array([1., 2, 3, 4, 2, 4, 6, 8]), h=2, season=4, k=2)
    (7.0, array([0.57142857, 1.14285714]))
    """
    n = len(y)
    level = float(np.mean(y[-k:]))
    shapes = []
    for back in (1, 2):
        start = n - back * season
        if start - k < 0:
            break
        ref = float(np.mean(y[start - k:start]))
        window = y[start:start + h]
        if ref <= 0 or len(window) < h:
            # A shorter seasonal window than h: repeat the season (h > season).
            window = np.resize(y[start:start + season], h)
            if ref <= 0:
                continue
        shapes.append(window / ref)
    return level, (np.mean(shapes, axis=0) if shapes else None)


def profile_forecast(y: np.ndarray, h: int, season: int, k: int, pooled_shape: np.ndarray | None = None,
                     pooling: float = 0.0) -> np.ndarray:
    """Level-scaled seasonal profile: :func:`profile_shape`'s shape times today's level. With
    ``pooled_shape`` (the median shape of every series forecast from the same date), the series'
    own shape is pulled toward it by weight ``pooling``: a store's shape rests on two seasons, so
    week-to-week noise in it is large, while the chain's shape is steady.

    >>> y = np.array([1., 2, 3, 4, 2, 4, 6, 8])
    >>> profile_forecast(y, h=2, season=4, k=2)
    array([4., 8.])
    >>> profile_forecast(y, h=2, season=4, k=2, pooled_shape=np.array([1., 1.]), pooling=0.5)
    array([5.5, 7.5])
    """
    return _scaled_profile(y, h, season, *profile_shape(y, h, season, k), pooled_shape, pooling)


def _scaled_profile(y: np.ndarray, h: int, season: int, level: float, shape: np.ndarray | None,
                    pooled_shape: np.ndarray | None, pooling: float) -> np.ndarray:
    if shape is None:  # no usable season back: repeat the last season
        return np.resize(y[-season:], h).astype(float)
    if pooled_shape is not None:
        shape = (1 - pooling) * shape + pooling * pooled_shape
    return level * shape


def mstl_shape(y: np.ndarray, h: int, season: int) -> tuple[float, np.ndarray | None]:
    """Today's level (mean of the last season) and MSTL's seasonal component ahead (its last season,
    repeated, as MSTL forecasts it) divided by that level; None when the level is not positive.

    >>> level, shape = mstl_shape(np.tile([1.0, 3.0], 12) + 10.0, h=2, season=2)
    >>> round(level, 6), [round(float(v), 6) for v in shape]
    (12.0, [-0.083333, 0.083333])
    """
    from statsforecast.mstl import mstl

    level = float(np.mean(y[-season:]))
    if level <= 0:
        return level, None
    seasonal = mstl(y, season)["seasonal"].to_numpy(float)
    return level, np.resize(seasonal[-season:], h) / level


ShapeOf = Callable[[np.ndarray], np.ndarray | None]


def _peer_shapes(peers: pd.DataFrame | None, last: pd.Timestamp, shortest: int, shape_of: ShapeOf) -> list[np.ndarray]:
    """``shape_of`` each peer series that has a period on ``last`` and at least ``shortest`` periods
    up to it, cut after it (a peer's later periods are the future at that origin)."""
    if peers is None or peers.empty:
        return []
    out = []
    for _, g in peers[peers["ds"] <= last].groupby("unique_id", sort=True):
        y = g["y"].to_numpy(float)
        if g["ds"].iloc[-1] == last and len(y) >= shortest:
            shape = shape_of(y)
            if shape is not None:
                out.append(shape)
    return out


def _pooled_shapes(shapes: dict[str, np.ndarray | None], lasts: pd.Series, peers: pd.DataFrame | None,
                   shortest: int, shape_of: ShapeOf) -> dict[pd.Timestamp, np.ndarray]:
    """Per end date, the median of the shapes of the series (and peers) that end on it."""
    pooled: dict[pd.Timestamp, np.ndarray] = {}
    for last in {lasts[u] for u in shapes}:
        same = [shape for u, shape in shapes.items() if lasts[u] == last and shape is not None]
        same += _peer_shapes(peers, last, shortest, shape_of)
        if same:
            pooled[last] = np.median(np.stack(same), axis=0)
    return pooled


def _profiles(groups: dict[str, np.ndarray], lasts: pd.Series, uids: Sequence[str], settings: ForecastSettings,
              k: int, peers: pd.DataFrame | None = None) -> list[pd.DataFrame]:
    """``profile_<k>`` forecasts of ``uids``, each shape pooled with the median shape of the series
    that end on the same date (no other series' future is used: they all stop at that date), and
    of the ``peers`` cut at that date (series pooled with but not forecast, e.g. the chain's other
    stores when one store is refreshed)."""
    h, season = settings.horizon, settings.season_length
    shortest = min_length(f"profile_{k}", season)
    usable = [u for u in uids if len(groups[u]) >= shortest]
    level_shape = {u: profile_shape(groups[u], h, season, k) for u in usable}
    pooled = _pooled_shapes({u: shape for u, (_, shape) in level_shape.items()}, lasts, peers, shortest,
                            lambda y: profile_shape(y, h, season, k)[1]) if settings.profile_pooling > 0 else {}
    out = []
    for u in usable:
        f = _scaled_profile(groups[u], h, season, *level_shape[u], pooled.get(lasts[u]), settings.profile_pooling)
        out.append(pd.DataFrame({"unique_id": u, "ds": _future_dates(lasts[u], h, settings.freq), "model": f"profile_{k}",
                                 "value": f.astype(np.float32).astype(np.float64)}))
    return out


def _pool_mstl(forecasts: pd.DataFrame, groups: dict[str, np.ndarray], lasts: pd.Series, settings: ForecastSettings,
               peers: pd.DataFrame | None) -> pd.DataFrame:
    """MSTL forecasts with their seasonal part pulled toward the median of the series (and peers)
    ending on the same date, by ``profile_pooling`` as the profiles are: MSTL's seasonal component
    rests on two or three seasons, as a profile's shape does. The forecast is trend + seasonal, so the
    pooled one is ``mstl + w · level · (median shape − own shape)`` (shapes: :func:`mstl_shape`)."""
    w, h, season = settings.profile_pooling, settings.horizon, settings.season_length
    rows = forecasts["model"] == "mstl"
    if w <= 0 or not rows.any():
        return forecasts
    uids = sorted(set(forecasts.loc[rows, "unique_id"]))
    level_shape = {u: mstl_shape(groups[u], h, season) for u in uids}
    pooled = _pooled_shapes({u: shape for u, (_, shape) in level_shape.items()}, lasts, peers,
                            min_length("mstl", season), lambda y: mstl_shape(y, h, season)[1])
    out = forecasts.copy()
    for u in uids:
        level, shape = level_shape[u]
        median = pooled.get(lasts[u])
        if shape is None or median is None:
            continue
        at = rows & (out["unique_id"] == u)
        step = w * level * (median - shape)
        out.loc[at, "value"] = (out.loc[at, "value"].to_numpy() + step[:int(at.sum())]).astype(np.float32).astype(np.float64)
    return out


def _future_dates(last: pd.Timestamp, h: int, freq: str) -> pd.DatetimeIndex:
    return pd.date_range(last, periods=h + 1, freq=freq)[1:]


def _stats_forecasts(
    history: pd.DataFrame, names: Sequence[str], settings: ForecastSettings, engine: Engine
) -> pd.DataFrame:
    """unique_id, ds and one float32-rounded column per statsforecast candidate."""
    from statsforecast import StatsForecast

    models = [_stats_model(n, settings.season_length) for n in names]
    sf = StatsForecast(models=models, freq=settings.freq, n_jobs=1)
    frame = history[["unique_id", "ds", "y"]]
    if engine == "dask":
        import dask.dataframe as dd

        parts = max(1, min(8, frame["unique_id"].nunique()))
        out = sf.forecast(df=dd.from_pandas(frame, npartitions=parts), h=settings.horizon)
        out = out.compute() if hasattr(out, "compute") else out
    else:
        out = sf.forecast(df=frame, h=settings.horizon)
    out = pd.DataFrame(out).reset_index(drop="unique_id" in out.columns)
    out["unique_id"] = out["unique_id"].astype(str)
    out["ds"] = pd.to_datetime(out["ds"]).astype("datetime64[ns]")
    for n in names:
        out[n] = out[n].astype(np.float32).astype(np.float64)  # same precision as the distributed path
    return out[["unique_id", "ds", *names]].sort_values(["unique_id", "ds"]).reset_index(drop=True)


def _one_origin(history: pd.DataFrame, kinds: dict[str, list[str]], settings: ForecastSettings,
                engine: Engine, peers: pd.DataFrame | None = None,
                month_start_effect: float | None = None) -> pd.DataFrame:
    """Every applicable candidate's point forecast after the end of ``history`` (long format:
    unique_id, ds, model, value), scaled by ``month_start_effect`` (None: fitted here)."""
    parts: list[pd.DataFrame] = []
    groups = {uid: g["y"].to_numpy(float) for uid, g in history.groupby("unique_id", sort=True)}
    lasts = history.groupby("unique_id", sort=True)["ds"].max()
    for names in {tuple(v) for v in kinds.values()}:
        uids = [u for u, v in kinds.items() if tuple(v) == names]
        sub = history[history["unique_id"].isin(uids)]
        stats = [n for n in names if n in STATS_MODELS]
        if stats:
            # statsforecast fits every model on every series given: group series by usable models.
            for usable in {tuple(n for n in stats if len(groups[u]) >= min_length(n, settings.season_length))
                           for u in uids}:
                ids = [u for u in uids if tuple(n for n in stats if len(groups[u]) >= min_length(
                    n, settings.season_length)) == usable]
                if not usable:
                    continue
                wide = _stats_forecasts(sub[sub["unique_id"].isin(ids)], usable, settings, engine)
                parts.append(wide.melt(id_vars=["unique_id", "ds"], var_name="model", value_name="value"))
        for n in names:
            k = _profile_k(n)
            if k:
                parts.extend(_profiles(groups, lasts, uids, settings, k, peers))
    if not parts:
        return pd.DataFrame(columns=["unique_id", "ds", "model", "value"])
    out = pd.concat(parts, ignore_index=True)
    out["ds"] = pd.to_datetime(out["ds"]).astype("datetime64[ns]")
    out = _pool_mstl(out, groups, lasts, settings, peers)
    effect = _month_start_effect(history, settings, peers) if month_start_effect is None else month_start_effect
    if effect != 0.0:
        firsts = history.groupby("unique_id")["ds"].min()
        scale = month_start.factors(out["ds"], out["unique_id"].map(firsts), effect, settings.month_start_days,
                                    settings.season_length)
        out["value"] = (out["value"].to_numpy() * scale).astype(np.float32).astype(np.float64)
    return out


def _month_start_effect(history: pd.DataFrame, settings: ForecastSettings, peers: pd.DataFrame | None) -> float:
    """The month-start effect fitted on ``history`` and the ``peers`` up to its last period (weekly
    series only: a daily series sees the days themselves)."""
    if settings.month_start_days == 0 or not settings.freq.upper().startswith("W"):
        return 0.0
    pool = history if peers is None else pd.concat([history, peers[peers["ds"] <= history["ds"].max()]])
    return month_start.fit_effect(pool, settings.month_start_days, settings.season_length)


def _candidates_by_series(history: pd.DataFrame, settings: ForecastSettings) -> dict[str, list[str]]:
    zero_share = history.assign(z=history["y"] <= 0).groupby("unique_id")["z"].mean()
    return {str(u): list(settings.intermittent_models if z >= settings.intermittent_share else settings.models)
            for u, z in zero_share.items()}


def cut_history(history: pd.DataFrame, periods: int) -> pd.DataFrame:
    """``history`` without each series' last ``periods`` rows (a rolling origin).

    >>> h = pd.DataFrame({"unique_id": ["a"] * 3 + ["b"] * 2, "ds": [1, 2, 3, 1, 2], "y": [1., 2, 3, 4, 5]})
    >>> cut_history(h, 1)["y"].tolist()
    [1.0, 2.0, 4.0]
    """
    if periods <= 0:
        return history
    rank = history.groupby("unique_id")["ds"].rank(method="first", ascending=False)
    return history[rank > periods]


def _combine(values: pd.DataFrame, name: str) -> pd.Series:
    """The mean of an ensemble's members; NaN wherever a member could not forecast (an ensemble
    scored as the mean of the members present would be a different forecaster in that window).

    >>> _combine(pd.DataFrame({"a": [1.0, 2.0], "b": [3.0, np.nan]}), "a+b").tolist()
    [2.0, nan]
    """
    cols = name.split("+")
    if not all(c in values for c in cols):
        return pd.Series(np.nan, index=values.index)
    return values[cols].mean(axis=1, skipna=False)


def backtest(history: pd.DataFrame, settings: ForecastSettings, engine: Engine = "local",
             progress: Progress | None = None, peers: pd.DataFrame | None = None) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Rolling-origin backtest inside ``history``: for window w = windows..1, forecast from the
    history without its last w*horizon periods and compare with those periods (``peers``: see
    :func:`forecast`).

    Returns (per-series MAE of every candidate and ensemble, the errors long table:
    unique_id, ds, window, forecaster, error)."""
    history = _clean(history)
    peers = _clean(peers) if peers is not None and not peers.empty else None
    kinds = _candidates_by_series(history, settings)
    h = settings.horizon
    errors: list[pd.DataFrame] = []
    for w in range(settings.windows, 0, -1):
        if progress:
            progress(f"backtest window {settings.windows - w + 1}/{settings.windows}")
        train = cut_history(history, w * h)
        actual = history[~history.index.isin(train.index)]
        actual = actual[actual.groupby("unique_id")["ds"].rank(method="first") <= h]
        fc = _one_origin(train, {u: m for u, m in kinds.items() if u in set(train["unique_id"])}, settings, engine,
                         peers)
        if fc.empty:
            continue
        wide = fc.pivot_table(index=["unique_id", "ds"], columns="model", values="value").reset_index()
        merged = wide.merge(actual[["unique_id", "ds", "y"]], on=["unique_id", "ds"])
        merged["window"] = w
        errors.append(merged)
    if not errors:
        raise ValueError(f"no series is long enough for a backtest of {settings.windows} x {h} periods")
    table = pd.concat(errors, ignore_index=True)
    models = [c for c in table.columns if c not in ("unique_id", "ds", "y", "window")]
    # NaN where a candidate could not forecast a window (too short then): it is not comparable.
    abs_err = table[models].sub(table["y"], axis=0).abs().assign(unique_id=table["unique_id"])
    mae = abs_err.groupby("unique_id")[models].agg(lambda s: float(s.mean()) if s.notna().all() else np.nan)
    if settings.ensembles and len(models) > 1:  # one candidate has no ensembles (pandas fails on none)
        combos = ["+".join(c) for k in (2, 3) for c in itertools.combinations(sorted(models), k)]
        for name in combos:
            table[name] = _combine(table, name)
        abs_err = table[combos].sub(table["y"], axis=0).abs().assign(unique_id=table["unique_id"])
        more = abs_err.groupby("unique_id")[combos].agg(lambda s: float(s.mean()) if s.notna().all() else np.nan)
        mae = mae.join(more).dropna(axis=1, how="all")
    return mae, table


def _clean(history: pd.DataFrame) -> pd.DataFrame:
    missing = {"unique_id", "ds", "y"} - set(history.columns)
    if missing:
        raise ValueError(f"history needs columns unique_id, ds, y; missing {sorted(missing)}")
    out = history[["unique_id", "ds", "y"]].copy()
    out["unique_id"] = out["unique_id"].astype(str)
    out["ds"] = pd.to_datetime(out["ds"]).astype("datetime64[ns]")
    out["y"] = out["y"].astype(float)
    if out["y"].isna().any():
        raise ValueError("history has missing values in y")
    if out.duplicated(["unique_id", "ds"]).any():
        raise ValueError("history has two values for the same series and date")
    return out.sort_values(["unique_id", "ds"]).reset_index(drop=True)


def choose(mae: pd.DataFrame, scale: pd.Series | None = None, pooling: float = 0.0) -> dict[str, str]:
    """Per series, the forecaster with the lowest backtest score (first by name on a tie): its own
    MAE divided by the series' ``scale``, blended with weight ``pooling`` with that forecaster's
    mean over all series (a noisy series-level error is pulled toward what works across series).

    >>> mae = pd.DataFrame({"ets": [2.0, 1.0, 1.0], "snaive": [1.5, 2.0, 3.0]}, index=["a", "b", "c"])
    >>> choose(mae), choose(mae, pooling=0.9)
    ({'a': 'snaive', 'b': 'ets', 'c': 'ets'}, {'a': 'ets', 'b': 'ets', 'c': 'ets'})
    """
    rel = mae.div(scale.reindex(mae.index).clip(lower=1e-12), axis=0) if scale is not None else mae
    score = (1 - pooling) * rel + pooling * rel.mean(axis=0, skipna=True)
    out: dict[str, str] = {}
    for uid, row in score.where(rel.notna()).iterrows():
        row = row.dropna()
        if row.empty:
            continue
        best = row.min()
        out[str(uid)] = sorted(str(m) for m, v in row.items() if v == best)[0]
    return out


def fixed_means(history: pd.DataFrame, kinds: dict[str, list[str]], settings: ForecastSettings) -> dict[str, str]:
    """``combine="mean"``: each regular series' forecaster is the mean of the candidates its history
    is long enough for (intermittent series are left to the per-series choice).

    >>> weeks = pd.date_range("2024-01-05", periods=60, freq="W-FRI")
    >>> h = pd.concat([pd.DataFrame({"unique_id": u, "ds": weeks[-n:], "y": 1.0}) for u, n in (("a", 60), ("b", 54))])
    >>> s = ForecastSettings(models=("mstl", "profile_4", "snaive"))
    >>> fixed_means(h, {"a": list(s.models), "b": list(s.models)}, s)
    {'a': 'profile_4+snaive', 'b': 'snaive'}
    """
    lengths = history.groupby("unique_id")["ds"].size()
    out: dict[str, str] = {}
    for uid, names in kinds.items():
        if list(names) != list(settings.models):
            continue
        usable = sorted(n for n in names if lengths[uid] >= min_length(n, settings.season_length))
        if usable:
            out[uid] = "+".join(usable)
    return out


def interval_quantiles(errors: pd.DataFrame, chosen: dict[str, str], scale: pd.Series, level: int) -> tuple[float, float]:
    """Lower and upper quantiles of the chosen forecasters' backtest errors (actual - forecast),
    each divided by its series' scale, pooled over series: the interval is mean + q * scale.
    A mean (``combine="mean"``) with a member too short for a backtest window is taken there
    over the members present: a short series' errors still count, as the nearest forecaster's."""
    pooled: list[np.ndarray] = []
    for uid, name in chosen.items():
        rows = errors[errors["unique_id"] == uid]
        present = [c for c in name.split("+") if c in rows]
        f = rows[present].mean(axis=1, skipna=True) if present else pd.Series(np.nan, index=rows.index)
        e = ((rows["y"] - f) / max(float(scale.get(uid, 1.0)), 1e-9)).dropna().to_numpy()
        pooled.append(e)
    allerr = np.concatenate(pooled) if pooled else np.zeros(0)
    if allerr.size == 0:
        raise ValueError("no backtest window has a forecast to size the intervals with: the series are too short "
                         f"for {', '.join(sorted(set(chosen.values())))} at {len(errors['window'].unique())} windows")
    tail = (100 - level) / 200
    return float(np.quantile(allerr, tail)), float(np.quantile(allerr, 1 - tail))


def forecast(history: pd.DataFrame, settings: ForecastSettings | None = None, engine: Engine = "local",
             progress: Progress | None = None, peers: pd.DataFrame | None = None) -> Forecast:
    """Backtest, choose per series, forecast ``settings.horizon`` periods after the end of each
    series with intervals. ``history``: unique_id, ds, y (one row per series and period).

    ``peers`` (same columns): series that only lend their seasonal shape to the profile pooling
    (``profile_pooling``), as if they were in ``history``, without being fitted or forecast. A
    store's refresh passes the chain's other stores, so its forecast is the one a chain-wide run
    gives it."""
    settings = settings or ForecastSettings()
    history = _clean(history)
    peers = _clean(peers) if peers is not None and not peers.empty else None
    mae, errors = backtest(history, settings, engine, progress, peers)
    scale = history.groupby("unique_id")["y"].apply(lambda s: float(np.mean(np.abs(s))))
    kinds = _candidates_by_series(history, settings)
    chosen = choose(mae, scale, settings.pooling)
    if settings.combine == "mean":
        chosen.update(fixed_means(history, kinds, settings))
    q_lo, q_hi = (settings.interval_width * q for q in interval_quantiles(errors, chosen, scale, settings.level))
    if progress:
        progress("final forecast")
    effect = _month_start_effect(history, settings, peers)
    fc = _one_origin(history, kinds, settings, engine, peers, effect)
    wide = fc.pivot_table(index=["unique_id", "ds"], columns="model", values="value").reset_index()
    parts = []
    for uid, rows in wide.groupby("unique_id", sort=True):
        name = chosen.get(str(uid))
        if name is None:
            continue
        mean = _combine(rows, name)
        s = float(scale[uid])
        parts.append(pd.DataFrame({"unique_id": uid, "ds": rows["ds"].to_numpy(), "mean": mean.to_numpy(),
                                   "lo": (mean + q_lo * s).to_numpy(), "hi": (mean + q_hi * s).to_numpy(),
                                   "model": name}))
    table = pd.concat(parts, ignore_index=True) if parts else pd.DataFrame(
        columns=["unique_id", "ds", "mean", "lo", "hi", "model"])
    nonneg = bool((history["y"] >= 0).all())
    if nonneg:  # demand and sales are never negative: neither are their forecasts or bounds
        table[["mean", "lo", "hi"]] = table[["mean", "lo", "hi"]].clip(lower=0.0)
    return Forecast(table=table, backtest=mae, chosen=chosen, month_start_effect=effect)


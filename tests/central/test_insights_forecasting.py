"""Use case J forecasting: the backtest never sees the future, the model is chosen per series, and
the Dask engine gives the single-process results. Real data: three Walmart stores (dev file)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from services.central.usecases.insights.data import retail_dir
from services.central.usecases.insights.evaluation import score, seasonal_naive
from services.central.usecases.insights.forecasting import ForecastSettings, backtest, cut_history, forecast
from services.central.usecases.insights.importing import ColumnMapping, read_series

WALMART = ColumnMapping(date="Date", date_format="%d-%m-%Y", series="Store", value="Weekly_Sales")
# Small and quick, still real: three stores, the fast candidates, two rolling origins.
QUICK = ForecastSettings(season_length=52, freq="W-FRI", horizon=8, windows=2, models=("snaive", "ets", "profile_4"),
                         combine="choose")


@pytest.fixture(scope="module")
def walmart() -> pd.DataFrame:
    history = read_series(retail_dir() / "Walmart_Store_sales.csv", WALMART)
    return history[history["unique_id"].isin(["1", "2", "3"])].reset_index(drop=True)


def test_changing_the_future_leaves_the_past_forecast_unchanged(walmart: pd.DataFrame) -> None:
    last8 = walmart.groupby("unique_id")["ds"].rank(ascending=False) <= 8
    changed = walmart.copy()
    changed.loc[last8, "y"] *= 3.0  # a future nothing like the past

    _, errors_a = backtest(walmart, QUICK)
    _, errors_b = backtest(changed, QUICK)
    forecasts = [c for c in errors_a.columns if c not in ("unique_id", "ds", "y", "window")]
    # Every backtest forecast (both rolling origins) is the same; only the actuals differ.
    pd.testing.assert_frame_equal(errors_a[["unique_id", "ds", *forecasts]], errors_b[["unique_id", "ds", *forecasts]])
    assert not np.allclose(errors_a["y"], errors_b["y"])

    past_a = forecast(cut_history(walmart, 8), QUICK).table
    past_b = forecast(cut_history(changed, 8), QUICK).table
    pd.testing.assert_frame_equal(past_a, past_b)
    # ...while a forecast that is allowed to see the changed weeks does change (the check can fail).
    assert not np.allclose(forecast(changed, QUICK).table["mean"], forecast(walmart, QUICK).table["mean"])


def test_backtest_windows_end_before_the_periods_they_score(walmart: pd.DataFrame) -> None:
    _, errors = backtest(walmart, QUICK)
    last = walmart["ds"].max()
    weeks = pd.Timedelta(weeks=1)
    by_window = errors.groupby("window")["ds"].agg(["min", "max"])
    assert by_window.loc[1, "max"] == last and by_window.loc[1, "min"] == last - 7 * weeks
    assert by_window.loc[2, "max"] == last - 8 * weeks


def test_model_is_chosen_per_series_with_intervals_around_the_mean(walmart: pd.DataFrame) -> None:
    fc = forecast(walmart, QUICK.model_copy(update={"pooling": 0.0}))  # each series on its own errors
    assert set(fc.chosen) == {"1", "2", "3"}
    for uid, name in fc.chosen.items():
        row = fc.backtest.loc[uid].dropna()
        assert row[name] == row.min()  # the chosen forecaster had the lowest backtest error
    assert {"ets+profile_4", "ets+profile_4+snaive"} <= set(fc.backtest.columns)  # ensembles compete
    t = fc.table
    assert len(t) == 24 and (t["lo"] <= t["mean"]).all() and (t["mean"] <= t["hi"]).all()
    assert t["ds"].min() == walmart["ds"].max() + pd.Timedelta(weeks=1)


def test_scores_of_a_holdout_are_finite_and_beat_nothing_by_construction(walmart: pd.DataFrame) -> None:
    rank = walmart.groupby("unique_id")["ds"].rank(ascending=False)
    hist, actual = walmart[rank > 8], walmart[rank <= 8]
    fc = forecast(hist, QUICK)
    got = score(hist, actual, fc.table, 52, seasonal_naive(hist, 8, 52, "W-FRI"))
    assert got["series"] == 3 and got["periods_scored"] == 24
    assert 0 < got["mase"] < 5 and 0 < got["wape"] < 1 and 0 <= got["coverage_80"] <= 1
    # The naive forecast scored the same way is the MASE of the naive forecast, not a constant.
    assert got["mase_seasonal_naive"] != got["mase"]


def test_the_mean_rule_averages_every_candidate_the_history_is_long_enough_for(walmart: pd.DataFrame) -> None:
    mean_rule = QUICK.model_copy(update={"combine": "mean"})
    fc = forecast(walmart, mean_rule)
    assert fc.chosen == {u: "ets+profile_4+snaive" for u in ("1", "2", "3")}
    members = [forecast(walmart, QUICK.model_copy(update={"models": (m,)})).table for m in ("ets", "profile_4", "snaive")]
    expected = np.mean([t["mean"].to_numpy() for t in members], axis=0)
    np.testing.assert_allclose(fc.table["mean"].to_numpy(), expected, rtol=1e-9)
    # A store with 60 weeks is too short for MSTL (two seasons + 1): it gets the mean of the others.
    short = walmart[walmart.groupby("unique_id")["ds"].rank(ascending=False) <= 60]
    with_mstl = QUICK.model_copy(update={"combine": "mean", "models": ("mstl", "profile_4", "snaive")})
    assert forecast(short, with_mstl).chosen == {u: "profile_4+snaive" for u in ("1", "2", "3")}


def test_intermittent_series_get_croston_or_tsb() -> None:
    days = pd.date_range("2024-01-01", periods=70, freq="D")
    rng = np.random.default_rng(7)
    y = np.where(rng.random(70) < 0.3, rng.integers(1, 4, 70), 0).astype(float)
    fc = forecast(pd.DataFrame({"unique_id": "rare", "ds": days, "y": y}),
                  ForecastSettings(season_length=7, freq="D", horizon=7, models=("snaive",), ensembles=False))
    assert fc.chosen["rare"] in ("croston", "tsb", "snaive")
    assert set(fc.backtest.columns) >= {"croston", "tsb"}


def test_dask_engine_gives_the_single_process_results(walmart: pd.DataFrame) -> None:
    from distributed import Client, LocalCluster

    local = forecast(walmart, QUICK)
    with LocalCluster(n_workers=1, processes=False, threads_per_worker=1, dashboard_address=None) as cluster, \
            Client(cluster):
        distributed = forecast(walmart, QUICK, engine="dask")
    assert distributed.chosen == local.chosen
    pd.testing.assert_frame_equal(distributed.table, local.table)
    pd.testing.assert_frame_equal(distributed.backtest, local.backtest)


def test_eval_forecast_prints_the_figures_as_json(tmp_path) -> None:  # type: ignore[no-untyped-def]
    import json

    from typer.testing import CliRunner

    from anshin.cli import app

    source = (retail_dir() / "Walmart_Store_sales.csv").read_text(encoding="utf-8").splitlines(keepends=True)
    two = tmp_path / "two-stores.csv"
    two.write_text("".join([source[0], *(line for line in source[1:] if line.split(",")[0] in ("1", "2"))]))
    r = CliRunner().invoke(app, ["eval", "forecast", "--history", str(two), "--horizon", "8",
                                 "--models", "snaive,profile_4", "--json"])
    assert r.exit_code == 0, r.output
    got = json.loads(r.stdout.strip().splitlines()[-1])
    assert {"series", "mase", "mase_seasonal_naive", "wape", "coverage_80"} <= set(got)
    assert got["series"] == 2 and got["actuals"].startswith("holdout: the last 8 periods")
    # --skip 8 scores the 8 weeks before the last 8 (an earlier origin): other weeks, other figures.
    earlier = CliRunner().invoke(app, ["eval", "forecast", "--history", str(two), "--horizon", "8", "--skip", "8",
                                       "--models", "snaive,profile_4", "--json"])
    assert earlier.exit_code == 0, earlier.output
    before = json.loads(earlier.stdout.strip().splitlines()[-1])
    assert before["periods_scored"] == 16 and before["actuals"].endswith("without its last 8")
    assert before["mase"] != got["mase"]
    both = CliRunner().invoke(app, ["eval", "forecast", "--history", str(two), "--actuals", str(two), "--skip", "8"])
    assert both.exit_code == 2 and "cannot be combined" in both.output
    # --origin scores the 8 weeks after a date from the history up to it (the season-matched origin).
    dated = CliRunner().invoke(app, ["eval", "forecast", "--history", str(two), "--horizon", "8",
                                     "--origin", "2011-09-02", "--models", "snaive,profile_4", "--json"])
    assert dated.exit_code == 0, dated.output
    year_before = json.loads(dated.stdout.strip().splitlines()[-1])
    assert year_before["periods_scored"] == 16 and year_before["actuals"].endswith("after 2011-09-02, forecast from "
                                                                                    "the periods up to it")
    assert year_before["mase"] not in (got["mase"], before["mase"])
    for clash in (["--origin", "2011-09-02", "--skip", "8"], ["--origin", "2011-09-02", "--actuals", str(two)]):
        r = CliRunner().invoke(app, ["eval", "forecast", "--history", str(two), *clash])
        assert r.exit_code == 2 and "cannot be combined" in r.output
    assert CliRunner().invoke(app, ["eval", "forecast", "--history", str(two), "--origin", "2/9/2011"]).exit_code == 2
    bad = CliRunner().invoke(app, ["eval", "forecast", "--history", str(two), "--date-format", "%m/%d/%Y"])
    assert bad.exit_code == 2 and "line 2 Date" in bad.output
    unknown = CliRunner().invoke(app, ["eval", "forecast", "--history", str(two), "--models", "snaive,prophet"])
    assert unknown.exit_code == 2 and "unknown model 'prophet'" in unknown.output


def test_an_ensemble_is_not_scored_where_a_member_could_not_forecast() -> None:
    # profile_20 needs 24 weeks at season 4: the second origin (22 weeks) is too short for it.
    weeks = pd.date_range("2024-01-05", periods=30, freq="W-FRI")
    hist = pd.DataFrame({"unique_id": "s", "ds": weeks, "y": [10.0 + (i % 4) + 0.1 * i for i in range(30)]})
    settings = ForecastSettings(season_length=4, freq="W-FRI", horizon=4, windows=2, models=("snaive", "profile_20"),
                                combine="choose")
    mae, errors = backtest(hist, settings)
    assert errors.loc[errors["window"] == 2, "profile_20"].isna().all()
    assert errors.loc[errors["window"] == 2, "profile_20+snaive"].isna().all()  # not the snaive forecast alone
    assert mae.loc["s"].dropna().index.tolist() == ["snaive"]  # neither profile_20 nor its ensemble competes
    assert forecast(hist, settings).chosen == {"s": "snaive"}  # the only forecaster scored on both origins


def test_profile_shapes_are_pooled_only_with_series_ending_on_the_same_date() -> None:
    weeks = pd.date_range("2024-01-05", periods=12, freq="W-FRI")
    up = [1.0, 1, 2, 4] * 3  # a 4-week cycle: the next 2 weeks are a third of the 2 before
    flat = [2.0] * 12
    hist = pd.concat([pd.DataFrame({"unique_id": "up", "ds": weeks, "y": up}),
                      pd.DataFrame({"unique_id": "flat", "ds": weeks, "y": flat}),
                      # Ends a week earlier: its shape must not enter the others' median, nor theirs its own.
                      pd.DataFrame({"unique_id": "early", "ds": weeks[:-1], "y": [3.0] * 11})])
    settings = ForecastSettings(season_length=4, freq="W-FRI", horizon=2, windows=1, models=("profile_2",),
                                profile_pooling=0.5)
    table = forecast(hist, settings).table.set_index(["unique_id", "ds"])["mean"]
    own_up, own_flat = np.array([1.0 / 3, 1.0 / 3]), np.array([1.0, 1.0])  # shapes: next weeks over the level before
    median = (own_up + own_flat) / 2
    np.testing.assert_allclose(table.loc["up"].to_numpy(), 3.0 * (0.5 * own_up + 0.5 * median), rtol=1e-6)
    np.testing.assert_allclose(table.loc["flat"].to_numpy(), 2.0 * (0.5 * own_flat + 0.5 * median), rtol=1e-6)
    np.testing.assert_allclose(table.loc["early"].to_numpy(), [3.0, 3.0], rtol=1e-6)  # alone on its date
    unpooled = forecast(hist, settings.model_copy(update={"profile_pooling": 0.0})).table
    np.testing.assert_allclose(unpooled.set_index("unique_id").loc["up", "mean"].to_numpy(), [1.0, 1.0], rtol=1e-6)


def test_one_store_pooled_with_its_peers_gets_its_chain_wide_forecast(walmart: pd.DataFrame) -> None:
    # The mean of fixed candidates: each series' forecast depends on the others only through the pooled shape.
    settings = ForecastSettings(models=("mstl", "profile_4", "profile_8"), windows=1, profile_pooling=0.25)
    chain = forecast(walmart, settings).table
    alone = walmart[walmart["unique_id"] == "1"]
    peers = walmart[walmart["unique_id"] != "1"].assign(unique_id=lambda d: "other/" + d["unique_id"])
    pooled = forecast(alone, settings, peers=peers).table
    np.testing.assert_allclose(pooled["mean"].to_numpy(), chain[chain["unique_id"] == "1"]["mean"].to_numpy(),
                               rtol=1e-9)
    unpooled = forecast(alone, settings).table  # alone, its shape is the median of itself: its own
    assert not np.allclose(unpooled["mean"].to_numpy(), pooled["mean"].to_numpy())
    # A peer's periods after the store's last one are its future there: they change nothing.
    later = peers.assign(ds=lambda d: d["ds"] + pd.Timedelta(weeks=1))
    extra = pd.concat([peers, later[later["ds"] > peers["ds"].max()].assign(y=1e9)])
    np.testing.assert_allclose(forecast(alone, settings, peers=extra).table["mean"].to_numpy(),
                               pooled["mean"].to_numpy(), rtol=1e-9)


def test_mstl_seasonal_part_is_pooled_with_the_series_ending_on_the_same_date(walmart: pd.DataFrame) -> None:
    from services.central.usecases.insights.forecasting import mstl_shape

    # Without the month-start factor, which scales pooled and plain alike (test_insights_month_start.py).
    settings = ForecastSettings(models=("mstl",), windows=1, profile_pooling=0.25, month_start_days=0)
    pooled = forecast(walmart, settings).table.set_index(["unique_id", "ds"])["mean"]
    plain = forecast(walmart, settings.model_copy(update={"profile_pooling": 0.0})).table.set_index(["unique_id", "ds"])["mean"]
    shapes = {u: mstl_shape(g["y"].to_numpy(float), 8, 52) for u, g in walmart.groupby("unique_id")}
    median = np.median(np.stack([shape for _, shape in shapes.values()]), axis=0)
    for u, (level, shape) in shapes.items():  # trend + seasonal: only the seasonal part moves, by w * level * (median - own)
        np.testing.assert_allclose(pooled.loc[u].to_numpy(), plain.loc[u].to_numpy() + 0.25 * level * (median - shape),
                                   rtol=1e-5)

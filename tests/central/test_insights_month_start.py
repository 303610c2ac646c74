"""Use case J: the month-start effect. A chain whose weeks sell more for each of days 1-5 of a month
they hold gets that effect back from its history, and a forecast week that holds more of those days
than the same week a year or two back is scaled up by it; daily series and ``month_start_days: 0``
are left alone."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from services.central.usecases.insights import month_start
from services.central.usecases.insights.forecasting import ForecastSettings, forecast

WEEKS = pd.date_range("2010-01-01", periods=150, freq="W-FRI")


def chain(effect: float, stores: int = 6, seed: int = 0) -> pd.DataFrame:
    """Weekly sales with a yearly cycle, store noise and ``effect`` (log sales) per month-start day."""
    rng = np.random.default_rng(seed)
    days = np.array([month_start.month_start_days(d, 5) for d in WEEKS], float)
    season = 0.15 * np.sin(2 * np.pi * WEEKS.dayofyear.to_numpy() / 365.25)
    rows = []
    for s in range(stores):
        y = 1000.0 * (1 + 0.1 * s) * np.exp(season + effect * days + rng.normal(0.0, 0.01, len(WEEKS)))
        rows.append(pd.DataFrame({"unique_id": f"s{s}", "ds": WEEKS, "y": y}))
    return pd.concat(rows, ignore_index=True)


@pytest.mark.parametrize("effect", [0.0, 0.02, 0.04])
def test_the_effect_planted_in_a_chains_history_is_fitted_back(effect: float) -> None:
    assert month_start.fit_effect(chain(effect), days=5) == pytest.approx(effect, abs=0.004)


def test_series_of_different_lengths_all_count() -> None:
    history = chain(0.04)
    opened = WEEKS[3 * history["unique_id"].str[1:].astype(int).to_numpy()]  # each store opened another week...
    closed = history["unique_id"].eq("s0") & history["ds"].eq(WEEKS[100])  # ...and the first one shut for a week
    assert month_start.fit_effect(history[(history["ds"].to_numpy() >= opened) & ~closed], days=5) == pytest.approx(0.04, abs=0.004)
    # A series with a week of no sales has no log: it is left out, the others still tell.
    zero = history.copy()
    zero.loc[zero["unique_id"].eq("s0") & zero["ds"].eq(WEEKS[90]), "y"] = 0.0
    assert month_start.fit_effect(zero, days=5) == pytest.approx(0.04, abs=0.004)


def test_too_short_a_history_gives_no_effect() -> None:
    short = chain(0.04)
    short = short[short["ds"] < WEEKS[70]]  # 70 weeks: too few year-on-year weeks to tell
    assert month_start.fit_effect(short, days=5) == 0.0


def test_a_week_with_more_month_start_days_than_a_year_ago_is_forecast_higher() -> None:
    history = chain(0.04)
    settings = ForecastSettings(models=("profile_4",), windows=1, horizon=8, profile_pooling=0.0)
    with_effect = forecast(history, settings)
    plain = forecast(history, settings.model_copy(update={"month_start_days": 0}))
    assert with_effect.month_start_effect == pytest.approx(0.04, abs=0.004) and plain.month_start_effect == 0.0

    a = with_effect.table.set_index(["unique_id", "ds"])["mean"]
    b = plain.table.set_index(["unique_id", "ds"])["mean"].reindex(a.index)
    first = pd.Series(WEEKS[0], index=range(len(a)))
    expected = month_start.factors(pd.Series(a.index.get_level_values("ds")), first, with_effect.month_start_effect, 5)
    np.testing.assert_allclose(a.to_numpy() / b.to_numpy(), expected, rtol=1e-5)
    assert (expected > 1.01).any() and (expected < 0.99).any()  # some weeks up, some down: the check can fail


def test_daily_series_are_not_scaled() -> None:
    days = pd.date_range("2024-01-01", periods=400, freq="D")
    history = pd.DataFrame({"unique_id": "item", "ds": days, "y": 10.0 + (days.day <= 5) * 5.0})
    settings = ForecastSettings(season_length=7, freq="D", horizon=7, windows=1, models=("snaive",))
    assert forecast(history, settings).month_start_effect == 0.0

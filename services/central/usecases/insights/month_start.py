"""The month-start effect on weekly sales: paydays and benefit days at the start of each month.

A seasonal forecast copies the same week one and two years back (52 weeks = 364 days), but the
days of the month drift by one or two days a year under those weeks. Shoppers spend more on the
first days of a month (pay and benefits arrive), so a week that now holds days 1..5 of a month
and held only two of them a year ago sells more than the copy says; a week that lost them, less.

The effect is fitted on the history itself: each week's change on the same week a year before
(log sales, the median over the run's series), minus its 9-week running median (the slow trend),
is regressed on the change in the number of month-start days the week holds. The forecast of a
week is then scaled by ``exp(effect × (its month-start days − the mean over the seasons back))``.

On the Walmart file this moved mean MASE at 16 of 17 rolling origins (docs/usecases/insights.md,
"Month-start days"); the fitted effect there is about +1.5 % of a week's sales per day.

>>> import pandas as pd
>>> month_start_days(pd.Timestamp("2012-09-07"), 5)  # Sat 1 .. Fri 7 September: days 1-5
5
>>> month_start_days(pd.Timestamp("2011-09-09"), 5)  # Sat 3 .. Fri 9 September: days 3, 4, 5
3
"""

from __future__ import annotations

import numpy as np
import pandas as pd

#: Fewest year-on-year weeks to fit the effect from; with fewer the forecast is left as it is.
MIN_WEEKS = 26
#: Weeks in the running median that takes the slow trend out of the year-on-year changes.
TREND_WEEKS = 9


def month_start_days(week_end: pd.Timestamp, days: int) -> int:
    """How many of days 1..``days`` of a month fall in the 7 days ending on ``week_end``."""
    return int(_counts(pd.DatetimeIndex([week_end]), days)[0])


def _counts(week_ends: pd.DatetimeIndex, days: int) -> np.ndarray:
    """:func:`month_start_days` of every week end at once."""
    each_day = week_ends.to_numpy()[:, None] - np.arange(7) * np.timedelta64(1, "D")
    day_of_month = pd.DatetimeIndex(each_day.ravel()).day.to_numpy().reshape(-1, 7)
    return (day_of_month <= days).sum(axis=1).astype(float)


def _shift(dates: pd.DatetimeIndex | pd.Series, weeks: int) -> pd.DatetimeIndex:
    return pd.DatetimeIndex(dates) - pd.Timedelta(weeks=weeks)


def fit_effect(history: pd.DataFrame, days: int, season: int = 52) -> float:
    """Log-sales change per month-start day (0.0 when the history is too short to tell).

    ``history``: unique_id, ds (week-end dates), y. Series with a zero or negative week are left
    out (no log); the median over series makes one odd store count as little as any other.
    """
    wide = history.pivot_table(index="ds", columns="unique_id", values="y").sort_index()
    wide = wide.loc[:, ~(wide <= 0).any(axis=0)]  # weeks a series lacks (NaN) are skipped, not the series
    if wide.shape[1] == 0 or len(wide) <= season + MIN_WEEKS:
        return 0.0
    logs = np.log(wide)
    yoy = (logs - logs.shift(season)).median(axis=1, skipna=True).dropna()
    residual = yoy - yoy.rolling(TREND_WEEKS, center=True, min_periods=3).median()
    change = _counts(pd.DatetimeIndex(residual.index), days) - _counts(_shift(residual.index, season), days)
    if len(residual) < MIN_WEEKS or not np.any(change):
        return 0.0
    return float(np.dot(change, residual.to_numpy()) / np.dot(change, change))


def factors(dates: pd.Series, first_date: pd.Series, effect: float, days: int, season: int = 52) -> np.ndarray:
    """Multipliers for forecasts of the weeks ``dates``: ``exp(effect × (this week's month-start days −
    their mean over the one or two seasons back that the series' history holds))``; ``first_date``
    is each row's series' first week.

    >>> d = pd.Series(pd.to_datetime(["2012-09-07", "2012-09-14"]))
    >>> start = pd.Series(pd.to_datetime(["2010-02-05"] * 2))
    >>> [round(float(f), 4) for f in factors(d, start, 0.02, 5)]  # 5 days now, 3 and 2 back: +2.5 days
    [1.0513, 1.0]
    """
    if effect == 0.0:
        return np.ones(len(dates))
    dates = pd.DatetimeIndex(dates)
    first = pd.DatetimeIndex(first_date)
    back_sum, back_n = np.zeros(len(dates)), np.zeros(len(dates))
    for seasons in (1, 2):
        earlier = _shift(dates, seasons * season)
        held = np.asarray(earlier >= first)
        back_sum += held * _counts(earlier, days)
        back_n += held
    change = np.where(back_n > 0, _counts(dates, days) - back_sum / np.maximum(back_n, 1), 0.0)
    return np.exp(effect * change)

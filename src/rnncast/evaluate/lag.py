"""The lag check: does a forecast merely repeat yesterday's price?

A model trained on prices often learns to output something very close to the
last price it saw. Its errors then look small (prices move little from day to
day) although it knows nothing about tomorrow. Correlating the forecast with
the actual series shifted by -3..+3 days exposes it: such a forecast lines up
best with the previous day's price (lag -1) instead of the day it forecasts.

Example:
    >>> import pandas as pd
    >>> actual = pd.Series([1.0, 3.0, 2.0, 5.0, 4.0, 6.0])
    >>> lag_check(actual, actual.shift(1).bfill())["best_lag"]
    -1
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike

from rnncast.evaluate.alignment import as_1d_arrays
from rnncast.evaluate.conventions import MATERIAL_SKILL_PCT, NAIVE_RTOL, NAIVE_SHARE
from rnncast.exceptions import ShapeError

__all__ = ["lag_check", "lag_correlations", "naive_share"]


def lag_correlations(actual: pd.Series, forecast: pd.Series, max_lag: int = 3) -> dict[int, float]:
    """Pearson correlation of ``forecast_t`` with ``actual_{t+lag}``, ``lag = -max_lag..max_lag``.

    Both series share one date index and are shifted by positions, so lag
    ``-1`` pairs each forecast with the previous row's actual (yesterday's
    price). A forecast that mostly repeats the last price correlates best at
    lag ``-1``; a useful forecast at lag ``0``. A correlation is NaN when fewer
    than 3 pairs overlap or one side is constant.

    Example:
        >>> import pandas as pd
        >>> actual = pd.Series([1.0, 3.0, 2.0, 5.0, 4.0, 6.0])
        >>> yesterday = actual.shift(1).bfill()
        >>> round(lag_correlations(actual, yesterday, max_lag=1)[-1], 6)
        1.0
    """
    a, f = _check_pair_series(actual, forecast)
    n = len(a)
    correlations = {}
    for lag in range(-max_lag, max_lag + 1):
        fs = f[max(0, -lag) : n - max(0, lag)]
        as_ = a[max(0, lag) : n + min(0, lag)]
        correlations[lag] = _pearson(fs, as_)
    return correlations


def lag_check(
    actual: pd.Series,
    forecast: pd.Series,
    skill_pct: float = 0.0,
    *,
    significant: bool = False,
    base: ArrayLike | None = None,
) -> dict:
    """Does the forecast mostly repeat the last price?

    Two signs count. (1) The forecast lines up best with the previous day's
    actual (best lag ``-1``) and its skill is not both significant and
    material (at least :data:`~rnncast.evaluate.conventions.MATERIAL_SKILL_PCT`
    percent). (2) With ``base`` (the last price of each window), at least half
    of the forecasts lie within :data:`~rnncast.evaluate.conventions.NAIVE_RTOL`
    of it: such forecasts *are* the naive forecast, whatever rounding made of
    their skill.

    Args:
        actual: Actual prices (same index as ``forecast``).
        forecast: Forecasts of those prices.
        skill_pct: MAE skill against naive in percent (the claimed metric's skill).
        significant: Whether that skill passed its significance test.
        base: Optional last observed price of every forecast row.

    Returns:
        ``{"best_lag", "correlations", "naive_share", "repeats_last_price"}``;
        ``naive_share`` is NaN without ``base``.

    Example:
        >>> import pandas as pd
        >>> actual = pd.Series([1.0, 3.0, 2.0, 5.0, 4.0, 6.0])
        >>> lag_check(actual, actual.shift(1).bfill())["repeats_last_price"]
        True
    """
    correlations = lag_correlations(actual, forecast)
    finite = [lag for lag, value in correlations.items() if np.isfinite(value)]
    best = min(finite, key=lambda lag: (-correlations[lag], abs(lag))) if finite else None
    share = float("nan") if base is None else naive_share(forecast, base)
    won = significant and skill_pct >= MATERIAL_SKILL_PCT
    repeats = (best == -1 and not won) or share >= NAIVE_SHARE
    return {
        "best_lag": best,
        "correlations": correlations,
        "naive_share": share,
        "repeats_last_price": bool(repeats),
    }


def naive_share(forecast: ArrayLike, base: ArrayLike) -> float:
    """Share of forecasts within ``NAIVE_RTOL`` (relative) of the last price: naive in disguise.

    Example:
        >>> naive_share([100.0000001, 101.0], [100.0, 100.0])
        0.5
    """
    f, b = as_1d_arrays(forecast=forecast, base=base)
    return float(np.mean(np.abs(f - b) <= NAIVE_RTOL * np.abs(b)))


def _check_pair_series(actual: pd.Series, forecast: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    if (
        isinstance(actual, pd.Series)
        and isinstance(forecast, pd.Series)
        and not (actual.index.equals(forecast.index))
    ):
        raise ShapeError("actual and forecast must share the same index for the lag check.")
    return as_1d_arrays(actual=actual, forecast=forecast)


def _pearson(x: np.ndarray, y: np.ndarray) -> float:
    if len(x) < 3 or x.std() == 0 or y.std() == 0:  # two points always correlate +-1
        return float("nan")
    return float(np.corrcoef(x, y)[0, 1])

"""Point metrics and skill against the naive forecast (tomorrow = today).

Every function takes plain arrays of prices and returns a float, so they work
on any forecast, not only rnncast's.

Example:
    >>> mase([10.0, 12.0], [11.0, 12.0], scale=2.0)
    0.25
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike

from rnncast.evaluate.alignment import as_1d, as_1d_arrays
from rnncast.exceptions import DataError, ShapeError

__all__ = [
    "mae",
    "mae_skill_pct",
    "mape",
    "mase",
    "naive_scale",
    "rmse",
    "skill_vs_naive_pct",
    "smape",
    "theils_u",
]


# ------------------------------------------------------------------ checks
def _ratio(numerator: float, denominator: float) -> float:
    if denominator == 0:
        return float("nan") if numerator == 0 else float("inf")
    return float(numerator / denominator)


# ----------------------------------------------------------------- metrics
def rmse(actual: ArrayLike, forecast: ArrayLike) -> float:
    """Root mean squared error.

    Example:
        >>> rmse([1.0, 2.0], [1.0, 4.0])
        1.4142135623730951
    """
    a, f = as_1d_arrays(actual=actual, forecast=forecast)
    return float(np.sqrt(np.mean((a - f) ** 2)))


def mae(actual: ArrayLike, forecast: ArrayLike) -> float:
    """Mean absolute error.

    Example:
        >>> mae([1.0, 2.0], [1.0, 4.0])
        1.0
    """
    a, f = as_1d_arrays(actual=actual, forecast=forecast)
    return float(np.mean(np.abs(a - f)))


def mape(actual: ArrayLike, forecast: ArrayLike) -> float:
    """Mean absolute percentage error in percent: ``100 * mean(|a - f| / |a|)``.

    Raises:
        DataError: If an actual value is 0 (the percentage is undefined).

    Example:
        >>> mape([10.0, 20.0], [11.0, 18.0])
        10.0
    """
    a, f = as_1d_arrays(actual=actual, forecast=forecast)
    if (a == 0).any():
        raise DataError("MAPE is undefined: actual contains 0; use MAE or sMAPE instead.")
    return float(100 * np.mean(np.abs(a - f) / np.abs(a)))


def smape(actual: ArrayLike, forecast: ArrayLike) -> float:
    """Symmetric MAPE in percent: ``100 * mean(2|f - a| / (|a| + |f|))`` (0 when both are 0).

    Example:
        >>> round(smape([10.0, 20.0], [10.0, 30.0]), 6)
        20.0
    """
    a, f = as_1d_arrays(actual=actual, forecast=forecast)
    denominator = np.abs(a) + np.abs(f)
    terms = np.divide(2 * np.abs(f - a), denominator, out=np.zeros_like(a), where=denominator > 0)
    return float(100 * np.mean(terms))


def naive_scale(train_prices: ArrayLike) -> float:
    """MASE scale: mean absolute one-step change of the training prices (in-sample naive MAE).

    Example:
        >>> naive_scale([10.0, 11.0, 13.0, 12.0])
        1.3333333333333333
    """
    prices = as_1d(train_prices, "train_prices")
    if len(prices) < 2:
        raise ShapeError("train_prices needs at least 2 values to compute one-step changes.")
    return float(np.mean(np.abs(np.diff(prices))))


def mase(actual: ArrayLike, forecast: ArrayLike, scale: float) -> float:
    """Mean absolute scaled error: ``mae(actual, forecast) / scale``.

    Args:
        actual: Actual prices.
        forecast: Forecast prices.
        scale: :func:`naive_scale` of the training prices (the same scale is
            used for every step, as Hyndman & Koehler recommend).

    Raises:
        DataError: If ``scale`` is not positive and finite (constant training prices).

    Example:
        >>> mase([10.0, 12.0], [11.0, 12.0], scale=2.0)
        0.25
    """
    if not np.isfinite(scale) or scale <= 0:
        raise DataError(
            f"MASE scale must be positive and finite, got {scale!r}; the training "
            "prices never change, so the in-sample naive MAE is 0."
        )
    return mae(actual, forecast) / float(scale)


def theils_u(actual: ArrayLike, forecast: ArrayLike, naive_forecast: ArrayLike) -> float:
    """Theil's U2: ``rmse(forecast) / rmse(naive_forecast)`` on the same targets (< 1 beats naive).

    Example:
        >>> round(theils_u([10.0, 12.0], [10.0, 11.0], [11.0, 10.0]), 6)   # sqrt(1/5)
        0.447214
    """
    a, f, n = as_1d_arrays(actual=actual, forecast=forecast, naive_forecast=naive_forecast)
    return _ratio(np.sqrt(np.mean((a - f) ** 2)), np.sqrt(np.mean((a - n) ** 2)))


def skill_vs_naive_pct(actual: ArrayLike, forecast: ArrayLike, naive_forecast: ArrayLike) -> float:
    """MSE skill score in percent: ``100 * (1 - MSE_model / MSE_naive)``.

    The MSE skill score (Murphy 1988) is the usual forecast-verification skill:
    0 means no better than naive, 100 a perfect forecast, negative worse than
    naive. It equals ``100 * (1 - theils_u**2)``.

    Example:
        >>> skill_vs_naive_pct([10.0, 12.0], [10.0, 11.0], [11.0, 10.0])
        80.0
    """
    a, f, n = as_1d_arrays(actual=actual, forecast=forecast, naive_forecast=naive_forecast)
    return 100 * (1 - _ratio(np.mean((a - f) ** 2), np.mean((a - n) ** 2)))


def mae_skill_pct(actual: ArrayLike, forecast: ArrayLike, naive_forecast: ArrayLike) -> float:
    """MAE skill score in percent: ``100 * (1 - MAE_model / MAE_naive)``.

    The skill on the loss MASE is about (absolute error): a lower MASE than
    naive means a positive MAE skill, and the verdict quotes this number next
    to its MASE claim.

    Example:
        >>> mae_skill_pct([10.0, 12.0], [10.0, 11.0], [11.0, 10.0])
        66.66666666666667
    """
    a, f, n = as_1d_arrays(actual=actual, forecast=forecast, naive_forecast=naive_forecast)
    return 100 * (1 - _ratio(np.mean(np.abs(a - f)), np.mean(np.abs(a - n))))

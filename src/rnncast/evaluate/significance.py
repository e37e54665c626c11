"""Diebold-Mariano: is one forecast's loss significantly lower than another's?

The verdict tests the loss of the metric it claims: a claim about MASE or MAE
uses absolute loss (``power=1``), a claim about RMSE or MSE squared loss
(``power=2``). Reference: Diebold & Mariano (1995), "Comparing predictive
accuracy", JBES 13(3); small-sample correction by Harvey, Leybourne & Newbold
(1997), IJF 13(2).

Example:
    >>> stat, p = diebold_mariano([0.0] * 5, [1, 2, 0, 1, 2], [1.0] * 5, power=1)
    >>> round(stat, 3) > 0   # the forecast has the larger absolute loss
    True
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike

from rnncast._internal.checks import positive_int
from rnncast.evaluate.alignment import as_1d_arrays
from rnncast.exceptions import ConfigError, ShapeError

__all__ = ["diebold_mariano"]


def diebold_mariano(
    actual: ArrayLike,
    forecast: ArrayLike,
    reference: ArrayLike,
    horizon: int = 1,
    power: float = 2,
) -> tuple[float, float]:
    """Diebold-Mariano test of equal accuracy with the Harvey-Leybourne-Newbold correction.

    The loss differential is ``d_t = |a_t - f_t|**power - |a_t - r_t|**power``.
    With ``gamma_j`` the lag-``j`` autocovariance of ``d`` (divided by ``n``),
    ``DM = mean(d) / sqrt((gamma_0 + 2 * sum_{j=1}^{h-1} gamma_j) / n)``, and
    the HLN statistic is ``DM * sqrt((n + 1 - 2h + h(h-1)/n) / n)``, compared
    with Student's t with ``n - 1`` degrees of freedom (two-sided).

    Args:
        actual: Actual prices.
        forecast: Forecasts under test.
        reference: Competing forecasts (e.g. naive).
        horizon: Forecast step ``h``; ``h``-step errors are MA(``h - 1``).
        power: Loss exponent (2: squared error, 1: absolute error).

    Returns:
        ``(statistic, p_value)``; a negative statistic means ``forecast`` has
        the smaller loss. Both are NaN when the variance estimate is not
        positive (e.g. identical forecasts).

    Example:
        >>> stat, p = diebold_mariano([0.0] * 5, [1, 2, 0, 1, 2], [1.0] * 5)
        >>> round(stat, 4), round(p, 4)   # stat = 1 / sqrt(0.7)
        (1.1952, 0.298)
    """
    from scipy.stats import t as student_t

    a, f, r = as_1d_arrays(actual=actual, forecast=forecast, reference=reference)
    n = len(a)
    horizon = positive_int(horizon, "horizon")
    if not n > horizon:
        raise ShapeError(f"the DM test needs more observations than horizon={horizon}, got {n}.")
    if not power > 0:
        raise ConfigError(f"power must be positive, got {power!r}.")
    d = np.abs(a - f) ** power - np.abs(a - r) ** power
    dev = d - d.mean()
    gammas = [float(dev[j:] @ dev[: n - j]) / n for j in range(horizon)]
    variance = (gammas[0] + 2 * sum(gammas[1:])) / n
    if not variance > 0:
        return float("nan"), float("nan")
    correction = np.sqrt((n + 1 - 2 * horizon + horizon * (horizon - 1) / n) / n)
    statistic = float(d.mean() / np.sqrt(variance) * correction)
    return statistic, float(2 * student_t.sf(abs(statistic), n - 1))

"""Is a strategy's Sharpe ratio really different from buy-and-hold's?

The Sharpe ratio of daily returns is ``mean / standard deviation``. Two
strategies traded over the same days give two Sharpe ratios whose difference
is noisy: both are estimated from the same, usually heavy-tailed and serially
dependent, returns, and the two return series are correlated. The classic
Jobson-Korkie/Memmel test assumes independent, normal returns and is then
wrong in both size and power.

Ledoit and Wolf (2008, Section 3.1) write the difference as a smooth function
of four means, ``v = (mu_a, mu_b, gamma_a, gamma_b)`` with ``gamma = E[r^2]``:

``Delta = f(v) = mu_a / sqrt(gamma_a - mu_a^2) - mu_b / sqrt(gamma_b - mu_b^2)``,

and apply the delta method: ``se(Delta) = sqrt(grad f' Psi grad f / T)``, where
``Psi`` is the long-run covariance matrix of
``y_t = (r_at - mu_a, r_bt - mu_b, r_at^2 - gamma_a, r_bt^2 - gamma_b)``. Using
a kernel HAC estimator for ``Psi`` makes the standard error robust to fat tails
and autocorrelation. ``Delta / se`` is compared with the standard normal
(two-sided).

rnncast estimates ``Psi`` with the Bartlett (Newey-West) kernel of
:func:`statsmodels.stats.sandwich_covariance.S_hac_simple`, by default with
``floor(4 (T/100)^(2/9))`` lags, times the small-sample factor ``T / (T - 4)``
that Ledoit and Wolf use. (They prefer a prewhitened quadratic-spectral kernel,
and recommend a studentized block bootstrap in small samples, where HAC
inference can reject too often; with the few thousand days of a backtest the
HAC test keeps its size, see the tests.) The Sharpe ratios are daily, with the
population standard deviation (divide by ``T``); multiply by ``sqrt(252)`` to
annualize: the test does not change.

Reference:
    O. Ledoit and M. Wolf (2008), "Robust performance hypothesis testing with
    the Sharpe ratio", Journal of Empirical Finance 15(5), 850-859.

Example:
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> market = rng.normal(0.0003, 0.01, 2000)
    >>> strategy = 0.5 * market + rng.normal(0.0008, 0.005, 2000)
    >>> test = sharpe_difference_test(strategy, market)
    >>> test.difference > 0, test.p_value < 0.05, test.method
    (True, True, 'ledoit-wolf-hac')
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike

from rnncast.evaluate.alignment import as_1d
from rnncast.exceptions import ConfigError, ShapeError

__all__ = ["SharpeTest", "sharpe_difference_test", "sharpe_ratio"]

MIN_DAYS = 5  # the T / (T - 4) factor needs T > 4


@dataclass(frozen=True)
class SharpeTest:
    """Result of :func:`sharpe_difference_test`.

    Attributes:
        sharpe_a: Daily Sharpe ratio of ``returns_a`` (the strategy).
        sharpe_b: Daily Sharpe ratio of ``returns_b`` (e.g. buy-and-hold).
        difference: ``sharpe_a - sharpe_b``.
        standard_error: HAC delta-method standard error of the difference.
        statistic: ``difference / standard_error``.
        p_value: Two-sided p-value of "equal Sharpe ratios".
        n: Number of days.
        lags: Number of lags in the Bartlett kernel.
        method: ``"ledoit-wolf-hac"``; ``"none"`` when a series has zero
            variance (Sharpe undefined; everything else NaN).
    """

    sharpe_a: float
    sharpe_b: float
    difference: float
    standard_error: float
    statistic: float
    p_value: float
    n: int
    lags: int
    method: str


def sharpe_ratio(returns: ArrayLike) -> float:
    """Daily Sharpe ratio ``mean / std`` (population std; NaN if the returns are constant).

    Example:
        >>> sharpe_ratio([0.01, -0.01, 0.03, 0.01])   # mean 0.01, std sqrt(0.0002)
        0.7071067811865475
    """
    r = as_1d(returns, "returns")
    variance = float(np.mean(r**2) - np.mean(r) ** 2)
    return float(np.mean(r) / math.sqrt(variance)) if variance > 0 else float("nan")


def _gradient(mu: np.ndarray, gamma: np.ndarray) -> np.ndarray:
    """Gradient of ``f(mu_a, mu_b, gamma_a, gamma_b)``, Ledoit and Wolf (2008), Section 3.1."""
    scale = (gamma - mu**2) ** 1.5  # (2,)
    return np.array(
        [gamma[0] / scale[0], -gamma[1] / scale[1], -mu[0] / (2 * scale[0]), mu[1] / (2 * scale[1])]
    )


def _default_lags(n: int) -> int:
    """Newey-West's rule ``floor(4 (T/100)^(2/9))``, as in statsmodels."""
    return int(np.floor(4 * (n / 100.0) ** (2.0 / 9.0)))


def sharpe_difference_test(
    returns_a: ArrayLike, returns_b: ArrayLike, *, lags: int | None = None
) -> SharpeTest:
    """Ledoit-Wolf HAC test of equal Sharpe ratios of two return series over the same days.

    Args:
        returns_a: Daily returns of the strategy, shape ``(T,)``.
        returns_b: Daily returns of the benchmark (buy-and-hold), same days.
        lags: Bartlett-kernel lags of the HAC estimator; ``None`` uses
            ``floor(4 (T/100)^(2/9))``; ``0`` assumes independent days.

    Returns:
        A :class:`SharpeTest`. Identical series give difference 0, statistic
        0 and p-value 1. A constant series gives ``method="none"`` and NaN.

    Raises:
        ShapeError: If the series differ in length or have fewer than 5 days.
        ConfigError: If ``lags`` is negative or not below ``T``.

    Example:
        >>> a = [0.01, -0.01, 0.03, 0.01, 0.02, -0.02]
        >>> sharpe_difference_test(a, a).p_value
        1.0
    """
    a, b = as_1d(returns_a, "returns_a"), as_1d(returns_b, "returns_b")
    n = len(a)
    if len(b) != n or n < MIN_DAYS:
        raise ShapeError(
            f"returns_a and returns_b must cover the same days, at least {MIN_DAYS}; "
            f"got {n} and {len(b)}."
        )
    lags = _default_lags(n) if lags is None else lags
    if isinstance(lags, bool) or not isinstance(lags, int | np.integer) or not 0 <= lags < n:
        raise ConfigError(f"lags must be an integer in [0, {n - 1}], got {lags!r}.")
    sharpe_a, sharpe_b = sharpe_ratio(a), sharpe_ratio(b)
    nan = float("nan")
    if math.isnan(sharpe_a) or math.isnan(sharpe_b):
        return SharpeTest(sharpe_a, sharpe_b, nan, nan, nan, nan, n, int(lags), "none")
    if np.array_equal(a, b):
        return SharpeTest(sharpe_a, sharpe_b, 0.0, 0.0, 0.0, 1.0, n, int(lags), "ledoit-wolf-hac")
    from scipy.stats import norm  # imported on use: scipy and statsmodels are slow to import
    from statsmodels.stats.sandwich_covariance import S_hac_simple

    r = np.column_stack([a, b])  # (T, 2)
    mu, gamma = r.mean(axis=0), (r**2).mean(axis=0)  # (2,) each
    y = np.column_stack([r - mu, r**2 - gamma])  # (T, 4): a, b, a^2, b^2
    psi = S_hac_simple(y, nlags=int(lags)) / (n - 4)  # (4, 4) = T/(T-4) * sum / T
    grad = _gradient(mu, gamma)  # (4,)
    se = math.sqrt(max(float(grad @ psi @ grad), 0.0) / n)
    difference = sharpe_a - sharpe_b
    if not se > 0:
        return SharpeTest(sharpe_a, sharpe_b, difference, se, nan, nan, n, int(lags), "none")
    statistic = difference / se
    p_value = float(2 * norm.sf(abs(statistic)))
    return SharpeTest(
        sharpe_a, sharpe_b, difference, se, statistic, p_value, n, int(lags), "ledoit-wolf-hac"
    )

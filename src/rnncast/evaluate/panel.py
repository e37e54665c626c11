"""Tests across many series at once: a panel Diebold-Mariano test, a pooled direction test, BH.

Stock returns move together (a common market factor), so on a bad day every
ticker's forecast errors are large together. Treating the ``N x T`` ticker-dates
of a universe as independent observations then understates the variance of a
pooled mean by up to a factor ``N`` and "finds" skill that is not there.

The tests here work on a ``(n_dates, n_tickers)`` matrix ``d`` of per-observation
quantities (NaN where a ticker has no forecast on a date). The pooled mean
``D = sum(d) / n_obs`` is tested with a variance built from the *date sums* of
the deviations, ``S_t = sum_i (d_it - D)``:

``V = (gamma_0 + 2 * sum_{j=1}^{h-1} gamma_j) / n_obs**2``, ``gamma_j = sum_t S_t S_{t-j}``.

Summing within a date first makes ``V`` robust to any correlation across
tickers on the same date; the ``h - 1`` lags cover the overlap of ``h``-step
forecasts, as in the single-series test. This is the Driscoll & Kraay (1998)
variance of a regression of ``d`` on a constant (with the truncated uniform
kernel of Diebold-Mariano). On a balanced panel it is *exactly* the
Diebold-Mariano test of the cross-sectional mean ``mean_i d_it``: the
"average loss differential" statistic of Timmermann & Zhu (2019) and the
``S``-statistic of Akgun, Pirotte, Urga & Yang (2024) for equal predictive
accuracy on average over units and time, valid under weak and strong
cross-sectional dependence. As in :func:`~rnncast.evaluate.diebold_mariano`, the
Harvey-Leybourne-Newbold factor with ``T`` = the number of dates is applied and
the statistic is compared with Student's t with ``T - 1`` degrees of freedom.

References:
    J. C. Driscoll and A. C. Kraay (1998), "Consistent covariance matrix
    estimation with spatially dependent panel data", Review of Economics and
    Statistics 80(4), 549-560.
    A. Timmermann and Y. Zhu (2019), "Comparing forecasting performance with
    panel data", working paper, UC San Diego.
    O. Akgun, A. Pirotte, G. Urga and Z. Yang (2024), "Equal predictive
    ability tests based on panel data with applications to OECD and IMF
    forecasts", International Journal of Forecasting 40(1), 202-228.
    Y. Benjamini and Y. Hochberg (1995), "Controlling the false discovery
    rate", Journal of the Royal Statistical Society B 57(1), 289-300.

Example:
    >>> import numpy as np
    >>> actual = np.zeros((4, 2))
    >>> model = np.array([[1.0, 1.0], [2.0, 2.0], [0.0, 0.0], [1.0, 1.0]])
    >>> naive = np.ones((4, 2))
    >>> test = panel_diebold_mariano(actual, model, naive, scale=[1.0, 1.0])
    >>> test.mean_difference, test.n_dates, test.n_obs
    (0.0, 4, 8)
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike

from rnncast._internal.checks import positive_int
from rnncast.exceptions import ConfigError, DataError, ShapeError

__all__ = [
    "PanelTest",
    "benjamini_hochberg",
    "one_sided_dm_p",
    "panel_diebold_mariano",
    "panel_direction_test",
    "panel_mean_test",
]


@dataclass(frozen=True)
class PanelTest:
    """A test of a pooled mean across tickers and dates, robust to cross-sectional correlation.

    Attributes:
        statistic: HLN-corrected t statistic of the pooled mean (NaN when the
            variance is not positive, e.g. identical forecasts).
        p_value: Two-sided p-value (Student's t, ``n_dates - 1`` degrees of freedom).
        p_lower: One-sided p-value of "the mean is below 0" (for a loss
            differential: the first forecast is better).
        mean_difference: The pooled mean ``D`` of the tested quantity.
        n_dates: Dates with at least one observation.
        n_obs: Ticker-dates observed.
        n_tickers: Tickers with at least one observation.
    """

    statistic: float
    p_value: float
    p_lower: float
    mean_difference: float
    n_dates: int
    n_obs: int
    n_tickers: int

    @property
    def p_upper(self) -> float:
        """One-sided p-value of "the mean is above 0"."""
        return math.nan if math.isnan(self.p_lower) else 1.0 - self.p_lower


def panel_mean_test(values: ArrayLike, horizon: int = 1, *, small_sample: bool = True) -> PanelTest:
    """Test that the pooled mean of a ``(n_dates, n_tickers)`` panel is 0, date-clustered.

    See the module docstring for the variance. ``small_sample=False`` leaves
    out the Harvey-Leybourne-Newbold factor (the plain Driscoll-Kraay t
    statistic, as ``statsmodels``' ``cov_type="hac-groupsum"`` without
    correction computes it); the p-values always use Student's t with
    ``n_dates - 1`` degrees of freedom.

    Args:
        values: ``(n_dates, n_tickers)`` floats; NaN marks a missing ticker-date.
        horizon: Forecast step ``h``: ``h - 1`` lags of the date sums enter the variance.
        small_sample: Apply the HLN correction.

    Returns:
        A :class:`PanelTest`.

    Example:
        >>> import numpy as np
        >>> d = np.array([[1.0, 2.0], [-1.0, 0.0], [2.0, np.nan], [0.0, 1.0]])
        >>> test = panel_mean_test(d, small_sample=False)
        >>> round(test.mean_difference, 4), round(test.statistic, 4)   # D / sqrt(sum S_t^2) * 7
        (0.7143, 1.5652)
    """
    d = _panel(values, "values")
    horizon = positive_int(horizon, "horizon")
    observed = ~np.isnan(d)  # (T, N)
    dates = observed.any(axis=1)
    d, observed = d[dates], observed[dates]
    n_dates, n_obs = len(d), int(observed.sum())
    n_tickers = int(observed.any(axis=0).sum())
    nan = float("nan")
    if n_obs == 0:
        return PanelTest(nan, nan, nan, nan, 0, 0, 0)
    mean = float(np.nansum(d) / n_obs)
    if not n_dates > horizon:
        return PanelTest(nan, nan, nan, mean, n_dates, n_obs, n_tickers)
    sums = np.where(observed, d - mean, 0.0).sum(axis=1)  # (T,) date sums S_t
    gammas = [float(sums[j:] @ sums[: n_dates - j]) for j in range(horizon)]
    variance = (gammas[0] + 2 * sum(gammas[1:])) / n_obs**2
    if not variance > 1e-300 or not _varies(d, observed):
        return PanelTest(nan, nan, nan, mean, n_dates, n_obs, n_tickers)
    statistic = mean / math.sqrt(variance)
    if small_sample:
        statistic *= math.sqrt(
            (n_dates + 1 - 2 * horizon + horizon * (horizon - 1) / n_dates) / n_dates
        )
    from scipy.stats import t as student_t  # imported on use: scipy.stats is slow to import

    lower = float(student_t.cdf(statistic, n_dates - 1))
    two_sided = float(2 * student_t.sf(abs(statistic), n_dates - 1))
    return PanelTest(float(statistic), two_sided, lower, mean, n_dates, n_obs, n_tickers)


def panel_diebold_mariano(
    actual: ArrayLike,
    forecast: ArrayLike,
    reference: ArrayLike,
    scale: ArrayLike,
    horizon: int = 1,
    power: float = 1,
) -> PanelTest:
    """Panel Diebold-Mariano test of equal pooled accuracy on scale-free losses.

    The loss differential of ticker ``i`` on date ``t`` is
    ``d_it = (|a_it - f_it|**power - |a_it - r_it|**power) / s_i**power``, with
    ``s_i`` the ticker's MASE scale (the mean absolute daily change of its
    training prices). With ``power=1`` the pooled mean of ``d`` is exactly
    pooled MASE of ``forecast`` minus pooled MASE of ``reference``, so the
    test is about the number it claims, and a ticker priced in thousands
    weighs no more than one priced in cents. The mean is tested with
    :func:`panel_mean_test` (date-clustered, HLN-corrected).

    Args:
        actual: ``(n_dates, n_tickers)`` actual prices; NaN where no forecast.
        forecast: Forecasts under test, same shape (NaN exactly where ``actual`` is).
        reference: Competing forecasts (naive), same shape.
        scale: ``(n_tickers,)`` positive scales.
        horizon: Forecast step ``h``.
        power: Loss exponent (1: absolute, the MASE claim's loss; 2: squared).

    Returns:
        A :class:`PanelTest`; a negative statistic (``p_lower`` small) means
        ``forecast`` has the lower pooled loss.

    Raises:
        ShapeError: Arrays of different shapes, or ``scale`` not one per column.
        DataError: Missing values that differ between the arrays, or a
            scale that is not positive and finite.

    Example:
        >>> import numpy as np
        >>> a = np.array([[10.0, 1000.0], [11.0, 1010.0], [10.0, 990.0]])
        >>> model = a + np.array([[0.5, 5.0], [-0.5, -5.0], [0.5, 5.0]])
        >>> naive = a + np.array([[1.0, 10.0], [-1.0, -10.0], [1.0, 12.0]])
        >>> test = panel_diebold_mariano(a, model, naive, scale=[1.0, 10.0])
        >>> round(test.mean_difference, 4)   # ((-0.5 - 0.5) * 2 + (-0.5 - 0.7)) / 6
        -0.5333
    """
    if not power > 0:
        raise ConfigError(f"power must be positive, got {power!r}.")
    losses = scaled_losses(actual, forecast, reference, scale, power)
    return panel_mean_test(losses[0] - losses[1], horizon)


def scaled_losses(
    actual: ArrayLike, forecast: ArrayLike, reference: ArrayLike, scale: ArrayLike, power: float = 1
) -> tuple[np.ndarray, np.ndarray]:
    """``(|a - f|**p / s**p, |a - r|**p / s**p)``, each ``(n_dates, n_tickers)`` with NaN kept."""
    a, f, r = (
        _panel(v, name)
        for v, name in ((actual, "actual"), (forecast, "forecast"), (reference, "reference"))
    )
    if not a.shape == f.shape == r.shape:
        raise ShapeError(
            f"actual, forecast and reference must have one shape, got {a.shape}, {f.shape} "
            f"and {r.shape}."
        )
    missing = np.isnan(a)
    if not (np.array_equal(missing, np.isnan(f)) and np.array_equal(missing, np.isnan(r))):
        raise DataError(
            "forecast and reference must be NaN exactly where actual is (missing ticker-dates)."
        )
    s = np.asarray(scale, dtype=np.float64)
    if s.shape != (a.shape[1],):
        raise ShapeError(f"scale must hold one value per ticker ({a.shape[1]}), got {s.shape}.")
    if not (np.isfinite(s).all() and (s > 0).all()):
        raise DataError(f"every scale must be positive and finite, got {s.tolist()}.")
    return np.abs(a - f) ** power / s**power, np.abs(a - r) ** power / s**power


def panel_direction_test(called_up: ArrayLike, moved_up: ArrayLike) -> PanelTest:
    """Pooled test that up-calls and up-moves are positively associated, date-clustered.

    The single-series test (Pesaran-Timmermann) asks whether the 2x2 table of
    calls and moves shows association. Pooled over tickers, the same question
    is whether ``z_it = (y_it - ybar_i)(x_it - xbar_i)`` has a positive mean,
    where ``y`` is 1 for an up-call, ``x`` 1 for an up-move and the bars are the
    ticker's own shares (so a ticker's drift or a model that is bullish on
    one stock adds nothing). The PT statistic of one series is asymptotically
    this covariance divided by its standard error; here the mean of ``z`` is
    tested with :func:`panel_mean_test`, because on a day the market falls
    every ticker moves down together, and a model that makes the same call on
    every ticker would otherwise be credited ``N`` times for one guess. A
    ticker whose calls never change side contributes zeros.

    Args:
        called_up: ``(n_dates, n_tickers)``: 1.0 up-call, 0.0 down-call, NaN
            for days not counted (no call, no move, or no forecast).
        moved_up: Same shape: 1.0 up-move, 0.0 down-move, NaN where not counted.

    Returns:
        A :class:`PanelTest`; ``p_upper`` is the one-sided p-value of
        directional skill (NaN when no ticker's calls vary).

    Example:
        >>> import numpy as np
        >>> calls = np.array([[1.0, 0.0], [0.0, 1.0], [1.0, 1.0], [0.0, 0.0]])
        >>> round(panel_direction_test(calls, calls).mean_difference, 3)   # var of a 0/1 half-half
        0.25
    """
    y, x = _panel(called_up, "called_up"), _panel(moved_up, "moved_up")
    if y.shape != x.shape or not np.array_equal(np.isnan(y), np.isnan(x)):
        raise ShapeError("called_up and moved_up must have one shape and the same NaN cells.")
    with np.errstate(invalid="ignore"):
        z = (y - _column_means(y)) * (x - _column_means(x))  # (T, N), NaN kept
    return panel_mean_test(z)


def one_sided_dm_p(statistic: float, n: int) -> float:
    """One-sided p-value of "the model's loss is lower" from a DM statistic on ``n`` days.

    The single-series :func:`~rnncast.evaluate.diebold_mariano` is two-sided;
    its statistic is compared with Student's t with ``n - 1`` degrees of freedom,
    so the one-sided p-value is ``t.cdf(statistic)``. A NaN statistic
    (identical forecasts) is no evidence at all: p = 1.

    Example:
        >>> round(one_sided_dm_p(-2.0, 100), 4), one_sided_dm_p(float("nan"), 100)
        (0.0241, 1.0)
    """
    if not math.isfinite(statistic) or n < 2:
        return 1.0
    from scipy.stats import t as student_t

    return float(student_t.cdf(statistic, n - 1))


def benjamini_hochberg(p_values: ArrayLike) -> np.ndarray:
    """Benjamini-Hochberg adjusted p-values (``scipy.stats.false_discovery_control``).

    Rejecting every hypothesis whose adjusted p-value is below ``q`` controls
    the false discovery rate at ``q`` for independent or positively dependent
    tests (Benjamini & Hochberg 1995; Benjamini & Yekutieli 2001).

    Example:
        >>> benjamini_hochberg([0.01, 0.04, 0.03, 0.5]).round(3).tolist()
        [0.04, 0.053, 0.053, 0.5]
    """
    p = np.asarray(p_values, dtype=np.float64)
    if p.ndim != 1:
        raise ShapeError(f"p_values must be 1-D, got shape {p.shape}.")
    if p.size == 0:
        return p.copy()
    if not (np.isfinite(p).all() and (p >= 0).all() and (p <= 1).all()):
        raise DataError("p_values must be finite and in [0, 1].")
    from scipy.stats import false_discovery_control

    return np.asarray(false_discovery_control(p, method="bh"), dtype=np.float64)


# ----------------------------------------------------------------- helpers
def _panel(values: ArrayLike, name: str) -> np.ndarray:
    try:
        array = np.asarray(values, dtype=np.float64)
    except (TypeError, ValueError) as err:
        raise DataError(f"{name} must be numeric: {err}") from err
    if array.ndim != 2:
        raise ShapeError(f"{name} must be (n_dates, n_tickers), got shape {array.shape}.")
    if np.isinf(array).any():
        raise DataError(f"{name} contains infinite values; mark missing cells with NaN.")
    return array


def _column_means(values: np.ndarray) -> np.ndarray:
    counts = (~np.isnan(values)).sum(axis=0)
    sums = np.nansum(values, axis=0)
    return np.divide(sums, counts, out=np.zeros_like(sums), where=counts > 0)  # (N,)


def _varies(d: np.ndarray, observed: np.ndarray) -> bool:
    """False when every observed value is (numerically) the same: nothing to test."""
    values = d[observed]
    return bool(values.max() - values.min() > 1e-12 * max(1.0, float(np.abs(values).max())))

"""Does the forecast call the direction of the next move better than chance?

A forecast "calls" a day up when it lies above the last observed price (the
*base*) and down when below. Counting hits against 50 % is the wrong yardstick:
on a rising stock, "always up" is right on more than half the days without
knowing anything. The right question is whether the calls and the realised
moves are *associated*: are up-days more frequent after an up-call than after
a down-call? That is a test of independence in the 2x2 table

=============  ===========  =============
               moved up     moved down
=============  ===========  =============
called up      ``n_uu``     ``n_ud``
called down    ``n_du``     ``n_dd``
=============  ===========  =============

Pesaran and Timmermann (1992) compare the hit rate ``P`` with the hit rate
``P* = Py Px + (1 - Py)(1 - Px)`` that calls independent of the moves would
score, where ``Py`` is the share of up-calls and ``Px`` the share of up-moves:

``S = (P - P*) / sqrt(V(P) - V(P*))``, with ``V(P) = P*(1 - P*)/n`` and
``V(P*) = (2Py - 1)^2 Px(1 - Px)/n + (2Px - 1)^2 Py(1 - Py)/n
+ 4 Py Px (1 - Py)(1 - Px)/n^2``.

Under independence ``S`` is asymptotically standard normal; a large positive
``S`` is evidence of directional skill (one-sided test). In small tables (any
expected cell count below 5) the normal approximation is poor and Fisher's
exact test of the same table is used instead (one-sided: odds ratio above 1).
A forecast that never changes its call carries no directional information at
all; the test then reports ``informative=False`` and no p-value.

Reference:
    M. H. Pesaran and A. Timmermann (1992), "A simple nonparametric test of
    predictive performance", Journal of Business & Economic Statistics 10(4),
    461-465.

Example:
    >>> base = [10.0] * 6
    >>> actual = [11.0, 12.0, 9.0, 8.0, 11.0, 9.0]
    >>> forecast = [10.5, 10.2, 9.8, 9.9, 9.7, 10.0]   # last day: no call
    >>> test = direction_test(actual, forecast, base)
    >>> test.hit_rate, test.n, test.n_no_call, test.method
    (0.8, 5, 1, 'fisher-exact')
    >>> round(test.p_value, 3)   # P(n_uu >= 2) = C(3,2) C(2,0) / C(5,2)
    0.3
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike

from rnncast.evaluate.alignment import as_1d
from rnncast.exceptions import ConfigError, ShapeError

__all__ = ["DirectionTest", "direction_test", "pesaran_timmermann"]

MIN_EXPECTED = 5  # below this expected cell count, Fisher's exact test replaces PT


@dataclass(frozen=True)
class DirectionTest:
    """Result of :func:`direction_test`.

    Attributes:
        hit_rate: Share of counted days whose call matched the move.
        base_rate: Share of up-moves among counted days.
        up_call_rate: Share of up-calls among counted days.
        n: Counted days: the price moved and the forecast made a call.
        n_no_call: Days the price moved but the forecast stayed (within
            tolerance) at the base; excluded from the table, reported here.
        statistic: Pesaran-Timmermann ``S``, a descriptive effect size even
            when Fisher's test gives the p-value (NaN when not defined).
        p_value: One-sided p-value of "calls and moves are independent"
            against "positively associated" (NaN when not informative).
        method: ``"pesaran-timmermann"``, ``"fisher-exact"`` or ``"none"``.
        informative: False when the calls (or the moves) never change side,
            so the table holds no directional information.
    """

    hit_rate: float
    base_rate: float
    up_call_rate: float
    n: int
    n_no_call: int
    statistic: float
    p_value: float
    method: str
    informative: bool


def pesaran_timmermann(called_up: ArrayLike, moved_up: ArrayLike) -> tuple[float, float]:
    """Pesaran-Timmermann statistic ``S`` and its one-sided normal p-value.

    Args:
        called_up: Booleans, True where the forecast called an up-move.
        moved_up: Booleans, True where the price moved up.

    Returns:
        ``(S, p_value)`` with ``p_value = 1 - Phi(S)``; both NaN when the
        variance ``V(P) - V(P*)`` is not positive (e.g. one-sided calls).

    Example:
        >>> s, p = pesaran_timmermann([1, 1, 0, 0], [1, 1, 0, 0])   # P=1, P*=0.5
        >>> round(s, 4), round(p, 4)                                 # 0.5 / sqrt(1/16 - 1/64)
        (2.3094, 0.0105)
    """
    y = np.asarray(called_up, dtype=bool)  # (n,)
    x = np.asarray(moved_up, dtype=bool)  # (n,)
    n = len(y)
    p_hat = float(np.mean(y == x))
    py, px = float(y.mean()), float(x.mean())
    p_star = py * px + (1 - py) * (1 - px)
    var_p = p_star * (1 - p_star) / n
    var_p_star = (
        (2 * py - 1) ** 2 * px * (1 - px) / n
        + (2 * px - 1) ** 2 * py * (1 - py) / n
        + 4 * py * px * (1 - py) * (1 - px) / n**2
    )
    variance = var_p - var_p_star
    if not variance > 0:
        return float("nan"), float("nan")
    statistic = (p_hat - p_star) / np.sqrt(variance)
    from scipy.stats import norm  # imported on use: scipy.stats is slow to import

    return float(statistic), float(norm.sf(statistic))


def _table(called_up: np.ndarray, moved_up: np.ndarray) -> np.ndarray:
    """2x2 counts, rows called up/down, columns moved up/down."""
    return np.array(
        [
            [np.sum(called_up & moved_up), np.sum(called_up & ~moved_up)],
            [np.sum(~called_up & moved_up), np.sum(~called_up & ~moved_up)],
        ]
    )


def _counted_days(
    actual: ArrayLike, forecast: ArrayLike, base: ArrayLike, rtol: float
) -> tuple[np.ndarray, np.ndarray, int]:
    """``(called_up, moved_up, n_no_call)`` on the days that moved and got a call."""
    a, f, b = (
        as_1d(v, name) for v, name in ((actual, "actual"), (forecast, "forecast"), (base, "base"))
    )
    if not len(a) == len(f) == len(b):
        raise ShapeError(
            "actual, forecast and base must have the same length, "
            f"got {len(a)}, {len(f)} and {len(b)}."
        )
    if not rtol >= 0:
        raise ConfigError(f"rtol must be a non-negative tolerance, got {rtol!r}.")
    moved = a != b  # (n_all,)
    called = ~np.isclose(f, b, rtol=rtol, atol=0.0)  # (n_all,)
    counted = moved & called
    n_no_call = int((moved & ~called).sum())
    return f[counted] > b[counted], a[counted] > b[counted], n_no_call


def direction_test(
    actual: ArrayLike, forecast: ArrayLike, base: ArrayLike, *, rtol: float = 1e-9
) -> DirectionTest:
    """Test whether forecast directions are positively associated with realised ones.

    Moves are ``actual - base`` and calls ``forecast - base``, with ``base`` the
    last observed price of each window. Days with ``actual == base`` (nothing
    to predict) are dropped. A forecast within ``rtol * |base|`` of the base is
    "no call": such days are dropped from the table and counted in
    ``n_no_call`` (so the naive forecast makes no calls at all). On the
    remaining ``n`` days the Pesaran-Timmermann test is used, or Fisher's exact
    test (one-sided, ``alternative="greater"``) when any expected cell count
    ``row total * column total / n`` is below 5. If every call (or every move)
    is on one side, ``informative`` is False, ``p_value`` NaN and ``method``
    ``"none"``: "no directional information", never a claim.

    Args:
        actual: Realised prices.
        forecast: Forecast prices.
        base: Last observed price of each window.
        rtol: Relative tolerance under which a forecast equals the base.

    Returns:
        A :class:`DirectionTest`.

    Raises:
        ShapeError: If the arrays differ in length or are not 1-D.
        ConfigError: If ``rtol`` is negative.

    Example:
        >>> t = direction_test([11.0, 12.0, 9.0], [10.5, 10.5, 10.5], [10.0] * 3)
        >>> t.informative, t.method, t.up_call_rate, round(t.hit_rate, 3)
        (False, 'none', 1.0, 0.667)
    """
    called_up, moved_up, n_no_call = _counted_days(actual, forecast, base, rtol)
    n = len(called_up)
    nan = float("nan")
    rates = (
        (float(np.mean(called_up == moved_up)), float(moved_up.mean()), float(called_up.mean()))
        if n
        else (nan, nan, nan)
    )
    common = {"n": n, "n_no_call": n_no_call}
    if n == 0 or rates[2] in (0.0, 1.0) or rates[1] in (0.0, 1.0):
        return DirectionTest(
            *rates, **common, statistic=nan, p_value=nan, method="none", informative=False
        )
    table = _table(called_up, moved_up)
    expected = np.outer(table.sum(axis=1), table.sum(axis=0)) / n
    statistic, p_value = pesaran_timmermann(called_up, moved_up)
    method = "pesaran-timmermann"
    if (expected < MIN_EXPECTED).any() or np.isnan(p_value):
        from scipy.stats import fisher_exact

        p_value = float(fisher_exact(table, alternative="greater").pvalue)
        method = "fisher-exact"
    return DirectionTest(
        *rates, **common, statistic=statistic, p_value=p_value, method=method, informative=True
    )

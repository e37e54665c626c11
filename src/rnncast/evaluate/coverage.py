"""Does a prediction interval cover as often as it promises?

A 90 % interval should contain the realised price on about 90 % of the days.
Over ``n`` days with ``k`` hits, a share a little under 90 % can be luck; the
question is whether it is *clearly* below. If the interval really covered with
probability ``nominal`` on independent days, the number of hits would follow
``Binomial(n, nominal)``; the exact one-sided binomial test gives the
probability of ``k`` or fewer hits under that assumption. A small p-value
(below ``alpha = 0.05``) means the interval is clearly below its nominal
coverage. Over-coverage (too wide an interval) is not flagged here: it is
honest, just not sharp.

Hits on consecutive days are often dependent (a volatility burst makes several
misses in a row); the binomial test then overstates the evidence, so read a
borderline p-value with care.

Reference:
    C. J. Clopper and E. S. Pearson (1934), "The use of confidence or fiducial
    limits illustrated in the case of the binomial", Biometrika 26(4), 404-413;
    the exact test is :func:`scipy.stats.binomtest`. P. F. Christoffersen
    (1998), "Evaluating interval forecasts", International Economic Review
    39(4), 841-862, tests the same unconditional coverage.

Example:
    >>> test = coverage_test([True] * 80 + [False] * 20, nominal=0.9)
    >>> test.share, test.n, round(test.p_value, 4), test.below_nominal
    (0.8, 100, 0.002, True)
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike

from rnncast.evaluate.conventions import ALPHA
from rnncast.exceptions import ConfigError, DataError, ShapeError

__all__ = ["CoverageTest", "coverage_test"]


@dataclass(frozen=True)
class CoverageTest:
    """Result of :func:`coverage_test`.

    Attributes:
        share: Share of days whose actual fell inside the interval.
        n: Number of days.
        nominal: Promised coverage, e.g. 0.9.
        p_value: One-sided exact binomial p-value ``P(X <= hits)``,
            ``X ~ Binomial(n, nominal)``.
        below_nominal: True when ``p_value < alpha``: clearly below nominal.
    """

    share: float
    n: int
    nominal: float
    p_value: float
    below_nominal: bool


def coverage_test(inside: ArrayLike, nominal: float, *, alpha: float = ALPHA) -> CoverageTest:
    """Exact binomial test of an interval's hits against its nominal coverage ("less").

    Args:
        inside: Booleans, True where the actual value fell inside the interval.
        nominal: Nominal coverage in (0, 1).
        alpha: Significance level for ``below_nominal``.

    Returns:
        A :class:`CoverageTest`.

    Raises:
        ShapeError: If ``inside`` is empty or not 1-D.
        DataError: If ``inside`` holds values other than True/False (0/1).
        ConfigError: If ``nominal`` or ``alpha`` is outside (0, 1).

    Example:
        >>> coverage_test([True, True, False, True], nominal=0.5).p_value   # P(X <= 3) = 1 - 1/16
        0.9375
    """
    hits = np.asarray(inside)
    if hits.ndim != 1 or hits.size == 0:
        raise ShapeError(f"inside must be a non-empty 1-D array, got shape {hits.shape}.")
    if hits.dtype != bool:
        if not np.isin(hits, (0, 1)).all():
            raise DataError(
                "inside must hold booleans (inside the interval or not), got other values."
            )
        hits = hits.astype(bool)
    for name, value in (("nominal", nominal), ("alpha", alpha)):
        if not 0 < value < 1:
            raise ConfigError(f"{name} must be a probability in (0, 1), got {value!r}.")
    k, n = int(hits.sum()), int(hits.size)
    from scipy.stats import binomtest  # imported on use: scipy.stats costs ~0.7 s

    p_value = float(binomtest(k, n, nominal, alternative="less").pvalue)
    return CoverageTest(k / n, n, float(nominal), p_value, p_value < alpha)

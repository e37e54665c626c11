"""Prediction bands with a coverage guarantee: split and adaptive conformal prediction.

**Split conformal.** Score each calibration row by how wrong the forecast was,
for example ``|log(actual / forecast)|``. If the next row's score is
exchangeable with the ``n`` calibration scores, it falls at or below the
``k = ceil((n + 1) c)``-th smallest calibration score with probability at
least ``c``. So a band of half-width that score covers at least ``c`` of the
time, whatever the model. When ``k > n`` (too few calibration rows for the
requested coverage: fewer than ``ceil(c / (1 - c))``, e.g. 9 rows for 90 %,
19 for 95 %) no finite band keeps the promise and the quantile is infinite:
report "the band is unbounded: at least N calibration rows are needed"
with N from :func:`min_calibration_size`.

**Scale-free scores.** Price errors grow with the price: an absolute error
calibrated while a stock trades at 100 is too narrow when it trades at 200.
:func:`log_scores` measures relative errors on the log scale and
:func:`log_band` turns a quantile ``q`` back into the band
``(forecast e^-q, forecast e^q)``, whose width scales with the price level.

**Adaptive conformal inference (ACI).** Markets change: after a volatility
burst old scores understate new errors. ACI walks forward in time and steers
the miscoverage level it asks for: after each miss ``alpha_t`` drops (wider
bands), after each hit it rises a little (narrower bands), by
``alpha_{t+1} = alpha_t + gamma (alpha - err_t)``. Over any long stretch the
share of misses then stays close to ``alpha``, even under distribution shift.

References:
    V. Vovk, A. Gammerman and G. Shafer (2005), *Algorithmic Learning in a
    Random World*, Springer. A. N. Angelopoulos and S. Bates (2021), "A gentle
    introduction to conformal prediction and distribution-free uncertainty
    quantification", arXiv:2107.07511. I. Gibbs and E. Candès (2021),
    "Adaptive conformal inference under distribution shift", NeurIPS 34.

Example:
    >>> import numpy as np
    >>> forecast = np.array([100.0, 102.0, 101.0, 103.0, 104.0, 102.0, 105.0, 106.0, 104.0])
    >>> actual = forecast * np.exp([0.01, -0.02, 0.005, 0.015, -0.01, 0.0, 0.02, -0.005, 0.01])
    >>> q = conformal_quantile(log_scores(actual, forecast), coverage=0.8)   # 8th of 9
    >>> round(q, 3)
    0.02
    >>> lower, upper = log_band(np.array([200.0]), q)
    >>> round(float(lower[0]), 2), round(float(upper[0]), 2)
    (196.04, 204.04)
"""

from __future__ import annotations

import bisect
import math
import numbers
from collections import deque
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike

from rnncast.evaluate.alignment import as_1d
from rnncast.exceptions import ConfigError, DataError, ShapeError

__all__ = [
    "AdaptiveConformal",
    "adaptive_conformal",
    "conformal_quantile",
    "log_band",
    "log_scores",
    "min_calibration_size",
]

_EPS = 1e-9  # guards ceil() against products like 10 * 0.7 = 7.000000000000001


def check_coverage(coverage: float) -> float:
    """``coverage`` as a float in (0, 1), else a ConfigError naming the value."""
    number = isinstance(coverage, numbers.Real) and not isinstance(coverage, bool)
    if not number or not 0 < coverage < 1:
        raise ConfigError(f"interval coverage must be in (0, 1), e.g. 0.9; got {coverage!r}.")
    return float(coverage)


def min_calibration_size(coverage: float) -> int:
    """Fewest calibration rows for which split conformal gives a finite band: ``ceil(c / (1 - c))``.

    Example:
        >>> min_calibration_size(0.9), min_calibration_size(0.95)
        (9, 19)
    """
    c = check_coverage(coverage)
    return math.ceil(c / (1 - c) - _EPS)


def conformal_quantile(scores: ArrayLike, coverage: float) -> float:
    """Split-conformal quantile: the ``ceil((n + 1) c)``-th smallest of ``n`` scores.

    Args:
        scores: Calibration scores, shape ``(n,)``.
        coverage: Target coverage ``c`` in (0, 1).

    Returns:
        The score threshold, or ``math.inf`` when ``ceil((n + 1) c) > n``,
        i.e. ``n < min_calibration_size(c)``: the band is unbounded.

    Example:
        >>> conformal_quantile([3.0, 1.0, 2.0, 5.0, 4.0], 0.9)   # rank 6 > 5
        inf
        >>> conformal_quantile(np.arange(1.0, 20.0), 0.9)         # rank ceil(20 * 0.9) = 18
        18.0
    """
    s = as_1d(scores, "scores")  # (n,)
    c = check_coverage(coverage)
    rank = math.ceil((len(s) + 1) * c - _EPS)
    if rank > len(s):
        return math.inf
    return float(np.partition(s, rank - 1)[rank - 1])


def _positive(values: ArrayLike, name: str) -> np.ndarray:
    array = as_1d(values, name)
    if not (array > 0).all():
        bad = int(np.flatnonzero(array <= 0)[0])
        raise DataError(
            f"{name} must be positive prices for log scores, got {array[bad]!r} at position {bad}."
        )
    return array


def log_scores(actual: ArrayLike, forecast: ArrayLike) -> np.ndarray:
    """Scale-free conformity scores ``|log(actual / forecast)|``, shape ``(n,)``.

    Example:
        >>> log_scores([110.0, 90.0], [100.0, 100.0]).round(4).tolist()
        [0.0953, 0.1054]
    """
    a, f = _positive(actual, "actual"), _positive(forecast, "forecast")
    if len(a) != len(f):
        raise ShapeError(
            f"actual and forecast must have the same length, got {len(a)} and {len(f)}."
        )
    return np.abs(np.log(a / f))


def log_band(forecast: ArrayLike, q: float) -> tuple[np.ndarray, np.ndarray]:
    """Band ``(forecast * exp(-q), forecast * exp(q))`` for a log-score quantile ``q``.

    An infinite ``q`` gives the unbounded band ``(0, inf)``.

    Example:
        >>> lower, upper = log_band([100.0], math.log(1.1))
        >>> round(float(lower[0]), 4), round(float(upper[0]), 4)
        (90.9091, 110.0)
    """
    f = _positive(forecast, "forecast")
    if math.isnan(q) or q < 0:
        raise ConfigError(f"q must be a non-negative log-score quantile, got {q!r}.")
    return f * math.exp(-q), f * math.exp(q)


@dataclass(frozen=True)
class AdaptiveConformal:
    """Result of :func:`adaptive_conformal`, one entry per walked step.

    Attributes:
        thresholds: Score threshold used at each step, shape ``(T,)``;
            ``inf`` (unbounded band) when ``alpha_t <= 0`` or no score was seen
            yet, ``-inf`` (empty band) when ``alpha_t >= 1``.
        hits: True where the step's score was at or below its threshold.
        alphas: Miscoverage level ``alpha_t`` used at each step.
    """

    thresholds: np.ndarray
    hits: np.ndarray
    alphas: np.ndarray

    @property
    def coverage(self) -> float:
        """Share of steps whose score fell inside the band."""
        return float(np.mean(self.hits))


def _empirical_quantile(history: list[float], level: float) -> float:
    """Gibbs & Candès' ``inf{s : share of history <= s >= level}``; +-inf outside (0, 1)."""
    if level >= 1 or not history:
        return math.inf
    if level <= 0:
        return -math.inf
    return history[max(1, math.ceil(len(history) * level - _EPS)) - 1]


def adaptive_conformal(
    scores: ArrayLike,
    coverage: float,
    *,
    gamma: float = 0.005,
    calibration: ArrayLike | None = None,
    window: int | None = None,
) -> AdaptiveConformal:
    """Walk scores in time order with adaptive conformal inference (Gibbs & Candès 2021).

    At step ``t`` the threshold is the ``1 - alpha_t`` empirical quantile of
    the scores seen so far (``calibration`` first, then each walked score once
    its step is over; only the last ``window`` of them if given). The step is a
    hit when its score is at or below the threshold, ``err_t = 1 - hit``, and
    ``alpha_{t+1} = alpha_t + gamma (alpha - err_t)`` with
    ``alpha = 1 - coverage`` and ``alpha_0 = alpha``. As in the paper,
    ``alpha_t <= 0`` gives an unbounded band and ``alpha_t >= 1`` an empty one.

    Args:
        scores: Scores of the walked steps in time order, shape ``(T,)``.
        coverage: Target long-run coverage ``1 - alpha``.
        gamma: Step size; the paper uses 0.005.
        calibration: Scores seen before the first step (optional).
        window: Keep only the most recent ``window`` scores (optional).

    Returns:
        An :class:`AdaptiveConformal` with per-step thresholds, hits and alphas.

    Example:
        >>> aci = adaptive_conformal([1.0, 2.0, 3.0], 0.5, gamma=0.1, calibration=[1.0, 2.0])
        >>> aci.thresholds.tolist(), aci.hits.tolist(), aci.alphas.round(2).tolist()
        ([1.0, 1.0, 1.0], [True, False, False], [0.5, 0.55, 0.5])
    """
    s = as_1d(scores, "scores")  # (T,)
    alpha = 1 - check_coverage(coverage)
    if not gamma > 0:
        raise ConfigError(f"gamma must be a positive step size (e.g. 0.005), got {gamma!r}.")
    if window is not None and (
        isinstance(window, bool) or not isinstance(window, int) or window < 1
    ):
        raise ConfigError(f"window must be a positive integer or None, got {window!r}.")
    seen = deque(() if calibration is None else as_1d(calibration, "calibration").tolist())
    while window is not None and len(seen) > window:
        seen.popleft()
    history = sorted(seen)
    thresholds, alphas = np.empty(len(s)), np.empty(len(s))  # (T,) each
    alpha_t = alpha
    for t, score in enumerate(s.tolist()):
        alphas[t], thresholds[t] = alpha_t, _empirical_quantile(history, 1 - alpha_t)
        alpha_t += gamma * (alpha - float(score > thresholds[t]))
        bisect.insort(history, score)
        seen.append(score)
        if window is not None and len(seen) > window:
            history.pop(bisect.bisect_left(history, seen.popleft()))
    return AdaptiveConformal(thresholds, s <= thresholds, alphas)

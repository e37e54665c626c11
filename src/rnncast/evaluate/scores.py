"""Honest evaluation: point metrics, skill against the naive forecast, and tests of significance.

Every forecast in rnncast is a frame indexed by the date of step 1 with columns
``step_1 .. step_H``; step ``k`` forecasts the price ``k - 1`` sessions after
the index date. :func:`evaluate_forecasts` aligns each step with its actual
price and reports the model next to the baselines, so a model that merely
repeats yesterday's price is exposed.

Example:
    >>> import pandas as pd
    >>> dates = pd.bdate_range("2024-01-01", periods=5, name="date")
    >>> actual = pd.Series([10.0, 11.0, 13.0, 12.0, 14.0], index=dates)
    >>> rows = dates[1:]
    >>> base = actual.shift(1).loc[rows]            # last observed price per window
    >>> naive = pd.DataFrame({"step_1": base.to_numpy()}, index=rows)
    >>> model = pd.DataFrame({"step_1": [11.0, 12.0, 12.5, 13.5]}, index=rows)
    >>> report = evaluate_forecasts(actual, {"model": model, "naive": naive}, base,
    ...                             train_prices=pd.Series([8.0, 9.0, 11.0, 10.0]))
    >>> report.to_frame().loc["model", ["rmse", "mae"]].round(3).tolist()
    [0.612, 0.5]
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike

from rnncast._internal.checks import positive_int
from rnncast.evaluate.alignment import (
    as_1d,
    base_values,
    check_horizon,
    check_same_index,
    forecast_values,
    interval_coverage,
    targets_by_step,
)
from rnncast.evaluate.report import ALPHA, MODEL, NAIVE, EvaluationReport
from rnncast.exceptions import ConfigError, DataError, ShapeError

__all__ = [
    "ALPHA",
    "EvaluationReport",
    "diebold_mariano",
    "directional_accuracy",
    "evaluate_forecasts",
    "lag_check",
    "lag_correlations",
    "mae",
    "mape",
    "mase",
    "naive_scale",
    "rmse",
    "skill_vs_naive_pct",
    "smape",
    "theils_u",
]


# ------------------------------------------------------------------ checks
def _arrays(**named: ArrayLike) -> list[np.ndarray]:
    """Named 1-D float64 arrays, all of the same length."""
    arrays = [as_1d(values, name) for name, values in named.items()]
    lengths = {name: len(a) for name, a in zip(named, arrays, strict=True)}
    if len(set(lengths.values())) > 1:
        raise ShapeError(f"arrays must have the same length, got {lengths}.")
    return arrays


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
    a, f = _arrays(actual=actual, forecast=forecast)
    return float(np.sqrt(np.mean((a - f) ** 2)))


def mae(actual: ArrayLike, forecast: ArrayLike) -> float:
    """Mean absolute error.

    Example:
        >>> mae([1.0, 2.0], [1.0, 4.0])
        1.0
    """
    a, f = _arrays(actual=actual, forecast=forecast)
    return float(np.mean(np.abs(a - f)))


def mape(actual: ArrayLike, forecast: ArrayLike) -> float:
    """Mean absolute percentage error in percent: ``100 * mean(|a - f| / |a|)``.

    Raises:
        DataError: If an actual value is 0 (the percentage is undefined).

    Example:
        >>> mape([10.0, 20.0], [11.0, 18.0])
        10.0
    """
    a, f = _arrays(actual=actual, forecast=forecast)
    if (a == 0).any():
        raise DataError("MAPE is undefined: actual contains 0; use MAE or sMAPE instead.")
    return float(100 * np.mean(np.abs(a - f) / np.abs(a)))


def smape(actual: ArrayLike, forecast: ArrayLike) -> float:
    """Symmetric MAPE in percent: ``100 * mean(2|f - a| / (|a| + |f|))`` (0 when both are 0).

    Example:
        >>> round(smape([10.0, 20.0], [10.0, 30.0]), 6)
        20.0
    """
    a, f = _arrays(actual=actual, forecast=forecast)
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
    a, f, n = _arrays(actual=actual, forecast=forecast, naive_forecast=naive_forecast)
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
    a, f, n = _arrays(actual=actual, forecast=forecast, naive_forecast=naive_forecast)
    return 100 * (1 - _ratio(np.mean((a - f) ** 2), np.mean((a - n) ** 2)))


def directional_accuracy(
    actual: ArrayLike, forecast: ArrayLike, base: ArrayLike
) -> tuple[float, float, int]:
    """Share of days whose forecast move ``forecast - base`` has the sign of ``actual - base``.

    ``base`` is the last observed price of each window. Days with
    ``actual == base`` (no move to predict) are excluded; a flat forecast
    (``forecast == base``) on a counted day is a miss, and if the forecast is
    flat on every counted day (the naive forecast) the accuracy is undefined
    (NaN). The p-value is a one-sided exact binomial test of "better than a
    coin flip": ``P(X >= hits)`` for ``X ~ Binomial(n, 0.5)``.

    Returns:
        ``(accuracy in [0, 1], p_value, n counted days)``; NaN accuracy and
        p-value when no day counts.

    Example:
        >>> directional_accuracy([11.0, 9.0, 10.0, 12.0], [10.5, 9.5, 11.0, 9.0],
        ...                      [10.0, 10.0, 10.0, 10.0])
        (0.6666666666666666, 0.5, 3)
    """
    from scipy.stats import binomtest

    a, f, b = _arrays(actual=actual, forecast=forecast, base=base)
    counted = a != b
    n = int(counted.sum())
    called = np.sign(f[counted] - b[counted])
    if n == 0 or not called.any():
        return float("nan"), float("nan"), n
    hits = int((called == np.sign(a[counted] - b[counted])).sum())
    return hits / n, float(binomtest(hits, n, 0.5, alternative="greater").pvalue), n


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

    a, f, r = _arrays(actual=actual, forecast=forecast, reference=reference)
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


# --------------------------------------------------------------- lag check
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


def lag_check(actual: pd.Series, forecast: pd.Series, skill_pct: float) -> dict:
    """Does the forecast line up best with yesterday's price while having no skill?

    Args:
        actual: Actual prices (same index as ``forecast``).
        forecast: Forecasts of those prices.
        skill_pct: :func:`skill_vs_naive_pct` of the forecast.

    Returns:
        ``{"best_lag", "correlations", "repeats_last_price"}``; the flag is
        true when the best lag is ``-1`` and ``skill_pct <= 0``.

    Example:
        >>> import pandas as pd
        >>> actual = pd.Series([1.0, 3.0, 2.0, 5.0, 4.0, 6.0])
        >>> lag_check(actual, actual.shift(1).bfill(), skill_pct=0.0)["repeats_last_price"]
        True
    """
    correlations = lag_correlations(actual, forecast)
    finite = [lag for lag, value in correlations.items() if np.isfinite(value)]
    best = min(finite, key=lambda lag: (-correlations[lag], abs(lag))) if finite else None
    return {
        "best_lag": best,
        "correlations": correlations,
        "repeats_last_price": bool(best == -1 and skill_pct <= 0),
    }


def _check_pair_series(actual: pd.Series, forecast: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    if (
        isinstance(actual, pd.Series)
        and isinstance(forecast, pd.Series)
        and not (actual.index.equals(forecast.index))
    ):
        raise ShapeError("actual and forecast must share the same index for the lag check.")
    return _arrays(actual=actual, forecast=forecast)


def _pearson(x: np.ndarray, y: np.ndarray) -> float:
    if len(x) < 3 or x.std() == 0 or y.std() == 0:  # two points always correlate +-1
        return float("nan")
    return float(np.corrcoef(x, y)[0, 1])


# -------------------------------------------------------------- evaluation
def evaluate_forecasts(
    actual: pd.Series,
    forecasts: Mapping[str, pd.DataFrame],
    base: pd.Series | ArrayLike,
    train_prices: pd.Series | ArrayLike,
    intervals: Mapping[str, Mapping[str, pd.DataFrame]] | None = None,
) -> EvaluationReport:
    """Score the model and the baselines on the same targets, step by step.

    Args:
        actual: Actual prices of the evaluated part, indexed by date.
        forecasts: Name (``"model"``, ``"naive"``, ``"drift"``, ...) to
            forecast frame (index = date of step 1, columns ``step_1 ..
            step_H``). ``"naive"`` is required: skill scores, Theil's U and the
            DM tests compare against it.
        base: Last observed price of each forecast row (same index).
        train_prices: Training prices, for the MASE scale.
        intervals: Optional ``{name: {"lower": frame, "upper": frame}}`` in
            the same format; the report gives their empirical coverage.

    Returns:
        An :class:`EvaluationReport`.

    Raises:
        DataError: ``"naive"`` missing, dates not in ``actual``, targets
            beyond its end, NaN values.
        ShapeError: Forecast frames with different indexes or columns.
    """
    if NAIVE not in forecasts:
        raise DataError(
            f"forecasts has no {NAIVE!r} entry (keys: {list(forecasts)}); the naive "
            "forecast is required for skill scores, Theil's U and DM tests."
        )
    frames = {name: forecast_values(name, frame) for name, frame in forecasts.items()}
    index = forecasts[NAIVE].index
    horizon = frames[NAIVE].shape[1]
    for name, frame in forecasts.items():
        check_same_index(NAIVE, index, name, frame.index)
        check_horizon(name, frames[name].shape[1], horizon)
    targets = targets_by_step(actual, index, horizon)
    bases = base_values(base, index)
    scale = naive_scale(train_prices)
    rows = [
        _metrics(
            name, k, targets[:, k - 1], values[:, k - 1], frames[NAIVE][:, k - 1], bases, scale
        )
        for name, values in frames.items()
        for k in range(1, horizon + 1)
    ]
    lag = None
    if MODEL in frames:
        skill = next(r["skill_vs_naive_pct"] for r in rows if r["model"] == MODEL)
        lag = lag_check(
            pd.Series(targets[:, 0], index=index),
            pd.Series(frames[MODEL][:, 0], index=index),
            skill,
        )
    shares = interval_coverage(intervals or {}, index, horizon, targets)
    return EvaluationReport(
        pd.DataFrame(rows),
        lag,
        shares,
        horizon,
        forecasts=dict(forecasts),
        intervals=dict(intervals or {}),
    )


def _metrics(
    name: str,
    step: int,
    a: np.ndarray,
    f: np.ndarray,
    naive: np.ndarray,
    base: np.ndarray,
    scale: float,
) -> dict:
    accuracy, p_direction, n_direction = directional_accuracy(a, f, base)
    dm_stat, dm_p = (
        (np.nan, np.nan)
        if name == NAIVE or len(a) <= step
        else diebold_mariano(a, f, naive, horizon=step)
    )
    return {
        "model": name,
        "step": step,
        "n": len(a),
        "rmse": rmse(a, f),
        "mae": mae(a, f),
        "mape": mape(a, f),
        "smape": smape(a, f),
        "mase": mase(a, f, scale),
        "theils_u": theils_u(a, f, naive),
        "skill_vs_naive_pct": skill_vs_naive_pct(a, f, naive),
        "directional_accuracy": accuracy,
        "directional_p_value": p_direction,
        "directional_n": n_direction,
        "dm_statistic": dm_stat,
        "dm_p_value": dm_p,
    }

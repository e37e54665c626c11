"""evaluate_forecasts: score the model and the baselines on the same targets, step by step.

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

from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike

from rnncast.evaluate.alignment import (
    base_values,
    check_horizon,
    check_same_index,
    forecast_values,
    interval_hits,
    targets_by_step,
)
from rnncast.evaluate.conventions import ALPHA, MODEL, NAIVE, NAIVE_RTOL
from rnncast.evaluate.coverage import coverage_test
from rnncast.evaluate.direction import direction_test
from rnncast.evaluate.lag import lag_check
from rnncast.evaluate.report import EvaluationReport
from rnncast.evaluate.scores import (
    mae,
    mae_skill_pct,
    mape,
    mase,
    naive_scale,
    rmse,
    skill_vs_naive_pct,
    smape,
    theils_u,
)
from rnncast.evaluate.significance import diebold_mariano
from rnncast.exceptions import ConfigError, DataError

__all__ = ["evaluate_forecasts"]


def evaluate_forecasts(
    actual: pd.Series,
    forecasts: Mapping[str, pd.DataFrame],
    base: pd.Series | ArrayLike,
    train_prices: pd.Series | ArrayLike,
    intervals: Mapping[str, Mapping[str, pd.DataFrame]] | None = None,
    interval_level: float | None = None,
    learned_nothing: bool = False,
    notes: Sequence[str] = (),
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
        interval_level: Nominal coverage of ``intervals`` (e.g. 0.9); when
            given, coverage clearly below it (exact binomial test) is a warning
            in the verdict.
        learned_nothing: The network predicts only the average move (from
            :meth:`rnncast.Forecaster.fit`); the verdict says so.
        notes: Further caveats the verdict must carry.

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
    if interval_level is not None and not 0 < interval_level < 1:
        raise ConfigError(f"interval_level must be in (0, 1), e.g. 0.9; got {interval_level!r}.")
    frames = {name: forecast_values(name, frame) for name, frame in forecasts.items()}
    index = forecasts[NAIVE].index
    horizon = frames[NAIVE].shape[1]
    for name, frame in forecasts.items():
        check_same_index(NAIVE, index, name, frame.index)
        check_horizon(name, frames[name].shape[1], horizon)
    targets = targets_by_step(actual, index, horizon)  # (n, H)
    bases = base_values(base, index)  # (n,)
    scale = naive_scale(train_prices)
    rows = [
        _metrics(
            name, k, targets[:, k - 1], values[:, k - 1], frames[NAIVE][:, k - 1], bases, scale
        )
        for name, values in frames.items()
        for k in range(1, horizon + 1)
    ]
    lag = _lag(rows, frames, targets, bases, index) if MODEL in frames else None
    hits = interval_hits(intervals or {}, index, horizon, targets)
    tests = {}
    if interval_level is not None:
        tests = {name: coverage_test(inside[:, 0], interval_level) for name, inside in hits.items()}
    return EvaluationReport(
        pd.DataFrame(rows),
        lag,
        {name: _shares(inside) for name, inside in hits.items()},
        horizon,
        forecasts=dict(forecasts),
        intervals=dict(intervals or {}),
        interval_level=interval_level,
        coverage_tests=tests,
        learned_nothing=learned_nothing,
        notes=tuple(notes),
    )


def _shares(inside: np.ndarray) -> dict[str, float]:
    """Coverage per step of a bool ``(n, H)`` hit matrix."""
    return {f"step_{k + 1}": float(inside[:, k].mean()) for k in range(inside.shape[1])}


def _lag(rows: list[dict], frames: dict, targets: np.ndarray, bases: np.ndarray, index) -> dict:
    """The lag check of the model's step-1 forecasts."""
    model = next(r for r in rows if r["model"] == MODEL and r["step"] == 1)
    significant = model["dm_p_value"] < ALPHA and model["dm_statistic"] < 0
    return lag_check(
        pd.Series(targets[:, 0], index=index),
        pd.Series(frames[MODEL][:, 0], index=index),
        model["mae_skill_pct"],
        significant=bool(significant),
        base=bases,
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
    """One row of the per-step table: every metric and test of forecast ``name`` at ``step``."""
    direction = direction_test(a, f, base, rtol=NAIVE_RTOL)  # float32 copies of base: no call
    compare = name != NAIVE and len(a) > step
    dm_stat, dm_p = diebold_mariano(a, f, naive, step, power=1) if compare else (np.nan, np.nan)
    sq_stat, sq_p = diebold_mariano(a, f, naive, step, power=2) if compare else (np.nan, np.nan)
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
        "mae_skill_pct": mae_skill_pct(a, f, naive),
        "directional_accuracy": direction.hit_rate,
        "direction_base_rate": direction.base_rate,
        "directional_p_value": direction.p_value,
        "directional_n": direction.n,
        "direction_method": direction.method,
        "direction_informative": direction.informative,
        "dm_statistic": dm_stat,
        "dm_p_value": dm_p,
        "dm_squared_statistic": sq_stat,
        "dm_squared_p_value": sq_p,
    }

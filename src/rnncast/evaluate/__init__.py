"""Judgement: point metrics, skill against naive, significance tests and the verdict.

Example:
    >>> from rnncast.evaluate import mae
    >>> mae([1.0, 2.0], [1.0, 4.0])
    1.0
"""

from rnncast.evaluate.report import EvaluationReport
from rnncast.evaluate.scores import (
    ALPHA,
    diebold_mariano,
    directional_accuracy,
    evaluate_forecasts,
    lag_check,
    lag_correlations,
    mae,
    mape,
    mase,
    naive_scale,
    rmse,
    skill_vs_naive_pct,
    smape,
    theils_u,
)

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

"""Judgement: point metrics, skill against naive, significance tests and the verdict.

The tier knows no model: it judges forecasts given as frames. Modules:
``scores`` (metrics), ``significance`` (Diebold-Mariano), ``direction``
(Pesaran-Timmermann), ``lag`` (does it repeat yesterday's price?),
``coverage`` (do intervals hold their promise?), ``sharpe`` (trading vs
buy-and-hold), ``evaluation`` (:func:`evaluate_forecasts`), ``report`` and
``verdict`` (the one claim every rendering reads); ``universe``
(:func:`evaluate_universe`: many tickers at once), ``panel`` (its
date-clustered panel tests and the Benjamini-Hochberg correction) and
``universe_verdict``.

Example:
    >>> from rnncast.evaluate import mae
    >>> mae([1.0, 2.0], [1.0, 4.0])
    1.0
"""

from rnncast.evaluate.conventions import ALPHA, MATERIAL_SKILL_PCT, MODEL, NAIVE
from rnncast.evaluate.coverage import CoverageTest, coverage_test
from rnncast.evaluate.direction import DirectionTest, direction_test
from rnncast.evaluate.evaluation import evaluate_forecasts
from rnncast.evaluate.lag import lag_check, lag_correlations, naive_share
from rnncast.evaluate.panel import (
    PanelTest,
    benjamini_hochberg,
    panel_diebold_mariano,
    panel_direction_test,
    panel_mean_test,
)
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
from rnncast.evaluate.sharpe import sharpe_difference_test
from rnncast.evaluate.significance import diebold_mariano
from rnncast.evaluate.universe import UniverseReport, evaluate_universe
from rnncast.evaluate.universe_verdict import FDR_LEVEL, PooledDirection, UniverseVerdict
from rnncast.evaluate.verdict import Verdict

__all__ = [
    "ALPHA",
    "FDR_LEVEL",
    "MATERIAL_SKILL_PCT",
    "MODEL",
    "NAIVE",
    "CoverageTest",
    "DirectionTest",
    "EvaluationReport",
    "PanelTest",
    "PooledDirection",
    "UniverseReport",
    "UniverseVerdict",
    "Verdict",
    "benjamini_hochberg",
    "coverage_test",
    "diebold_mariano",
    "direction_test",
    "evaluate_forecasts",
    "evaluate_universe",
    "lag_check",
    "lag_correlations",
    "mae",
    "mae_skill_pct",
    "mape",
    "mase",
    "naive_scale",
    "naive_share",
    "panel_diebold_mariano",
    "panel_direction_test",
    "panel_mean_test",
    "rmse",
    "sharpe_difference_test",
    "skill_vs_naive_pct",
    "smape",
    "theils_u",
]

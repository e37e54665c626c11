"""The :class:`EvaluationReport` returned by :func:`rnncast.evaluate.evaluate_forecasts`."""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field
from typing import Any

import pandas as pd

from rnncast._internal.jsonsafe import json_safe
from rnncast.evaluate.conventions import ALPHA, MODEL, NAIVE
from rnncast.evaluate.verdict import DirectionClaim, Verdict, decide

__all__ = ["ALPHA", "METRIC_COLUMNS", "MODEL", "NAIVE", "EvaluationReport"]

METRIC_COLUMNS = [
    "rmse",
    "mae",
    "mape",
    "smape",
    "mase",
    "theils_u",
    "skill_vs_naive_pct",
    "mae_skill_pct",
    "directional_accuracy",
    "direction_base_rate",
    "directional_p_value",
    "dm_statistic",
    "dm_p_value",
]


@dataclass
class EvaluationReport:
    """Metrics of every forecast, step by step, with the lag check, coverage and the verdict.

    Attributes:
        steps: Long frame, one row per (``model``, ``step``) with ``n``, every
            metric and test (``dm_*`` on absolute loss, the loss of the MASE
            claim; ``dm_squared_*`` on squared loss).
        lag: :func:`~rnncast.evaluate.lag_check` of ``"model"`` at step 1
            (``None`` without a ``"model"`` forecast).
        coverage: ``{name: {"step_k": share of actuals inside the interval}}``.
        horizon: Number of forecast steps.
        forecasts: The forecast frames that were scored, by name.
        intervals: The intervals whose coverage was measured, by name.
        interval_level: Nominal coverage of ``intervals``, when known.
        coverage_tests: Step-1 :func:`~rnncast.evaluate.coverage_test` per interval.
        learned_nothing: The network predicts only the average move.
        notes: Further caveats carried by the verdict.
    """

    steps: pd.DataFrame
    lag: dict | None
    coverage: dict[str, dict[str, float]]
    horizon: int
    forecasts: dict[str, pd.DataFrame] = field(default_factory=dict, repr=False)
    intervals: dict[str, dict[str, pd.DataFrame]] = field(default_factory=dict, repr=False)
    interval_level: float | None = None
    coverage_tests: dict[str, Any] = field(default_factory=dict)
    learned_nothing: bool = False
    notes: tuple[str, ...] = ()

    def to_frame(self) -> pd.DataFrame:
        """Step-1 metrics, one row per forecast (index ``model``).

        ``dm_p_value`` is the p-value behind the verdict's claim (absolute loss).
        """
        first = self.steps[self.steps["step"] == 1].set_index("model")
        return first[METRIC_COLUMNS].rename_axis("model")

    def per_step(self) -> pd.DataFrame:
        """All metrics per forecast and step (columns ``model``, ``step``, ``n``, metrics...)."""
        return self.steps.copy()

    @property
    def verdict(self) -> Verdict:
        """The one :class:`~rnncast.evaluate.verdict.Verdict`; ``str()`` of it is the sentence."""
        table = self.to_frame()
        if MODEL not in table.index:
            return Verdict(outcome="unknown")
        model, naive = table.loc[MODEL], table.loc[NAIVE]
        outcome = decide(
            model["mase"],
            naive["mase"],
            model["mae_skill_pct"],
            model["dm_statistic"],
            model["dm_p_value"],
        )
        lag = self.lag or {}
        return Verdict(
            outcome=outcome,
            model_mase=float(model["mase"]),
            naive_mase=float(naive["mase"]),
            mae_skill_pct=float(model["mae_skill_pct"]),
            dm_statistic=float(model["dm_statistic"]),
            dm_p_value=float(model["dm_p_value"]),
            repeats_last_price=bool(lag.get("repeats_last_price", False)),
            best_lag=lag.get("best_lag"),
            naive_share=float(lag.get("naive_share", math.nan)),
            direction=self._direction(),
            coverage_warnings=self._coverage_warnings(),
            learned_nothing=self.learned_nothing,
            best_baseline=self._best_baseline(table),
            steps_won=self._steps_won(),
            notes=self.notes,
        )

    def _direction(self) -> DirectionClaim:
        row = self.steps[(self.steps["model"] == MODEL) & (self.steps["step"] == 1)].iloc[0]
        return DirectionClaim(
            hit_rate=float(row["directional_accuracy"]),
            base_rate=float(row["direction_base_rate"]),
            p_value=float(row["directional_p_value"]),
            method=str(row["direction_method"]),
            informative=bool(row["direction_informative"]),
            n=int(row["directional_n"]),
        )

    def _coverage_warnings(self) -> tuple[str, ...]:
        warnings = []
        for name, test in self.coverage_tests.items():
            if test.below_nominal:
                who = "the model's" if name == MODEL else f"{name}'s"
                warnings.append(
                    f"{who} {test.nominal:.0%} interval covered only {test.share:.1%} of "
                    f"{test.n} test prices (binomial p={test.p_value:.2g}): it is too narrow"
                )
        return tuple(warnings)

    @staticmethod
    def _best_baseline(table: pd.DataFrame) -> tuple[str, float] | None:
        baselines = table.drop(index=[MODEL, NAIVE])["mase"]
        if len(baselines) and baselines.min() < min(
            table.at[MODEL, "mase"], table.at[NAIVE, "mase"]
        ):
            best = baselines.idxmin()
            return str(best), float(baselines[best])
        return None

    def _steps_won(self) -> tuple[int, int] | None:
        if self.horizon == 1:
            return None
        mase = self.steps.pivot(index="step", columns="model", values="mase")
        return int((mase[MODEL] < mase[NAIVE]).sum()), self.horizon

    def to_dict(self) -> dict:
        """Everything as plain Python (JSON-serialisable; NaN becomes ``None``)."""
        lag = None
        if self.lag is not None:
            lag = {
                "best_lag": self.lag["best_lag"],
                "correlations": {str(k): v for k, v in self.lag["correlations"].items()},
                "naive_share": self.lag.get("naive_share"),
                "repeats_last_price": self.lag["repeats_last_price"],
            }
        verdict = self.verdict
        return json_safe(
            {
                "horizon": self.horizon,
                "n": int(self.steps["n"].iloc[0]),
                "models": self.to_frame().to_dict(orient="index"),
                "per_step": self.steps.to_dict(orient="records"),
                "lag_check": lag,
                "coverage": self.coverage,
                "interval_level": self.interval_level,
                "coverage_tests": {k: asdict(v) for k, v in self.coverage_tests.items()},
                "verdict": verdict.sentence(),
                "verdict_details": verdict.to_dict(),
            }
        )

    def __str__(self) -> str:
        lines = [
            f"Evaluation of {int(self.steps['n'].iloc[0])} forecasts, horizon "
            f"{self.horizon} (step 1):",
            self.to_frame().to_string(float_format=lambda v: f"{v:.4f}"),
        ]
        if self.lag is not None:
            correlations = ", ".join(
                f"{lag:+d}: {value:.3f}" for lag, value in self.lag["correlations"].items()
            )
            lines.append(
                f"lag check (model, step 1): best lag {self.lag['best_lag']}; "
                f"correlations {correlations}"
            )
        for name, steps in self.coverage.items():
            shares = ", ".join(f"{step} {share:.1%}" for step, share in steps.items())
            lines.append(f"interval coverage ({name}): {shares}")
        lines.append(self.verdict.console_line())
        return "\n".join(lines)

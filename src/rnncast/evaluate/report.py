"""The :class:`EvaluationReport` returned by :func:`rnncast.evaluate.evaluate_forecasts`."""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import pandas as pd

from rnncast._internal.jsonsafe import json_safe

ALPHA = 0.05  # significance level of the directional and DM tests
MODEL = "model"
NAIVE = "naive"
METRIC_COLUMNS = [
    "rmse",
    "mae",
    "mape",
    "smape",
    "mase",
    "theils_u",
    "skill_vs_naive_pct",
    "directional_accuracy",
    "directional_p_value",
    "dm_p_value",
]


@dataclass
class EvaluationReport:
    """Metrics of every forecast, step by step, with the lag check, coverage and a verdict.

    Attributes:
        steps: Long frame, one row per (``model``, ``step``) with ``n``, every
            metric, ``directional_n`` and ``dm_statistic``.
        lag: :func:`~rnncast.evaluate.lag_check` of ``"model"`` at step 1
            (``None`` without a ``"model"`` forecast).
        coverage: ``{name: {"step_k": share of actuals inside the interval}}``.
        horizon: Number of forecast steps.
        forecasts: The forecast frames that were scored, by name.
        intervals: The intervals whose coverage was measured, by name.
    """

    steps: pd.DataFrame
    lag: dict | None
    coverage: dict[str, dict[str, float]]
    horizon: int
    forecasts: dict[str, pd.DataFrame] = field(default_factory=dict, repr=False)
    intervals: dict[str, dict[str, pd.DataFrame]] = field(default_factory=dict, repr=False)

    def to_frame(self) -> pd.DataFrame:
        """Step-1 metrics, one row per forecast (index ``model``)."""
        first = self.steps[self.steps["step"] == 1].set_index("model")
        return first[METRIC_COLUMNS].rename_axis("model")

    def per_step(self) -> pd.DataFrame:
        """All metrics per forecast and step (columns ``model``, ``step``, ``n``, metrics...)."""
        return self.steps.copy()

    @property
    def verdict(self) -> str:
        """One honest line: does the model beat naive, does it repeat the last price, direction."""
        table = self.to_frame()
        if MODEL not in table.index:
            best = table["mase"].idxmin()
            return f"no {MODEL!r} forecast; best by MASE: {best} ({table.at[best, 'mase']:.2f})"
        model, naive = table.loc[MODEL], table.loc[NAIVE]
        parts = [_versus_naive(model, naive)]
        if self.lag is not None and self.lag["repeats_last_price"]:
            parts[0] += "; it mostly repeats the last price (best lag -1)"
        elif (
            self.lag is not None
            and self.lag["best_lag"] == -1
            and "significantly" not in (parts[0])
        ):
            parts[0] += "; it lines up best with the last price (best lag -1)"
        baselines = table.drop(index=[MODEL, NAIVE])["mase"]
        if len(baselines) and baselines.min() < min(model["mase"], naive["mase"]):
            best = baselines.idxmin()
            parts.append(f"best baseline: {best} (MASE {baselines[best]:.2f}) beats the model")
        parts.append(_direction(model))
        if self.horizon > 1:
            parts.append(self._steps_won())
        return "; ".join(parts)

    def _steps_won(self) -> str:
        mase = self.steps.pivot(index="step", columns="model", values="mase")
        won = int((mase[MODEL] < mase[NAIVE]).sum())
        return f"beats naive on MASE at {won} of {self.horizon} steps"

    def to_dict(self) -> dict:
        """Everything as plain Python (JSON-serialisable; NaN becomes ``None``)."""
        lag = None
        if self.lag is not None:
            lag = {
                "best_lag": self.lag["best_lag"],
                "correlations": {str(k): v for k, v in self.lag["correlations"].items()},
                "repeats_last_price": self.lag["repeats_last_price"],
            }
        return json_safe(
            {
                "horizon": self.horizon,
                "n": int(self.steps["n"].iloc[0]),
                "models": self.to_frame().to_dict(orient="index"),
                "per_step": self.steps.to_dict(orient="records"),
                "lag_check": lag,
                "coverage": self.coverage,
                "verdict": self.verdict,
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
        lines.append(f"verdict: {self.verdict}")
        return "\n".join(lines)


def _versus_naive(model: pd.Series, naive: pd.Series) -> str:
    numbers = (
        f"{model['mase']:.2f} vs {naive['mase']:.2f}, skill {model['skill_vs_naive_pct']:+.1f}%"
    )
    dm = model["dm_p_value"]
    if math.isfinite(dm):
        numbers += f", DM {_p(dm)}"
    if model["mase"] < naive["mase"]:
        if dm < ALPHA and model["skill_vs_naive_pct"] > 0:
            return f"model beats naive significantly on MASE ({numbers})"
        if math.isfinite(dm) and dm >= ALPHA:
            return (
                f"model is level with naive: slightly lower MASE but no significant "
                f"difference ({numbers})"
            )
        return f"model beats naive on MASE ({numbers})"
    if dm < ALPHA and model["skill_vs_naive_pct"] < 0:
        numbers += ": significantly worse"
    return f"model does not beat naive (MASE {numbers})"


def _direction(model: pd.Series) -> str:
    accuracy, p = model["directional_accuracy"], model["directional_p_value"]
    if not math.isfinite(accuracy):
        return "direction undefined (the model never forecasts a move)"
    meaning = "significant directional skill" if p < ALPHA else "no significant directional skill"
    return f"direction {accuracy:.1%} ({_p(p)}): {meaning}"


def _p(p: float) -> str:
    """``p=0.21``, ``p=0.004`` or ``p<0.001``."""
    return "p<0.001" if p < 0.001 else f"p={p:.3f}" if p < 0.01 else f"p={p:.2f}"

"""evaluate_universe: judge one model on many tickers, ticker by ticker and as a whole.

Every ticker gets exactly the single-series evaluation
(:func:`~rnncast.evaluate.evaluate_forecasts`: metrics, baselines, DM, lag
check, direction, coverage). The universe summary adds, at step 1:

* **pooled MASE** of every forecast: ``sum_{i,t} |a_it - f_it| / s_i / n_obs``
  over all ticker-dates, with ``s_i`` ticker ``i``'s MASE scale (mean absolute
  daily change of its training prices). Scaled errors are what MASE was made
  for (Hyndman & Koehler 2006): a ticker priced at 3,000 weighs no more than
  one priced at 30. **Pooled skill** is ``100 * (1 - pooled MASE model /
  pooled MASE naive)``, the MAE skill of the scaled errors;
* the **panel Diebold-Mariano test** of the pooled scaled loss differential,
  date-clustered (:func:`~rnncast.evaluate.panel.panel_diebold_mariano`): the
  test of exactly the difference of the two pooled MASEs;
* the per-ticker one-sided DM p-values, **Benjamini-Hochberg** adjusted across
  tickers; a ticker *beats naive after FDR correction* when its adjusted p is
  below :data:`~rnncast.evaluate.universe_verdict.FDR_LEVEL` and its MAE skill
  is material;
* the share of tickers the **lag check** flags;
* the **direction** test per ticker (Pesaran-Timmermann) and pooled
  (:func:`~rnncast.evaluate.panel.panel_direction_test`).

Example:
    >>> import numpy as np, pandas as pd
    >>> dates = pd.bdate_range("2024-01-01", periods=40, name="date")
    >>> rng = np.random.default_rng(0)
    >>> actual, forecasts, base, train = {}, {}, {}, {}
    >>> for ticker, level in (("AAA", 10.0), ("BBB", 500.0)):
    ...     prices = pd.Series(level * np.exp(np.cumsum(rng.normal(0, 0.01, 40))), index=dates)
    ...     rows = dates[1:]
    ...     last = prices.shift(1).loc[rows]
    ...     actual[ticker], base[ticker], train[ticker] = prices, last, prices.iloc[:20]
    ...     forecasts[ticker] = {
    ...         "model": pd.DataFrame({"step_1": last.to_numpy() * 1.001}, index=rows),
    ...         "naive": pd.DataFrame({"step_1": last.to_numpy()}, index=rows)}
    >>> report = evaluate_universe(actual, forecasts, base, train)
    >>> sorted(report.tickers), report.verdict.outcome
    (['AAA', 'BBB'], 'level')
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from rnncast._internal.jsonsafe import json_safe
from rnncast.evaluate.alignment import base_values, forecast_values, targets_by_step
from rnncast.evaluate.conventions import ALPHA, MATERIAL_SKILL_PCT, MODEL, NAIVE, NAIVE_RTOL
from rnncast.evaluate.evaluation import evaluate_forecasts
from rnncast.evaluate.panel import (
    PanelTest,
    benjamini_hochberg,
    one_sided_dm_p,
    panel_diebold_mariano,
    panel_direction_test,
    scaled_losses,
)
from rnncast.evaluate.report import EvaluationReport
from rnncast.evaluate.scores import naive_scale
from rnncast.evaluate.universe_verdict import FDR_LEVEL, PooledDirection, UniverseVerdict
from rnncast.evaluate.verdict import decide
from rnncast.exceptions import DataError, RnncastError

__all__ = ["TABLE_COLUMNS", "UniverseReport", "evaluate_universe"]

TABLE_COLUMNS = [
    "mase",
    "naive_mase",
    "skill_pct",
    "dm_statistic",
    "dm_p",
    "dm_p_better",
    "bh_p",
    "beats_naive_after_fdr",
    "outcome",
    "lag_flag",
    "direction_hit_rate",
    "direction_p",
    "n",
]


@dataclass
class UniverseReport:
    """Per-ticker evaluations and the universe summary behind the :class:`UniverseVerdict`.

    Attributes:
        tickers: Ticker to its :class:`~rnncast.evaluate.report.EvaluationReport`.
        table: One row per ticker (see :meth:`to_frame`).
        pooled_mase: Pooled MASE of every forecast (``"model"``, ``"naive"``, baselines).
        panel_dm: The panel Diebold-Mariano test of model against naive.
        direction: The pooled direction claim, or ``None`` without a model.
        fdr_level: FDR level of the per-ticker BH correction.
        learned_nothing: The network predicts only the average move.
        notes: Further caveats the verdict must carry.
        predictions: Ticker to its step-1 frame (index ``date``; ``actual``,
            ``base`` and one column per forecast), what the report plots.
    """

    tickers: dict[str, EvaluationReport]
    table: pd.DataFrame
    pooled_mase: dict[str, float]
    panel_dm: PanelTest | None
    direction: PooledDirection | None
    fdr_level: float = FDR_LEVEL
    learned_nothing: bool = False
    notes: tuple[str, ...] = field(default_factory=tuple)
    predictions: dict[str, pd.DataFrame] = field(default_factory=dict, repr=False)

    def to_frame(self) -> pd.DataFrame:
        """One row per ticker (index ``ticker``), sorted by skill, best first.

        Columns: ``mase`` and ``naive_mase`` (step 1), ``skill_pct`` (MAE skill
        vs naive, %), ``dm_statistic`` and ``dm_p`` (the single-series DM test
        on absolute loss, two-sided), ``dm_p_better`` (one-sided: the model is
        better), ``bh_p`` (``dm_p_better`` Benjamini-Hochberg adjusted across
        tickers), ``beats_naive_after_fdr``, ``outcome`` (the ticker's own
        verdict), ``lag_flag``, ``direction_hit_rate``, ``direction_p``
        (Pesaran-Timmermann, one-sided) and ``n`` (forecasts scored).
        """
        return self.table.copy()

    @property
    def pooled_skill_pct(self) -> float:
        """``100 * (1 - pooled MASE of the model / pooled MASE of naive)``."""
        model, naive = self.pooled_mase.get(MODEL, math.nan), self.pooled_mase[NAIVE]
        return 100 * (1 - model / naive) if naive > 0 else math.nan

    @property
    def n_beats_after_fdr(self) -> int:
        """Tickers where the model beats naive after the BH correction."""
        return int(self.table["beats_naive_after_fdr"].sum()) if MODEL in self.pooled_mase else 0

    @property
    def best_ticker(self) -> str:
        """The ticker with the highest skill (first row of :meth:`to_frame`)."""
        return self.table.index[0]

    @property
    def worst_ticker(self) -> str:
        """The ticker with the lowest skill (last row with a skill, else the last row)."""
        finite = self.table.index[np.isfinite(self.table["skill_pct"].to_numpy(dtype=float))]
        return finite[-1] if len(finite) else self.table.index[-1]

    @property
    def summary(self) -> dict[str, Any]:
        """The universe figures as a flat-ish dict (what the report and metrics.json show)."""
        n = len(self.tickers)
        beats = self.n_beats_after_fdr
        flagged = int(self.table["lag_flag"].sum()) if MODEL in self.pooled_mase else 0
        panel = self.panel_dm
        outcomes = self.table["outcome"].value_counts().to_dict()
        return {
            "n_tickers": n,
            "n_beats_after_fdr": beats,
            "share_beats_after_fdr": beats / n if n else math.nan,
            "fdr_level": self.fdr_level,
            "pooled_mase": self.pooled_mase.get(MODEL, math.nan),
            "naive_pooled_mase": self.pooled_mase[NAIVE],
            "pooled_skill_pct": self.pooled_skill_pct,
            "pooled_mase_by_forecast": dict(self.pooled_mase),
            "panel_dm": None
            if panel is None
            else {
                "statistic": panel.statistic,
                "p_value": panel.p_value,
                "p_better": panel.p_lower,
                "mean_difference": panel.mean_difference,
                "n_dates": panel.n_dates,
                "n_obs": panel.n_obs,
            },
            "n_lag_flagged": flagged,
            "lag_flag_share": flagged / n if n else math.nan,
            "direction": None if self.direction is None else vars(self.direction).copy(),
            "outcomes": {k: int(outcomes.get(k, 0)) for k in ("beats", "level", "worse")},
            "best_ticker": self.best_ticker,
            "worst_ticker": self.worst_ticker,
        }

    @property
    def verdict(self) -> UniverseVerdict:
        """The one :class:`UniverseVerdict`; ``str()`` of it is the sentence."""
        if MODEL not in self.pooled_mase or self.panel_dm is None:
            return UniverseVerdict(outcome="unknown", n_tickers=len(self.tickers))
        panel = self.panel_dm
        model, naive = self.pooled_mase[MODEL], self.pooled_mase[NAIVE]
        skill = self.pooled_skill_pct
        return UniverseVerdict(
            outcome=decide(model, naive, skill, panel.statistic, panel.p_value),
            n_tickers=len(self.tickers),
            n_beats_fdr=self.n_beats_after_fdr,
            pooled_mase=model,
            naive_pooled_mase=naive,
            pooled_skill_pct=skill,
            panel_statistic=panel.statistic,
            panel_p_value=panel.p_value,
            fdr_level=self.fdr_level,
            n_lag_flagged=int(self.table["lag_flag"].sum()),
            direction=self.direction,
            learned_nothing=self.learned_nothing,
            best_baseline=self._best_baseline(),
            notes=self.notes,
        )

    def _best_baseline(self) -> tuple[str, float] | None:
        others = {k: v for k, v in self.pooled_mase.items() if k not in (MODEL, NAIVE)}
        if not others:
            return None
        name = min(others, key=others.__getitem__)
        if others[name] < min(self.pooled_mase[MODEL], self.pooled_mase[NAIVE]):
            return name, float(others[name])
        return None

    def to_dict(self) -> dict:
        """Everything as plain Python (JSON-serialisable; NaN becomes ``None``)."""
        verdict = self.verdict
        table = self.table.reset_index().to_dict(orient="records")
        return json_safe(
            {
                "summary": self.summary,
                "table": table,
                "tickers": {str(t): report.to_dict() for t, report in self.tickers.items()},
                "verdict": verdict.sentence(),
                "verdict_details": verdict.to_dict(),
            }
        )

    def __str__(self) -> str:
        summary = self.summary
        lines = [
            f"Evaluation of {summary['n_tickers']} tickers (step 1), sorted by skill:",
            self.table.to_string(float_format=lambda v: f"{v:.4f}"),
            "pooled MASE: "
            + ", ".join(f"{name} {value:.4f}" for name, value in self.pooled_mase.items()),
        ]
        if self.panel_dm is not None:
            lines.append(
                f"panel DM (model vs naive, scaled absolute loss): statistic "
                f"{self.panel_dm.statistic:.3f}, p {self.panel_dm.p_value:.4f} over "
                f"{self.panel_dm.n_dates} dates"
            )
        lines.append(self.verdict.console_line())
        return "\n".join(lines)


def evaluate_universe(
    actual: Mapping[str, pd.Series],
    forecasts: Mapping[str, Mapping[str, pd.DataFrame]],
    base: Mapping[str, pd.Series],
    train_prices: Mapping[str, pd.Series],
    *,
    intervals: Mapping[str, Any] | None = None,
    interval_level: float | None = None,
    learned_nothing: bool = False,
) -> UniverseReport:
    """Evaluate every ticker as :func:`evaluate_forecasts` does, and the universe as a whole.

    Args:
        actual: Ticker to its actual prices of the test rows (DatetimeIndex).
        forecasts: Ticker to ``{"model": frame, "naive": frame, baselines...}``,
            each what :func:`evaluate_forecasts` takes for one series.
        base: Ticker to the last observed price of every forecast row.
        train_prices: Ticker to its training prices (the MASE scale).
        intervals: Optional ticker to ``{name: {"lower": frame, "upper": frame}}``
            (the ``intervals`` of :func:`evaluate_forecasts`); tickers missing
            from it have none.
        interval_level: Nominal coverage of ``intervals``.
        learned_nothing: The network predicts only the average move.

    Returns:
        A :class:`UniverseReport`.

    Raises:
        DataError: No tickers, tickers missing from one of the mappings, or
            any error of :func:`evaluate_forecasts` (its message names the ticker).
    """
    tickers = _check_tickers(actual, forecasts, base, train_prices)
    intervals = intervals or {}
    reports, panels = {}, []
    for ticker in tickers:
        try:
            reports[ticker] = evaluate_forecasts(
                actual[ticker],
                forecasts[ticker],
                base[ticker],
                train_prices[ticker],
                intervals=intervals.get(ticker),
                interval_level=interval_level if intervals.get(ticker) else None,
                learned_nothing=learned_nothing,
            )
            panels.append(_step_one(actual[ticker], forecasts[ticker], base[ticker]))
        except RnncastError as err:
            raise type(err)(f"ticker {ticker!r}: {err}") from err
    scales = np.array([naive_scale(train_prices[t]) for t in tickers])
    matrices = _align(panels)
    pooled = _pooled_mase(matrices, scales)
    has_model = MODEL in matrices["forecasts"]
    table = _table(reports, has_model)
    return UniverseReport(
        tickers=reports,
        table=table,
        pooled_mase=pooled,
        panel_dm=_panel_dm(matrices, scales) if has_model else None,
        direction=_direction(matrices, table) if has_model else None,
        learned_nothing=learned_nothing,
        predictions={t: _predictions(p) for t, p in zip(tickers, panels, strict=True)},
    )


def _predictions(panel: dict) -> pd.DataFrame:
    columns = {"actual": panel["actual"], "base": panel["base"], **panel["forecasts"]}
    return pd.DataFrame(columns, index=panel["index"])


# ----------------------------------------------------------------- inputs
def _check_tickers(*mappings: Mapping[str, Any]) -> list[str]:
    names = ("actual", "forecasts", "base", "train_prices")
    for name, mapping in zip(names, mappings, strict=True):
        if not isinstance(mapping, Mapping):
            raise DataError(
                f"{name} must map each ticker to its data, got {type(mapping).__name__}."
            )
    tickers = list(mappings[1])
    if not tickers:
        raise DataError("forecasts has no tickers; pass {ticker: {'model': ..., 'naive': ...}}.")
    for name, mapping in zip(names, mappings, strict=True):
        missing = [t for t in tickers if t not in mapping]
        extra = [t for t in mapping if t not in mappings[1]]
        if missing or extra:
            raise DataError(
                f"{name} and forecasts must have the same tickers: missing from {name}: "
                f"{missing}, only in {name}: {extra}."
            )
    return tickers


def _step_one(actual: pd.Series, frames: Mapping[str, pd.DataFrame], base: Any) -> dict:
    """Step-1 arrays of one ticker: ``index``, ``actual``, ``base``, ``forecasts``."""
    index = frames[NAIVE].index
    return {
        "index": index,
        "actual": targets_by_step(actual, index, 1)[:, 0],
        "base": base_values(base, index),
        "forecasts": {name: forecast_values(name, f)[:, 0] for name, f in frames.items()},
    }


def _align(panels: list[dict]) -> dict:
    """``(n_dates, n_tickers)`` matrices on the union of the tickers' dates, NaN elsewhere."""
    dates = panels[0]["index"]
    for panel in panels[1:]:
        dates = dates.union(panel["index"])
    shape = (len(dates), len(panels))

    def matrix(get) -> np.ndarray:
        out = np.full(shape, np.nan)
        for column, panel in enumerate(panels):
            out[dates.get_indexer(panel["index"]), column] = get(panel)
        return out

    names = [n for n in panels[0]["forecasts"] if all(n in p["forecasts"] for p in panels)]
    return {
        "dates": dates,
        "actual": matrix(lambda p: p["actual"]),
        "base": matrix(lambda p: p["base"]),
        "forecasts": {n: matrix(lambda p, n=n: p["forecasts"][n]) for n in names},
    }


# ---------------------------------------------------------------- summary
def _pooled_mase(matrices: dict, scales: np.ndarray) -> dict[str, float]:
    """Mean scaled absolute error over every ticker-date, per forecast."""
    a = matrices["actual"]
    pooled = {}
    for name, values in matrices["forecasts"].items():
        scaled, _ = scaled_losses(a, values, values, scales)
        pooled[name] = float(np.nanmean(scaled))
    return pooled


def _panel_dm(matrices: dict, scales: np.ndarray) -> PanelTest:
    frames = matrices["forecasts"]
    return panel_diebold_mariano(matrices["actual"], frames[MODEL], frames[NAIVE], scales)


def _direction(matrices: dict, table: pd.DataFrame) -> PooledDirection:
    a, b, f = matrices["actual"], matrices["base"], matrices["forecasts"][MODEL]
    with np.errstate(invalid="ignore"):
        moved = a != b
        called = ~np.isclose(f, b, rtol=NAIVE_RTOL, atol=0.0)
        counted = moved & called & ~np.isnan(a)  # (T, N)
        up_call = np.where(counted, (f > b).astype(float), np.nan)
        up_move = np.where(counted, (a > b).astype(float), np.nan)
    test = panel_direction_test(up_call, up_move)
    n = int(counted.sum())
    hits = float(np.mean(up_call[counted] == up_move[counted])) if n else math.nan
    p = table["direction_p"].to_numpy(dtype=float)
    return PooledDirection(
        hit_rate=hits,
        base_rate=float(np.mean(up_move[counted])) if n else math.nan,
        p_value=test.p_upper,
        n=n,
        n_significant=int(np.sum(np.isfinite(p) & (p < ALPHA))),
        n_tickers=len(table),
    )


def _table(reports: Mapping[str, EvaluationReport], has_model: bool) -> pd.DataFrame:
    """The per-ticker table with BH-adjusted p-values, sorted by skill (best first)."""
    rows = {ticker: _row(report, has_model) for ticker, report in reports.items()}
    table = pd.DataFrame.from_dict(rows, orient="index")
    adjusted = benjamini_hochberg(table["dm_p_better"].to_numpy(dtype=float))
    table["bh_p"] = adjusted
    table["beats_naive_after_fdr"] = (
        has_model
        & (adjusted < FDR_LEVEL)
        & (table["skill_pct"].to_numpy(dtype=float) >= MATERIAL_SKILL_PCT)
        & (table["mase"] < table["naive_mase"]).to_numpy()
    )
    table = table[TABLE_COLUMNS].rename_axis("ticker")
    return table.sort_values("skill_pct", ascending=False, na_position="last", kind="stable")


def _row(report: EvaluationReport, has_model: bool) -> dict[str, Any]:
    frame = report.to_frame()
    n = int(report.steps["n"].iloc[0])
    naive = frame.loc[NAIVE]
    if not has_model:
        nan = math.nan
        return {"mase": nan, "naive_mase": naive["mase"], "skill_pct": nan, "dm_statistic": nan,
                "dm_p": nan, "dm_p_better": 1.0, "outcome": "unknown", "lag_flag": False,
                "direction_hit_rate": nan, "direction_p": nan, "n": n}  # fmt: skip
    model = frame.loc[MODEL]
    return {
        "mase": float(model["mase"]),
        "naive_mase": float(naive["mase"]),
        "skill_pct": float(model["mae_skill_pct"]),
        "dm_statistic": float(model["dm_statistic"]),
        "dm_p": float(model["dm_p_value"]),
        "dm_p_better": one_sided_dm_p(float(model["dm_statistic"]), n),
        "outcome": decide(  # the ticker's own verdict, as report.verdict decides it
            model["mase"],
            naive["mase"],
            model["mae_skill_pct"],
            model["dm_statistic"],
            model["dm_p_value"],
        ),
        "lag_flag": bool((report.lag or {}).get("repeats_last_price", False)),
        "direction_hit_rate": float(model["directional_accuracy"]),
        "direction_p": float(model["directional_p_value"]),
        "n": n,
    }

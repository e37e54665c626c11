r"""The universe part of the report: the universe verdict first, then the per-ticker evidence.

Renders only what :func:`rnncast.evaluate.evaluate_universe` produced (a
:class:`~rnncast.evaluate.UniverseReport`): the universe verdict box, a
histogram of per-ticker skill with the naive line at 0, the sorted per-ticker
p-values against the Benjamini-Hochberg line, the per-ticker table sorted by
skill, and the detail of the best and the worst ticker, drawn with the run
report's own sections (metrics, forecast vs actual, lag check, errors). The
page needs no script and no network, like the run report.

Example:
    >>> figure = skill_histogram(pd.DataFrame({"skill_pct": [-1.0, 0.5, 2.0],
    ...                                        "beats_naive_after_fdr": [False, False, True]}))
    >>> plots.png_bytes(figure)[:8] == b"\x89PNG\r\n\x1a\n"
    True
    >>> plots.close(figure)
"""

from __future__ import annotations

import math
import os
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from rnncast.cli import html_report, plots

if TYPE_CHECKING:
    from matplotlib.figure import Figure

    from rnncast.evaluate import UniverseReport

__all__ = [
    "figure_builders",
    "p_value_chart",
    "render_universe_report",
    "render_universe_section",
    "skill_histogram",
    "universe_images",
    "verdict_box",
    "write_universe_report",
]

UNIVERSE_FIGURES = ("universe_skill", "universe_pvalues")
DETAIL_ROLES = ("best", "worst")
TABLE_COLUMNS = {  # UniverseReport.to_frame() column -> the run report's column name
    "mase": "mase",
    "naive_mase": "naive_mase",
    "skill_pct": "mae_skill_pct",
    "dm_p": "dm_p_value",
    "dm_p_better": "dm_p_better",
    "bh_p": "bh_p_value",
    "beats_naive_after_fdr": "beats_after_fdr",
    "outcome": "own_verdict",
    "lag_flag": "lag_check",
    "direction_hit_rate": "directional_accuracy",
    "direction_p": "directional_p_value",
    "n": "n",
}
DETAIL_SECTIONS = ("metrics", "forecast", "lag", "residuals")  # run-report sections per ticker
HEADERS = {
    "beats_after_fdr": "Beats naive after FDR",
    "own_verdict": "Own verdict",
    "lag_check": "Lag check",
    "n": "Days",
}
P_FLOOR = 1e-16  # p-values below this are drawn at it (log axis)


# ----------------------------------------------------------------- figures
def skill_histogram(table: pd.DataFrame, pooled_skill_pct: float | None = None) -> Figure:
    """Histogram of per-ticker MAE skill vs naive (%), the naive line at 0.

    Tickers that beat naive after the FDR correction are stacked in the model
    colour; the pooled skill is a dashed line.

    Args:
        table: :meth:`UniverseReport.to_frame` (``skill_pct``, ``beats_naive_after_fdr``).
        pooled_skill_pct: The universe's pooled skill, drawn when given.
    """
    skill = table["skill_pct"].to_numpy(dtype=float)
    beats = table["beats_naive_after_fdr"].to_numpy(dtype=bool)
    finite = np.isfinite(skill)
    figure, ax = plots._figure()
    values = skill[finite] if finite.any() else np.zeros(1)
    low, high = min(values.min(), -1.0), max(values.max(), 1.0)
    bins = np.linspace(low, high, min(50, max(20, len(values) // 2)) + 1)
    ax.hist(
        [skill[finite & ~beats], skill[finite & beats]],
        bins=bins,
        stacked=True,
        color=[plots.OTHER_COLOR, plots.MODEL_COLOR],
        label=["no win after FDR correction", "beats naive after FDR correction"],
    )
    ax.axvline(0, color=plots.ACTUAL_COLOR, lw=1.5, label="naive (skill 0)")
    if pooled_skill_pct is not None and math.isfinite(pooled_skill_pct):
        ax.axvline(pooled_skill_pct, color=plots.MODEL_COLOR, lw=1.5, ls="--",
                   label=f"pooled skill {pooled_skill_pct:+.1f}%")  # fmt: skip
    ax.set_title(f"MAE skill vs naive per ticker ({int(finite.sum())} tickers)")
    ax.set_xlabel("MAE skill vs naive, % (above 0: lower errors than naive)")
    ax.set_ylabel("Tickers")
    ax.yaxis.get_major_locator().set_params(integer=True)
    ax.legend(frameon=False)
    return figure


def p_value_chart(table: pd.DataFrame, fdr_level: float) -> Figure:
    """Sorted one-sided DM p-values of the tickers against the Benjamini-Hochberg line.

    The BH line is ``q * rank / m``; the tickers up to the last p-value under
    it are the discoveries (those with material skill are marked). A dotted
    line shows the uncorrected level ``q``. Log scale; p-values below 1e-16
    are drawn at 1e-16.

    Args:
        table: :meth:`UniverseReport.to_frame` (``dm_p_better``, ``beats_naive_after_fdr``).
        fdr_level: The FDR level ``q``.
    """
    order = np.argsort(table["dm_p_better"].to_numpy(dtype=float), kind="stable")
    p = np.clip(table["dm_p_better"].to_numpy(dtype=float)[order], P_FLOOR, 1.0)
    beats = table["beats_naive_after_fdr"].to_numpy(dtype=bool)[order]
    m = len(p)
    ranks = np.arange(1, m + 1)
    figure, ax = plots._figure()
    ax.plot(ranks, fdr_level * ranks / m, color="#c62828", lw=1.5,
            label=f"Benjamini-Hochberg line q·rank/m (q = {fdr_level:g})")  # fmt: skip
    ax.axhline(fdr_level, color="#999999", lw=1, ls=":", label=f"uncorrected {fdr_level:g}")
    ax.scatter(ranks[~beats], p[~beats], s=16, color=plots.OTHER_COLOR, edgecolor="#666666",
               lw=0.5, label="ticker", zorder=3)  # fmt: skip
    ax.scatter(ranks[beats], p[beats], s=22, color=plots.MODEL_COLOR,
               label="beats naive after FDR correction", zorder=4)  # fmt: skip
    ax.set_yscale("log")
    ax.set_ylim(min(p.min(), fdr_level / max(m, 1)) / 3, 1.5)
    ax.set_title("One-sided Diebold-Mariano p-values per ticker, sorted")
    ax.set_xlabel("Rank (smallest p-value first)")
    ax.set_ylabel("p-value (model better than naive)")
    ax.xaxis.get_major_locator().set_params(integer=True)
    ax.legend(frameon=False, loc="lower right")
    return figure


def figure_builders(
    report: UniverseReport, *, details: bool = True
) -> dict[str, Callable[[], Figure]]:
    """Figure name -> function making it: the universe figures, then the best and worst ticker's.

    Names: ``universe_skill``, ``universe_pvalues`` and ``best_<figure>`` /
    ``worst_<figure>`` for the run report's per-series figures (``forecast``,
    ``forecast_zoom``, ``lag``, ``residuals``).
    """
    table = report.to_frame()
    builders: dict[str, Callable[[], Figure]] = {
        "universe_skill": lambda: skill_histogram(table, report.pooled_skill_pct),
        "universe_pvalues": lambda: p_value_chart(table, report.fdr_level),
    }
    if details:
        for role, ticker in _detail_tickers(report):
            run = _ticker_run(report, ticker)
            for name, build in html_report._figure_builders(run).items():
                builders[f"{role}_{name}"] = build
    return builders


def universe_images(report: UniverseReport, *, details: bool = True) -> dict[str, bytes]:
    """PNG bytes of :func:`figure_builders`' figures, by name."""
    images = {}
    for name, build in figure_builders(report, details=details).items():
        figure = build()
        try:
            images[name] = plots.png_bytes(figure)
        finally:
            plots.close(figure)
    return images


# ------------------------------------------------------------------- HTML
def render_universe_section(
    report: UniverseReport, images: Mapping[str, bytes] | None = None, *, verdict_box: bool = True
) -> str:
    """The universe section as HTML (the run report places it first, see ``run["universe"]``).

    Args:
        report: The :class:`~rnncast.evaluate.UniverseReport`.
        images: PNG bytes by name (see :func:`universe_images`); absent
            figures are left out.
        verdict_box: Include the universe verdict box (the run report shows
            it in its header instead).

    Returns:
        HTML ``<section>`` elements: ``#sec-universe`` (verdict box
        ``#universe-verdict``), ``#sec-universe-skill`` (figures),
        ``#sec-universe-tickers`` (table ``#universe-tickers``, one row per
        ticker) and ``#sec-universe-best`` / ``#sec-universe-worst``.
    """
    values = _universe_values(report, images or {})
    return html_report._render("universe.html.j2", u=dict(values, verdict_box=verdict_box))


def render_universe_report(
    report: UniverseReport,
    images: Mapping[str, bytes] | None = None,
    name: str = "universe",
    subtitle: str = "",
) -> str:
    """A self-contained page holding only the universe section (same frame as the run report)."""
    return html_report._render(
        "universe_page.html.j2",
        name=name,
        subtitle=subtitle,
        u=dict(_universe_values(report, images or {}), verdict_box=True),
    )


def write_universe_report(
    report: UniverseReport,
    folder: str | os.PathLike[str],
    name: str = "universe",
    filename: str = "universe.html",
    images: Mapping[str, bytes] | None = None,
) -> Path:
    """Make the figures, save them under ``folder/plots`` and write ``folder/<filename>``.

    ``images`` (from :func:`universe_images`) skips making the figures again.

    Example:
        >>> write_universe_report(report, "runs/dow30")  # doctest: +SKIP
        PosixPath('runs/dow30/universe.html')
    """
    folder = Path(folder)
    (folder / "plots").mkdir(parents=True, exist_ok=True)
    images = universe_images(report) if images is None else images
    for key, data in images.items():
        html_report._write_bytes(folder / "plots" / f"{key}.png", data)
    path = folder / filename
    html_report._write_bytes(path, render_universe_report(report, images, name).encode("utf-8"))
    return path


# ----------------------------------------------------------------- values
def _universe_values(report: UniverseReport, images: Mapping[str, bytes]) -> dict[str, Any]:
    uris = {key: html_report._data_uri(data) for key, data in images.items()}
    return {
        **verdict_box(report),
        "n_tickers": len(report.tickers),
        "fdr": f"{report.fdr_level:g}",
        "skill_figure": uris.get("universe_skill", ""),
        "pvalue_figure": uris.get("universe_pvalues", ""),
        "table": _ticker_table(report),
        "details": [
            _detail(report, role, ticker, images) for role, ticker in _detail_tickers(report)
        ],
    }


def verdict_box(report: UniverseReport) -> dict[str, str]:
    """The run report's header box (``outcome``, ``colour``, ``label``, ``text``, ``summary``)."""
    verdict = report.verdict
    colour, label = verdict.badge()
    return {
        "outcome": verdict.outcome,
        "colour": colour,
        "label": label,
        "text": verdict.sentence(),
        "summary": _summary(report),
    }


def _summary(report: UniverseReport) -> str:
    summary = report.summary
    panel = summary["panel_dm"] or {}
    parts = [
        f"pooled MASE {html_report._sig(summary['pooled_mase'])} vs naive "
        f"{html_report._sig(summary['naive_pooled_mase'])}",
        f"pooled skill {html_report._signed(summary['pooled_skill_pct'])} %",
        f"panel DM {html_report._p(_float(panel.get('p_value')))}",
        f"beats naive after FDR: {summary['n_beats_after_fdr']} of {summary['n_tickers']}",
        f"lag check flags {summary['n_lag_flagged']}",
    ]
    return " · ".join(parts)


def _ticker_table(report: UniverseReport) -> dict[str, Any]:
    frame = report.to_frame()[list(TABLE_COLUMNS)].rename(columns=TABLE_COLUMNS)
    frame["beats_after_fdr"] = np.where(frame["beats_after_fdr"], "yes", "no")
    frame["lag_check"] = np.where(frame["lag_check"], "repeats yesterday", "ok")
    return html_report._table(
        frame,
        "universe-tickers",
        headers=HEADERS,
        index_label="Ticker",
        highlight=report.best_ticker,
    )


def _detail_tickers(report: UniverseReport) -> list[tuple[str, str]]:
    best, worst = report.best_ticker, report.worst_ticker
    return [("best", best)] if best == worst else [("best", best), ("worst", worst)]


def _ticker_run(report: UniverseReport, ticker: str) -> dict[str, Any]:
    """The run-report dict of one ticker: metrics, step-1 predictions and the lag check."""
    evaluation = report.tickers[ticker]
    predictions = report.predictions.get(ticker)
    return {
        "metrics": evaluation.to_frame(),
        "predictions": None if predictions is None else predictions.drop(columns="base"),
        "lag": evaluation.lag,
    }


def _detail(
    report: UniverseReport, role: str, ticker: str, images: Mapping[str, bytes]
) -> dict[str, Any]:
    """Verdict box and the run report's per-series sections of the best or worst ticker."""
    verdict = report.tickers[ticker].verdict
    colour, label = verdict.badge()
    prefix = f"{role}_"
    mine = {k.removeprefix(prefix): v for k, v in images.items() if k.startswith(prefix)}
    sections = []
    for section in html_report._sections(_ticker_run(report, ticker), mine):
        if section["kind"] not in DETAIL_SECTIONS:
            continue
        section = dict(section, anchor=f"universe-{role}-{section['kind']}")
        if "table" in section:
            section["table"] = dict(section["table"], id=f"universe-{role}-metrics")
        sections.append(section)
    skill = report.to_frame().loc[ticker, "skill_pct"]
    which = "Best" if role == "best" else "Worst"
    return {
        "role": role,
        "title": f"{which} ticker: {ticker} (MAE skill {html_report._signed(skill)} %)",
        "outcome": verdict.outcome,
        "colour": colour,
        "label": label,
        "text": verdict.sentence(),
        "sections": sections,
    }


def _float(value: Any) -> float:
    return math.nan if value is None else float(value)

"""The run report: one self-contained HTML page with the verdict first, then the evidence.

The page has inline CSS and PNG figures embedded as ``data:`` URLs: no scripts,
no fonts, no external addresses, so it opens from disk without a network. This
module computes the values (formatted numbers, best marks, which sections
exist); the markup is in the Jinja2 templates under ``cli/templates/``
(``report.html.j2``, ``leaderboard.html.j2``), rendered with autoescaping. The
verdict box at the top renders the evaluation's one
:class:`~rnncast.evaluate.verdict.Verdict`: its sentence and its badge (green:
beats naive significantly and materially; amber: no evidence of skill; red:
significantly worse; grey: no model), so box and sentence always agree.

Example:
    >>> import pandas as pd
    >>> table = pd.DataFrame({"mase": [0.93, 1.02]}, index=pd.Index(["gru", "lstm"], name="run"))
    >>> page = render_leaderboard(table, b"", "Runs compared")
    >>> page.startswith("<!DOCTYPE html>") and 'class="num best"' in page
    True
"""

from __future__ import annotations

import base64
import datetime as dt
import functools
import html
import math
import numbers
import os
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

import jinja2
import numpy as np
import pandas as pd
from markupsafe import Markup

from rnncast._internal.files import atomic_file
from rnncast.cli import plots
from rnncast.evaluate.verdict import BADGES, Verdict

if TYPE_CHECKING:
    from matplotlib.figure import Figure

__all__ = [
    "HIGHER_IS_BETTER",
    "LOWER_IS_BETTER",
    "PLOT_NAMES",
    "best_rows",
    "render_leaderboard",
    "render_report",
    "write_report",
]

ZOOM_DAYS = 60
PLOT_NAMES = ("loss", "forecast", "forecast_zoom", "lag", "residuals", "intervals", "equity")
LOWER_IS_BETTER = frozenset({"rmse", "mae", "mape", "smape", "mase", "theils_u"})
HIGHER_IS_BETTER = frozenset({"skill_vs_naive_pct", "mae_skill_pct", "directional_accuracy"})
MINUS = "\u2212"
DASH = "\u2014"

# column -> (header, tooltip)
LABELS: dict[str, tuple[str, str]] = {
    "rmse": ("RMSE", "Root mean squared error, price units"),
    "mae": ("MAE", "Mean absolute error, price units"),
    "mape": ("MAPE %", "Mean absolute percentage error, percent"),
    "smape": ("sMAPE %", "Symmetric mean absolute percentage error, percent"),
    "mase": ("MASE", "MAE divided by the in-sample naive MAE"),
    "theils_u": ("Theil's U", "RMSE relative to the naive forecast on the same days; < 1 beats it"),
    "skill_vs_naive_pct": (
        "Skill vs naive %",
        f"MSE skill score 100·(1 {MINUS} MSE/MSE naive); > 0 beats naive",
    ),
    "mae_skill_pct": (
        "MAE skill %",
        f"100·(1 {MINUS} MAE/MAE naive): the skill on the loss of the MASE claim; > 0 beats naive",
    ),
    "directional_accuracy": ("Direction hit rate", "Share of moves whose direction was right"),
    "direction_base_rate": (
        "Up days",
        "Share of the same days that went up: the hit rate of always saying up",
    ),
    "directional_p_value": (
        "Direction p",
        "Pesaran-Timmermann test of predicted against realised direction (Fisher's exact "
        f"test for small samples); {DASH} when the forecast never changes its call",
    ),
    "dm_statistic": ("DM stat", "Diebold-Mariano statistic on absolute loss; < 0: model better"),
    "dm_p_value": (
        "DM p vs naive",
        "Diebold-Mariano test (HLN) of equal absolute loss with naive: the test of the verdict",
    ),
    # per-ticker columns of the universe table (cli/universe_report.py)
    "naive_mase": ("Naive MASE", "MASE of the naive forecast on the same days"),
    "dm_p_better": ("DM p, one-sided", "Diebold-Mariano p-value of 'the model is better'"),
    "bh_p_value": (
        "BH-adjusted p",
        "One-sided DM p-value, Benjamini-Hochberg adjusted across tickers",
    ),
    "sharpe_p_value": (
        "Sharpe p",
        "Ledoit-Wolf test of equal Sharpe ratios with buy-and-hold (two-sided)",
    ),
    "naive_rmse": ("Naive RMSE", "RMSE of the naive forecast in the same fold"),
    "total_return": ("Total return", "Compounded return over the test period, after costs"),
    "cagr": ("CAGR", "Compound annual growth rate"),
    "volatility": ("Volatility", "Annualised standard deviation of returns"),
    "sharpe": ("Sharpe", "Annualised mean / std of returns (risk-free 0)"),
    "sortino": ("Sortino", "Annualised mean / downside deviation"),
    "max_drawdown": ("Max drawdown", "Largest fall from a previous equity peak"),
    "hit_rate": ("Hit rate", "Share of invested bars with a positive return after costs"),
    "turnover": ("Turnover", "Mean position change per bar"),
    "exposure": ("Exposure", "Share of bars with a position"),
    "n_trades": ("Trades", "Number of position changes"),
}
PERCENT_OF_ONE = frozenset(
    {
        "directional_accuracy",
        "direction_base_rate",
        "total_return",
        "cagr",
        "volatility",
        "max_drawdown",
        "hit_rate",
        "exposure",
    }
)
P_VALUES = frozenset(
    {"directional_p_value", "dm_p_value", "sharpe_p_value", "dm_p_better", "bh_p_value"}
)


# --------------------------------------------------------------- public API
def best_rows(table: pd.DataFrame, column: str) -> set[Any]:
    """Index labels holding the best finite value of a ranked metric column (ties included).

    Lower is better except for ``skill_vs_naive_pct`` and ``directional_accuracy``;
    unranked columns (p-values, unknown names) and columns with fewer than two
    finite values give an empty set.

    Example:
        >>> import pandas as pd
        >>> table = pd.DataFrame({"mase": [1.1, 0.9, 0.9]}, index=["model", "naive", "drift"])
        >>> sorted(best_rows(table, "mase"))
        ['drift', 'naive']
    """
    if column not in LOWER_IS_BETTER | HIGHER_IS_BETTER or column not in table:
        return set()
    values = pd.to_numeric(table[column], errors="coerce").astype(float)
    values = values[np.isfinite(values)]
    if len(values) < 2:
        return set()
    best = values.max() if column in HIGHER_IS_BETTER else values.min()
    return set(values.index[values == best])


def render_report(run: Mapping[str, Any], images: Mapping[str, bytes]) -> str:
    """The run as one self-contained HTML5 page (template ``report.html.j2``).

    Args:
        run: The run dict (``name``, ``created``, ``verdict``, ``metrics``,
            ``history``, ``predictions``, ``intervals``, ``interval_level``,
            ``coverage``, ``lag``, ``forecast``, ``backtest``, ``metadata``,
            ``universe``); optional parts may be missing or None. With a
            ``universe`` (a :class:`~rnncast.evaluate.UniverseReport`) the
            page leads with its verdict and universe section.
        images: PNG bytes by figure name (see :data:`PLOT_NAMES`); figures
            that are absent are left out.

    Returns:
        The page; tables have the ids ``metrics``, ``forecast``, ``folds``
        and ``trading``, and numeric cells carry ``data-value``.

    Example:
        >>> page = render_report({"name": "<demo>", "verdict": "no model"}, {})
        >>> page.startswith("<!DOCTYPE html>"), "Run report: &lt;demo&gt;" in page
        (True, True)
    """
    return _render(
        "report.html.j2",
        name=str(run.get("name") or "run"),
        verdict=_verdict_box(run),
        subtitle=_subtitle(run),
        universe=_universe_html(run, images),
        sections=_sections(run, images),
    )


def write_report(run: Mapping[str, Any], folder: str | os.PathLike[str]) -> Path:
    """Make the figures, save them under ``folder/plots`` and write ``folder/report.html``.

    Figures are saved as ``plots/<name>.png`` (``loss``, ``forecast``,
    ``forecast_zoom``, ``lag``, ``residuals``, ``intervals``, ``equity``) and the
    same bytes are embedded in the page. Missing parts are skipped: no loss
    history, no intervals, no backtest (no ``equity``), 60 sessions or fewer
    (no ``forecast_zoom``). The page is written atomically (temporary file +
    :func:`os.replace`).

    Args:
        run: The run dict (see :func:`render_report`).
        folder: The run folder (created if needed).

    Returns:
        The path of ``report.html``.

    Example:
        >>> write_report(run, "runs/lstm")  # doctest: +SKIP
        PosixPath('runs/lstm/report.html')
    """
    folder = Path(folder)
    (folder / "plots").mkdir(parents=True, exist_ok=True)
    images = {}
    for name, build in _figure_builders(run).items():
        figure = build()
        try:
            images[name] = plots.png_bytes(figure)
        finally:
            plots.close(figure)
        _write_bytes(folder / "plots" / f"{name}.png", images[name])
    path = folder / "report.html"
    _write_bytes(path, render_report(run, images).encode("utf-8"))
    return path


def render_leaderboard(table: pd.DataFrame, image: bytes, title: str) -> str:
    """A comparison page (``rnncast compare``): title, leaderboard figure and table.

    Rendered from the template ``leaderboard.html.j2``.

    Args:
        table: One row per run or model (the index), one column per metric;
            the best value of each ranked metric is marked.
        image: PNG bytes of :func:`rnncast.cli.plots.leaderboard` (empty: no figure).
        title: Page title.

    Returns:
        The page; the table has the id ``leaderboard``.

    Example:
        >>> import pandas as pd
        >>> page = render_leaderboard(pd.DataFrame({"mase": [1.0]}, index=["a"]), b"", "<x>")
        >>> "&lt;x&gt;" in page
        True
    """
    return _render(
        "leaderboard.html.j2",
        title=title,
        figure=_data_uri(image),
        table=_metric_table(table, "leaderboard"),
    )


# ------------------------------------------------------- verdict box (badge)
def _verdict_box(run: Mapping[str, Any]) -> dict[str, str]:
    """Outcome, colour, badge label, sentence and summary of the box, all read from the Verdict.

    ``run["verdict"]`` is the evaluation's :class:`~rnncast.evaluate.verdict.Verdict`;
    anything else (a plain text) gets the grey "unknown" badge.
    """
    if run.get("universe") is not None:  # a UniverseReport: its verdict leads the page
        from rnncast.cli.universe_report import verdict_box

        return verdict_box(run["universe"])
    verdict = run.get("verdict")
    if not isinstance(verdict, Verdict):
        colour, label = BADGES["unknown"]
        text = str(verdict or "no verdict")
        return {"outcome": "unknown", "colour": colour, "label": label, "text": text, "summary": ""}
    colour, label = verdict.badge()
    return {
        "outcome": verdict.outcome,
        "colour": colour,
        "label": label,
        "text": verdict.sentence(),
        "summary": _verdict_summary(verdict) if verdict.outcome != "unknown" else "",
    }


def _verdict_summary(verdict: Verdict) -> str:
    return " · ".join(
        [
            f"MASE {_sig(verdict.model_mase)} vs naive {_sig(verdict.naive_mase)}",
            f"MAE skill vs naive {_signed(verdict.mae_skill_pct)} %",
            f"{verdict.test} {_p(verdict.dm_p_value)}",
        ]
    )


def _subtitle(run: Mapping[str, Any]) -> str:
    metadata = run.get("metadata") or {}
    data = metadata.get("data") or {}
    parts = [f"created {run['created']}"] if run.get("created") else []
    if data:
        span = " to ".join(str(data[k]) for k in ("start", "end") if data.get(k) is not None)
        rows = f", {data['rows']} rows" if data.get("rows") is not None else ""
        parts.append(f"data: {data.get('source', 'unknown')} {span}{rows}".rstrip())
    if metadata.get("rnncast"):
        parts.append(f"rnncast {metadata['rnncast']}")
    return " · ".join(parts)


def _universe_html(run: Mapping[str, Any], images: Mapping[str, bytes]) -> Markup:
    """The universe section (cli/universe_report.py) when the run has a ``universe`` report."""
    if run.get("universe") is None:
        return Markup("")
    from rnncast.cli.universe_report import render_universe_section

    return Markup(render_universe_section(run["universe"], images, verdict_box=False))


# ---------------------------------------------------------------- sections
# A section is a dict: ``kind`` (the macro in sections.html.j2), ``anchor``, ``title``
# and the values that macro shows. Figures are data: URIs ("" when the bytes are empty).
Section = dict[str, Any]


def _sections(run: Mapping[str, Any], images: Mapping[str, bytes]) -> list[Section]:
    """The sections the run has, in page order."""
    uris = {name: _data_uri(data) for name, data in images.items()}
    sections = [
        _metrics_section(run),
        _loss_section(run, uris),
        _figure_section(
            "forecast",
            "Forecast vs actual",
            uris,
            zoom=uris.get("forecast_zoom"),
            zoom_days=ZOOM_DAYS,
        ),
        _lag_section(run, uris),
        _figure_section("residuals", "Forecast errors", uris),
        _interval_section(run, uris),
        _next_sessions_section(run),
        _backtest_section(run, uris),
        _metadata_section(run),
    ]
    return [s for s in sections if s is not None]


def _section(kind: str, title: str, **values: Any) -> Section:
    return {"kind": kind, "anchor": f"sec-{kind}", "title": title, **values}


def _figure_section(
    kind: str, title: str, uris: Mapping[str, str], **values: Any
) -> Section | None:
    if kind not in uris:
        return None
    return _section(kind, title, figure=uris[kind], **values)


def _metrics_section(run: Mapping[str, Any]) -> Section | None:
    metrics = run.get("metrics")
    if not isinstance(metrics, pd.DataFrame) or metrics.empty:
        return None
    return _section("metrics", "Metrics", table=_metric_table(metrics, "metrics"))


def _loss_section(run: Mapping[str, Any], uris: Mapping[str, str]) -> Section | None:
    if "loss" not in uris:
        return None
    history = run.get("history") or {}
    loss = [v for v in history.get("loss") or [] if v is not None]
    val = [v for v in history.get("val_loss") or [] if v is not None and math.isfinite(v)]
    text = f"{len(history.get('loss') or [])} epochs; final training loss {_sig(loss[-1])}"
    if val:
        best = int(np.argmin(val))
        text += f"; best validation loss {_sig(val[best])} at epoch {best + 1}"
    else:
        text += "; no validation loss was recorded"
    return _section("training", "Training", text=text, figure=uris["loss"])


def _lag_section(run: Mapping[str, Any], uris: Mapping[str, str]) -> Section | None:
    lag = run.get("lag")
    if not lag or "lag" not in uris:
        return None
    return _section("lag", "Lag check", text=_lag_text(lag), figure=uris["lag"])


def _lag_text(lag: Mapping[str, Any]) -> str:
    best = lag.get("best_lag")
    correlations = lag.get("correlations") or {}
    numbers = ", ".join(
        f"lag {_lag(int(k))}: {_fixed(_number(v), 4)}"
        for k, v in sorted(correlations.items(), key=lambda kv: int(kv[0]))
        if int(k) in (-1, 0)
    )
    if best is None:
        text = "The lag check is undefined (too few points or a constant forecast)."
    elif lag.get("repeats_last_price"):
        text = (
            f"The forecast lines up best with yesterday's price (lag {MINUS}1) and has no "
            "skill over naive: the model mostly repeats the last price."
        )
    elif best == -1:
        text = (
            f"The forecast lines up best with yesterday's price (lag {MINUS}1), though it has "
            "some skill over naive."
        )
    elif best == 0:
        text = (
            "The forecast lines up best with the same day's price (lag 0), as a useful "
            "forecast should."
        )
    else:
        text = f"The forecast lines up best at lag {_lag(int(best))}."
    return f"{text} Correlations: {numbers}." if numbers else text


def _interval_section(run: Mapping[str, Any], uris: Mapping[str, str]) -> Section | None:
    if "intervals" not in uris:
        return None
    text = _coverage_text(run.get("interval_level"), run.get("coverage"))
    return _section("intervals", "Prediction intervals", text=text, figure=uris["intervals"])


def _coverage_text(level: float | None, coverage: float | None) -> str:
    if level is None or coverage is None or not math.isfinite(coverage):
        return "The band shows the model's prediction interval; red dots fell outside."
    text = (
        f"Nominal {level:.0%} interval: {coverage:.1%} of the actual prices fell inside "
        "(red dots fell outside). "
    )
    if coverage < level - 0.05:
        return text + "Coverage is well below nominal: the interval is too narrow."
    if coverage > level + 0.05:
        return text + "Coverage is above nominal: the interval is wider than needed."
    return text + "Coverage is close to nominal."


def _next_sessions_section(run: Mapping[str, Any]) -> Section | None:
    forecast = run.get("forecast")
    if not isinstance(forecast, pd.DataFrame) or forecast.empty:
        return None
    level = run.get("interval_level")
    suffix = f" ({level:.0%})" if level else ""
    headers = {"forecast": "Forecast", "lower": f"Lower{suffix}", "upper": f"Upper{suffix}"}
    table = _table(forecast, "forecast", headers=headers, formatter=_price, index_label="Date")
    return _section("next", "Next sessions", table=table)


def _backtest_section(run: Mapping[str, Any], uris: Mapping[str, str]) -> Section | None:
    backtest = run.get("backtest")
    if not backtest:
        return None
    folds, comparison = backtest.get("folds"), backtest.get("comparison")
    return _section(
        "backtest",
        "Backtest",
        folds=_table(folds, "folds") if _has_rows(folds) else None,
        equity=uris.get("equity"),
        trading=(
            _table(comparison, "trading", index_label="Strategy", highlight="strategy")
            if _has_rows(comparison)
            else None
        ),
        disclaimer=backtest.get("disclaimer"),
    )


def _has_rows(frame: Any) -> bool:
    return isinstance(frame, pd.DataFrame) and not frame.empty


def _metadata_section(run: Mapping[str, Any]) -> Section | None:
    metadata = dict(run.get("metadata") or {})
    if not metadata and not run.get("created"):
        return None
    config = metadata.pop("config", None)
    rows = [("created", run.get("created"))] if run.get("created") else []
    for key, value in metadata.items():
        rows.append((key, _timings(value) if key == "timings" else value))
    details = [(str(key), _definition(value)) for key, value in rows]
    return _section("run", "Run details", details=details, config=config)


def _timings(value: Any) -> Any:
    if not isinstance(value, Mapping):
        return value
    return " · ".join(
        f"{key.removesuffix('_s')} {_fixed(_number(seconds), 1)} s"
        for key, seconds in value.items()
    )


def _definition(value: Any) -> dict[str, Any]:
    """``{"nested": [(key, definition), ...]}`` for a mapping, else ``{"text", "mono"}``."""
    if isinstance(value, Mapping):
        return {"nested": [(str(k), _definition(v)) for k, v in value.items()]}
    digest = isinstance(value, str) and len(value) >= 32 and not any(c.isspace() for c in value)
    return {"text": _cell_text(value), "mono": digest}


# ------------------------------------------------------------------ tables
def _metric_table(table: pd.DataFrame, table_id: str) -> dict[str, Any]:
    best = {column: best_rows(table, column) for column in table.columns}
    return _table(
        table, table_id, index_label=table.index.name or "model", best=best, highlight="model"
    )


def _table(
    frame: pd.DataFrame,
    table_id: str,
    *,
    headers: Mapping[str, str] | None = None,
    formatter: Callable[[Any], str] | None = None,
    index_label: str | None = None,
    best: Mapping[str, set[Any]] | None = None,
    highlight: Any = None,
) -> dict[str, Any]:
    """The values of the ``table`` macro: header labels and tips, rows of formatted cells."""
    columns = []
    for column in frame.columns:
        label, tip = LABELS.get(str(column), (str(column).replace("_", " "), ""))
        columns.append({"label": (headers or {}).get(str(column), label), "tip": tip})
    rows = []
    for label, row in frame.iterrows():
        cells = [
            _cell(value, str(column), best is not None and label in best.get(column, ()), formatter)
            for column, value in row.items()
        ]
        is_highlight = highlight is not None and label == highlight
        rows.append({"label": _cell_text(label), "highlight": is_highlight, "cells": cells})
    return {
        "id": table_id,
        "show_index": not isinstance(frame.index, pd.RangeIndex),
        "index_label": index_label or frame.index.name or "",
        "columns": columns,
        "rows": rows,
    }


def _cell(
    value: Any, column: str, marked: bool, formatter: Callable[[Any], str] | None
) -> dict[str, Any]:
    """A table cell: ``text``; numbers also ``value`` (for ``data-value``) and ``best``."""
    if not _is_number(value):
        return {"text": _cell_text(value), "value": None, "best": False}
    number = float(value)
    data = repr(int(value)) if isinstance(value, numbers.Integral) else repr(number)
    text = formatter(number) if formatter else _format(number, column)
    return {"text": text, "value": data, "best": marked}


def _format(value: float, column: str) -> str:
    if column in P_VALUES:
        return _p_cell(value)
    if column in PERCENT_OF_ONE:
        return DASH if not math.isfinite(value) else f"{value * 100:.2f} %"
    if column in {"fold", "n", "n_trades"} and math.isfinite(value):
        return f"{value:.0f}"
    return _sig(value)


# ------------------------------------------------------------------ format
def _sig(value: float) -> str:
    """4 significant digits (trailing zeros kept); thousands separators from 10,000; NaN a dash."""
    if math.isnan(value):
        return DASH
    if math.isinf(value):
        return "∞" if value > 0 else f"{MINUS}∞"
    if abs(value) >= 1e4:
        return f"{value:,.0f}"
    if value != 0 and abs(value) < 1e-3:
        return f"{value:.2e}"
    return f"{value:#.4g}".rstrip(".")


def _fixed(value: float, decimals: int) -> str:
    return DASH if not math.isfinite(value) else f"{value:.{decimals}f}"


def _price(value: float) -> str:
    return DASH if not math.isfinite(value) else f"{value:,.2f}"


def _signed(value: float) -> str:
    return DASH if not math.isfinite(value) else f"{value:+.1f}"


def _p(value: float) -> str:
    if not math.isfinite(value):
        return "p n/a"
    return "p < 0.001" if value < 0.001 else f"p = {value:.3f}"


def _p_cell(value: float) -> str:
    if not math.isfinite(value):
        return DASH
    return "< 0.001" if value < 0.001 else f"{value:.3f}"


def _lag(value: int) -> str:
    return f"{value:+d}".replace("-", MINUS).replace("+0", "0")


def _cell_text(value: Any) -> str:
    if value is None:
        return DASH
    if isinstance(value, pd.Timestamp | dt.datetime):
        stamp = pd.Timestamp(value)
        return stamp.date().isoformat() if stamp == stamp.normalize() else stamp.isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    if _is_number(value):
        return _sig(float(value)) if isinstance(value, float | np.floating) else str(value)
    return str(value)


def _is_number(value: Any) -> bool:
    return isinstance(value, numbers.Real) and not isinstance(value, bool | np.bool_)


def _number(value: Any) -> float:
    try:
        return float(value)
    except (TypeError, ValueError):
        return math.nan


# ---------------------------------------------------------- images, files
def _data_uri(data: bytes) -> str:
    """PNG bytes as a ``data:`` URI ("" for no bytes), so the page needs no other file."""
    if not data:
        return ""
    return "data:image/png;base64," + base64.b64encode(data).decode("ascii")


def _figure_builders(run: Mapping[str, Any]) -> dict[str, Callable[[], Figure]]:
    """Figure name -> function making it, for the parts the run has (in page order)."""
    builders: dict[str, Callable[[], Figure]] = {}
    if run.get("universe") is not None:
        from rnncast.cli.universe_report import figure_builders

        builders.update(figure_builders(run["universe"]))
    history = run.get("history") or {}
    predictions = run.get("predictions")
    has_predictions = isinstance(predictions, pd.DataFrame) and not predictions.empty
    if history.get("loss"):
        builders["loss"] = lambda: plots.loss_curves(history)
    if has_predictions:
        builders["forecast"] = lambda: plots.forecast_vs_actual(predictions)
        if len(predictions) > ZOOM_DAYS:
            builders["forecast_zoom"] = lambda: plots.forecast_vs_actual(predictions, ZOOM_DAYS)
    lag = run.get("lag")
    if lag and lag.get("correlations"):
        builders["lag"] = lambda: plots.lag_check(lag["correlations"], lag.get("best_lag"))
    if has_predictions and "model" in predictions:
        builders["residuals"] = lambda: plots.residual_histogram(predictions)
    if has_predictions and isinstance(run.get("intervals"), pd.DataFrame):
        builders["intervals"] = lambda: plots.intervals(
            predictions, run["intervals"], run.get("interval_level"), run.get("coverage")
        )
    equity = (run.get("backtest") or {}).get("equity")
    if isinstance(equity, pd.DataFrame) and not equity.empty:
        builders["equity"] = lambda: plots.equity_curves(equity)
    return builders


def _write_bytes(path: Path, data: bytes) -> None:
    with atomic_file(path) as temporary:
        temporary.write_bytes(data)


# --------------------------------------------------------------- templates
@functools.cache
def _environment() -> jinja2.Environment:
    """The template environment: package templates, autoescaping on, strict undefined.

    ``finalize`` escapes each value with :func:`html.escape` before autoescaping sees it
    (which then leaves the :class:`~markupsafe.Markup` alone), so quotes come out as
    ``&#x27;`` and ``&quot;`` as in the pages rnncast wrote before the templates.
    """
    return jinja2.Environment(
        loader=jinja2.PackageLoader("rnncast.cli", "templates"),
        autoescape=jinja2.select_autoescape(enabled_extensions=("html", "html.j2")),
        undefined=jinja2.StrictUndefined,
        finalize=_escape,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )


def _escape(value: Any) -> Markup:
    return value if isinstance(value, Markup) else Markup(html.escape(str(value), quote=True))


def _render(template: str, **values: Any) -> str:
    return _environment().get_template(template).render(**values)

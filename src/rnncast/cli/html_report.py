"""The run report: one self-contained HTML page with the verdict first, then the evidence.

The page has inline CSS and PNG figures embedded as ``data:`` URLs: no scripts,
no fonts, no external addresses, so it opens from disk without a network. The
verdict box at the top is green when the model beats the naive forecast
significantly (skill > 0 and Diebold-Mariano p < 0.05), amber when it is better
but not significantly, red otherwise.

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
import html
import math
import numbers
import os
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from rnncast._internal.files import atomic_file
from rnncast.cli import plots

if TYPE_CHECKING:
    from matplotlib.figure import Figure

__all__ = [
    "HIGHER_IS_BETTER",
    "LOWER_IS_BETTER",
    "PLOT_NAMES",
    "best_rows",
    "render_leaderboard",
    "render_report",
    "verdict_outcome",
    "write_report",
]

ALPHA = 0.05
ZOOM_DAYS = 60
PLOT_NAMES = ("loss", "forecast", "forecast_zoom", "lag", "residuals", "intervals", "equity")
LOWER_IS_BETTER = frozenset({"rmse", "mae", "mape", "smape", "mase", "theils_u"})
HIGHER_IS_BETTER = frozenset({"skill_vs_naive_pct", "directional_accuracy"})
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
    "directional_accuracy": ("Direction hit rate", "Share of moves whose direction was right"),
    "directional_p_value": ("Direction p", "One-sided binomial test against a coin flip"),
    "dm_p_value": ("DM p vs naive", "Diebold-Mariano test of equal accuracy with naive"),
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
        "total_return",
        "cagr",
        "volatility",
        "max_drawdown",
        "hit_rate",
        "exposure",
    }
)
P_VALUES = frozenset({"directional_p_value", "dm_p_value"})
OUTCOMES = {
    "beat": ("green", "Beats the naive forecast, significantly"),
    "better": ("amber", "Better than the naive forecast, but not significantly"),
    "not-beat": ("red", "Does not beat the naive forecast"),
    "unknown": ("grey", "No model forecast to compare with the naive forecast"),
}


# --------------------------------------------------------------- public API
def verdict_outcome(metrics: pd.DataFrame) -> str:
    """``"beat"``, ``"better"``, ``"not-beat"`` or ``"unknown"`` from the model's metrics row.

    ``beat``: ``skill_vs_naive_pct > 0`` and ``dm_p_value < 0.05``; ``better``:
    skill > 0 without significance; ``not-beat`` otherwise; ``unknown`` without a
    ``"model"`` row.

    Example:
        >>> import pandas as pd
        >>> table = pd.DataFrame({"skill_vs_naive_pct": [4.0, 0.0], "dm_p_value": [0.01, None]},
        ...                      index=["model", "naive"])
        >>> verdict_outcome(table)
        'beat'
    """
    if "model" not in metrics.index or "skill_vs_naive_pct" not in metrics:
        return "unknown"
    skill = _number(metrics.at["model", "skill_vs_naive_pct"])
    p = _number(metrics.at["model", "dm_p_value"]) if "dm_p_value" in metrics else math.nan
    if not skill > 0:
        return "not-beat"
    return "beat" if p < ALPHA else "better"


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
    """The run as one self-contained HTML5 page.

    Args:
        run: The run dict (``name``, ``created``, ``verdict``, ``metrics``,
            ``history``, ``predictions``, ``intervals``, ``interval_level``,
            ``coverage``, ``lag``, ``forecast``, ``backtest``, ``metadata``);
            optional parts may be missing or None.
        images: PNG bytes by figure name (see :data:`PLOT_NAMES`); figures
            that are absent are left out.

    Returns:
        The page; tables have the ids ``metrics``, ``forecast``, ``folds``
        and ``trading``, and numeric cells carry ``data-value``.

    Example:
        >>> page = render_report(run, images)  # doctest: +SKIP
        >>> page.startswith("<!DOCTYPE html>")  # doctest: +SKIP
        True
    """
    name = str(run.get("name") or "run")
    sections = [
        _metrics_section(run),
        _loss_section(run, images),
        _forecast_section(run, images),
        _lag_section(run, images),
        _residual_section(run, images),
        _interval_section(run, images),
        _next_sessions_section(run),
        _backtest_section(run, images),
        _metadata_section(run),
    ]
    sections = [s for s in sections if s]
    header = _header(run, name, sections)
    return _page(f"{name} · rnncast run report", header + "".join(s[2] for s in sections))


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
    body = (
        f"<header><h1>{_esc(title)}</h1></header>"
        f"<section>{_image(image, 'Leaderboard: one bar per run, best at the top')}"
        f"{_LEGEND}{_metric_table(table, 'leaderboard')}</section>"
    )
    return _page(title, body)


# ------------------------------------------------------------------ header
def _header(run: Mapping[str, Any], name: str, sections: list[tuple[str, str, str]]) -> str:
    metrics = run.get("metrics")
    outcome = verdict_outcome(metrics) if isinstance(metrics, pd.DataFrame) else "unknown"
    colour, label = OUTCOMES[outcome]
    details = f'<span class="badge">{_esc(label)}</span>'
    if isinstance(metrics, pd.DataFrame) and "model" in metrics.index:
        details += _esc(_model_summary(metrics))
    nav = " ".join(f'<a href="#{anchor}">{_esc(title)}</a>' for anchor, title, _ in sections)
    return (
        f"<header><h1>Run report: {_esc(name)}</h1>"
        f'<div id="verdict" class="verdict verdict-{colour}" data-outcome="{outcome}">'
        f'<p class="verdict-text">{_esc(run.get("verdict") or "no verdict")}</p>'
        f'<p class="verdict-label">{details}</p></div>'
        f'<p class="subtitle">{_esc(_subtitle(run))}</p>'
        f"<nav>{nav}</nav></header>"
    )


def _model_summary(metrics: pd.DataFrame) -> str:
    row = metrics.loc["model"]
    parts = [f"skill vs naive {_signed(_number(row.get('skill_vs_naive_pct')))} %"]
    if "dm_p_value" in row:
        parts.append(f"Diebold-Mariano {_p(_number(row['dm_p_value']))}")
    if "mase" in metrics and "naive" in metrics.index:
        parts.append(
            f"MASE {_sig(_number(row['mase']))} vs naive "
            f"{_sig(_number(metrics.at['naive', 'mase']))}"
        )
    return " · ".join(parts)


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


# ---------------------------------------------------------------- sections
Section = tuple[str, str, str] | None  # (anchor, nav title, html)


def _section(anchor: str, title: str, *parts: str) -> tuple[str, str, str]:
    body = "".join(parts)
    return anchor, title, f'<section id="{anchor}"><h2>{_esc(title)}</h2>{body}</section>'


_LEGEND = (
    '<p class="note"><strong>Bold</strong> marks the best value of each column: lower is '
    "better, except skill vs naive and direction hit rate; p-values are not ranked.</p>"
)


def _metrics_section(run: Mapping[str, Any]) -> Section:
    metrics = run.get("metrics")
    if not isinstance(metrics, pd.DataFrame) or metrics.empty:
        return None
    intro = (
        "<p>Step-1 forecasts on the test sessions: the model next to the baselines. "
        "Skill above 0 and Theil's U below 1 mean better than the naive forecast "
        "(tomorrow = today); a DM p-value below 0.05 means the difference is significant."
        "</p>"
    )
    return _section("sec-metrics", "Metrics", intro, _LEGEND, _metric_table(metrics, "metrics"))


def _loss_section(run: Mapping[str, Any], images: Mapping[str, bytes]) -> Section:
    if "loss" not in images:
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
    return _section(
        "sec-training",
        "Training",
        f"<p>{_esc(text)}.</p>",
        _image(images["loss"], "Training and validation loss per epoch"),
    )


def _forecast_section(run: Mapping[str, Any], images: Mapping[str, bytes]) -> Section:
    if "forecast" not in images:
        return None
    text = (
        "Black: the actual price. Blue: the model's forecast, made the session before. "
        "Grey dashed: the naive forecast (yesterday's price). A model that hugs the grey "
        "line adds little."
    )
    parts = [f"<p>{_esc(text)}</p>", _image(images["forecast"], "Forecast vs actual prices")]
    if "forecast_zoom" in images:
        parts.append(
            _image(images["forecast_zoom"], f"Forecast vs actual, last {ZOOM_DAYS} sessions")
        )
    return _section("sec-forecast", "Forecast vs actual", *parts)


def _lag_section(run: Mapping[str, Any], images: Mapping[str, bytes]) -> Section:
    lag = run.get("lag")
    if not lag or "lag" not in images:
        return None
    return _section(
        "sec-lag",
        "Lag check",
        f'<p class="callout">{_esc(_lag_text(lag))}</p>',
        _image(images["lag"], "Correlation of forecast and actual by lag"),
    )


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


def _residual_section(run: Mapping[str, Any], images: Mapping[str, bytes]) -> Section:
    if "residuals" not in images:
        return None
    text = (
        "Errors of the model and of the naive forecast on the same days. Narrower and "
        "centred on 0 is better."
    )
    return _section(
        "sec-residuals",
        "Forecast errors",
        f"<p>{_esc(text)}</p>",
        _image(images["residuals"], "Histogram of forecast errors"),
    )


def _interval_section(run: Mapping[str, Any], images: Mapping[str, bytes]) -> Section:
    if "intervals" not in images:
        return None
    level, coverage = run.get("interval_level"), run.get("coverage")
    return _section(
        "sec-intervals",
        "Prediction intervals",
        f'<p class="callout">{_esc(_coverage_text(level, coverage))}</p>',
        _image(images["intervals"], "Prediction interval with actual prices"),
    )


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


def _next_sessions_section(run: Mapping[str, Any]) -> Section:
    forecast = run.get("forecast")
    if not isinstance(forecast, pd.DataFrame) or forecast.empty:
        return None
    level = run.get("interval_level")
    suffix = f" ({level:.0%})" if level else ""
    headers = {"forecast": "Forecast", "lower": f"Lower{suffix}", "upper": f"Upper{suffix}"}
    table = _table(forecast, "forecast", headers=headers, formatter=_price, index_label="Date")
    text = (
        "Forecast prices for the next sessions after the end of the data. Research output, "
        "not investment advice."
    )
    return _section("sec-next", "Next sessions", f"<p>{_esc(text)}</p>", table)


def _backtest_section(run: Mapping[str, Any], images: Mapping[str, bytes]) -> Section:
    backtest = run.get("backtest")
    if not backtest:
        return None
    parts = []
    folds = backtest.get("folds")
    if isinstance(folds, pd.DataFrame) and not folds.empty:
        parts += ["<h3>Walk-forward folds</h3>", _table(folds, "folds")]
    if "equity" in images:
        parts += [
            "<h3>Trading simulation</h3>",
            _image(images["equity"], "Equity curves of the strategies"),
        ]
    comparison = backtest.get("comparison")
    if isinstance(comparison, pd.DataFrame) and not comparison.empty:
        parts.append(_table(comparison, "trading", index_label="Strategy", highlight="strategy"))
    if backtest.get("disclaimer"):
        parts.append(f'<p class="disclaimer">{_esc(backtest["disclaimer"])}</p>')
    return _section("sec-backtest", "Backtest", *parts)


def _metadata_section(run: Mapping[str, Any]) -> Section:
    metadata = dict(run.get("metadata") or {})
    if not metadata and not run.get("created"):
        return None
    config = metadata.pop("config", None)
    rows = [("created", run.get("created"))] if run.get("created") else []
    for key, value in metadata.items():
        rows.append((key, _timings(value) if key == "timings" else value))
    items = "".join(f"<dt>{_esc(key)}</dt><dd>{_value_html(value)}</dd>" for key, value in rows)
    parts = [f'<dl class="meta">{items}</dl>']
    if config:
        parts.append(f"<h3>Configuration</h3><pre>{_esc(config)}</pre>")
    return _section("sec-run", "Run details", *parts)


def _timings(value: Any) -> Any:
    if not isinstance(value, Mapping):
        return value
    return " · ".join(
        f"{key.removesuffix('_s')} {_fixed(_number(seconds), 1)} s"
        for key, seconds in value.items()
    )


def _value_html(value: Any) -> str:
    if isinstance(value, Mapping):
        items = "".join(f"<dt>{_esc(k)}</dt><dd>{_value_html(v)}</dd>" for k, v in value.items())
        return f'<dl class="nested">{items}</dl>'
    digest = isinstance(value, str) and len(value) >= 32 and not any(c.isspace() for c in value)
    css = ' class="mono"' if digest else ""
    return f"<span{css}>{_esc(_cell_text(value))}</span>"


# ------------------------------------------------------------------ tables
def _metric_table(table: pd.DataFrame, table_id: str) -> str:
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
) -> str:
    """An HTML table; numeric cells get ``class="num"`` and ``data-value``."""
    show_index = not isinstance(frame.index, pd.RangeIndex)
    head = [f"<th>{_esc(index_label or frame.index.name or '')}</th>"] if show_index else []
    for column in frame.columns:
        label, tip = LABELS.get(str(column), (str(column).replace("_", " "), ""))
        label = (headers or {}).get(str(column), label)
        title = f' title="{_esc(tip)}"' if tip else ""
        head.append(f'<th scope="col"{title}>{_esc(label)}</th>')
    rows = []
    for label, row in frame.iterrows():
        row_class = ' class="highlight"' if highlight is not None and label == highlight else ""
        cells = [f'<th scope="row">{_esc(_cell_text(label))}</th>'] if show_index else []
        for column, value in row.items():
            marked = best is not None and label in best.get(column, set())
            cells.append(_cell(value, str(column), marked, formatter))
        rows.append(f"<tr{row_class}>{''.join(cells)}</tr>")
    return (
        f'<div class="table-wrap"><table id="{_esc(table_id)}"><thead><tr>{"".join(head)}'
        f"</tr></thead><tbody>{''.join(rows)}</tbody></table></div>"
    )


def _cell(value: Any, column: str, marked: bool, formatter: Callable[[Any], str] | None) -> str:
    if not _is_number(value):
        return f"<td>{_esc(_cell_text(value))}</td>"
    classes = "num best" if marked else "num"
    number = float(value)
    data = repr(int(value)) if isinstance(value, numbers.Integral) else repr(number)
    text = formatter(number) if formatter else _format(number, column)
    return f'<td class="{classes}" data-value="{data}">{_esc(text)}</td>'


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


def _esc(text: Any) -> str:
    return html.escape(str(text), quote=True)


# ------------------------------------------------------------------ images
def _image(data: bytes, alt: str) -> str:
    if not data:
        return ""
    encoded = base64.b64encode(data).decode("ascii")
    return (
        f'<figure><img src="data:image/png;base64,{encoded}" alt="{_esc(alt)}">'
        f"<figcaption>{_esc(alt)}</figcaption></figure>"
    )


def _figure_builders(run: Mapping[str, Any]) -> dict[str, Callable[[], Figure]]:
    """Figure name -> function making it, for the parts the run has (in page order)."""
    builders: dict[str, Callable[[], Figure]] = {}
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


# -------------------------------------------------------------------- page
_CSP = "default-src 'none'; img-src data:; style-src 'unsafe-inline'"
_CSS = """
:root { --ink: #1d1d1f; --muted: #5f6368; --line: #e2e4e8; --accent: #1565c0; }
* { box-sizing: border-box; }
body { margin: 0; background: #f4f5f7; color: var(--ink);
  font: 15px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial,
  "DejaVu Sans", sans-serif; }
main { max-width: 1080px; margin: 0 auto; padding: 24px 28px 48px; background: #fff;
  min-height: 100vh; box-shadow: 0 0 0 1px var(--line); }
h1 { font-size: 1.7rem; margin: 0 0 14px; }
h2 { font-size: 1.3rem; margin: 0 0 10px; padding-bottom: 6px;
  border-bottom: 2px solid var(--line); }
h3 { font-size: 1.05rem; margin: 22px 0 8px; }
section { margin-top: 34px; }
.verdict { border-left: 10px solid; border-radius: 8px; padding: 16px 20px; margin: 0 0 12px; }
.verdict p { margin: 0; }
.verdict-text { font-size: 1.25rem; font-weight: 600; line-height: 1.4; }
.verdict-label { margin-top: 10px !important; font-size: 0.98rem; }
.badge { display: inline-block; padding: 2px 10px; margin-right: 8px; border-radius: 999px;
  color: #fff; font-weight: 700; font-size: 0.9rem; }
.verdict-green .badge { background: #1e8e3e; } .verdict-amber .badge { background: #b06000; }
.verdict-red .badge { background: #c5221f; } .verdict-grey .badge { background: #5f6368; }
.verdict-green { background: #e6f4ea; border-color: #1e8e3e; color: #0d3d1c; }
.verdict-amber { background: #fef7e0; border-color: #f9a825; color: #4d3800; }
.verdict-red { background: #fce8e6; border-color: #d93025; color: #5c1410; }
.verdict-grey { background: #f1f3f4; border-color: #80868b; }
.subtitle { color: var(--muted); margin: 0 0 10px; font-size: 0.92rem; }
nav { display: flex; flex-wrap: wrap; gap: 6px 16px; font-size: 0.92rem;
  padding: 8px 0; border-top: 1px solid var(--line); border-bottom: 1px solid var(--line); }
nav a { color: var(--accent); text-decoration: none; }
nav a:hover { text-decoration: underline; }
p.note { color: var(--muted); font-size: 0.9rem; }
p.callout { background: #f1f6fd; border-left: 4px solid var(--accent); padding: 8px 12px; }
p.disclaimer { color: var(--muted); font-style: italic; border: 1px solid var(--line);
  padding: 8px 12px; border-radius: 6px; }
.table-wrap { overflow-x: auto; margin: 8px 0 4px; }
table { border-collapse: collapse; font-size: 0.9rem; font-variant-numeric: tabular-nums; }
th, td { padding: 5px 8px; border-bottom: 1px solid var(--line); white-space: nowrap; }
thead th { background: #f6f7f9; text-align: right; font-weight: 600; white-space: normal;
  vertical-align: bottom; min-width: 4.5em;
  border-bottom: 2px solid #cfd3d8; }
thead th:first-child, tbody th { text-align: left; }
tbody th { font-weight: 500; }
td.num { text-align: right; }
td.best { font-weight: 700; background: #e3eefc; color: #0b3d91; }
tr.highlight th, tr.highlight td { border-top: 2px solid var(--accent);
  border-bottom: 2px solid var(--accent); }
tr.highlight th { color: var(--accent); font-weight: 700; }
tbody tr:nth-child(even) > :not(.best) { background: #fafbfc; }
figure { margin: 14px 0; }
figure img { display: block; max-width: 100%; height: auto; margin: 0 auto; }
figcaption { color: var(--muted); font-size: 0.85rem; text-align: center; margin-top: 4px; }
dl.meta { display: grid; grid-template-columns: max-content 1fr; gap: 4px 18px; margin: 0; }
dl.meta > dt { font-weight: 600; }
dl.meta > dd, dl.nested dd { margin: 0; }
dl.nested { display: grid; grid-template-columns: max-content 1fr; gap: 2px 12px; margin: 0; }
dl.nested dt { color: var(--muted); }
.mono, pre { font-family: ui-monospace, "DejaVu Sans Mono", Menlo, Consolas, monospace; }
.mono { font-size: 0.85rem; word-break: break-all; }
pre { background: #f6f7f9; border: 1px solid var(--line); border-radius: 6px; padding: 12px;
  overflow-x: auto; font-size: 0.85rem; }
footer { margin-top: 40px; color: var(--muted); font-size: 0.82rem; }
@media print { body { background: #fff; } main { box-shadow: none; } nav { display: none; } }
"""


def _page(title: str, body: str) -> str:
    return (
        "<!DOCTYPE html>\n"
        '<html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f'<meta http-equiv="Content-Security-Policy" content="{_CSP}">'
        f"<title>{_esc(title)}</title><style>{_CSS}</style></head>"
        f"<body><main>{body}<footer>Made by rnncast. A self-contained page: it needs no "
        "network. Research output, not investment advice.</footer></main></body></html>\n"
    )

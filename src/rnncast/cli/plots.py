r"""Figures of a run: training loss, forecasts, lag check, residuals, intervals, equity.

Every function returns a :class:`matplotlib.figure.Figure` built without
pyplot, so nothing opens a window, no GUI backend is needed and no global
matplotlib state (backend, open-figure registry) is touched. Save one with
:func:`save_png`, get its bytes with :func:`png_bytes`, release it with
:func:`close`.

Colours are the same everywhere: actual prices black, the model strong blue,
baselines muted.

Example:
    >>> from rnncast.cli import plots
    >>> figure = plots.loss_curves({"loss": [1.0, 0.5, 0.4], "val_loss": [1.1, 0.7, 0.6]})
    >>> png_bytes(figure)[:8] == b"\x89PNG\r\n\x1a\n"
    True
    >>> plots.close(figure)
"""

from __future__ import annotations

import io
import math
import os
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

__all__ = [
    "ACTUAL_COLOR",
    "BASELINE_COLORS",
    "DPI",
    "MODEL_COLOR",
    "close",
    "equity_curves",
    "forecast_vs_actual",
    "intervals",
    "lag_check",
    "leaderboard",
    "loss_curves",
    "png_bytes",
    "residual_histogram",
    "save_png",
]

DPI = 110
MINUS = "\u2212"  # typographic minus for labels
WIDE = (9.0, 4.2)
ACTUAL_COLOR = "#111111"
MODEL_COLOR = "#1565c0"
VALIDATION_COLOR = "#e65100"
BEST_COLOR = "#1565c0"
OTHER_COLOR = "#b0bec5"
BASELINE_COLORS = {
    "naive": "#8d8d8d",
    "drift": "#b39b7d",
    "moving_average": "#8fb996",
    "linear_ar": "#b59cc4",
    "arima": "#d8a47f",
    "buy_and_hold": "#555555",
}
_EXTRA_COLORS = ("#9fb7c9", "#c9a9a6", "#a8b58f", "#c4b07b", "#a3a3c2")
HIGHER_IS_BETTER = frozenset({"skill_vs_naive_pct", "directional_accuracy"})


# ------------------------------------------------------------------ output
def png_bytes(figure: Figure, dpi: int = DPI) -> bytes:
    r"""The figure as PNG bytes (tight bounding box, white background).

    Example:
        >>> figure = loss_curves({"loss": [1.0, 0.5]})
        >>> png_bytes(figure).startswith(b"\x89PNG")
        True
        >>> close(figure)
    """
    buffer = io.BytesIO()
    figure.savefig(
        buffer,
        format="png",
        dpi=dpi,
        bbox_inches="tight",
        facecolor="white",
        metadata={"Software": None},
    )
    return buffer.getvalue()


def save_png(figure: Figure, path: str | os.PathLike[str], dpi: int = DPI) -> Path:
    """Write the figure to ``path`` as PNG (parent folders are created) and return the path.

    Example:
        >>> figure = loss_curves({"loss": [1.0, 0.5]})
        >>> save_png(figure, "plots/loss.png")  # doctest: +SKIP
        PosixPath('plots/loss.png')
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(png_bytes(figure, dpi=dpi))
    return path


def close(figure: Figure) -> None:
    """Release a figure (and drop it from pyplot's registry if pyplot holds it).

    Example:
        >>> close(loss_curves({"loss": [1.0, 0.5]}))
    """
    pyplot = sys.modules.get("matplotlib.pyplot")
    if pyplot is not None:
        pyplot.close(figure)
    figure.clear()


# ----------------------------------------------------------------- figures
def loss_curves(history: Mapping[str, Sequence[float]]) -> Figure:
    """Training (and validation) loss per epoch; the best validation epoch is marked.

    Args:
        history: ``{"loss": [...], "val_loss": [...]}``; ``val_loss`` may be
            missing or empty. A log scale is used when the loss spans more than
            a factor of 20.

    Example:
        >>> figure = loss_curves({"loss": [0.9, 0.3, 0.2], "val_loss": [1.0, 0.5, 0.6]})
        >>> [line.get_label() for line in figure.axes[0].get_lines()][:2]
        ['training loss', 'validation loss']
        >>> close(figure)
    """
    figure, ax = _figure()
    loss = _floats(history.get("loss", []))
    val = _floats(history.get("val_loss", []) or [])
    epochs = np.arange(1, len(loss) + 1)
    ax.plot(epochs, loss, color=MODEL_COLOR, lw=2, marker=_marker(len(loss)), label="training loss")
    if np.isfinite(val).any():
        val_epochs = np.arange(1, len(val) + 1)
        ax.plot(
            val_epochs,
            val,
            color=VALIDATION_COLOR,
            lw=2,
            marker=_marker(len(val)),
            label="validation loss",
        )
        best = int(np.nanargmin(val))
        ax.scatter(
            [best + 1],
            [val[best]],
            s=90,
            facecolor="none",
            edgecolor=VALIDATION_COLOR,
            lw=2,
            zorder=5,
            label=f"best validation: epoch {best + 1}",
        )
    values = np.concatenate([loss, val])
    values = values[np.isfinite(values)]
    if len(values) and values.min() > 0 and values.max() / values.min() > 20:
        _log_axis(ax)
    ax.set_title("Training loss per epoch")
    ax.set_xlabel("Epoch")
    ax.set_ylabel("Loss (training objective, scaled prices)")
    ax.xaxis.get_major_locator().set_params(integer=True)
    ax.legend(frameon=False)
    return figure


def forecast_vs_actual(predictions: pd.DataFrame, last_days: int | None = None) -> Figure:
    """Actual prices with the model's and the naive one-step forecasts.

    Args:
        predictions: Date-indexed frame with ``actual``, ``model`` and
            ``naive`` columns (step-1 prices); other columns are ignored.
        last_days: Show only the last ``last_days`` sessions (a zoom, with markers).

    Example:
        >>> import pandas as pd
        >>> dates = pd.bdate_range("2024-01-01", periods=5, name="date")
        >>> frame = pd.DataFrame({"actual": [1.0, 2, 3, 2, 4], "model": [1.2, 1.8, 2.5, 2.6, 3],
        ...                       "naive": [1.0, 1, 2, 3, 2]}, index=dates)
        >>> figure = forecast_vs_actual(frame, last_days=3)
        >>> len(figure.axes[0].get_lines())
        3
        >>> close(figure)
    """
    frame = predictions if last_days is None else predictions.iloc[-int(last_days) :]
    zoom = last_days is not None
    figure, ax = _figure()
    marker = "o" if zoom and len(frame) <= 90 else None
    ax.plot(
        frame.index,
        frame["actual"],
        color=ACTUAL_COLOR,
        lw=1.8,
        marker=marker,
        ms=3,
        label="actual",
        zorder=4,
    )
    if "naive" in frame:
        ax.plot(
            frame.index,
            frame["naive"],
            color=BASELINE_COLORS["naive"],
            lw=1.3,
            ls="--",
            label="naive (yesterday's price)",
            zorder=2,
        )
    if "model" in frame:
        ax.plot(
            frame.index,
            frame["model"],
            color=MODEL_COLOR,
            lw=1.8,
            marker=marker,
            ms=3,
            label="model",
            zorder=3,
        )
    title = "One-step forecasts vs actual prices"
    if zoom:
        title += f": last {len(frame)} sessions"
    ax.set_title(title)
    _date_axis(ax)
    ax.set_ylabel("Price")
    ax.legend(frameon=False, loc="best")
    return figure


def lag_check(correlations: Mapping[int | str, float], best_lag: int | None) -> Figure:
    """Correlation of the forecast with the actual price ``lag`` sessions later, by lag.

    A forecast that mostly repeats the last price lines up best at lag -1
    (yesterday's price); a useful forecast at lag 0. The y-axis is zoomed to
    the bars so small differences are visible.

    Args:
        correlations: ``{lag: correlation}`` (keys may be strings, as in JSON).
        best_lag: The lag with the highest correlation (highlighted), or None.

    Example:
        >>> figure = lag_check({-1: 0.995, 0: 0.990, 1: 0.982}, best_lag=-1)
        >>> len(figure.axes[0].patches)
        3
        >>> close(figure)
    """
    lags = sorted(int(lag) for lag in correlations)
    values = np.array([_float(_lookup(correlations, lag)) for lag in lags])
    figure, ax = _figure((8.0, 4.2))
    colors = [BEST_COLOR if lag == best_lag else OTHER_COLOR for lag in lags]
    finite = np.isfinite(values)
    low, high = _zoomed_limits(values[finite])
    ax.bar(
        lags, np.where(finite, values, low), color=colors, width=0.7, bottom=0, edgecolor="white"
    )
    ax.set_ylim(low, high)
    for lag, value in zip(lags, values, strict=True):
        text = "n/a" if not math.isfinite(value) else f"{value:.4f}"
        ax.annotate(
            text,
            (lag, value if math.isfinite(value) else low),
            ha="center",
            va="bottom",
            xytext=(0, 3),
            textcoords="offset points",
            fontsize=9,
        )
    ax.set_xticks(lags, [_lag_label(lag) for lag in lags])
    ax.set_xlabel("Lag in sessions (forecast for day t compared with the actual price of t + lag)")
    ax.set_ylabel("Correlation (Pearson)")
    best = "none" if best_lag is None else _lag_label(best_lag).split("\n")[0]
    ax.set_title(f"Lag check: best lag {best} (y-axis zoomed)")
    ax.text(
        0.01,
        0.98,
        f"lag {MINUS}1 = yesterday's price: a forecast that peaks there mostly\n"
        "repeats the last price; a useful forecast peaks at lag 0.",
        transform=ax.transAxes,
        va="top",
        ha="left",
        fontsize=9,
        color="#333333",
        bbox={"facecolor": "white", "edgecolor": "#cccccc", "boxstyle": "round"},
    )
    return figure


def residual_histogram(predictions: pd.DataFrame) -> Figure:
    """Histograms of ``actual - model`` and ``actual - naive`` on shared bins.

    Example:
        >>> import pandas as pd
        >>> frame = pd.DataFrame({"actual": [1.0, 2, 3, 2, 4], "model": [1.2, 1.8, 2.5, 2.6, 3],
        ...                       "naive": [1.0, 1, 2, 3, 2]})
        >>> close(residual_histogram(frame))
    """
    figure, ax = _figure()
    residuals = {
        name: (predictions["actual"] - predictions[name]).to_numpy(dtype=float)
        for name in ("naive", "model")
        if name in predictions
    }
    finite = [r[np.isfinite(r)] for r in residuals.values()]
    pooled = np.concatenate(finite) if finite else np.array([0.0])
    bins = np.histogram_bin_edges(pooled, bins=min(40, max(10, len(pooled) // 10)))
    styles = {
        "naive": {"color": BASELINE_COLORS["naive"], "alpha": 0.5},
        "model": {"color": MODEL_COLOR, "histtype": "step", "lw": 2.2},
    }
    for name, values in residuals.items():
        values = values[np.isfinite(values)]
        mean, spread = (values.mean(), values.std()) if len(values) else (np.nan, np.nan)
        ax.hist(
            values, bins=bins, label=f"{name}: mean {mean:+.3g}, std {spread:.3g}", **styles[name]
        )
    ax.axvline(0, color=ACTUAL_COLOR, lw=1)
    ax.set_title(f"Forecast errors: actual {MINUS} forecast (one step ahead)")
    ax.set_xlabel("Error (price units)")
    ax.set_ylabel("Sessions")
    ax.legend(frameon=False)
    return figure


def intervals(
    predictions: pd.DataFrame,
    intervals: pd.DataFrame,
    level: float | None = None,
    coverage: float | None = None,
) -> Figure:
    """The model's prediction interval as a band, with the actual prices and misses marked.

    Args:
        predictions: Date-indexed ``actual`` (and ``model``) step-1 prices.
        intervals: Date-indexed ``lower`` and ``upper`` bounds.
        level: Nominal coverage, e.g. 0.9.
        coverage: Empirical share of actuals inside the interval; computed
            from the data when None.

    Example:
        >>> import pandas as pd
        >>> dates = pd.bdate_range("2024-01-01", periods=4, name="date")
        >>> frame = pd.DataFrame({"actual": [1.0, 2, 3, 5], "model": [1.1, 2, 2.8, 3]}, index=dates)
        >>> band = pd.DataFrame({"lower": [0.5, 1.5, 2.5, 2.5], "upper": [1.5, 2.5, 3.5, 3.5]},
        ...                     index=dates)
        >>> close(intervals(frame, band, level=0.9))
    """
    frame = predictions.join(intervals[["lower", "upper"]], how="inner")
    inside = (frame["actual"] >= frame["lower"]) & (frame["actual"] <= frame["upper"])
    if coverage is None and len(frame):
        coverage = float(inside.mean())
    figure, ax = _figure()
    label = "interval" if level is None else f"{level:.0%} interval"
    ax.fill_between(
        frame.index,
        frame["lower"],
        frame["upper"],
        color=MODEL_COLOR,
        alpha=0.18,
        lw=0,
        label=label,
    )
    if "model" in frame:
        ax.plot(frame.index, frame["model"], color=MODEL_COLOR, lw=1.2, label="model")
    ax.plot(frame.index, frame["actual"], color=ACTUAL_COLOR, lw=1.4, label="actual")
    missed = frame.loc[~inside]
    ax.scatter(
        missed.index,
        missed["actual"],
        color="#c62828",
        s=14,
        zorder=5,
        label=f"outside the interval ({len(missed)})",
    )
    ax.set_title(_coverage_title(level, coverage))
    _date_axis(ax)
    ax.set_ylabel("Price")
    ax.legend(frameon=False, loc="best")
    return figure


def equity_curves(equity: pd.DataFrame) -> Figure:
    """Growth of 1.0 for the strategy, buy-and-hold and the benchmark strategies.

    Args:
        equity: Date-indexed frame with ``strategy``, ``buy_and_hold`` and one
            column per benchmark.

    Example:
        >>> import pandas as pd
        >>> dates = pd.bdate_range("2024-01-01", periods=3, name="date")
        >>> frame = pd.DataFrame({"strategy": [1.0, 1.1, 1.05],
        ...                       "buy_and_hold": [1.0, 1.05, 1.0]}, index=dates)
        >>> close(equity_curves(frame))
    """
    figure, ax = _figure()
    others = [c for c in equity.columns if c not in ("strategy", "buy_and_hold")]
    for position, name in enumerate(others):
        ax.plot(
            equity.index,
            equity[name],
            color=_baseline_color(name, position),
            lw=1.3,
            label=f"{name} forecasts, same rule",
        )
    if "buy_and_hold" in equity:
        ax.plot(
            equity.index,
            equity["buy_and_hold"],
            color=BASELINE_COLORS["buy_and_hold"],
            lw=1.6,
            ls="--",
            label="buy and hold",
        )
    if "strategy" in equity:
        ax.plot(equity.index, equity["strategy"], color=MODEL_COLOR, lw=2.2, label="model strategy")
    ax.axhline(1.0, color="#999999", lw=0.8, ls=":")
    ax.set_title("Simulated equity: growth of 1.0 (after costs)")
    _date_axis(ax)
    ax.set_ylabel("Equity (start = 1.0)")
    ax.legend(frameon=False, loc="best")
    return figure


def leaderboard(table: pd.DataFrame, metric: str = "mase") -> Figure:
    """Horizontal bars of one metric per run or model, best at the top.

    Lower is better except for ``skill_vs_naive_pct`` and
    ``directional_accuracy``. NaN values are left out. For MASE and Theil's U
    a dotted line marks 1.0 (the naive forecast's level).

    Example:
        >>> import pandas as pd
        >>> table = pd.DataFrame({"mase": [1.2, 0.9, 1.0]}, index=["lstm", "gru", "naive"])
        >>> figure = leaderboard(table)
        >>> [t.get_text() for t in figure.axes[0].get_yticklabels()]
        ['lstm', 'naive', 'gru']
        >>> close(figure)
    """
    values = pd.to_numeric(table[metric], errors="coerce").dropna()
    higher = metric in HIGHER_IS_BETTER
    ordered = values.sort_values(ascending=higher)  # barh draws bottom-up: best on top
    figure, ax = _figure((8.0, max(2.5, 0.45 * len(ordered) + 1.5)))
    best = ordered.index[-1] if len(ordered) else None
    colors = [MODEL_COLOR if name == best else OTHER_COLOR for name in ordered.index]
    positions = np.arange(len(ordered))
    ax.barh(positions, ordered.to_numpy(), color=colors)
    ax.set_yticks(positions, [str(name) for name in ordered.index])
    for position, value in zip(positions, ordered.to_numpy(), strict=True):
        ax.annotate(
            f" {value:.4g}",
            (value, position),
            va="center",
            ha="left" if value >= 0 else "right",
            fontsize=9,
        )
    if metric in ("mase", "theils_u"):
        ax.axvline(1.0, color=ACTUAL_COLOR, lw=1, ls=":", label="1.0 = naive level")
        ax.legend(frameon=False, loc="lower right")
    direction = "higher is better" if higher else "lower is better"
    ax.set_title(f"Leaderboard by {metric} ({direction})")
    ax.set_xlabel(metric)
    ax.margins(x=0.15)
    return figure


# ----------------------------------------------------------------- helpers
def _figure(size: tuple[float, float] = WIDE) -> tuple[Figure, Axes]:
    """A new figure with one axes and the house style, outside pyplot."""
    from matplotlib.figure import Figure

    figure = Figure(figsize=size, layout="constrained", facecolor="white")
    ax = figure.add_subplot()
    ax.grid(True, color="#e6e6e6", lw=0.8)
    ax.set_axisbelow(True)
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)
    return figure, ax


def _date_axis(ax: Axes) -> None:
    import matplotlib.dates as mdates

    locator = mdates.AutoDateLocator(minticks=4, maxticks=10)
    ax.xaxis.set_major_locator(locator)
    ax.xaxis.set_major_formatter(mdates.ConciseDateFormatter(locator))
    ax.set_xlabel("Date (trading sessions)")


def _log_axis(ax: Axes) -> None:
    """Log scale with plain tick labels (0.05, 0.1, 0.2) instead of powers of ten."""
    from matplotlib.ticker import FuncFormatter, LogLocator, NullFormatter

    ax.set_yscale("log")
    ax.yaxis.set_major_locator(LogLocator(subs=(1.0, 2.0, 5.0)))
    ax.yaxis.set_major_formatter(FuncFormatter(lambda value, _: f"{value:g}"))
    ax.yaxis.set_minor_formatter(NullFormatter())


def _zoomed_limits(values: np.ndarray) -> tuple[float, float]:
    """Y limits around the bars' tops: a margin of the spread, not the full 0..1 range."""
    if not len(values):
        return 0.0, 1.0
    low, high = float(values.min()), float(values.max())
    spread = max(high - low, 1e-4 * max(abs(high), 1e-12), 1e-6)
    return low - 0.6 * spread, high + 0.7 * spread


def _lag_label(lag: int) -> str:
    text = f"{lag:+d}".replace("-", MINUS).replace("+0", "0")
    return {-1: f"{text}\n(yesterday)", 0: "0\n(same day)"}.get(lag, text)


def _lookup(values: Mapping[Any, float], lag: int) -> Any:
    return values[lag] if lag in values else values[str(lag)]


def _coverage_title(level: float | None, coverage: float | None) -> str:
    nominal = "?" if level is None else f"{level:.0%}"
    empirical = "?" if coverage is None or not math.isfinite(coverage) else f"{coverage:.1%}"
    return f"Prediction interval: nominal {nominal} vs empirical {empirical} coverage"


def _baseline_color(name: str, position: int) -> str:
    return BASELINE_COLORS.get(name, _EXTRA_COLORS[position % len(_EXTRA_COLORS)])


def _marker(points: int) -> str | None:
    return "o" if points <= 30 else None


def _float(value: Any) -> float:
    return float("nan") if value is None else float(value)


def _floats(values: Sequence[Any]) -> np.ndarray:
    return np.array([_float(v) for v in values], dtype=float)

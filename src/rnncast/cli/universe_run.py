"""The universe path of ``rnncast run`` and ``rnncast backtest``: one global model, many tickers.

:func:`rnncast.cli.pipelines.run` hands a long frame (several tickers) to
:func:`run_universe`: the global :class:`~rnncast.Forecaster` is fitted on
every ticker's training rows, evaluated on the test part of every ticker (a
:class:`~rnncast.evaluate.UniverseReport`) and forecasts the next sessions of
every ticker. The run folder holds the same files as a single-series run, in
long form: ``predictions.csv`` and ``forecast.csv`` have a ``ticker`` column
next to ``date``; ``metrics.json`` carries the universe summary and the
per-ticker table; ``report.html`` leads with the universe verdict.

Example:
    >>> import rnncast as rc
    >>> frame = rc.datasets.load_sample(["AAPL", "MSFT"])
    >>> train, val, test = rc.data.chronological_split(frame, val=0.15, test=0.15)
    >>> print(data_line("samples", frame, train, val, test))
    data: samples, 2 tickers, 6540 rows 2000-03-01 .. 2013-03-01; train 4580, val 980, test 980
"""

from __future__ import annotations

import dataclasses
import json
import time
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

import rnncast as rc
from rnncast._internal.jsonsafe import json_safe
from rnncast.saving import atomic_folder

if TYPE_CHECKING:
    from rnncast.cli.pipelines import Prepared, RunResult
    from rnncast.evaluate import UniverseReport
    from rnncast.forecasting.forecaster import Forecaster

FORECAST_ROWS = 10  # tickers shown in the console forecast table


def data_line(
    source: str,
    frame: pd.DataFrame,
    train: pd.DataFrame,
    val: pd.DataFrame,
    test: pd.DataFrame,
) -> str:
    """The ``data:`` progress line of a long frame: tickers, rows, first and last date, split."""
    dates = _dates(frame)
    return (
        f"data: {source}, {frame['ticker'].nunique()} tickers, {len(frame)} rows "
        f"{dates.min().date()} .. {dates.max().date()}; train {len(train)}, val {len(val)}, "
        f"test {len(test)}"
    )


def run_universe(
    config: dict[str, Any],
    target: Path,
    say: Any,
    data: Prepared,
    notes: tuple[str, ...] = (),
    fit: Callable[[dict[str, Any], Prepared], Forecaster] | None = None,
) -> RunResult:
    """Fit the global model on train, evaluate it on test (context: val), forecast every ticker.

    ``fit(config, data)`` replaces the default fit on train (see :func:`pipelines.run`).
    """
    from rnncast.cli import pipelines

    started = time.perf_counter()
    say(data_line(data.source, data.frame, data.train, data.val, data.test))
    fc = (fit or pipelines.fit_train)(config, data)
    fitted_at = time.perf_counter()
    interval = config["evaluation"]["interval"]
    report = fc.evaluate(
        data.test,
        context=data.val,
        baselines=pipelines.selected_baselines(config),
        interval=interval,
    )
    if notes:
        report = dataclasses.replace(report, notes=(*report.notes, *notes))
    evaluated_at = time.perf_counter()
    future = fc.predict_next(
        data.frame,
        days=config["forecast"]["days"],
        interval=interval if fc.calibration_scores_ is not None else None,
    )
    timings = {"fit_s": fitted_at - started, "evaluate_s": evaluated_at - fitted_at}
    with atomic_folder(target) as folder:
        fc.save(folder / "forecaster")
        (folder / "config.toml").write_text(pipelines._dump(config), encoding="utf-8")
        predictions = long_predictions(report)
        predictions.to_csv(folder / "predictions.csv", index=False)
        forecast = future.reset_index()
        forecast.to_csv(folder / "forecast.csv", index=False)
        metrics = _metrics_json(report, config, data, fc, timings)
        (folder / "metrics.json").write_text(json.dumps(metrics, indent=2), encoding="utf-8")
        timings["total_s"] = time.perf_counter() - started
        _write_report(folder, config, data, fc, report, timings)
    return pipelines.RunResult(
        target, report.verdict, report.to_frame(), future, extra={"universe": report}
    )


def long_predictions(report: UniverseReport) -> pd.DataFrame:
    """Every ticker's step-1 frame stacked: ``ticker``, ``date``, ``actual``, ``model``, ...

    The ``base`` column (the last known price) is left out, as in a single-series
    ``predictions.csv``.
    """
    frames = []
    for ticker, frame in report.predictions.items():
        part = frame.drop(columns="base", errors="ignore").rename_axis("date").reset_index()
        part.insert(0, "ticker", ticker)
        frames.append(part)
    return pd.concat(frames, ignore_index=True)


def _metrics_json(
    report: UniverseReport,
    config: dict[str, Any],
    data: Prepared,
    fc: Forecaster,
    timings: dict[str, float],
) -> dict[str, Any]:
    from rnncast.cli import pipelines

    universe = report.to_dict()
    return {
        "universe": universe["summary"],
        "verdict": universe["verdict"],
        "verdict_details": universe["verdict_details"],
        "per_ticker": universe["table"],
        "tickers": universe["tickers"],
        **pipelines.run_facts(config, data, fc, timings, _dates(data.test)),
    }


def _write_report(
    folder: Path,
    config: dict[str, Any],
    data: Prepared,
    fc: Forecaster,
    report: UniverseReport,
    timings: dict[str, float],
) -> None:
    """``report.html``: the universe verdict, the universe section, then the training curves."""
    from rnncast.cli import pipelines
    from rnncast.cli.html_report import write_report

    run_info = {
        "name": config["name"],
        "created": datetime.now().isoformat(timespec="seconds"),
        "verdict": report.verdict,
        "universe": report,
        "history": dict(fc.history_.history),
        "metadata": pipelines.metadata(config, data, fc, timings),
    }
    write_report(run_info, folder)


def _dates(frame: pd.DataFrame) -> pd.DatetimeIndex:
    """The dates of a long frame (date index with a ticker column, or a (ticker, date) index)."""
    index = frame.index
    if isinstance(index, pd.MultiIndex):
        return pd.DatetimeIndex(index.get_level_values("date"))
    return pd.DatetimeIndex(index)


# ------------------------------------------------------------------ backtest
def backtest_universe(config: dict[str, Any], run_dir: Path, say: Any, data: Prepared) -> RunResult:
    """Walk-forward of the global model on every ticker: per-ticker and pooled out-of-sample.

    Each fold refits the global model. The run folder holds ``folds.csv``,
    ``predictions.csv`` (long: ``ticker``, ``date``, ``actual``, ``forecast``,
    ``base``, ``fold``), ``per_ticker.csv``, ``metrics.json`` (pooled and
    per-ticker metrics), ``config.toml`` and ``report.html`` (the pooled line,
    the per-ticker table, the folds). The trading simulation of a
    single-series backtest is not run for a universe.
    """
    from rnncast.cli import pipelines

    started = time.perf_counter()
    settings = config["backtest"]
    fc = pipelines.build_forecaster(config)
    kwargs = pipelines.fit_kwargs(config, epochs=settings["epochs"])
    line = data_line(data.source, data.frame, data.train, data.val, data.test)
    say(f"{line.split('; train')[0]}; {settings['folds']} folds")
    result = rc.backtest.walk_forward(
        fc,
        data.frame,
        validation=0.1 if kwargs["callbacks"] else 0.0,
        fit_kwargs=kwargs,
        initial_train=settings["initial_train"],
        max_folds=settings["folds"],
        refit_every=settings["refit_every"],
        window=settings["window"],
    )
    timings = {"backtest_s": time.perf_counter() - started}
    per_ticker = result.per_ticker
    with atomic_folder(run_dir) as folder:
        (folder / "config.toml").write_text(pipelines._dump(config), encoding="utf-8")
        result.folds.to_csv(folder / "folds.csv", index=False)
        result.predictions.reset_index().to_csv(folder / "predictions.csv", index=False)
        per_ticker.to_csv(folder / "per_ticker.csv")
        metrics = {
            **result.to_dict(),
            "pooled": json_safe(result.metrics),
            "name": config["name"],
            "timings": timings,
        }
        (folder / "metrics.json").write_text(
            json.dumps(json_safe(metrics), indent=2), encoding="utf-8"
        )
        _write_backtest_report(folder, config, data, result, timings)
    return pipelines.RunResult(
        run_dir, table=per_ticker, extra={"walk_forward": result, "pooled": result.metrics}
    )


def backtest_sentence(result: Any) -> str:
    """One line on the pooled walk-forward: tickers, folds and the skill vs naive (RMSE)."""
    pooled = result.metrics
    return (
        f"walk-forward of one global model over {len(result.per_ticker)} tickers and "
        f"{len(result.folds)} folds: pooled RMSE skill vs naive "
        f"{pooled['skill_vs_naive_pct']:+.2f}% (returns scaled by each forecast's base price), "
        f"direction right {pooled['directional_accuracy']:.1%}"
    )


def _write_backtest_report(
    folder: Path, config: dict[str, Any], data: Prepared, result: Any, timings: dict[str, float]
) -> None:
    """``report.html``: the pooled line, the per-ticker table and the folds."""
    from rnncast.cli import pipelines
    from rnncast.cli.html_report import write_report

    run_info = {
        "name": f"{config['name']} backtest",
        "created": datetime.now().isoformat(timespec="seconds"),
        "verdict": backtest_sentence(result),
        "metrics": result.per_ticker,
        "backtest": {"folds": result.folds},
        "metadata": pipelines.metadata(config, data, None, timings),
    }
    write_report(run_info, folder)


# ------------------------------------------------------------------ console
TABLE_COLUMNS = {  # UniverseReport.to_frame() column -> console header
    "mase": "MASE",
    "naive_mase": "naive MASE",
    "skill_pct": "MAE skill %",
    "dm_p_better": "DM p (better)",
    "bh_p": "BH p",
    "beats_naive_after_fdr": "beats after FDR",
    "lag_flag": "repeats yesterday",
    "n": "days",
}


def print_universe(report: UniverseReport, rows: int = FORECAST_ROWS) -> None:
    """The per-ticker table (best ``rows`` by skill, then ``... N more``) and the verdict line."""
    import shutil

    from rich.console import Console
    from rich.table import Table

    table = report.to_frame()
    view = Table(title=f"Test part: {len(table)} tickers, sorted by MAE skill vs naive")
    view.add_column("ticker")
    for header in TABLE_COLUMNS.values():
        view.add_column(header, justify="right")
    for ticker, row in table.head(rows).iterrows():
        view.add_row(str(ticker), *(_cell(row[column]) for column in TABLE_COLUMNS))
    Console(width=max(100, shutil.get_terminal_size().columns)).print(view)
    if len(table) > rows:
        print(f"... {len(table) - rows} more tickers (metrics.json, report.html)")
    print(report.verdict.console_line())


def _cell(value: Any) -> str:
    if isinstance(value, bool | np.bool_):
        return "yes" if value else "no"
    if isinstance(value, int | np.integer):
        return str(value)
    return "-" if pd.isna(value) else f"{value:.4g}"


def print_forecast(forecast: pd.DataFrame, rows: int = FORECAST_ROWS) -> None:
    """Next sessions of the first ``rows`` tickers, one line per ticker (then ``... N more``)."""
    tickers = list(dict.fromkeys(forecast.index.get_level_values("ticker")))
    days = forecast.loc[tickers[0]].index
    print(f"Next sessions ({', '.join(d.strftime('%a %Y-%m-%d') for d in days)}):")
    for ticker in tickers[:rows]:
        part = forecast.loc[ticker]
        cells = []
        for _, row in part.iterrows():
            band = f" [{row['lower']:.4g}, {row['upper']:.4g}]" if "lower" in row else ""
            cells.append(f"{row['forecast']:.4f}{band}")
        print(f"  {ticker:<8} {'  '.join(cells)}")
    if len(tickers) > rows:
        print(f"  ... {len(tickers) - rows} more tickers (forecast.csv)")

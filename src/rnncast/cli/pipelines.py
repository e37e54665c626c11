"""The pipelines behind the ``rnncast`` command: run, train, backtest, compare.

Each writes a run folder ``<out>/<YYYYmmdd-HHMMSS>-<name>/``, its name claimed
before any work starts (see :func:`reserved_run_path`: concurrent runs with the
same ``out`` get distinct folders, and an unwritable ``out`` fails before
training). The folder is assembled under a hidden name and renamed when
complete, so an interrupted run never leaves a half-written folder under its
final name. Progress
messages go to ``say`` (default: :func:`rnncast._internal.output.write`,
which the command points at stderr); results come back in :class:`RunResult`.
"""

from __future__ import annotations

import dataclasses
import json
import os
import platform
import shutil
import socket
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import pandas as pd

import rnncast as rc
from rnncast._internal import output
from rnncast._internal.jsonsafe import json_safe
from rnncast.cli import universe_run
from rnncast.cli.config import build_layer, dump_config
from rnncast.evaluate.verdict import Verdict
from rnncast.exceptions import ConfigError
from rnncast.forecasting.forecaster import Forecaster
from rnncast.forecasting.universe import is_universe
from rnncast.optimizers import OPTIMIZERS
from rnncast.saving import atomic_folder


@dataclass
class Prepared:
    """Data of one run: the frame, where it came from, and its chronological split."""

    frame: pd.DataFrame
    source: str
    train: pd.DataFrame
    val: pd.DataFrame
    test: pd.DataFrame


@dataclass
class RunResult:
    """What a pipeline leaves behind: its folder and the numbers the command prints."""

    folder: Path
    verdict: Verdict | None = None
    table: pd.DataFrame | None = None
    forecast: pd.DataFrame | None = None
    extra: dict[str, Any] = field(default_factory=dict)


# ------------------------------------------------------------------ data and model
def load_data(data: dict[str, Any]) -> tuple[pd.DataFrame, str]:
    """The price frame a config asks for (a CSV file, or a sample ticker)."""
    tickers = data.get("tickers")
    if data.get("csv"):
        frame = rc.datasets.read_csv(
            data["csv"],
            ticker=data.get("ticker"),
            tickers=tickers,
            fill=data.get("fill"),
            date_format=data.get("date_format"),
            allow_jumps=bool(data.get("allow_jumps")),
            required=_columns_in_use(data),
        )
        return _one_ticker(frame, data["csv"]), str(data["csv"])
    if tickers:  # several samples: one long frame
        frame = load_sample(tickers)
        names = list(frame["ticker"].unique())
        source = f"sample{'s' if len(names) > 1 else ''} {', '.join(names)}"
        return _one_ticker(frame, source), source
    ticker = data.get("ticker") or "AAPL"
    return load_sample(ticker), f"sample {ticker.upper()}"


def _columns_in_use(data: dict[str, Any]) -> list[str]:
    """The columns a run reads (features and target): only they must be complete."""
    from rnncast.data.features import feature_columns

    return list(dict.fromkeys([*feature_columns(data["features"]), data["target"]]))


def load_sample(ticker: str | list[str], adjusted: bool = True) -> pd.DataFrame:
    """A bundled sample (a list: several, as a long frame); unknown tickers get the CLI fix."""
    samples = rc.datasets.available_samples()
    asked = [ticker] if isinstance(ticker, str) else list(ticker)
    unknown = [t for t in asked if str(t).upper() not in samples]
    if unknown and isinstance(ticker, str):
        raise ConfigError(
            f"no sample data for ticker {ticker!r}; available: {', '.join(samples)}. For other "
            f"tickers, run: rnncast data download {ticker} --csv {str(ticker).lower()}.csv, then "
            f"pass --csv {str(ticker).lower()}.csv to run, train, backtest or predict."
        )
    if unknown:
        raise ConfigError(
            f"no sample data for {', '.join(map(repr, unknown))}; available: "
            f"{', '.join(samples)}. For other tickers, run: rnncast data download "
            f"{' '.join(asked)} --csv universe.csv, then pass --csv universe.csv."
        )
    return rc.datasets.load_sample(ticker, adjusted=adjusted)


def prepare(config: dict[str, Any]) -> Prepared:
    """Load, check and split the data of ``config``."""
    data = config["data"]
    frame, source = load_data(data)
    parts = rc.data.chronological_split(
        frame,
        val=data["val"],
        test=data["test"],
        val_start=data.get("val_start"),
        test_start=data.get("test_start"),
    )
    return Prepared(frame, source, *parts)


def build_forecaster(config: dict[str, Any]) -> Forecaster:
    """A Forecaster with the configured layers, compiled with the configured optimizer."""
    training, forecast, data = config["training"], config["forecast"], config["data"]
    model = rc.Sequential(
        [build_layer(spec) for spec in config["model"]["layers"]],
        name=config["name"],
        seed=training["seed"],
    )
    optimizer = OPTIMIZERS[training["optimizer"]](learning_rate=training["learning_rate"])
    model.compile(
        optimizer=optimizer,
        loss=training["loss"],
        metrics=["mae"],
        device=training["device"],
        mixed_precision=training["mixed_precision"],
    )
    return Forecaster(
        model,
        lookback=forecast["lookback"],
        horizon=forecast["horizon"],
        features=data["features"],
        target=data["target"],
        target_transform=forecast["target_transform"],
        scaler=forecast["scaler"],
        strategy=forecast["strategy"],
        calendar=forecast["calendar"],
        seed=training["seed"],
    )


def fit_kwargs(config: dict[str, Any], epochs: int | None = None) -> dict[str, Any]:
    """Keras fit arguments from the [training] section (early stopping on val_loss)."""
    training = config["training"]
    callbacks = []
    if training["patience"]:
        callbacks.append(
            rc.callbacks.EarlyStopping(patience=training["patience"], restore_best_weights=True)
        )
    return {
        "epochs": epochs or training["epochs"],
        "batch_size": training["batch_size"],
        "verbose": training["verbose"],
        "callbacks": callbacks,
    }


def selected_baselines(config: dict[str, Any]) -> list[Any]:
    """The configured baselines, fitted later on the training rows."""
    forecast = config["forecast"]
    common = {
        "lookback": forecast["lookback"],
        "horizon": forecast["horizon"],
        "target": config["data"]["target"],
    }
    return [
        b
        for b in rc.baselines.all_baselines(**common)
        if b.name in config["evaluation"]["baselines"]
    ]


# ------------------------------------------------------------------ pipelines
def run(
    config: dict[str, Any],
    out: str | Path = "runs",
    say: Any = output.write,
    notes: tuple[str, ...] = (),
    fit: Callable[[dict[str, Any], Prepared], Forecaster] | None = None,
) -> RunResult:
    """Load, split, train, evaluate against baselines, forecast, write the run folder.

    ``notes`` are caveats the verdict carries (e.g. ``rnncast tune``'s number of trials).
    ``fit(config, data)`` replaces the default fit (:func:`fit_train`), e.g. with
    ``rnncast tune``'s refit on train + validation; it must not read ``data.test``.
    """
    with reserved_run_path(out, config["name"]) as target:
        return _run(config, target, say, notes, fit)


def fit_train(config: dict[str, Any], data: Prepared) -> Forecaster:
    """The configured forecaster fitted on train (validation: early stopping, intervals)."""
    fc = build_forecaster(config)
    return fc.fit(data.train, validation=data.val, **fit_kwargs(config))


def _run(
    config: dict[str, Any],
    target: Path,
    say: Any,
    notes: tuple[str, ...] = (),
    fit: Callable[[dict[str, Any], Prepared], Forecaster] | None = None,
) -> RunResult:
    started = time.perf_counter()
    data = prepare(config)
    if is_universe(data.frame):
        return universe_run.run_universe(config, target, say, data, notes, fit)
    say(
        f"data: {data.source}, {len(data.frame)} rows {data.frame.index[0].date()} .. "
        f"{data.frame.index[-1].date()}; train {len(data.train)}, val {len(data.val)}, "
        f"test {len(data.test)}"
    )
    fc = (fit or fit_train)(config, data)
    fitted_at = time.perf_counter()
    report = fc.evaluate(
        data.test,
        context=data.val,
        baselines=selected_baselines(config),
        interval=config["evaluation"]["interval"],
    )
    if notes:
        report = dataclasses.replace(report, notes=(*report.notes, *notes))
    forecasts = report.forecasts
    evaluated_at = time.perf_counter()
    interval = config["evaluation"]["interval"]
    future = fc.predict_next(
        data.frame,
        days=config["forecast"]["days"],
        interval=interval if fc.calibration_scores_ is not None else None,
    )
    timings = {"fit_s": fitted_at - started, "evaluate_s": evaluated_at - fitted_at}
    with atomic_folder(target) as folder:
        fc.save(folder / "forecaster")
        (folder / "config.toml").write_text(_dump(config), encoding="utf-8")
        predictions = prediction_table(data.test, forecasts, config["data"]["target"])
        predictions.to_csv(folder / "predictions.csv", index_label="date")
        future.to_csv(folder / "forecast.csv", index_label="date")
        metrics = _metrics_json(report, config, data, fc, timings)
        (folder / "metrics.json").write_text(json.dumps(metrics, indent=2), encoding="utf-8")
        timings["total_s"] = time.perf_counter() - started
        _write_report(folder, config, data, fc, report, predictions, future, timings)
    return RunResult(target, report.verdict, report.to_frame(), future)


def train_only(
    config: dict[str, Any], out: str | Path = "runs", say: Any = output.write
) -> RunResult:
    """Fit and save the forecaster (no evaluation)."""
    with reserved_run_path(out, config["name"]) as target:
        data = prepare(config)
        say(f"data: {data.source}, train {len(data.train)} rows, val {len(data.val)}")
        fc = build_forecaster(config)
        fc.fit(data.train, validation=data.val, **fit_kwargs(config))
        with atomic_folder(target) as folder:
            fc.save(folder / "forecaster")
            (folder / "config.toml").write_text(_dump(config), encoding="utf-8")
        return RunResult(target)


def fit_only(config: dict[str, Any]) -> Forecaster:
    """Fit the forecaster and write nothing: ranks > 0 of ``rnncast run --workers N``."""
    data = prepare(config)
    fc = build_forecaster(config)
    fc.fit(data.train, validation=data.val, **fit_kwargs(config))
    return fc


def prediction_table(
    test: pd.DataFrame, forecasts: dict[str, pd.DataFrame], target: str
) -> pd.DataFrame:
    """Step-1 forecasts of every model next to the actual price (``predictions.csv``)."""
    index = forecasts["model"].index
    table = pd.DataFrame({"actual": test[target].reindex(index)}, index=index)
    for name, frame in forecasts.items():
        table[name] = frame["step_1"]
    return table


def _metrics_json(
    report: Any, config: dict[str, Any], data: Prepared, fc: Forecaster, timings: dict[str, float]
) -> dict[str, Any]:
    summary = report.to_dict()
    return {
        "models": json_safe(report.to_frame().to_dict(orient="index")),
        "verdict": str(report.verdict),
        "verdict_details": report.verdict.to_dict(),
        "per_step": summary.get("per_step"),
        "lag": summary.get("lag"),
        "coverage": summary.get("coverage"),
        **run_facts(config, data, fc, timings, data.test.index),
    }


def run_facts(
    config: dict[str, Any],
    data: Prepared,
    fc: Forecaster,
    timings: dict[str, float],
    test_dates: pd.DatetimeIndex,
) -> dict[str, Any]:
    """The ``metrics.json`` fields every run shares: name, data, test span, epochs, timings."""
    test = {
        "start": str(test_dates.min().date()),
        "end": str(test_dates.max().date()),
        "rows": len(data.test),
    }
    if "ticker" in data.test.columns:
        test["tickers"] = int(data.test["ticker"].nunique())
    return {
        "name": config["name"],
        "data": {"source": data.source, **fc.train_info_},
        "test": test,
        "epochs": len(fc.history_.epoch),
        "timings": timings,
    }


def _write_report(
    folder: Path,
    config: dict[str, Any],
    data: Prepared,
    fc: Forecaster,
    report: Any,
    predictions: pd.DataFrame,
    future: pd.DataFrame,
    timings: dict[str, float],
    backtest: dict[str, Any] | None = None,
) -> None:
    from rnncast.cli.html_report import write_report

    interval = config["evaluation"]["interval"]
    coverage = (report.coverage or {}).get("model", {}).get("step_1")
    band = report.intervals.get("model")
    intervals = (
        None
        if band is None
        else pd.DataFrame({"lower": band["lower"]["step_1"], "upper": band["upper"]["step_1"]})
    )
    run_info = {
        "name": config["name"],
        "created": datetime.now().isoformat(timespec="seconds"),
        "verdict": report.verdict,
        "metrics": report.to_frame(),
        "history": dict(fc.history_.history),
        "predictions": predictions,
        "intervals": intervals,
        "interval_level": interval,
        "coverage": coverage,
        "lag": report.lag,
        "forecast": future,
        "backtest": backtest,
        "metadata": metadata(config, data, fc, timings),
    }
    write_report(run_info, folder)


def metadata(
    config: dict[str, Any], data: Prepared, fc: Forecaster | None, timings: dict[str, float]
) -> dict[str, Any]:
    """Versions, seed, data fingerprint, timings and the resolved config."""
    import torch

    fingerprint = fc.train_info_ if fc is not None and hasattr(fc, "train_info_") else {}
    return {
        "rnncast": rc.__version__,
        "torch": torch.__version__,
        "python": platform.python_version(),
        "seed": config["training"]["seed"],
        "data": {"source": data.source, **fingerprint},
        "timings": {k: round(v, 2) for k, v in timings.items()},
        "config": _dump(config),
    }


# ------------------------------------------------------------------ folders
RESERVED = ".reserved"  # suffix of the hidden marker that holds a run folder's name


@contextmanager
def reserved_run_path(out: str | Path, name: str) -> Iterator[Path]:
    """Reserve a new, unique ``<out>/<YYYYmmdd-HHMMSS>-<name>`` for this process.

    The name is claimed with an exclusive ``os.mkdir`` of a hidden marker
    ``.<folder>.reserved`` (holding this host and pid) before any work starts,
    so concurrent runs with the same ``out`` never pick the same folder: a
    taken name gets a ``-2``, ``-3`` ... suffix. Creating the marker and a file
    in it also checks that ``out`` is writable, before training. The marker is
    removed on exit; the pipeline fills the folder through
    :func:`rnncast.saving.atomic_folder`, so it appears only when complete.

    Raises:
        ConfigError: ``out`` cannot be created or written, naming it and the cause.

    Example:
        >>> import tempfile
        >>> out = Path(tempfile.mkdtemp())
        >>> with reserved_run_path(out, "lstm") as first, reserved_run_path(out, "lstm") as second:
        ...     first != second, second.name.startswith(first.name), second.exists()
        (True, True, False)
    """
    out = Path(out)
    _writable_folder(out)
    _clean_stale_reservations(out)
    stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
    path, marker = _claim(out, f"{stamp}-{_slug(name)}")
    try:
        yield path
    finally:
        shutil.rmtree(marker, ignore_errors=True)


def _claim(out: Path, base: str) -> tuple[Path, Path]:
    """``(run folder, marker)``: the first ``base[-N]`` whose marker this process created."""
    for number in range(1, 10_000):
        candidate = base if number == 1 else f"{base}-{number}"
        marker = out / f".{candidate}{RESERVED}"
        try:
            os.mkdir(marker)  # exclusive: exactly one process gets each name
        except FileExistsError:
            continue
        except OSError as err:
            raise ConfigError(_unwritable(out, err)) from err
        if (out / candidate).exists():  # a finished run holds it
            os.rmdir(marker)
            continue
        try:
            _write_owner(marker)
        except OSError as err:
            shutil.rmtree(marker, ignore_errors=True)
            raise ConfigError(_unwritable(out, err)) from err
        return out / candidate, marker
    raise ConfigError(f"--out {out}: no free run folder name for {base!r}; clean the folder.")


def _writable_folder(out: Path) -> None:
    if out.exists() and not out.is_dir():
        raise ConfigError(f"--out {out} is a file, not a folder; pass a folder for run folders.")
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as err:
        raise ConfigError(_unwritable(out, err)) from err


def _write_owner(marker: Path) -> None:
    """An exclusive file in the marker: proves ``out`` takes files, and names the owner."""
    handle = os.open(marker / "owner", os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
    try:
        os.write(handle, f"{socket.gethostname()} {os.getpid()}\n".encode())
    finally:
        os.close(handle)


def _unwritable(out: Path, err: OSError) -> str:
    cause = err.strerror or type(err).__name__
    where = f" (at {err.filename})" if err.filename and Path(err.filename) != out else ""
    return (
        f"cannot write run folders to --out {out}: {cause}{where}; pass a writable folder "
        "with --out, e.g. --out runs."
    )


def _clean_stale_reservations(out: Path) -> None:
    """Remove markers whose owner (a process on this host) is gone, e.g. after kill -9."""
    host = socket.gethostname()
    for marker in out.glob(f".*{RESERVED}"):
        try:
            owner_host, pid = (marker / "owner").read_text(encoding="utf-8").split()
        except (OSError, ValueError):
            continue  # being created, or not ours to judge
        if owner_host == host and pid.isdigit() and not _alive(int(pid)):
            shutil.rmtree(marker, ignore_errors=True)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:
        return True  # exists, owned by someone else
    return True


def _dump(config: dict[str, Any]) -> str:
    """The config as TOML for a run folder, with ``data.csv`` absolute (usable from anywhere)."""
    csv = config["data"].get("csv")
    if csv and not Path(csv).is_absolute():
        config = {**config, "data": {**config["data"], "csv": str(Path(csv).absolute())}}
    return dump_config(config)


def _slug(name: str) -> str:
    cleaned = "".join(c if c.isalnum() or c in "-_" else "-" for c in name).strip("-")
    return cleaned or "run"


def _one_ticker(frame: pd.DataFrame, source: str) -> pd.DataFrame:
    """One series: a ticker column with a single ticker is that ticker's series.

    Several tickers stay a long frame: the universe path (cli/universe_run.py).
    """
    if "ticker" not in frame.columns or frame["ticker"].nunique() > 1:
        return frame
    return frame.drop(columns="ticker")


def _no_universe_compare(data: Prepared) -> None:
    """``rnncast compare`` ranks models on one series; a universe gets the fix."""
    if not is_universe(data.frame):
        return
    tickers = sorted(str(t) for t in data.frame["ticker"].unique())
    raise ConfigError(
        f"{data.source} holds {len(tickers)} tickers and rnncast compare ranks models on one "
        f"series; pass --ticker {tickers[0]} (or set data.ticker) to compare on one of them, or "
        "run each config with rnncast run, whose universe report judges every ticker."
    )


# ------------------------------------------------------------------ backtest
def backtest(
    config: dict[str, Any], out: str | Path = "runs", say: Any = output.write
) -> RunResult:
    """Walk-forward backtest of the configured model plus a trading simulation."""
    with reserved_run_path(out, f"{config['name']}-backtest") as run_dir:
        return _backtest(config, run_dir, say)


def _backtest(config: dict[str, Any], run_dir: Path, say: Any) -> RunResult:
    started = time.perf_counter()
    data = prepare(config)
    if is_universe(data.frame):
        return universe_run.backtest_universe(config, run_dir, say, data)
    settings = config["backtest"]
    fc = build_forecaster(config)
    kwargs = fit_kwargs(config, epochs=settings["epochs"])
    validation = 0.1 if kwargs["callbacks"] else 0.0
    common = {
        "initial_train": settings["initial_train"],
        "max_folds": settings["folds"],
        "refit_every": settings["refit_every"],
        "window": settings["window"],
    }
    say(f"data: {data.source}, {len(data.frame)} rows; {settings['folds']} folds")
    level = config["evaluation"]["interval"] if fc.horizon == 1 else None
    model = rc.backtest.walk_forward(
        fc, data.frame, validation=validation, fit_kwargs=kwargs, interval=level, **common
    )
    cheap = [b for b in selected_baselines(config) if b.name in ("naive", "drift", "linear_ar")]
    steps = {"model": model.forecasts.drop(columns="fold")}
    for baseline in rc.baselines.with_naive(cheap, fc.lookback, fc.horizon, fc.target):
        steps[baseline.name] = rc.backtest.walk_forward(
            baseline, data.frame, verbose=0, **common
        ).forecasts.drop(columns="fold")
    prices = data.frame[fc.target]
    first = rc.backtest.initial_rows(settings["initial_train"], len(data.frame))
    report = rc.evaluate.evaluate_forecasts(
        prices,
        steps,
        model.predictions["base"],
        prices.iloc[:first],
        intervals=None if level is None else _adaptive_intervals(model.predictions),
        interval_level=level,
    )
    rule = {
        "rule": settings["rule"],
        "threshold": settings["threshold"],
        "cost_bps": settings["cost_bps"],
        "slippage_bps": settings["slippage_bps"],
    }
    benchmarks = {k: v for k, v in steps.items() if k in ("naive", "linear_ar")}
    trading = rc.backtest.simulate_trading(prices, steps["model"], benchmarks=benchmarks, **rule)
    timings = {"backtest_s": time.perf_counter() - started}
    with atomic_folder(run_dir) as folder:
        (folder / "config.toml").write_text(_dump(config), encoding="utf-8")
        model.folds.to_csv(folder / "folds.csv", index=False)
        predictions = prediction_table(data.frame, steps, fc.target)
        predictions.to_csv(folder / "predictions.csv", index_label="date")
        equity = _equity_table(trading, prices, benchmarks, rule)
        equity.to_csv(folder / "equity.csv", index_label="date")
        metrics = {
            "models": json_safe(report.to_frame().to_dict(orient="index")),
            "verdict": str(report.verdict),
            "verdict_details": report.verdict.to_dict(),
            "folds": model.to_dict()["folds"],
            "walk_forward": json_safe(model.metrics),
            "trading": trading.to_dict(),
            "name": config["name"],
            "timings": timings,
        }
        (folder / "metrics.json").write_text(
            json.dumps(json_safe(metrics), indent=2), encoding="utf-8"
        )
        _write_backtest_report(
            folder, config, data, report, predictions, model, trading, equity, timings
        )
    return RunResult(
        run_dir, report.verdict, report.to_frame(), extra={"trading": trading, "folds": model.folds}
    )


def _adaptive_intervals(predictions: pd.DataFrame) -> dict[str, dict[str, pd.DataFrame]]:
    """The walk-forward's adaptive conformal band as step-1 interval frames."""
    return {
        "model": {
            side: pd.DataFrame({"step_1": predictions[side].to_numpy()}, index=predictions.index)
            for side in ("lower", "upper")
        }
    }


def _equity_table(
    trading: Any, prices: pd.Series, benchmarks: dict[str, pd.DataFrame], rule: dict[str, Any]
) -> pd.DataFrame:
    """Equity curves: the strategy, buy-and-hold (before costs) and the same rule on baselines."""
    dates = trading.equity.index
    held = prices.reindex(dates)
    curves = {"strategy": trading.equity, "buy_and_hold": held / held.iloc[0]}
    for name, forecast in benchmarks.items():
        curves[name] = rc.backtest.simulate_trading(prices, forecast, **rule).equity
    return pd.DataFrame(curves)


def _write_backtest_report(
    folder: Path,
    config: dict[str, Any],
    data: Prepared,
    report: Any,
    predictions: pd.DataFrame,
    model: Any,
    trading: Any,
    equity: pd.DataFrame,
    timings: dict[str, float],
) -> None:
    from rnncast.cli.html_report import write_report

    run_info = {
        "name": f"{config['name']} backtest",
        "created": datetime.now().isoformat(timespec="seconds"),
        "verdict": report.verdict,
        "metrics": report.to_frame(),
        "history": {},
        "predictions": predictions,
        "intervals": None,
        "interval_level": None,
        "coverage": None,
        "lag": report.lag,
        "forecast": None,
        "backtest": {
            "folds": model.folds,
            "equity": equity,
            "comparison": trading.comparison,
            "disclaimer": rc.forecasting.trading.DISCLAIMER,
        },
        "metadata": metadata(config, data, None, timings),
    }
    write_report(run_info, folder)


# ------------------------------------------------------------------ compare
def compare(
    configs: list[dict[str, Any]], out: str | Path = "runs", say: Any = output.write
) -> RunResult:
    """Every config and every baseline on the same split: a ranked leaderboard."""
    with reserved_run_path(out, "compare") as run_dir:
        return _compare(configs, run_dir, say)


def _compare(configs: list[dict[str, Any]], run_dir: Path, say: Any) -> RunResult:
    started = time.perf_counter()
    first = configs[0]
    data = prepare(first)
    _no_universe_compare(data)
    say(
        f"data: {data.source}; {len(configs)} models on train {len(data.train)}, "
        f"val {len(data.val)}, test {len(data.test)}"
    )
    rows, names = {}, _unique([c["name"] for c in configs])
    lookback, horizon = first["forecast"]["lookback"], first["forecast"]["horizon"]
    chosen = rc.baselines.with_naive(
        selected_baselines(first), lookback, horizon, first["data"]["target"]
    )
    baselines = {
        b.name: b.fit(data.train).predict(data.test, context=data.val) for b in chosen
    }  # fitted once, shared by every model
    baseline_rows = None
    for number, (name, config) in enumerate(zip(names, configs, strict=True), start=1):
        begun = time.perf_counter()
        fc = build_forecaster(config)
        fc.fit(data.train, validation=data.val, **{**fit_kwargs(config), "verbose": 0})
        forecasts = {"model": fc.predict(data.test, context=data.val)}
        forecasts.update(
            {
                k: v.loc[forecasts["model"].index, forecasts["model"].columns]
                for k, v in baselines.items()
            }
        )
        report = fc.score(data.test, forecasts, context=data.val, interval=None)
        table = report.to_frame()
        rows[name] = table.loc["model"]
        if baseline_rows is None:
            baseline_rows = table.drop(index="model")
        say(
            f"[{number}/{len(configs)}] {name}: MASE {table.loc['model', 'mase']:.4g}, MAE skill "
            f"{table.loc['model', 'mae_skill_pct']:+.2f}%, {report.verdict.outcome} "
            f"({time.perf_counter() - begun:.0f}s)"
        )
    board = pd.concat([pd.DataFrame(rows).T, baseline_rows]).sort_values("mase")
    board.insert(0, "rank", range(1, len(board) + 1))
    board.index.name = "model"
    with atomic_folder(run_dir) as folder:
        board.to_csv(folder / "leaderboard.csv")
        for config in configs:
            (folder / f"{_slug(config['name'])}.toml").write_text(_dump(config), encoding="utf-8")
        (folder / "metrics.json").write_text(
            json.dumps(
                {
                    "models": json_safe(board.drop(columns="rank").to_dict(orient="index")),
                    "ranking": list(board.index),
                    "timings": {"total_s": time.perf_counter() - started},
                },
                indent=2,
            ),
            encoding="utf-8",
        )
        _write_leaderboard(folder, board, data)
    return RunResult(run_dir, table=board)


def _write_leaderboard(folder: Path, board: pd.DataFrame, data: Prepared) -> None:
    from rnncast.cli import plots
    from rnncast.cli.html_report import render_leaderboard

    figure = plots.leaderboard(board.drop(columns="rank"), metric="mase")
    image = plots.png_bytes(figure)
    (folder / "leaderboard.png").write_bytes(image)
    plots.close(figure)
    title = (
        f"Leaderboard on {data.source}, test {data.test.index[0].date()} .. "
        f"{data.test.index[-1].date()} (lower MASE is better)"
    )
    (folder / "leaderboard.html").write_text(
        render_leaderboard(board, image, title), encoding="utf-8"
    )


def _unique(names: list[str]) -> list[str]:
    seen: dict[str, int] = {}
    result = []
    for name in names:
        seen[name] = seen.get(name, 0) + 1
        result.append(name if seen[name] == 1 else f"{name}_{seen[name]}")
    return result

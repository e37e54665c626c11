"""The ``rnncast`` command: run, train, predict, tune, backtest, compare, data, config, bench.

Results (tables, verdict, forecasts, file paths) go to stdout; progress
(epochs, folds, data summaries) goes to stderr, so ``rnncast run > out.txt``
keeps only the results. User errors (bad config, missing file, unknown
ticker) print one line and exit 2; runtime failures exit 1; ``--debug``
shows the traceback.

Example:
    $ rnncast run                                   # the sample AAPL, the tutorial LSTM
    $ rnncast run --config gru --set training.epochs=5
    $ rnncast predict --model runs/20261126-101500-lstm --days 5
    $ rnncast run --workers 2                       # data-parallel training (torchrun)
"""

from __future__ import annotations

import argparse
import re
import shutil
import sys
import traceback
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pandas as pd

import rnncast as rc
from rnncast._internal import output, ranks
from rnncast.evaluate.verdict import Verdict
from rnncast.exceptions import ConfigError, FitError, RnncastError
from rnncast.models import distributed

EXIT_USER_ERROR, EXIT_RUNTIME_ERROR, EXIT_INTERRUPTED = 2, 1, 130
# Library messages name Python calls; on the command line the fix is an option.
CLI_FIXES = (
    (r"pass allow_jumps=True", "pass --allow-jumps"),
    (r"pass date_format=(?= |\()", "pass --date-format"),
    (r"; on the command line --date-format\.", "."),
    (r" \(--date-format on the command line\)", ""),
    (r"date_format=('[^']*')", r"--date-format \1"),
    (
        r"leave ticker= out to use it as it is, or pass the file of that ticker\.",
        "leave --ticker (data.ticker) out to use it as it is, or pass the file of that ticker.",
    ),
    (
        r"To work offline, read a CSV export with rnncast\.datasets\.read_csv.*",
        "To work offline, pass --csv FILE with a price CSV, or a sample --ticker "
        "(rnncast data list).",
    ),
    (r"rnncast\.datasets\.download needs", "rnncast data download needs"),
    (r"leave tickers out, or pass", "leave --tickers (data.tickers) out, or pass"),
    (
        r"Pass fill='ffill' to carry the last price forward, fill='drop' to drop those rows\.",
        "Pass --set data.fill=ffill to carry the last price forward, or --set data.fill=drop "
        "to drop those rows.",
    ),
    (
        r"run rc\.data\.validate\(frame, fill='ffill'\) or drop those rows first\.",
        "pass --set data.fill=ffill, or remove those rows from the file.",
    ),
    (
        r"clean the file or pass pd\.read_csv options .* to read_csv\.",
        "clean the file (plain numbers; leave missing values empty).",
    ),
    (
        r"select one ticker, e\.g\. frame\[frame\.ticker == '[^']*'\]\.",
        "pass --ticker with one of the file's tickers.",
    ),
    (
        r"Train again with a lower learning rate \(e\.g\. 10x lower\), or clipnorm=1\.0 on "
        r"the optimizer\.",
        "Run again with a lower --set training.learning_rate (e.g. 10x lower).",
    ),
)
SUMMARY_COLUMNS = [
    "rmse",
    "mase",
    "mae_skill_pct",
    "dm_p_value",
    "directional_accuracy",
    "direction_base_rate",
    "directional_p_value",
]
HEADERS = {  # short console headers; the report's tooltips explain each column
    "rmse": "RMSE",
    "mase": "MASE",
    "mae_skill_pct": "MAE skill %",
    "dm_p_value": "DM p",
    "directional_accuracy": "hit rate",
    "direction_base_rate": "up days",
    "directional_p_value": "PT p",
}


def main(argv: Sequence[str] | None = None) -> int:
    """Run the ``rnncast`` command line; returns the exit code."""
    parser = _parser()
    args = parser.parse_args(argv)
    if not hasattr(args, "handler"):
        parser.print_help()
        return EXIT_USER_ERROR
    if getattr(args, "workers", 1) > 1 and not distributed.launched():
        return _launch_workers(list(sys.argv[1:] if argv is None else argv), args.workers)
    try:
        _check_workers(args)
        with output.redirect(sys.stderr):  # progress to stderr, results to stdout
            code = args.handler(args)
    except KeyboardInterrupt:
        if not ranks.is_main_process():
            return EXIT_INTERRUPTED
        print("rnncast: interrupted; no run folder was left half-written.", file=sys.stderr)
        return EXIT_INTERRUPTED
    except RnncastError as err:
        if args.debug:
            traceback.print_exc()
        runtime = isinstance(err, FitError)
        print(f"rnncast: {'failed' if runtime else 'error'}: {cli_message(err)}", file=sys.stderr)
        return EXIT_RUNTIME_ERROR if runtime else EXIT_USER_ERROR
    except Exception as err:  # a bug or an environment problem, not a user error
        if args.debug:
            raise
        print(
            f"rnncast: failed: {type(err).__name__}: {err} (use --debug for the traceback)",
            file=sys.stderr,
        )
        return EXIT_RUNTIME_ERROR
    return code if isinstance(code, int) else 0


def _check_workers(args: argparse.Namespace) -> None:
    """``--workers`` is a count >= 1; under torchrun only run and train can share the work."""
    if getattr(args, "workers", 1) < 1:
        raise ConfigError(f"--workers must be 1 or more processes, got {args.workers}.")
    if distributed.launched() and args.handler not in (_run, _train):
        raise ConfigError(
            "only `rnncast run` and `rnncast train` train on several processes; start this "
            "command without torchrun (or --workers)."
        )


def _launch_workers(argv: list[str], workers: int) -> int:
    """``--workers N``: the same command in N processes under ``torchrun`` (one machine).

    Runs ``python -m torch.distributed.run --standalone --nproc_per_node N -m
    rnncast <the same arguments without --workers>`` and returns its exit code.
    Ctrl-C reaches torchrun, which passes it on to every rank.
    """
    rest, skip = [], False
    for arg in argv:
        if skip or arg.startswith("--workers="):
            skip = False
            continue
        if arg == "--workers":
            skip = True
            continue
        rest.append(arg)
    command = [sys.executable, "-m", "torch.distributed.run", "--standalone"]
    command += [f"--nproc_per_node={workers}", "-m", "rnncast", *rest]
    print(f"rnncast: training on {workers} processes: {' '.join(command)}", file=sys.stderr)
    import signal
    import subprocess

    previous = signal.signal(signal.SIGINT, signal.SIG_IGN)  # torchrun handles Ctrl-C
    try:
        return subprocess.run(command, check=False).returncode
    finally:
        signal.signal(signal.SIGINT, previous)


def cli_message(err: Exception) -> str:
    """The error's message with library fixes (Python calls) replaced by CLI ones.

    Example:
        >>> cli_message(rc.DataError("rnncast.datasets.download needs yfinance."))
        'rnncast data download needs yfinance.'
    """
    message = str(err)
    for pattern, fix in CLI_FIXES:
        message = re.sub(pattern, fix, message)
    return message


# ------------------------------------------------------------------ parser
def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="rnncast",
        description="Recurrent forecasting of daily prices, without look-ahead. Results go to "
        "stdout, progress to stderr.",
        epilog="example: rnncast run --ticker MSFT --set training.epochs=10",
    )
    parser.add_argument("--version", action="version", version=f"rnncast {rc.__version__}")
    parser.add_argument("--debug", action="store_true", help="show tracebacks of errors")
    commands = parser.add_subparsers(title="commands", metavar="COMMAND")
    for name, handler, summary, example in (
        (
            "run",
            _run,
            "train, evaluate against baselines, forecast, report",
            "rnncast run --config lstm --set training.epochs=10",
        ),
        (
            "train",
            _train,
            "fit and save a forecaster (no evaluation)",
            "rnncast train --config gru --out models",
        ),
    ):
        sub = _command(commands, name, handler, summary, example, pipeline=True)
        sub.add_argument(
            "--workers",
            type=int,
            default=1,
            help="train on this many processes (torchrun, DistributedDataParallel); "
            "batch_size stays the global batch (default 1)",
        )
    _predict_command(commands)
    _tune_command(commands)
    backtest = _command(
        commands,
        "backtest",
        _backtest,
        "walk-forward backtest and trading simulation",
        "rnncast backtest --config lstm --folds 5 --cost-bps 5",
        pipeline=True,
    )
    backtest.add_argument("--folds", type=int, help="number of walk-forward folds (backtest.folds)")
    backtest.add_argument(
        "--cost-bps",
        type=float,
        help="trading cost in basis points per trade, 1 bp = 0.01%% (backtest.cost_bps)",
    )
    compare = _command(
        commands,
        "compare",
        _compare,
        "rank several configs and the baselines",
        "rnncast compare lstm gru bilstm --set training.epochs=5",
    )
    compare.add_argument(
        "configs", nargs="+", metavar="CONFIG", help="packaged config names or TOML files"
    )
    _pipeline_options(compare, config=False)
    _data_commands(commands)
    _config_commands(commands)
    bench = _command(
        commands,
        "bench",
        _bench,
        "speed and memory next to plain PyTorch",
        "rnncast bench --markdown docs/benchmarks.md --json results.json",
    )
    bench.add_argument("--quick", action="store_true", help="seconds-long smoke run")
    bench.add_argument(
        "--device", default="cpu", help="run both sides on this device: cpu (default), cuda, cuda:1"
    )
    bench.add_argument("--markdown", help="also write the table to this Markdown file")
    bench.add_argument("--json", help="also write the raw results to this JSON file")
    bench.add_argument(
        "--workload",
        choices=("standard", "universe", "all"),
        default="standard",
        help="standard: w1, w2, memory, import time (default); universe: a global LSTM on "
        "the 176-ticker HSMD set in ../shared/data (skipped when absent); all: both",
    )
    bench.add_argument(
        "--max-windows",
        type=int,
        help="universe: shorten every ticker's history to about this many windows in all",
    )
    verify = _command(
        commands,
        "verify",
        _verify,
        "check a saved artifact (checksums, shapes, finite weights) without loading the model",
        "rnncast verify runs/20261126-101500-lstm",
    )
    verify.add_argument("path", type=Path, help="artifact folder, or a run folder holding one")
    _export_command(commands)
    return parser


def _tune_command(commands: Any) -> None:
    from rnncast.cli import tune

    sub = _command(
        commands,
        "tune",
        _tune,
        "search the config's [tune] space on validation (Optuna), then test the best once",
        "rnncast tune --config lstm.toml --trials 40",
        pipeline=True,
    )
    tune.add_options(sub)


def _tune(args: argparse.Namespace) -> None:
    from rnncast.cli import tune

    tune.command(args, _config(args))


def _export_command(commands: Any) -> None:
    export = _command(
        commands,
        "export",
        _export,
        "write a trained forecaster as model.onnx + preprocess.json for use outside Python",
        "rnncast export runs/20261126-101500-lstm --format onnx --out msft_export",
    )
    export.add_argument("run", type=Path, metavar="RUN", help="run folder or forecaster artifact")
    export.add_argument(
        "--format", default="onnx", help="onnx (default), or torch for a torch.export .pt2 file"
    )
    export.add_argument("--out", type=Path, help="folder to write (default: RUN/export)")


def _export(args: argparse.Namespace) -> None:
    from rnncast.forecasting.export import MODEL_FILES, PREPROCESS_FILE, export_forecaster

    run = args.run
    artifact = run / "forecaster" if (run / "forecaster").is_dir() else run
    if not (artifact / "config.json").is_file():
        raise rc.ConfigError(
            f"{run} is not a run folder (no forecaster/ inside) nor a forecaster artifact (no "
            "config.json); pass the folder that rnncast run or rnncast train printed."
        )
    out = args.out or (run / "export" if artifact != run else run.with_name(run.name + "-export"))
    folder = export_forecaster(rc.Forecaster.load(artifact), out, format=args.format)
    for name in (MODEL_FILES.get(args.format), PREPROCESS_FILE):
        print(f"written: {folder / name}")


def _verify(args: argparse.Namespace) -> int:
    """One line: ``OK: ...`` (exit 0) or the problem (exit 1)."""
    path = args.path
    if not (path / "config.json").exists() and (path / "forecaster").is_dir():
        path = path / "forecaster"  # a run folder
    try:
        print(rc.saving.verify(path))
    except rc.ArtifactError as err:
        print(f"FAILED: {err}")
        return EXIT_RUNTIME_ERROR
    return 0


def _command(
    commands: Any, name: str, handler: Any, summary: str, example: str, pipeline: bool = False
) -> argparse.ArgumentParser:
    sub = commands.add_parser(
        name,
        help=summary,
        description=summary[0].upper() + summary[1:] + ".",
        epilog=f"example: {example}",
    )
    _debug_option(sub)
    sub.set_defaults(handler=handler)
    if pipeline:
        _pipeline_options(sub)
    return sub


def _debug_option(sub: argparse.ArgumentParser) -> None:
    """``--debug`` after the command too; SUPPRESS keeps a ``--debug`` given before it."""
    sub.add_argument(
        "--debug", action="store_true", default=argparse.SUPPRESS, help="show tracebacks of errors"
    )


def _predict_command(commands: Any) -> None:
    predict = _command(
        commands,
        "predict",
        _predict,
        "forecast the next sessions with a saved model",
        "rnncast predict --model runs/20261126-101500-lstm --days 5",
    )
    predict.add_argument(
        "--model", required=True, type=Path, help="run folder or forecaster artifact folder"
    )
    _data_options(predict, ticker_default=None)
    predict.add_argument(
        "--days",
        type=_positive_int,
        default=5,
        help="number of trading sessions to forecast (default 5)",
    )
    predict.add_argument(
        "--interval",
        type=float,
        help="prediction-interval coverage in (0, 1), e.g. 0.9 for a 90%% band (default: none)",
    )


def _pipeline_options(sub: argparse.ArgumentParser, config: bool = True) -> None:
    if config:
        sub.add_argument(
            "--config",
            help="packaged config name (rnncast config list) or a TOML file "
            "(default: the tutorial LSTM)",
        )
    _data_options(sub)
    sub.add_argument(
        "--tickers",
        type=_ticker_list,
        help="several tickers, comma-separated: picked from --csv, or sample tickers "
        "(data.tickers), e.g. AAPL,MSFT",
    )
    sub.add_argument(
        "--set",
        dest="overrides",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="override a config key, e.g. training.epochs=5 (repeatable)",
    )
    sub.add_argument(
        "--out", type=Path, default=Path("runs"), help="parent folder of the run folder (runs/)"
    )
    sub.add_argument("--seed", type=int, help="seed of weights, shuffling and dropout")
    sub.add_argument(
        "--device", help="auto (CUDA, then MPS, then CPU), cpu, cuda, cuda:1 (training.device)"
    )


def _data_options(sub: argparse.ArgumentParser, ticker_default: str | None = None) -> None:
    sub.add_argument(
        "--ticker",
        default=ticker_default,
        help="sample ticker (rnncast data list), or the one to pick from a multi-ticker CSV "
        "(data.ticker)",
    )
    sub.add_argument("--csv", type=Path, help="daily price CSV file (data.csv)")
    sub.add_argument(
        "--date-format",
        help="the CSV's date format when it cannot be detected, e.g. %%d/%%m/%%Y "
        "(data.date_format)",
    )
    sub.add_argument(
        "--allow-jumps",
        action="store_true",
        default=None,
        help="accept one-day moves above 50%% that look like data errors (data.allow_jumps)",
    )


def _group(commands: Any, name: str, summary: str) -> Any:
    """A command with actions; alone it prints its actions and exits 0."""
    group = commands.add_parser(name, help=summary, description=summary[0].upper() + summary[1:])
    _debug_option(group)
    group.set_defaults(handler=lambda args: group.print_help(sys.stdout))
    return group.add_subparsers(title="actions", metavar="ACTION")


def _data_commands(commands: Any) -> None:
    actions = _group(commands, "data", "list, show or download price data")
    _command(actions, "list", _data_list, "list the built-in sample tickers", "rnncast data list")
    show = _command(
        actions,
        "show",
        _data_show,
        "show a sample ticker's first and last rows",
        "rnncast data show MSFT --raw",
    )
    show.add_argument("ticker", help="sample ticker (rnncast data list)")
    show.add_argument("--raw", action="store_true", help="unadjusted prices")
    show.add_argument("--rows", type=_positive_int, default=5, help="rows shown at each end (5)")
    download = _command(
        actions,
        "download",
        _data_download,
        "download daily prices from Yahoo Finance (needs rnncast[yahoo])",
        "rnncast data download AAPL MSFT IBM --start 2015-01-01 --csv universe.csv",
    )
    download.add_argument(
        "ticker", nargs="*", help="Yahoo Finance symbols, e.g. AAPL (several: one long CSV)"
    )
    download.add_argument(
        "--tickers", type=_ticker_list, default=[], help="comma-separated symbols: AAPL,MSFT"
    )
    download.add_argument("--start", help="first date, YYYY-MM-DD (default: all history)")
    download.add_argument("--end", help="end date, YYYY-MM-DD, exclusive (default: today)")
    download.add_argument("--csv", type=Path, help="also write the prices to this CSV file")


def _config_commands(commands: Any) -> None:
    actions = _group(commands, "config", "list or show the packaged run configs")
    _command(actions, "list", _config_list, "list the packaged configs", "rnncast config list")
    show = _command(
        actions,
        "show",
        _config_show,
        "print a config's TOML (copy it to start your own)",
        "rnncast config show gru > my.toml",
    )
    show.add_argument("config", help="packaged config name or TOML file")
    show.add_argument(
        "--resolved",
        action="store_true",
        help="every key with its value after defaults and --set overrides",
    )
    show.add_argument(
        "--set",
        dest="overrides",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="override a config key (with --resolved), e.g. training.epochs=5",
    )


# ------------------------------------------------------------------ handlers
def _config(args: argparse.Namespace, source: str | None = None) -> dict[str, Any]:
    from rnncast.cli.config import load_config

    overrides = list(args.overrides)
    tickers = getattr(args, "tickers", None)
    if args.ticker:
        overrides.append(f"data.ticker={_quoted(args.ticker)}")
        if not tickers:  # one series asked for: a config's universe does not apply
            overrides.append("data.tickers=none")
    if tickers:
        overrides.append(f"data.tickers=[{', '.join(_quoted(t) for t in tickers)}]")
        if not args.ticker:
            overrides.append("data.ticker=none")
    if args.csv:
        overrides += [f"data.csv={_quoted(args.csv)}", "data.csv_fallback=none"]
        if not args.ticker and not tickers:  # a config's sample ticker says nothing about it
            overrides.append("data.ticker=none")
    if args.date_format:
        overrides.append(f"data.date_format={_quoted(args.date_format)}")
    if args.allow_jumps:
        overrides.append("data.allow_jumps=true")
    if args.seed is not None:
        overrides.append(f"training.seed={args.seed}")
    if getattr(args, "device", None):
        overrides.append(f"training.device={_quoted(args.device)}")
    return load_config(source if source is not None else getattr(args, "config", None), overrides)


def _run(args: argparse.Namespace) -> None:
    from rnncast.cli import pipelines as runner

    config = _config(args)
    if _worker_rank(config):
        return
    result = runner.run(config, out=args.out)
    if result.extra.get("universe") is not None:
        from rnncast.cli import universe_run

        universe_run.print_universe(result.extra["universe"])
        universe_run.print_forecast(result.forecast)
        print(f"report: {result.folder / 'report.html'}")
        return
    _print_summary(result.table, result.verdict)
    _print_forecast(result.forecast)
    print(f"report: {result.folder / 'report.html'}")


def _train(args: argparse.Namespace) -> None:
    from rnncast.cli import pipelines as runner

    config = _config(args)
    if _worker_rank(config):
        return
    result = runner.train_only(config, out=args.out)
    print(f"saved: {result.folder / 'forecaster'}")


def _worker_rank(config: dict[str, Any]) -> bool:
    """Under torchrun: join the job; ranks > 0 only train (rank 0 writes the run folder)."""
    if not distributed.setup():
        return False
    if ranks.is_main_process():
        return False
    from rnncast.cli import pipelines as runner

    runner.fit_only(config)
    return True


def _backtest(args: argparse.Namespace) -> None:
    from rnncast.cli import pipelines as runner

    if args.folds is not None:
        args.overrides.append(f"backtest.folds={args.folds}")
    if args.cost_bps is not None:
        args.overrides.append(f"backtest.cost_bps={args.cost_bps}")
    result = runner.backtest(_config(args), out=args.out)
    if "walk_forward" in result.extra:  # a universe (cli/universe_run.py)
        from rnncast.cli import universe_run

        print(result.extra["walk_forward"])
        print(universe_run.backtest_sentence(result.extra["walk_forward"]))
        print(f"report: {result.folder / 'report.html'}")
        return
    _print_summary(result.table, result.verdict, "Walk-forward forecasts: model vs baselines")
    print(result.extra["trading"])
    print(f"report: {result.folder / 'report.html'}")


def _compare(args: argparse.Namespace) -> None:
    from rnncast.cli import pipelines as runner

    configs = [_config(args, source) for source in args.configs]
    result = runner.compare(configs, out=args.out)
    _print_table(result.table, "Leaderboard (lower MASE is better)", ["rank", *SUMMARY_COLUMNS])
    print(f"leaderboard: {result.folder / 'leaderboard.html'}")


def _positive_int(text: str) -> int:
    """An argparse type: a whole number >= 1 (the error names the value)."""
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a whole number >= 1, got {text!r}")
    return value


def _predict(args: argparse.Namespace) -> None:
    from rnncast.cli import pipelines as runner
    from rnncast.cli.config import load_config

    folder = Path(args.model)
    artifact = folder / "forecaster" if (folder / "forecaster").is_dir() else folder
    forecaster = rc.load(artifact)
    if not isinstance(forecaster, rc.Forecaster):
        raise rc.ConfigError(
            f"--model {args.model} is a saved {type(forecaster).__name__}, not a forecaster; "
            "give a run folder or a folder written by rnncast train."
        )
    data = (
        load_config(folder / "config.toml")["data"]
        if (folder / "config.toml").is_file()
        else load_config()["data"]
    )
    universe = getattr(forecaster, "tickers_", None) is not None  # --ticker picks from its data
    if args.ticker and not universe:
        data = {**data, "ticker": args.ticker, "tickers": None, "csv": None}
    if args.csv:
        data = {**data, "csv": str(args.csv), "ticker": None if universe else args.ticker}
        data["tickers"] = None
    if args.date_format:
        data = {**data, "date_format": args.date_format}
    if args.allow_jumps:
        data = {**data, "allow_jumps": True}
    frame, source = runner.load_data(data)
    if universe and "ticker" not in frame.columns:
        raise ConfigError(
            f"{folder} holds a model of {len(forecaster.tickers_)} tickers and {source} is one "
            "series without a ticker column; pass --csv with a multi-ticker CSV (rnncast data "
            "download T1 T2 --csv universe.csv), or leave --csv out to use the run's data."
        )
    pick = {"ticker": args.ticker.upper()} if universe and args.ticker else {}
    forecast = forecaster.predict_next(frame, days=args.days, interval=args.interval, **pick)
    if isinstance(forecast.index, pd.MultiIndex):  # a universe: (ticker, date)
        from rnncast.cli import universe_run

        dates = universe_run._dates(frame)
        count = forecast.index.get_level_values("ticker").nunique()
        print(f"{source}: {count} ticker{'s' * (count > 1)}, last date {dates.max().date()}")
        universe_run.print_forecast(forecast)
        return
    last = frame[forecaster.target].iloc[-1]
    print(f"{source}: last date {frame.index[-1].date()}, {forecaster.target} {last:.4f}")
    _print_forecast(forecast)


def _data_list(args: argparse.Namespace) -> None:
    for ticker in rc.datasets.available_samples():
        frame = rc.datasets.load_sample(ticker)
        print(
            f"{ticker:<5} {len(frame):>5} rows  {frame.index[0].date()} .. {frame.index[-1].date()}"
        )


def _data_show(args: argparse.Namespace) -> None:
    from rnncast.cli.pipelines import load_sample

    frame = load_sample(args.ticker, adjusted=not args.raw)
    with pd.option_context("display.width", 120, "display.max_columns", 10):
        print(pd.concat([frame.head(args.rows), frame.tail(args.rows)]))


def _data_download(args: argparse.Namespace) -> int:
    """One ticker: its CSV as today; several: one long CSV with a ticker column.

    A ticker that fails is named on stderr and the exit status is 1, after the
    CSV of the others is written.
    """
    from rnncast.datasets.tickers import long_frame
    from rnncast.datasets.yahoo import download_each

    tickers = list(dict.fromkeys([*args.ticker, *args.tickers]))
    if not tickers:
        raise rc.ConfigError(
            "name at least one ticker, e.g. rnncast data download AAPL MSFT (or --tickers "
            "AAPL,MSFT)."
        )
    if len(tickers) == 1:
        frames = {tickers[0]: rc.datasets.download(tickers[0], args.start, args.end)}
        failed: dict[str, str] = {}
    else:
        frames, failed = download_each(tickers, args.start, args.end)
    for name, frame in frames.items():
        print(f"{name}: {len(frame)} rows {frame.index[0].date()} .. {frame.index[-1].date()}")
    if args.csv:
        frame = frames[tickers[0]] if len(tickers) == 1 else long_frame(frames)
        frame.to_csv(args.csv, index_label="date")
        print(f"written: {args.csv}")
    if failed:
        for name, reason in failed.items():
            print(f"rnncast: failed: {name}: {cli_message(Exception(reason))}", file=sys.stderr)
        print(
            f"rnncast: {len(failed)} of {len(tickers)} tickers failed ({', '.join(failed)}); "
            "they are not in the output.",
            file=sys.stderr,
        )
        return EXIT_RUNTIME_ERROR
    return 0


def _config_list(args: argparse.Namespace) -> None:
    from rnncast.cli.config import packaged_configs, read_config_text

    for name in packaged_configs():
        first = read_config_text(name)[1].splitlines()[0]
        print(f"{name:<16} {first.lstrip('# ') if first.startswith('#') else ''}".rstrip())


def _config_show(args: argparse.Namespace) -> None:
    from rnncast.cli.config import dump_config, load_config, read_config_text

    if args.resolved:
        print(dump_config(load_config(args.config, args.overrides)), end="")
    else:
        print(read_config_text(args.config)[1], end="")


def _bench(args: argparse.Namespace) -> None:
    from rnncast.cli import bench

    bench.main(
        quick=args.quick,
        markdown_path=args.markdown,
        json_path=args.json,
        workload=args.workload,
        max_windows=args.max_windows,
        device=args.device,
    )


# ------------------------------------------------------------------ output
def _print_summary(
    table: pd.DataFrame | None, verdict: Verdict, title: str = "Test part: model vs baselines"
) -> None:
    if table is not None:
        _print_table(table, title, SUMMARY_COLUMNS)
    print(verdict.console_line())


def _print_table(table: pd.DataFrame, title: str, columns: list[str]) -> None:
    from rich.console import Console
    from rich.table import Table

    view = Table(title=title)
    view.add_column(table.index.name or "model", overflow="fold")
    shown = [c for c in columns if c in table.columns]
    for column in shown:
        view.add_column(HEADERS.get(column, column.replace("_", " ")), justify="right")
    for name, row in table.iterrows():
        view.add_row(str(name), *(_number(row[c]) for c in shown))
    Console(width=max(100, shutil.get_terminal_size().columns)).print(view)


def _print_forecast(forecast: pd.DataFrame | None) -> None:
    if forecast is None:
        return
    print("Next sessions:")
    for date, row in forecast.iterrows():
        band = f"  [{row['lower']:.4f}, {row['upper']:.4f}]" if "lower" in row else ""
        print(f"  {date.strftime('%a %Y-%m-%d')}  {row['forecast']:.4f}{band}")


def _number(value: Any) -> str:
    if isinstance(value, int):
        return str(value)
    if pd.isna(value):
        return "-"
    return f"{value:.4g}"


def _ticker_list(text: str) -> list[str]:
    """``--tickers AAPL,MSFT`` as ``["AAPL", "MSFT"]``; an empty list is an argparse error."""
    tickers = [t.strip() for t in text.split(",") if t.strip()]
    if not tickers:
        raise argparse.ArgumentTypeError(f"expected comma-separated tickers, got {text!r}")
    return tickers


def _quoted(value: Path | str) -> str:
    return '"' + str(value).replace("\\", "\\\\").replace('"', '\\"') + '"'

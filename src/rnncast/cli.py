"""The ``rnncast`` command.

This first version runs the data stage of the pipeline (load, validate, split
by time, fit the scalers on train, cut windows, check the round trip back to
prices, list the next trading sessions). Training, evaluation and the report
join ``rnncast run`` as those stages land.

Example:
    $ rnncast run --ticker MSFT --lookback 30
    $ rnncast data show AAPL
"""

from __future__ import annotations

import argparse
import sys
import traceback
from collections.abc import Sequence

import numpy as np
import pandas as pd

import rnncast as rc
from rnncast.exceptions import RnncastError

EXIT_USER_ERROR = 2
EXIT_RUNTIME_ERROR = 1


def main(argv: Sequence[str] | None = None) -> int:
    """Run the ``rnncast`` command line; returns the exit code."""
    parser = _parser()
    args = parser.parse_args(argv)
    if not hasattr(args, "handler"):
        parser.print_help()
        return EXIT_USER_ERROR
    try:
        args.handler(args)
    except RnncastError as err:
        if args.debug:
            traceback.print_exc()
        print(f"rnncast: error: {err}", file=sys.stderr)
        return EXIT_USER_ERROR
    except KeyboardInterrupt:
        print("rnncast: interrupted", file=sys.stderr)
        return 130
    except Exception as err:  # a bug or an environment problem, not a user error
        if args.debug:
            raise
        print(f"rnncast: failed: {type(err).__name__}: {err} (use --debug for the traceback)",
              file=sys.stderr)
        return EXIT_RUNTIME_ERROR
    return 0


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="rnncast",
        description="Recurrent forecasting of daily prices, without look-ahead.",
        epilog="example: rnncast run --ticker MSFT --lookback 30",
    )
    parser.add_argument("--version", action="version", version=f"rnncast {rc.__version__}")
    commands = parser.add_subparsers(title="commands", metavar="COMMAND")

    run = commands.add_parser(
        "run", help="run the pipeline on sample data or a CSV file",
        description="Load prices, split them by time, fit scalers on the training part only, "
                    "cut windows and print a summary.",
        epilog="example: rnncast run --ticker AAPL --lookback 60 --features close volume",
    )
    _add_data_options(run)
    run.add_argument("--lookback", type=int, default=60, help="rows per window (default 60)")
    run.add_argument("--horizon", type=int, default=1, help="steps ahead (default 1)")
    run.add_argument("--features", nargs="+", default=["close"], help="input columns")
    run.add_argument("--target", default="close", help="column to forecast (default close)")
    run.add_argument("--target-transform", default="price", choices=rc.data.TARGET_TRANSFORMS)
    run.add_argument("--scaler", default="minmax", choices=["minmax", "standard", "robust"])
    run.add_argument("--val", type=float, default=0.15, help="validation fraction (0.15)")
    run.add_argument("--test", type=float, default=0.15, help="test fraction (0.15)")
    run.add_argument("--days", type=int, default=5, help="next trading sessions to list (5)")
    run.set_defaults(handler=_run)

    data = commands.add_parser("data", help="list or show the built-in sample data")
    data_commands = data.add_subparsers(title="data commands", metavar="ACTION")
    listing = data_commands.add_parser("list", help="list the sample tickers",
                                       epilog="example: rnncast data list")
    listing.set_defaults(handler=_data_list)
    show = data_commands.add_parser("show", help="show a sample ticker's first and last rows",
                                    epilog="example: rnncast data show MSFT --raw")
    show.add_argument("ticker")
    show.add_argument("--raw", action="store_true", help="unadjusted prices")
    show.add_argument("--rows", type=int, default=5)
    show.set_defaults(handler=_data_show)
    for sub in (run, data, listing, show):
        sub.add_argument("--debug", action="store_true", help="show tracebacks")
    parser.set_defaults(debug=False)
    return parser


def _add_data_options(parser: argparse.ArgumentParser) -> None:
    source = parser.add_mutually_exclusive_group()
    source.add_argument("--ticker", default="AAPL", help="sample ticker (default AAPL)")
    source.add_argument("--csv", help="a price CSV file (Yahoo, Stooq or generic)")


def _load(args: argparse.Namespace) -> tuple[pd.DataFrame, str]:
    if args.csv:
        return rc.datasets.read_csv(args.csv), args.csv
    return rc.datasets.load_sample(args.ticker), f"sample {args.ticker.upper()}"


def _run(args: argparse.Namespace) -> None:
    from rich.console import Console

    console = Console()
    frame, source = _load(args)
    parts = rc.data.chronological_split(frame, val=args.val, test=args.test)
    win = rc.data.Windowizer(args.lookback, horizon=args.horizon, features=args.features,
                             target=args.target, scaler=args.scaler,
                             target_transform=args.target_transform)
    with console.status("fitting scalers on the training part and cutting windows"):
        windows = _cut_windows(win, parts)
    console.print(f"[bold]rnncast {rc.__version__}[/]: {source}, {len(frame)} rows "
                  f"{frame.index[0].date()} .. {frame.index[-1].date()}")
    console.print(_parts_table(windows, win))
    error = _round_trip_error(win, windows)
    console.print(f"Scalers fitted on {len(parts.train)} training rows only; targets "
                  f"'{args.target_transform}' of {args.target!r} map back to prices with a "
                  f"largest relative error of {error:.1e}.")
    sessions = rc.data.next_trading_days(frame.index[-1], args.days)
    console.print(f"Next {args.days} XNYS sessions to forecast: "
                  + ", ".join(d.strftime("%a %Y-%m-%d") for d in sessions))


def _cut_windows(win: rc.data.Windowizer, parts: rc.data.Split) -> dict:
    """``{part name: (part, context, X, y)}``; each part's context is the part before it."""
    X, y = win.fit_transform(parts.train)
    windows = {"train": (parts.train, None, X, y)}
    previous = parts.train
    for name in ("val", "test"):
        part = getattr(parts, name)
        if len(part):
            windows[name] = (part, previous, *win.transform(part, context=previous))
            previous = part
    return windows


def _parts_table(windows: dict, win: rc.data.Windowizer):
    from rich.table import Table

    table = Table(title="Chronological split and windows")
    for column in ("part", "rows", "first date", "last date", "X", "y", "first target"):
        table.add_column(column, justify="right" if column == "rows" else "left", no_wrap=True)
    for name, (part, context, X, y) in windows.items():
        first = win.target_dates(part, context=context)[0]
        table.add_row(name, str(len(part)), str(part.index[0].date()), str(part.index[-1].date()),
                      "x".join(map(str, X.shape)), "x".join(map(str, y.shape)),
                      str(first.date()))
    return table


def _round_trip_error(win: rc.data.Windowizer, windows: dict) -> float:
    """Largest relative error of the targets mapped back to prices (step 1)."""
    worst = 0.0
    for part, context, _, y in windows.values():
        prices = win.inverse_transform_target(y, base=win.base_prices(part, context=context))
        actual = part.loc[win.target_dates(part, context=context), win.target].to_numpy()
        worst = max(worst, float(np.max(np.abs(prices[:, 0] / actual - 1))))
    return worst


def _data_list(args: argparse.Namespace) -> None:
    for ticker in rc.datasets.available_samples():
        frame = rc.datasets.load_sample(ticker)
        print(f"{ticker:<5} {len(frame):>5} rows  {frame.index[0].date()} .. "
              f"{frame.index[-1].date()}")


def _data_show(args: argparse.Namespace) -> None:
    frame = rc.datasets.load_sample(args.ticker, adjusted=not args.raw)
    with pd.option_context("display.width", 120, "display.max_columns", 10):
        print(pd.concat([frame.head(args.rows), frame.tail(args.rows)]))

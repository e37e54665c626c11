"""Yahoo Finance downloads for :func:`rnncast.datasets.download`: fetch, flatten, cache.

yfinance is imported only when a download is asked for (the ``yahoo`` extra).
"""

from __future__ import annotations

import logging
import os
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pandas as pd

from rnncast._internal.dates import to_timestamp
from rnncast._internal.files import atomic_file
from rnncast.datasets.formats import describe_columns
from rnncast.exceptions import ConfigError, DownloadError


def check_symbol(ticker: object) -> str:
    """The upper-cased symbol, or ``ConfigError`` for anything but one non-empty string."""
    if not isinstance(ticker, str) or not ticker.strip():
        raise ConfigError(
            f"download takes one ticker symbol as a string, got {ticker!r}; "
            "call it once per ticker."
        )
    return ticker.strip().upper()


def _default_cache_dir() -> Path:
    if os.environ.get("RNNCAST_CACHE_DIR"):
        return Path(os.environ["RNNCAST_CACHE_DIR"]).expanduser()
    if os.environ.get("XDG_CACHE_HOME"):
        return Path(os.environ["XDG_CACHE_HOME"]).expanduser() / "rnncast"
    return Path.home() / ".cache" / "rnncast"


def cache_file(
    cache_dir: str | os.PathLike[str] | None, symbol: str, start: object, end: object
) -> Path:
    """Cache path of one request, e.g. ``AAPL_2020-01-01_latest.csv``."""
    folder = Path(cache_dir).expanduser() if cache_dir is not None else _default_cache_dir()
    first, last = _date_key(start, "start", "first"), _date_key(end, "end", "latest")
    if start is not None and end is not None and pd.Timestamp(start) >= pd.Timestamp(end):
        raise ConfigError(f"start={start!r} must be before end={end!r} (end is exclusive).")
    return folder / f"{quote(symbol, safe='')}_{first}_{last}.csv"


def _date_key(value: object, name: str, missing: str) -> str:
    if value is None:
        return missing
    stamp = to_timestamp(value, name)
    return stamp.strftime("%Y-%m-%d" if stamp == stamp.normalize() else "%Y-%m-%dT%H%M%S")


def import_yfinance(offline_hint: str) -> Any:
    """Import yfinance or raise ``DownloadError`` explaining the missing extra."""
    try:
        import yfinance
    except ImportError as err:
        raise DownloadError(
            "rnncast.datasets.download needs yfinance, which comes with the optional 'yahoo' "
            'extra: pip install "rnncast[yahoo]". ' + offline_hint
        ) from err
    return yfinance


def fetch(yf: Any, symbol: str, start: object, end: object) -> pd.DataFrame:
    """Call ``yf.download`` and return its rows as a flat table with a ``date`` column."""
    span = {"period": "max"} if start is None and end is None else {"start": start, "end": end}
    failed = f"downloading {symbol!r} from Yahoo Finance failed"
    reasons = "(no network connection, Yahoo unavailable or rate-limiting, or an unknown ticker)."
    try:
        with _quiet_yfinance() as log:
            raw = yf.download(symbol, **span, auto_adjust=False, progress=False, actions=False)
    except Exception as err:  # yfinance and its HTTP stack raise many unrelated types
        raise DownloadError(f"{failed}: {type(err).__name__}: {err} {reasons}") from err
    if raw is None or raw.empty or raw.isna().all().all():  # all-NaN: a failed ticker
        said = f" yfinance said: {log[-1]}" if log else ""
        raise DownloadError(f"{failed}: no data came back {reasons}{said}")
    return _single_level(raw, symbol).rename_axis("date").reset_index()


@contextmanager
def _quiet_yfinance() -> Iterator[list[str]]:
    """Collect yfinance's log messages and hide the warnings it triggers.

    yfinance logs failures instead of raising; collecting them lets rnncast show
    one clear error that quotes yfinance's reason.
    """
    logger = logging.getLogger("yfinance")
    messages: list[str] = []
    handler = logging.Handler(logging.WARNING)
    handler.emit = lambda record: messages.append(record.getMessage().strip())
    saved = logger.handlers[:], logger.propagate
    logger.handlers, logger.propagate = [handler], False
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            yield messages
    finally:
        logger.handlers, logger.propagate = saved


def _single_level(raw: pd.DataFrame, symbol: str) -> pd.DataFrame:
    """Drop the ticker level of yfinance's ``(Price, Ticker)`` MultiIndex columns."""
    if not isinstance(raw.columns, pd.MultiIndex):
        return raw
    levels = range(raw.columns.nlevels)
    price = [i for i in levels if "Close" in set(map(str, raw.columns.get_level_values(i)))]
    if not price:
        raise DownloadError(
            f"yfinance returned unexpected columns for {symbol!r}: "
            f"{describe_columns(list(raw.columns))}."
        )
    flat = raw.droplevel([i for i in levels if i != price[0]], axis=1)
    if flat.columns.duplicated().any():
        raise DownloadError(
            f"yfinance returned several tickers for {symbol!r}; download one ticker at a time."
        )
    return flat


def write_cache(frame: pd.DataFrame, path: Path) -> None:
    """Write ``frame`` to ``path`` atomically (temporary file, then ``os.replace``)."""
    try:
        with atomic_file(path) as temporary:
            frame.to_csv(temporary, index_label="date")
    except OSError as err:
        warnings.warn(f"could not write the download cache {path}: {err}", stacklevel=3)

"""Yahoo Finance downloads: :func:`download` (fetch, flatten, validate, cache).

yfinance is imported only when a download is asked for (the ``yahoo`` extra).
Cache files live where :mod:`rnncast.datasets.cache` says.
"""

from __future__ import annotations

import logging
import os
import warnings
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

import pandas as pd

from rnncast.datasets.cache import cache_file, write_cache
from rnncast.datasets.csv_files import read_csv
from rnncast.datasets.formats import describe_columns, to_price_frame
from rnncast.datasets.prices import adjust_ohlc, finish
from rnncast.datasets.samples import SAMPLE_TICKERS
from rnncast.datasets.tickers import long_frame
from rnncast.exceptions import ConfigError, DownloadError

OFFLINE_HINT = (
    "To work offline, read a CSV export with rnncast.datasets.read_csv(path) or use "
    "rnncast.datasets.load_sample(ticker) (tickers: " + ", ".join(SAMPLE_TICKERS) + ")."
)


def download(
    ticker: str | Sequence[str],
    start: str | pd.Timestamp | None = None,
    end: str | pd.Timestamp | None = None,
    *,
    cache_dir: str | os.PathLike[str] | None = None,
    refresh: bool = False,
    adjusted: bool = True,
) -> pd.DataFrame:
    r"""Download daily prices from Yahoo Finance (needs the ``yahoo`` extra), with a CSV cache.

    Each request (ticker, start, end) is cached as one CSV file of raw prices
    in rnncast's column names, in ``cache_dir`` or else ``$RNNCAST_CACHE_DIR``
    or else the user cache folder of ``platformdirs`` (``~/.cache/rnncast`` on
    Linux, ``~/Library/Caches/rnncast`` on macOS, ``%LOCALAPPDATA%\rnncast\Cache``
    on Windows; see :mod:`rnncast.datasets.cache`). A cached request is
    read back without touching the network unless ``refresh=True``; an
    open-ended request (``end=None``) therefore stays as first downloaded
    until refreshed. When the download fails (no network, Yahoo unavailable,
    unknown ticker) an existing cache file is used with a warning.

    A list of symbols gives one long frame with a ``ticker`` column (rows
    grouped by ticker in sorted order), each symbol fetched and cached on its
    own. A symbol that fails is never dropped silently: when some fail, a
    warning names each with its reason and the others are returned; when all
    fail, the ``DownloadError`` names them.

    Args:
        ticker: One Yahoo Finance symbol, e.g. ``"AAPL"``, ``"^GSPC"``, ``"BRK-B"``,
            or a list of them.
        start: First date (inclusive), e.g. ``"2015-01-01"``; None for the
            whole history (when ``end`` is None too).
        end: Last date (exclusive, as in yfinance); None for up to today.
        cache_dir: Folder of the cache files (created when needed).
        refresh: Download again even when a cache file exists.
        adjusted: Scale open/high/low/close by ``adj_close / close`` as in
            :func:`load_sample`; False returns the raw traded prices.

    Returns:
        DataFrame indexed by ``date`` with float64 columns
        ``open, high, low, close, adj_close, volume`` (after a ``ticker``
        column for a list of symbols).

    Raises:
        DownloadError: when yfinance is not installed, or the download fails
            and nothing is cached (for a list: for every symbol).
        ConfigError: for a ticker that is not one string or unparseable dates.
        DataError: when the downloaded data do not pass validation.

    Example:
        >>> from rnncast.datasets import download
        >>> frame = download("AAPL", start="2020-01-01", end="2021-01-01")  # doctest: +SKIP
        >>> list(frame.columns)  # doctest: +SKIP
        ['open', 'high', 'low', 'close', 'adj_close', 'volume']
    """
    if not isinstance(ticker, str) and isinstance(ticker, Sequence) and ticker:
        frames, failed = download_each(
            ticker, start, end, cache_dir=cache_dir, refresh=refresh, adjusted=adjusted
        )
        if failed:
            warnings.warn(partial_failure(frames, failed), stacklevel=2)
        return long_frame(frames)
    symbol = check_symbol(ticker)
    path = cache_file(cache_dir, symbol, start, end)
    if path.exists() and not refresh:
        return read_csv(path, adjusted=adjusted)
    yf = import_yfinance(OFFLINE_HINT)
    try:
        raw = fetch(yf, symbol, start, end)
    except DownloadError as err:
        if not path.exists():
            raise DownloadError(f"{err} There is no cached copy ({path}). {OFFLINE_HINT}") from err
        warnings.warn(f"{err} Using possibly stale cached data from {path}.", stacklevel=2)
        return read_csv(path, adjusted=adjusted)
    source = f"Yahoo Finance data for {symbol!r}"
    frame = finish(to_price_frame(raw, source), source, adjusted=False)
    write_cache(frame, path)
    return adjust_ohlc(frame) if adjusted else frame


def check_symbol(ticker: object) -> str:
    """The upper-cased symbol, or ``ConfigError`` for anything but one non-empty string."""
    if not isinstance(ticker, str) or not ticker.strip():
        raise ConfigError(
            f"download takes a ticker symbol as a string or a non-empty list of them, got "
            f"{ticker!r}."
        )
    return ticker.strip().upper()


def download_each(
    tickers: Sequence[str], start: Any = None, end: Any = None, **options: Any
) -> tuple[dict[str, pd.DataFrame], dict[str, str]]:
    """``({symbol: frame}, {symbol: reason})``: every symbol downloaded on its own.

    ``options`` are :func:`download`'s keyword arguments. Raises
    ``DownloadError`` when every symbol fails (naming them all, with the first
    failure's reason: usually shared, e.g. no network), and ``ConfigError``
    for bad symbols or dates before anything is fetched.
    """
    symbols = list(dict.fromkeys(check_symbol(t) for t in tickers))
    for symbol in symbols:
        cache_file(options.get("cache_dir"), symbol, start, end)  # bad dates fail first
    frames, failed = {}, {}
    for symbol in symbols:
        try:
            with warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always")
                frames[symbol] = download(symbol, start, end, **options)
        except DownloadError as err:
            failed[symbol] = str(err)
            continue
        for warning in caught:  # e.g. a stale cache: re-issued, naming the symbol
            warnings.warn(f"{symbol}: {warning.message}", warning.category, stacklevel=3)
    if not frames:
        first = next(iter(failed.values()))  # they usually share the cause (no network)
        raise DownloadError(
            f"no ticker could be downloaded ({', '.join(failed)}); the first failure: {first}"
        )
    return frames, failed


def partial_failure(frames: dict[str, pd.DataFrame], failed: dict[str, str]) -> str:
    """The warning of a partly failed download: which symbols are missing, and why."""
    reasons = "; ".join(f"{s}: {r}" for s, r in failed.items())
    return (
        f"downloaded {len(frames)} of {len(frames) + len(failed)} tickers; "
        f"failed: {', '.join(failed)} (they are not in the result). {reasons}"
    )


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

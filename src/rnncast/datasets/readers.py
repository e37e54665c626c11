r"""Price data in: the offline sample, CSV files and (optionally) Yahoo Finance.

Every loader returns the frame convention of :mod:`rnncast.data.validation`:
a DataFrame indexed by a ``DatetimeIndex`` named ``date`` with float64 columns
``open, high, low, close, adj_close, volume`` (and a ``ticker`` column for
multi-ticker data, rows grouped by ticker in sorted order and ascending by date
inside each ticker), sorted ascending.
"""

from __future__ import annotations

import os
import warnings
from collections.abc import Mapping
from typing import IO, Any

import pandas as pd

from rnncast.data.validation import TICKER_COLUMN
from rnncast.data.validation import validate as _validate
from rnncast.datasets.formats import to_price_frame
from rnncast.datasets.yahoo import cache_file, check_symbol, fetch, import_yfinance, write_cache
from rnncast.exceptions import ConfigError, DataError, DownloadError

OHLC = ("open", "high", "low", "close")
COLUMNS = (*OHLC, "adj_close", "volume")
_SAMPLE_TICKERS = ("AAPL", "FB", "GOOG", "IBM", "MSFT")
_OFFLINE_HINT = (
    "To work offline, read a CSV export with rnncast.datasets.read_csv(path) or use "
    "rnncast.datasets.load_sample(ticker) (tickers: " + ", ".join(_SAMPLE_TICKERS) + ")."
)

PathOrBuffer = str | os.PathLike[str] | IO[str] | IO[bytes]


def available_samples() -> list[str]:
    """List the tickers that :func:`load_sample` can load offline.

    Example:
        >>> from rnncast.datasets import available_samples
        >>> available_samples()
        ['AAPL', 'FB', 'GOOG', 'IBM', 'MSFT']
    """
    return list(_SAMPLE_TICKERS)


def load_sample(ticker: str = "AAPL", *, adjusted: bool = True) -> pd.DataFrame:
    """Load real daily prices that ship with the install (no network needed).

    The data are the public-domain Quandl WIKI prices packaged in
    ``bokeh_sampledata`` (AAPL, IBM, MSFT from 2000-03-01, GOOG from
    2004-08-19 and FB from 2012-05-18, all until 2013-03-01), read from the
    installed package.

    Args:
        ticker: One of :func:`available_samples` (case-insensitive).
        adjusted: When True (default) open/high/low/close are multiplied by
            ``adj_close / close`` so splits and dividends do not show up as
            jumps (AAPL's 2:1 split on 2005-02-28 is not a -50% day). When
            False the raw traded prices are returned. ``volume`` is never
            adjusted.

    Returns:
        DataFrame indexed by ``date`` with float64 columns
        ``open, high, low, close, adj_close, volume``.

    Raises:
        DataError: for an unknown ticker, listing the available ones.

    Example:
        >>> import rnncast as rc
        >>> frame = rc.datasets.load_sample("AAPL")
        >>> list(frame.columns)
        ['open', 'high', 'low', 'close', 'adj_close', 'volume']
    """
    symbol = str(ticker).upper()
    if symbol not in _SAMPLE_TICKERS:
        raise DataError(
            f"no sample data for ticker {ticker!r}; available: {', '.join(_SAMPLE_TICKERS)}. "
            "Use rc.datasets.read_csv or rc.datasets.download for other tickers."
        )
    from bokeh_sampledata import stocks  # imported on use: it parses all five series

    raw = stocks.data
    rows = raw[raw[TICKER_COLUMN] == symbol][["date", *COLUMNS]].reset_index(drop=True)
    source = f"the {symbol} sample"
    return _finish(to_price_frame(rows, source), source, adjusted=adjusted)


def read_csv(
    path_or_buffer: PathOrBuffer,
    *,
    date_column: str | None = None,
    columns: Mapping[str, str] | None = None,
    ticker: str | None = None,
    adjusted: bool = True,
    validate: bool = True,
    fill: str | None = None,
    **read_csv_kwargs: Any,
) -> pd.DataFrame:
    r"""Read daily prices from a CSV file into rnncast's frame convention.

    Understands Yahoo Finance exports (``Date,Open,High,Low,Close,Adj Close,Volume``),
    Stooq exports (``Date,Open,High,Low,Close,Volume``), any file with a date
    column (``date``, ``Datetime``, ``timestamp``, ``day``, ... case-insensitive)
    and long multi-ticker files with a ``ticker``, ``symbol`` or ``Name``
    column (Kaggle "S&P 500 stock data", "Huge Stock Market Dataset").
    Column names become ``open, high, low, close, adj_close, volume``
    (``Adj Close``/``AdjClose``/``adj_close`` -> ``adj_close``, ``Vol`` ->
    ``volume``); other numeric columns are kept under a snake_case name and
    non-numeric ones are dropped.

    A multi-ticker file comes back as one long frame with a str ``ticker``
    column: rows grouped by ticker (tickers in sorted order) and ascending by
    date inside each ticker. A series stored newest-first (strictly
    decreasing dates) is reversed silently; nothing else is repaired.

    Args:
        path_or_buffer: Path (str or ``os.PathLike``) or open file-like object;
            compressed files (``.gz``, ``.zip``, ...) work as in ``pd.read_csv``.
        date_column: Name of the date column when it is not detected.
        columns: ``{file column: rnncast name}`` overriding detection, e.g.
            ``{"Kurs": "close"}``; the names ``"date"`` and ``"ticker"`` mark
            those columns.
        ticker: Keep only this ticker of a multi-ticker file; the result is
            then a single series without the ``ticker`` column.
        adjusted: When True (default) and the file has an adjusted close,
            open/high/low/close are scaled by ``adj_close / close`` exactly as
            in :func:`load_sample`. False keeps the raw prices.
        validate: When True (default) the frame goes through
            :func:`rnncast.data.validate`, which raises on dates out of order,
            duplicate dates, NaN values or non-positive prices.
        fill: Passed to :func:`rnncast.data.validate` (``None``, ``"ffill"``
            or ``"drop"``); needs ``validate=True``.
        **read_csv_kwargs: Extra options for ``pd.read_csv`` (``sep``,
            ``nrows``, ``thousands``, ...).

    Returns:
        DataFrame indexed by a ``DatetimeIndex`` named ``date`` with float64
        value columns (plus ``ticker`` for multi-ticker files).

    Raises:
        DataError: when the file is missing, empty or cannot be interpreted
            (message names the file, the columns seen and what was expected),
            or when validation fails.

    Example:
        >>> import io
        >>> from rnncast.datasets import read_csv
        >>> text = ("Date,Open,High,Low,Close,Adj Close,Volume\n"
        ...         "2024-01-03,11,12,10,11,5.5,100\n2024-01-02,10,11,9,10,5,100\n")
        >>> frame = read_csv(io.StringIO(text))
        >>> frame["close"].tolist(), str(frame.index[0].date())
        ([5.0, 5.5], '2024-01-02')
    """
    if fill is not None and not validate:
        raise ConfigError(f"fill={fill!r} needs validate=True (filling happens during validation).")
    source = _describe_source(path_or_buffer)
    table = _read_table(path_or_buffer, source, read_csv_kwargs)
    frame = to_price_frame(table, source, date_column=date_column, columns=columns, ticker=ticker)
    return _finish(frame, source, adjusted=adjusted, validate=validate, fill=fill)


def download(
    ticker: str,
    start: str | pd.Timestamp | None = None,
    end: str | pd.Timestamp | None = None,
    *,
    cache_dir: str | os.PathLike[str] | None = None,
    refresh: bool = False,
    adjusted: bool = True,
) -> pd.DataFrame:
    """Download daily prices from Yahoo Finance (needs the ``yahoo`` extra), with a CSV cache.

    Each request (ticker, start, end) is cached as one CSV file of raw prices
    in rnncast's column names, in ``cache_dir`` or else ``$RNNCAST_CACHE_DIR``,
    ``$XDG_CACHE_HOME/rnncast`` or ``~/.cache/rnncast``. A cached request is
    read back without touching the network unless ``refresh=True``; an
    open-ended request (``end=None``) therefore stays as first downloaded
    until refreshed. When the download fails (no network, Yahoo unavailable,
    unknown ticker) an existing cache file is used with a warning.

    Args:
        ticker: One Yahoo Finance symbol, e.g. ``"AAPL"``, ``"^GSPC"``, ``"BRK-B"``.
        start: First date (inclusive), e.g. ``"2015-01-01"``; None for the
            whole history (when ``end`` is None too).
        end: Last date (exclusive, as in yfinance); None for up to today.
        cache_dir: Folder of the cache files (created when needed).
        refresh: Download again even when a cache file exists.
        adjusted: Scale open/high/low/close by ``adj_close / close`` as in
            :func:`load_sample`; False returns the raw traded prices.

    Returns:
        DataFrame indexed by ``date`` with float64 columns
        ``open, high, low, close, adj_close, volume``.

    Raises:
        DownloadError: when yfinance is not installed, or the download fails
            and nothing is cached.
        ConfigError: for a ticker that is not one string or unparseable dates.
        DataError: when the downloaded data do not pass validation.

    Example:
        >>> from rnncast.datasets import download
        >>> frame = download("AAPL", start="2020-01-01", end="2021-01-01")  # doctest: +SKIP
        >>> list(frame.columns)  # doctest: +SKIP
        ['open', 'high', 'low', 'close', 'adj_close', 'volume']
    """
    symbol = check_symbol(ticker)
    path = cache_file(cache_dir, symbol, start, end)
    if path.exists() and not refresh:
        return read_csv(path, adjusted=adjusted)
    yf = import_yfinance(_OFFLINE_HINT)
    try:
        raw = fetch(yf, symbol, start, end)
    except DownloadError as err:
        if not path.exists():
            raise DownloadError(f"{err} There is no cached copy ({path}). {_OFFLINE_HINT}") from err
        warnings.warn(f"{err} Using possibly stale cached data from {path}.", stacklevel=2)
        return read_csv(path, adjusted=adjusted)
    source = f"Yahoo Finance data for {symbol!r}"
    frame = _finish(to_price_frame(raw, source), source, adjusted=False)
    write_cache(frame, path)
    return adjust_ohlc(frame) if adjusted else frame


def adjust_ohlc(frame: pd.DataFrame) -> pd.DataFrame:
    """Scale open/high/low/close by ``adj_close / close`` (split and dividend adjustment).

    Example:
        >>> import pandas as pd
        >>> raw = pd.DataFrame({"open": [100.0], "high": [110.0], "low": [90.0],
        ...                     "close": [100.0], "adj_close": [50.0], "volume": [1.0]})
        >>> adjust_ohlc(raw)["high"].tolist()
        [55.0]
    """
    ratio = frame["adj_close"] / frame["close"]
    adjusted = frame.copy()
    for column in OHLC:
        if column in adjusted.columns:
            adjusted[column] = frame[column] * ratio
    return adjusted


def _finish(
    frame: pd.DataFrame,
    source: str,
    *,
    adjusted: bool,
    validate: bool = True,
    fill: str | None = None,
) -> pd.DataFrame:
    """Validate (naming ``source`` in errors), then adjust OHLC when asked and possible."""
    if validate:
        try:
            frame = _validate(frame, fill=fill)
        except DataError as err:
            raise DataError(f"{source}: {err}") from err
    if adjusted and "adj_close" in frame.columns:
        frame = adjust_ohlc(frame)
    return frame


def _describe_source(path_or_buffer: PathOrBuffer) -> str:
    if isinstance(path_or_buffer, str | os.PathLike):
        return os.fspath(path_or_buffer)
    name = getattr(path_or_buffer, "name", None)
    return name if isinstance(name, str) else "<buffer>"


def _read_table(path_or_buffer: PathOrBuffer, source: str, kwargs: dict[str, Any]) -> pd.DataFrame:
    """Run ``pd.read_csv`` and turn its I/O and parse errors into ``DataError``."""
    try:
        table = pd.read_csv(path_or_buffer, **kwargs)
    except FileNotFoundError as err:
        raise DataError(
            f"cannot read prices from {source}: no such file (columns seen: none); check the path."
        ) from err
    except pd.errors.EmptyDataError as err:
        raise DataError(
            f"cannot read prices from {source}: the file is empty (columns seen: none); "
            "expected a header such as Date,Open,High,Low,Close,Volume."
        ) from err
    except (OSError, ValueError) as err:  # ParserError and UnicodeDecodeError are ValueErrors
        raise DataError(f"cannot read prices from {source}: {err}") from err
    if not isinstance(table.index, pd.RangeIndex):  # index_col= was passed
        table = table.reset_index()
    return table

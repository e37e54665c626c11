"""Read daily prices from CSV files: :func:`read_csv`.

Reading is :func:`pandas.read_csv`; recognising the columns is
:mod:`rnncast.datasets.formats`; validation and adjustment are
:func:`rnncast.datasets.prices.finish`.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from typing import IO, Any

import pandas as pd

from rnncast.datasets.formats import to_price_frame
from rnncast.datasets.prices import finish
from rnncast.datasets.tickers import select_tickers
from rnncast.exceptions import ConfigError, DataError

PathOrBuffer = str | os.PathLike[str] | IO[str] | IO[bytes]


def read_csv(
    path_or_buffer: PathOrBuffer,
    *,
    date_column: str | None = None,
    columns: Mapping[str, str] | None = None,
    ticker: str | None = None,
    tickers: Sequence[str] | None = None,
    adjusted: bool = True,
    validate: bool = True,
    fill: str | None = None,
    date_format: str | None = None,
    allow_jumps: bool = False,
    required: Sequence[str] | None = None,
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
    decreasing dates) is reversed silently, and rows with every field blank
    are skipped; nothing else is repaired.

    Dates are read from all the values, never guessed from the first one
    (:mod:`rnncast.datasets.dates`): ``2024-01-02`` (any time and UTC offset:
    the date on the exchange's own clock, so yfinance's ``00:00:00-04:00``
    stays that day); ``01/03/2012`` day-first or month-first as decided by
    a value above 12, else a ``DataError`` asking for ``date_format=``;
    ``YYYYMMDD`` integers, 4-digit years and epoch seconds/milliseconds (UTC)
    by magnitude; month names (``Jan 2, 2024``). A time of day with one row
    per day is dropped; intraday bars (several rows on one day) are refused
    rather than resampled, with the ``frame.resample("1D")`` recipe to do it
    yourself, because which session a bar belongs to depends on the
    exchange's clock. Blank dates, impossible dates and dates pandas cannot
    store (after 2262) are ``DataError``\ s naming the file line (the header
    is line 1) and the value.

    Args:
        path_or_buffer: Path (str or ``os.PathLike``) or open file-like object;
            compressed files (``.gz``, ``.zip``, ...) work as in ``pd.read_csv``.
        date_column: Name of the date column when it is not detected.
        columns: ``{file column: rnncast name}`` overriding detection, e.g.
            ``{"Kurs": "close"}``; the names ``"date"`` and ``"ticker"`` mark
            those columns.
        ticker: Keep only this ticker (matched in any case: ``"msft"`` finds
            ``MSFT``); the result is then a single series without the
            ``ticker`` column. A ticker the file lacks is an error listing the
            ones it has. For a file without a ticker column the ticker must
            be in the file's name (``msft.csv``, ``MSFT_daily.csv``), else it
            is an error: the ticker would be silently ignored.
        tickers: Keep only these tickers of a multi-ticker file (any case),
            as a long frame with the ``ticker`` column, before validation (so
            the other tickers' rows never block the file). Tickers the file
            lacks are an error naming them and listing the ones it has
            (:func:`rnncast.datasets.tickers.select_tickers`).
        adjusted: When True (default) and the file has an adjusted close,
            open/high/low/close are scaled by ``adj_close / close`` exactly as
            in :func:`load_sample`. False keeps the raw prices.
        validate: When True (default) the frame goes through
            :func:`rnncast.data.validate`, which raises on dates out of order,
            duplicate dates, NaN values or non-positive prices.
        fill: Passed to :func:`rnncast.data.validate` (``None``, ``"ffill"``
            or ``"drop"``); needs ``validate=True``.
        date_format: ``strftime`` format of the dates (``"%d/%m/%Y"``), for
            files whose dates cannot be read unambiguously; also pandas'
            ``"ISO8601"`` and ``"mixed"``.
        allow_jumps: Accept one-day moves above 50 % of the close (by default
            a ``DataError`` names them: a bad value, or an unadjusted split).
        required: The columns you will use; only they must be complete and
            valid. None (default): the price columns (``open, high, low,
            close, adj_close, volume``) present, so blanks in an extra column
            such as ``Dividend`` never block the file.
        **read_csv_kwargs: Extra options for ``pd.read_csv`` (``sep``,
            ``nrows``, ``thousands``, ...).

    Returns:
        DataFrame indexed by a ``DatetimeIndex`` named ``date`` with float64
        value columns (plus ``ticker`` for multi-ticker files).

    Raises:
        DataError: when the file is missing, empty or cannot be interpreted
            (message names the file, the columns seen and what was expected),
            or when validation fails (see :func:`rnncast.data.validate`).

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
    if ticker is not None and tickers is not None:
        raise ConfigError(
            f"pass ticker={ticker!r} for one series or tickers={tickers!r} for several, not both."
        )
    source = _describe_source(path_or_buffer)
    table = _read_table(path_or_buffer, source, read_csv_kwargs)
    frame = to_price_frame(
        table,
        source,
        date_column=date_column,
        columns=columns,
        ticker=ticker,
        date_format=date_format,
    )
    if tickers is not None:
        frame = select_tickers(frame, tickers, source)
    return finish(
        frame,
        source,
        adjusted=adjusted,
        validate=validate,
        fill=fill,
        required=required,
        allow_jumps=allow_jumps,
    )


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
    except TypeError as err:  # an option pd.read_csv does not know, or a bad path type
        raise ConfigError(
            f"cannot read prices from {source}: {err}; read_csv takes a path or file and the "
            "options of pandas.read_csv (sep=, nrows=, thousands=, ...)."
        ) from err
    if not isinstance(table.index, pd.RangeIndex) and "index_col" not in kwargs:
        raise DataError(
            f"cannot read prices from {source}: some rows have more fields than the header "
            f"({list(table.columns)}), e.g. the first row reads {_first_row(table)}; quote "
            'values that hold the delimiter ("Jan 4, 2021") or pass the right sep=.'
        )
    if not isinstance(table.index, pd.RangeIndex):  # index_col= was passed
        table = table.reset_index()
    return table.dropna(how="all") if len(table.columns) > 1 else table  # ",,,," rows


def _first_row(table: pd.DataFrame) -> str:
    index = table.index[0] if len(table) else ()
    values = [*(index if isinstance(index, tuple) else (index,)), *table.iloc[0].tolist()]
    return ",".join(str(v) for v in values)

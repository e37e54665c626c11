"""Price data in: the offline sample, CSV files and (optionally) Yahoo Finance.

Every loader returns the frame convention of :mod:`rnncast.data.validation`:
a DataFrame indexed by a ``DatetimeIndex`` named ``date`` with float64 columns
``open, high, low, close, adj_close, volume`` (and a ``ticker`` column for
multi-ticker data), sorted ascending.
"""

from __future__ import annotations

import pandas as pd

from rnncast.data.validation import TICKER_COLUMN, validate
from rnncast.exceptions import DataError

OHLC = ("open", "high", "low", "close")
COLUMNS = (*OHLC, "adj_close", "volume")
_SAMPLE_TICKERS = ("AAPL", "FB", "GOOG", "IBM", "MSFT")


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
    ``bokeh_sampledata`` (AAPL, GOOG, IBM, MSFT from 2000-03-01 and FB from
    2012-05-18, all until 2013-03-01), read from the installed package.

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
    rows = raw[raw[TICKER_COLUMN] == symbol]
    frame = pd.DataFrame(
        {name: rows[name].to_numpy(dtype="float64") for name in COLUMNS},
        index=pd.DatetimeIndex(rows["date"], name="date"),
    ).sort_index()
    if adjusted:
        frame = adjust_ohlc(frame)
    return validate(frame)


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

"""Offline sample prices that ship inside the package: :func:`load_sample`.

The file ``sample_data/stocks.csv.gz`` (about 0.3 MB) holds public-domain
Quandl WIKI daily prices for AAPL, FB, GOOG, IBM and MSFT up to 2013-03-01,
copied unchanged from the ``bokeh_sampledata`` package; see
``sample_data/README.md`` for the origin, licence and checksum.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import cache
from importlib.resources import files

import pandas as pd

from rnncast.datasets.formats import to_price_frame
from rnncast.datasets.prices import finish
from rnncast.datasets.tickers import check_tickers, long_frame
from rnncast.exceptions import DataError

SAMPLE_TICKERS = ("AAPL", "FB", "GOOG", "IBM", "MSFT")
_SAMPLE_FILE = ("sample_data", "stocks.csv.gz")
_TICKER = "Ticker"  # the file's ticker column


def available_samples() -> list[str]:
    """List the tickers that :func:`load_sample` can load offline.

    Example:
        >>> from rnncast.datasets import available_samples
        >>> available_samples()
        ['AAPL', 'FB', 'GOOG', 'IBM', 'MSFT']
    """
    return list(SAMPLE_TICKERS)


def load_sample(ticker: str | Sequence[str] = "AAPL", *, adjusted: bool = True) -> pd.DataFrame:
    """Load real daily prices that ship with the install (no network needed).

    The data are public-domain Quandl WIKI prices (AAPL, IBM, MSFT from
    2000-03-01, GOOG from 2004-08-19 and FB from 2012-05-18, all until
    2013-03-01), stored in the package as ``sample_data/stocks.csv.gz``.

    Args:
        ticker: One of :func:`available_samples` (case-insensitive), or a
            list of them for one long frame with a ``ticker`` column (rows
            grouped by ticker in sorted order), e.g. ``available_samples()``.
        adjusted: When True (default) open/high/low/close are multiplied by
            ``adj_close / close`` so splits and dividends do not show up as
            jumps (AAPL's 2:1 split on 2005-02-28 is not a -50% day). When
            False the raw traded prices are returned. ``volume`` is never
            adjusted.

    Returns:
        DataFrame indexed by ``date`` with float64 columns
        ``open, high, low, close, adj_close, volume`` (after a ``ticker``
        column when a list was given).

    Raises:
        DataError: for an unknown ticker (every one of a list), listing the
            available ones.

    Example:
        >>> import rnncast as rc
        >>> frame = rc.datasets.load_sample("AAPL")
        >>> list(frame.columns), len(frame)
        (['open', 'high', 'low', 'close', 'adj_close', 'volume'], 3270)
        >>> universe = rc.datasets.load_sample(["msft", "AAPL"])
        >>> universe["ticker"].unique().tolist(), len(universe)
        (['AAPL', 'MSFT'], 6540)
    """
    if not isinstance(ticker, str):
        return _load_samples(ticker, adjusted)
    symbol = str(ticker).upper()
    if symbol not in SAMPLE_TICKERS:
        raise DataError(
            f"no sample data for ticker {ticker!r}; available: {', '.join(SAMPLE_TICKERS)}. "
            "Use rc.datasets.read_csv or rc.datasets.download for other tickers."
        )
    table = _sample_table()
    rows = table[table[_TICKER] == symbol].drop(columns=_TICKER).reset_index(drop=True)
    source = f"the {symbol} sample"
    return finish(to_price_frame(rows, source), source, adjusted=adjusted)


def _load_samples(tickers: Sequence[str], adjusted: bool) -> pd.DataFrame:
    """Several samples as one long frame, tickers in sorted order."""
    symbols = sorted({t.upper() for t in check_tickers(tickers)})
    unknown = [s for s in symbols if s not in SAMPLE_TICKERS]
    if unknown:
        raise DataError(
            f"no sample data for {', '.join(map(repr, unknown))}; available: "
            f"{', '.join(SAMPLE_TICKERS)}. Use rc.datasets.read_csv or rc.datasets.download "
            "for other tickers."
        )
    return long_frame({s: load_sample(s, adjusted=adjusted) for s in symbols})


@cache
def _sample_table() -> pd.DataFrame:
    """All five series as stored (read once; callers select rows, giving new frames).

    pandas' default float parser gives the same doubles as Python's ``float``
    for this file (``tests/datasets/test_samples.py`` checks every frame).
    """
    with files(__package__).joinpath(*_SAMPLE_FILE).open("rb") as handle:
        return pd.read_csv(handle, compression="gzip")

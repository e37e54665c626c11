"""Price data in: the bundled offline samples, CSV files and (optionally) Yahoo Finance.

Every loader returns the frame convention of :mod:`rnncast.data.validation`:
a DataFrame indexed by a ``DatetimeIndex`` named ``date`` with float64 columns
``open, high, low, close, adj_close, volume`` (and a ``ticker`` column for
multi-ticker data, rows grouped by ticker in sorted order and ascending by date
inside each ticker), sorted ascending. One module per source:
:mod:`~rnncast.datasets.samples` (offline samples shipped in the package),
:mod:`~rnncast.datasets.csv_files` (CSV files), :mod:`~rnncast.datasets.yahoo`
(downloads, cached where :mod:`~rnncast.datasets.cache` says).

Example:
    >>> import rnncast as rc
    >>> frame = rc.datasets.load_sample("MSFT")
    >>> list(frame.columns)
    ['open', 'high', 'low', 'close', 'adj_close', 'volume']
"""

from rnncast.datasets.csv_files import read_csv
from rnncast.datasets.prices import COLUMNS, OHLC, adjust_ohlc
from rnncast.datasets.samples import available_samples, load_sample
from rnncast.datasets.yahoo import download

__all__ = [
    "COLUMNS",
    "OHLC",
    "adjust_ohlc",
    "available_samples",
    "download",
    "load_sample",
    "read_csv",
]

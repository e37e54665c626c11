"""Price data in: the bundled offline samples, CSV files and (optionally) Yahoo Finance.

Example:
    >>> import rnncast as rc
    >>> frame = rc.datasets.load_sample("MSFT")
    >>> list(frame.columns)
    ['open', 'high', 'low', 'close', 'adj_close', 'volume']
"""

from rnncast.datasets.readers import (
    COLUMNS,
    OHLC,
    adjust_ohlc,
    available_samples,
    download,
    load_sample,
    read_csv,
)

__all__ = [
    "COLUMNS",
    "OHLC",
    "adjust_ohlc",
    "available_samples",
    "download",
    "load_sample",
    "read_csv",
]

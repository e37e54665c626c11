r"""Where :func:`rnncast.datasets.download` keeps its CSV files, and how it writes them.

The folder is ``$RNNCAST_CACHE_DIR`` when set, else the per-user cache folder
that ``platformdirs`` gives for "rnncast" (``$XDG_CACHE_HOME/rnncast`` or
``~/.cache/rnncast`` on Linux, ``~/Library/Caches/rnncast`` on macOS,
``%LOCALAPPDATA%\rnncast\Cache`` on Windows).
"""

from __future__ import annotations

import os
import warnings
from pathlib import Path
from urllib.parse import quote

import pandas as pd
import platformdirs

from rnncast._internal.dates import to_timestamp
from rnncast._internal.files import atomic_file
from rnncast.exceptions import ConfigError

CACHE_ENV = "RNNCAST_CACHE_DIR"


def default_cache_dir() -> Path:
    """The download cache folder: ``$RNNCAST_CACHE_DIR``, else the OS's user cache folder.

    Example:
        >>> from unittest import mock
        >>> with mock.patch.dict(os.environ, {"RNNCAST_CACHE_DIR": "/tmp/prices"}):
        ...     default_cache_dir().as_posix()
        '/tmp/prices'
    """
    if os.environ.get(CACHE_ENV):
        return Path(os.environ[CACHE_ENV]).expanduser()
    return platformdirs.user_cache_path("rnncast", appauthor=False)


def cache_file(
    cache_dir: str | os.PathLike[str] | None, symbol: str, start: object, end: object
) -> Path:
    """Cache path of one request, e.g. ``AAPL_2020-01-01_latest.csv``.

    Example:
        >>> cache_file("/tmp/prices", "^GSPC", "2020-01-01", None).name
        '%5EGSPC_2020-01-01_latest.csv'
    """
    folder = Path(cache_dir).expanduser() if cache_dir is not None else default_cache_dir()
    first, last = _date_key(start, "start", "first"), _date_key(end, "end", "latest")
    if start is not None and end is not None and pd.Timestamp(start) >= pd.Timestamp(end):
        raise ConfigError(f"start={start!r} must be before end={end!r} (end is exclusive).")
    return folder / f"{quote(symbol, safe='')}_{first}_{last}.csv"


def _date_key(value: object, name: str, missing: str) -> str:
    if value is None:
        return missing
    stamp = to_timestamp(value, name)
    return stamp.strftime("%Y-%m-%d" if stamp == stamp.normalize() else "%Y-%m-%dT%H%M%S")


def write_cache(frame: pd.DataFrame, path: Path) -> None:
    """Write ``frame`` to ``path`` atomically (temporary file, then ``os.replace``)."""
    try:
        with atomic_file(path) as temporary:
            frame.to_csv(temporary, index_label="date")
    except OSError as err:
        warnings.warn(f"could not write the download cache {path}: {err}", stacklevel=3)

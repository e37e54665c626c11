"""Chronological train / validation / test splits (never shuffled across time)."""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
import pandas as pd

from rnncast._internal.dates import to_timestamp
from rnncast.data.validation import check_dates, check_index, iter_tickers
from rnncast.exceptions import ConfigError, DataError


class Split(NamedTuple):
    """The three chronological parts; unpacks as ``train, val, test``."""

    train: pd.DataFrame
    val: pd.DataFrame
    test: pd.DataFrame


def chronological_split(
    frame: pd.DataFrame,
    val: float = 0.15,
    test: float = 0.15,
    *,
    val_start: str | pd.Timestamp | None = None,
    test_start: str | pd.Timestamp | None = None,
) -> Split:
    """Split a price frame by time into train, validation and test parts.

    Rows are never shuffled: train holds the earliest dates, test the latest.
    Fractions are fractions of the *distinct dates*, so in a multi-ticker
    frame every ticker is cut at the same dates. A date argument overrides
    the matching fraction: ``test_start`` starts the test part (dates >=
    ``test_start``); ``val_start`` starts the validation part. Without
    ``val_start`` the validation part is the last ``val`` fraction of all
    dates before the test part.

    Args:
        frame: Price frame indexed by date (see :func:`rnncast.data.validate`).
        val: Fraction of dates for validation, in [0, 1). ``0`` gives an
            empty validation part.
        test: Fraction of dates for the test part, in [0, 1). ``0`` gives an
            empty test part.
        val_start: First date of the validation part.
        test_start: First date of the test part.

    Returns:
        ``Split(train, val, test)``, a named tuple of DataFrames.

    Raises:
        ConfigError: for fractions outside [0, 1) or dates in the wrong order.
        DataError: when a requested part would be empty, or dates are unsorted.

    Example:
        >>> import rnncast as rc
        >>> frame = rc.datasets.load_sample("IBM")
        >>> train, val, test = rc.data.chronological_split(frame, test_start="2012-01-01")
        >>> str(test.index[0].date()), train.index[-1] < val.index[0]
        ('2012-01-03', True)
    """
    _check_fractions(val, test)
    check_index(frame)
    for name, part in iter_tickers(frame):
        check_dates(part.index, name)
    dates = np.unique(frame.index.to_numpy())
    test_at = _boundary(dates, test_start, len(dates) - _count(test, len(dates)), "test_start")
    val_at = _boundary(dates, val_start, test_at - _count(val, len(dates)), "val_start")
    if val_at > test_at:
        raise ConfigError(f"val_start={val_start!r} must come before the test part's first date.")
    val_date, test_date = _date_at(dates, val_at), _date_at(dates, test_at)
    parts = Split(
        train=frame[frame.index < val_date],
        val=frame[(frame.index >= val_date) & (frame.index < test_date)],
        test=frame[frame.index >= test_date],
    )
    requested = {
        "val": val > 0 or val_start is not None,
        "test": test > 0 or test_start is not None,
    }
    _check_not_empty(parts, dates, requested)
    return parts


def _check_fractions(val: float, test: float) -> None:
    for name, value in (("val", val), ("test", test)):
        if not 0 <= value < 1:
            raise ConfigError(f"{name}={value!r} must be a fraction in [0, 1), e.g. 0.15.")
    if val + test >= 1:
        raise ConfigError(f"val + test = {val + test:g} leaves no training data; keep it below 1.")


def _count(fraction: float, n_dates: int) -> int:
    return round(fraction * n_dates)


def _boundary(dates: np.ndarray, start: object, default: int, name: str) -> int:
    """Index of the first date of a part: from an explicit date, else ``default``."""
    if start is None:
        return default
    stamp = to_timestamp(start, name)
    return int(np.searchsorted(dates, stamp.to_datetime64(), side="left"))


def _date_at(dates: np.ndarray, position: int) -> pd.Timestamp:
    """The date at ``position``, or a date after all data when past the end."""
    if position >= len(dates):
        return pd.Timestamp(dates[-1]) + pd.Timedelta(days=1)
    return pd.Timestamp(dates[position])


def _check_not_empty(parts: Split, dates: np.ndarray, requested: dict[str, bool]) -> None:
    span = (
        f"the data has {len(dates)} dates from {pd.Timestamp(dates[0]).date()} "
        f"to {pd.Timestamp(dates[-1]).date()}"
    )
    if parts.train.empty:
        raise DataError(
            f"the training part is empty: {span}. Move val_start/test_start later "
            "or lower the val/test fractions."
        )
    for name in ("val", "test"):
        if requested[name] and getattr(parts, name).empty:
            raise DataError(
                f"the {name} part is empty: {span}. Choose a {name}_start inside "
                f"that range or a larger {name} fraction (or {name}=0 for none)."
            )

"""Checks that a price frame is fit for forecasting, with errors that say how to fix it.

Frame convention used throughout rnncast:

* single series: a DataFrame indexed by a ``DatetimeIndex`` named ``date``,
  one row per trading day, ascending, with float columns such as
  ``open, high, low, close, adj_close, volume``;
* several tickers ("long" frame): the same, plus a ``ticker`` column; rows are
  grouped by ticker and ascending by date inside each ticker, so dates repeat
  across tickers but never inside one.
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import pandas as pd

from rnncast.exceptions import DataError

PRICE_COLUMNS = ("open", "high", "low", "close", "adj_close")
VOLUME_COLUMN = "volume"
TICKER_COLUMN = "ticker"
FILL_METHODS = (None, "ffill", "drop")
_SHOW = 3  # how many offending dates an error message lists


def validate(frame: pd.DataFrame, *, fill: str | None = None) -> pd.DataFrame:
    """Check a price frame and return it, optionally with NaN gaps filled.

    Checks, per ticker when a ``ticker`` column exists: the index is a
    ``DatetimeIndex``; dates are unique and strictly increasing; numeric
    columns hold no NaN or inf; price columns (``open, high, low, close,
    adj_close``) are > 0; ``volume`` is >= 0. Nothing is ever changed
    silently: gaps are only filled when ``fill`` asks for it.

    Args:
        frame: Price data indexed by date (see the module docstring).
        fill: ``None`` (default) raises on NaN; ``"ffill"`` carries the last
            valid value forward inside each ticker (a leading NaN still
            raises); ``"drop"`` removes rows that contain NaN.

    Returns:
        The frame (a new object when ``fill`` changed something).

    Raises:
        DataError: naming the column, the first offending dates and the fix.

    Example:
        >>> import pandas as pd, numpy as np
        >>> from rnncast.data import validate
        >>> idx = pd.DatetimeIndex(["2024-01-02", "2024-01-03", "2024-01-04"], name="date")
        >>> frame = pd.DataFrame({"close": [10.0, np.nan, 11.0]}, index=idx)
        >>> validate(frame, fill="ffill")["close"].tolist()
        [10.0, 10.0, 11.0]
    """
    if fill not in FILL_METHODS:
        raise DataError(f"fill={fill!r} is not supported; use one of {FILL_METHODS}.")
    check_index(frame)
    if len(frame) == 0:
        raise DataError("the frame has no rows; load some data before validating it.")
    if TICKER_COLUMN in frame.columns and frame[TICKER_COLUMN].isna().any():
        rows = frame.index[frame[TICKER_COLUMN].isna().to_numpy()]
        raise DataError(
            f"column {TICKER_COLUMN!r} is empty on {_dates(rows)}; "
            "every row of a multi-ticker frame needs its ticker."
        )
    for name, part in iter_tickers(frame):
        check_dates(part.index, name)
    frame = _fill_gaps(frame, fill)
    check_values(frame)
    return frame


def check_index(frame: pd.DataFrame) -> None:
    """Raise ``DataError`` unless ``frame`` is a DataFrame with a ``DatetimeIndex``."""
    if not isinstance(frame, pd.DataFrame):
        raise DataError(f"expected a pandas DataFrame of prices, got {type(frame).__name__}.")
    if not isinstance(frame.index, pd.DatetimeIndex):
        hint = ""
        if "date" in frame.columns:
            hint = " Use frame.set_index(pd.to_datetime(frame['date'])) or rc.datasets.read_csv."
        raise DataError(
            f"the frame's index must be a DatetimeIndex of trading dates, "
            f"got {type(frame.index).__name__}.{hint}"
        )


def iter_tickers(frame: pd.DataFrame) -> Iterator[tuple[str | None, pd.DataFrame]]:
    """Yield ``(ticker, rows)`` per ticker, or ``(None, frame)`` for a single series.

    Tickers come in order of first appearance, which keeps the frame's row order.
    """
    if TICKER_COLUMN not in frame.columns:
        yield None, frame
        return
    names = frame[TICKER_COLUMN].to_numpy()  # no copy for object/str columns
    starts = np.r_[0, np.flatnonzero(names[1:] != names[:-1]) + 1]  # first row of each run
    if len(set(names[starts])) == len(starts):  # grouped by ticker: slices, no copies
        for start, end in zip(starts, [*starts[1:], len(frame)], strict=True):
            yield str(names[start]), frame.iloc[start:end]
        return
    for name, rows in frame.groupby(TICKER_COLUMN, sort=False):
        yield str(name), rows


def check_dates(index: pd.DatetimeIndex, ticker: str | None = None) -> None:
    """Raise ``DataError`` unless ``index`` is unique and strictly increasing."""
    where = f" for ticker {ticker!r}" if ticker is not None else ""
    if index.hasnans:
        raise DataError(f"the date index{where} contains missing dates (NaT); drop those rows.")
    duplicated = index[index.duplicated(keep=False)].unique()
    if len(duplicated):
        raise DataError(
            f"duplicate dates{where}: {_dates(duplicated)}. Keep one row per date, "
            "e.g. frame[~frame.index.duplicated(keep='last')]."
        )
    steps = np.diff(index.asi8)
    if (steps <= 0).any():
        position = int(np.argmax(steps <= 0)) + 1
        if (steps < 0).all():
            order = "in descending order (newest first)"
        else:
            order = f"out of order: {_dates(index[position : position + 1])} comes after " + _dates(
                index[position - 1 : position]
            )
        raise DataError(f"dates{where} are {order}. Sort them with frame.sort_index().")


def check_values(frame: pd.DataFrame) -> None:
    """Raise ``DataError`` for NaN/inf values, non-positive prices or negative volume."""
    for column in frame.columns:
        if column == TICKER_COLUMN or not pd.api.types.is_numeric_dtype(frame[column]):
            continue
        values = frame[column].to_numpy(dtype=np.float64, na_value=np.nan)
        _raise_where(frame, column, np.isnan(values), "is NaN", _NAN_FIX)
        _raise_where(frame, column, np.isinf(values), "is infinite", "Correct those rows.")
        if column in PRICE_COLUMNS:
            _raise_where(
                frame,
                column,
                values <= 0,
                "is <= 0 (prices must be positive)",
                "Remove those rows or correct the source data.",
            )
        elif column == VOLUME_COLUMN:
            _raise_where(frame, column, values < 0, "is negative", "Volume must be >= 0.")


_NAN_FIX = "Pass fill='ffill' to carry the last price forward, fill='drop' to drop those rows."


def _raise_where(frame: pd.DataFrame, column: str, bad: np.ndarray, what: str, fix: str) -> None:
    if not bad.any():
        return
    rows = frame.index[bad]
    count = int(bad.sum())
    tickers = ""
    if TICKER_COLUMN in frame.columns:
        names = pd.unique(frame[TICKER_COLUMN].to_numpy()[bad])[:_SHOW]
        tickers = f" (ticker {', '.join(map(str, names))})"
    raise DataError(
        f"column {column!r} {what} on {count} row(s){tickers}, first on {_dates(rows)}. {fix}"
    )


def _fill_gaps(frame: pd.DataFrame, fill: str | None) -> pd.DataFrame:
    if fill is None:
        return frame
    numeric = [
        c for c in frame.columns if c != TICKER_COLUMN and pd.api.types.is_numeric_dtype(frame[c])
    ]
    if fill == "drop":
        return frame.dropna(subset=numeric)
    filled = frame.copy()
    if TICKER_COLUMN in frame.columns:
        filled[numeric] = frame.groupby(TICKER_COLUMN, sort=False)[numeric].ffill()
    else:
        filled[numeric] = frame[numeric].ffill()
    leading = filled[numeric].isna().any(axis=1).to_numpy()
    if leading.any():
        raise DataError(
            f"fill='ffill' cannot fill NaN at the start of a series (nothing before it), "
            f"first on {_dates(frame.index[leading])}. Drop those leading rows."
        )
    return filled


def _dates(index: pd.Index) -> str:
    shown = ", ".join(pd.Timestamp(d).strftime("%Y-%m-%d") for d in index[:_SHOW])
    return shown + (", ..." if len(index) > _SHOW else "")

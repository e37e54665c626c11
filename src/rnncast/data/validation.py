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

from collections.abc import Iterator, Sequence

import numpy as np
import pandas as pd

from rnncast.exceptions import DataError

PRICE_COLUMNS = ("open", "high", "low", "close", "adj_close")
VOLUME_COLUMN = "volume"
TICKER_COLUMN = "ticker"
FILL_METHODS = (None, "ffill", "drop")
JUMP_LIMIT = 0.5  # |p_t / p_{t-1} - 1| above this is a probable data error
ABSURD = 1e15  # no price or volume is this large; a larger value is a data error
_SPLIT_TOLERANCE = 0.03  # a move within 3 % of x2, x3, ... or x1/2, x1/3, ... is split-sized
_AFTER = 10  # rows after a jump that decide whether the new level stays
_LEVEL = 1.25  # "stays" / "reverts": the median of those rows within 25 % of the level
_EXTREME = 10.0  # a one-day move of x10 or x1/10 is never a real daily move
_SHOW = 3  # how many offending dates an error message lists
_SMALL_SPLITS = (1.5,)  # 3:2 splits: a move a real crash can make too, so ...
_QUIET = 25.0  # ... flagged only when 25x the median |log return| of the 20 rows around


def validate(
    frame: pd.DataFrame,
    *,
    fill: str | None = None,
    columns: Sequence[str] | None = None,
    allow_jumps: bool = False,
) -> pd.DataFrame:
    """Check a price frame and return it, optionally with NaN gaps filled.

    Checks, per ticker when a ``ticker`` column exists: the index is a
    ``DatetimeIndex``; dates are unique and strictly increasing; the checked
    numeric columns hold no NaN or inf and nothing above ``ABSURD`` (1e15);
    price columns (``open, high, low, close, adj_close``) are > 0 and the
    close is not the same on every row (nothing to forecast); ``volume`` is
    >= 0; and no day moves the close by more than ``JUMP_LIMIT`` (50 %,
    ``|close_t / close_{t-1} - 1| > 0.5``) or by a split-sized ratio that
    stays (see :func:`check_jumps`). Nothing is ever changed silently: gaps
    are only filled when ``fill`` asks for it.

    Args:
        frame: Price data indexed by date (see the module docstring).
        fill: ``None`` (default) raises on NaN; ``"ffill"`` carries the last
            valid value forward inside each ticker (a leading NaN still
            raises); ``"drop"`` removes rows that contain NaN (in the checked
            columns).
        columns: The columns in use, which must be complete and valid; other
            columns are left as they are (NaN allowed). None checks every
            numeric column.
        allow_jumps: Skip the one-day-jump check (for data with real moves
            above 50 %).

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
    checked = _checked_columns(frame, columns)
    frame = _fill_gaps(frame, fill, checked)
    check_values(frame, checked)
    check_constant(frame, checked)
    if not allow_jumps:
        check_jumps(frame, checked)
    return frame


def _checked_columns(frame: pd.DataFrame, columns: Sequence[str] | None) -> list[str]:
    numeric = [
        c for c in frame.columns if c != TICKER_COLUMN and pd.api.types.is_numeric_dtype(frame[c])
    ]
    if columns is None:
        return numeric
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise DataError(
            f"column(s) {missing} are used but not in the frame (columns: {list(frame.columns)})."
        )
    return [c for c in dict.fromkeys(columns) if c in numeric]


def single_series(
    frame: pd.DataFrame, name: str = "frame", needs: str = "one series is needed"
) -> pd.DataFrame:
    """The frame as one series: without a ticker column, or with a single ticker (dropped).

    Raises:
        DataError: when the frame holds several tickers, listing them.

    Example:
        >>> import pandas as pd
        >>> idx = pd.DatetimeIndex(["2024-01-02"], name="date")
        >>> frame = pd.DataFrame({"ticker": ["MSFT"], "close": [1.0]}, index=idx)
        >>> list(single_series(frame).columns)
        ['close']
    """
    if not isinstance(frame, pd.DataFrame) or TICKER_COLUMN not in frame.columns:
        return frame
    tickers = sorted(str(t) for t in pd.unique(frame[TICKER_COLUMN].to_numpy()))
    if len(tickers) <= 1:
        return frame.drop(columns=TICKER_COLUMN)
    more = f", ... ({len(tickers)} in all)" if len(tickers) > 10 else ""
    shown = ", ".join(tickers[:10]) + more
    raise DataError(
        f"{name} holds {len(tickers)} tickers ({shown}); {needs}: "
        f"select one ticker, e.g. frame[frame.ticker == {tickers[0]!r}]."
    )


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


def check_values(frame: pd.DataFrame, columns: Sequence[str] | None = None) -> None:
    """Raise ``DataError`` for NaN/inf/absurd values, non-positive prices or negative volume."""
    for column in _checked_columns(frame, columns):
        values = frame[column].to_numpy(dtype=np.float64, na_value=np.nan)
        _raise_where(frame, column, np.isnan(values), "is NaN", _NAN_FIX)
        _raise_where(frame, column, np.isinf(values), "is infinite", "Correct those rows.")
        _raise_where(
            frame,
            column,
            np.abs(values) > ABSURD,
            f"is absurdly large (above {ABSURD:.0e}, e.g. {values[np.argmax(np.abs(values))]:.3g})",
            "That is a data error; correct those rows.",
        )
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


def _jump_columns(frame: pd.DataFrame, columns: Sequence[str] | None) -> list[str]:
    """The closes in use (``close``, ``adj_close``), or else the price columns in use."""
    used = [c for c in (frame.columns if columns is None else columns) if c in frame.columns]
    closes = [c for c in ("close", "adj_close") if c in used]
    return closes or [c for c in used if c in PRICE_COLUMNS]


def check_constant(frame: pd.DataFrame, columns: Sequence[str] | None = None) -> None:
    """Raise ``DataError`` when a close (or a price column in use) never changes."""
    for column in _jump_columns(frame, columns):
        for name, part in iter_tickers(frame):
            values = part[column].to_numpy(dtype=np.float64, na_value=np.nan)
            if len(values) >= 3 and np.nanmin(values) == np.nanmax(values):
                where = f" for ticker {name!r}" if name is not None else ""
                raise DataError(
                    f"column {column!r}{where} is constant ({values[0]:g} on all {len(values)} "
                    "rows): there is nothing to forecast; check the file (a placeholder or a "
                    "frozen feed?)."
                )


def check_jumps(frame: pd.DataFrame, columns: Sequence[str] | None = None) -> None:
    """Raise ``DataError`` for one-day moves that are probably data errors.

    With ``r = p_t / p_{t-1}`` and the "level" the median of the next 10 rows
    (at least 2) over ``p_{t-1}``, a move is flagged when it is

    * a spike: ``|r - 1| > JUMP_LIMIT`` (50 %) and the level reverts to
      within 25 % of the old price (a bad value in the file);
    * split-sized (within 3 % of x2, x3, ... or x1/2, x1/3, ...; or of x1.5 or
      x1/1.5, a 3:2 split, when the move is 25x the median ``|log return|``
      of the 20 rows around it) or extreme (x10 or more either way) and the
      level stays within 25 % of the new price: "looks like an unadjusted
      split", naming the split ratio (``split_name``);
    * extreme at all (also at the end of the series).

    A real crash or rally that is not split-sized passes, for example AAPL's
    x0.48 on 2000-09-29 in the bundled sample; so do real moves that neither
    revert nor stay. ``allow_jumps=True`` in :func:`validate` skips the check.
    Checked columns: ``close`` and ``adj_close`` (of ``columns`` when given),
    or else the price columns in ``columns``.

    Example:
        >>> import pandas as pd
        >>> idx = pd.date_range("2024-01-01", periods=5, name="date")
        >>> frame = pd.DataFrame({"close": [10.0, 10.1, 5.0, 5.1, 5.0]}, index=idx)
        >>> try:
        ...     check_jumps(frame)
        ... except Exception as err:
        ...     print(str(err)[:69])
        column 'close' jumps x0.495 on 2024-01-03 (a 2:1 split?) and stays at
    """
    for column in _jump_columns(frame, columns):
        for name, part in iter_tickers(frame):
            values = part[column].to_numpy(dtype=np.float64, na_value=np.nan)
            flagged, stays = _jumps(values)
            if flagged.any():
                _raise_jumps(part.index, values, flagged, stays, column, name)


def _jumps(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per move ``t-1 -> t`` (length n-1): flagged, and whether the new level stays."""
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = values[1:] / values[:-1]  # (n-1,)
        size = np.where(ratio >= 1, ratio, 1 / ratio)  # >= 1 either way
    whole = np.round(size)
    split_sized = (whole >= 2) & (np.abs(size - whole) <= _SPLIT_TOLERANCE * whole)
    split_sized |= _quiet_small_splits(ratio, size)
    big = np.abs(ratio - 1) > JUMP_LIMIT
    stays = np.zeros(len(ratio), dtype=bool)
    reverts = np.zeros(len(ratio), dtype=bool)
    for t in np.flatnonzero(big | split_sized):
        after = values[t + 1 : t + 1 + _AFTER]
        before = np.median(values[max(0, t + 1 - _AFTER) : t + 1]) / values[t]
        if len(after) >= 2:
            level = np.median(after) / values[t]
            settled = abs(np.log(before)) < np.log(_LEVEL)  # not the way back from a spike
            stays[t] = settled and abs(np.log(level / ratio[t])) < np.log(_LEVEL)
            reverts[t] = abs(np.log(level)) < np.log(_LEVEL)
    extreme = size >= _EXTREME
    flagged = ((split_sized | extreme) & stays) | (big & reverts) | extreme
    return flagged & np.isfinite(ratio), stays & (split_sized | extreme)


def _quiet_small_splits(ratio: np.ndarray, size: np.ndarray) -> np.ndarray:
    """Moves within 3 % of x1.5 (either way) while the rows around are quiet.

    A 3:2 split moves the unadjusted close by a third, which real crashes do
    too (Carnival on 2001-09-17); what tells them apart is that the days
    around a split are ordinary: the move is at least ``_QUIET`` (25) times
    the median ``|log return|`` of the 10 rows before and after it.
    """
    near = np.zeros(len(ratio), dtype=bool)
    for split in _SMALL_SPLITS:
        near |= np.abs(size / split - 1) <= _SPLIT_TOLERANCE
    with np.errstate(divide="ignore", invalid="ignore"):
        moves = np.abs(np.log(ratio))  # (n-1,)
    for t in np.flatnonzero(near):
        around = np.r_[moves[max(0, t - _AFTER) : t], moves[t + 1 : t + 1 + _AFTER]]
        around = around[np.isfinite(around)]
        near[t] = len(around) >= 4 and moves[t] >= _QUIET * np.median(around)
    return near


def split_name(ratio: float) -> str | None:
    """The split a close ratio ``p_t / p_{t-1}`` looks like: ``"2:1"``, ``"3:2"``, ``"1:10"``.

    None when the ratio is not within 3 % of a split ratio.

    Example:
        >>> split_name(0.667), split_name(0.5), split_name(10.2), split_name(1000.0)
        ('3:2', '2:1', '1:10', None)
    """
    size = ratio if ratio >= 1 else 1 / ratio
    for small, name in zip(_SMALL_SPLITS, ("3:2",), strict=True):
        if abs(size / small - 1) <= _SPLIT_TOLERANCE:
            new, old = name.split(":")
            return name if ratio < 1 else f"{old}:{new}"
    n = round(size)
    if n < 2 or n > 100 or abs(size - n) > _SPLIT_TOLERANCE * n:
        return None
    return f"{n}:1" if ratio < 1 else f"1:{n}"


def _raise_jumps(
    index: pd.DatetimeIndex,
    values: np.ndarray,
    flagged: np.ndarray,
    stays: np.ndarray,
    column: str,
    ticker: str | None,
) -> None:
    where = f" for ticker {ticker!r}" if ticker is not None else ""
    moves = np.flatnonzero(flagged)
    splits = moves[stays[moves]]
    if len(splits):
        t = splits[0]
        ratio = values[t + 1] / values[t]
        name = split_name(ratio)
        kind = "" if name is None else f" (a {'reverse ' if ratio > 1 else ''}{name} split?)"
        raise DataError(
            f"column {column!r}{where} jumps x{ratio:.3g} on "
            f"{_dates(index[t + 1 : t + 2])}{kind} and stays at the new level: looks like an "
            "unadjusted split; use adjusted prices (an Adj Close column with "
            f"read_csv(adjusted=True), or multiply the prices before that date by {ratio:.4g}),"
            " or pass allow_jumps=True if the move is real."
        )
    shown = ", ".join(
        f"{index[t + 1]:%Y-%m-%d} (x{values[t + 1] / values[t]:.3g})" for t in moves[:_SHOW]
    )
    more = ", ..." if len(moves) > _SHOW else ""
    raise DataError(
        f"column {column!r}{where} moves by more than {JUMP_LIMIT:.0%} in one day on "
        f"{len(moves)} date(s): {shown}{more}; a probable data error (a bad value in the "
        "file); correct those rows, or pass allow_jumps=True if the moves are real."
    )


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


def _fill_gaps(frame: pd.DataFrame, fill: str | None, numeric: list[str]) -> pd.DataFrame:
    if fill is None:
        return frame
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

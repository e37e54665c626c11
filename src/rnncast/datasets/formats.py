"""Turn a raw price table (a CSV file, a yfinance frame) into rnncast's frame convention.

Private helpers of :mod:`rnncast.datasets`. The entry point is
:func:`to_price_frame`: it finds the date, ticker and price columns, renames
them to ``open, high, low, close, adj_close, volume`` (other numeric columns
keep a snake_case name), converts them to float64, indexes the rows by a
``DatetimeIndex`` named ``date`` and puts them in the documented order (grouped
by ticker in sorted order, ascending by date inside each ticker). The only
reordering done silently is reversing a series that is consistently
newest-first; every other problem is left for :func:`rnncast.data.validate`.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd

from rnncast.data.validation import TICKER_COLUMN
from rnncast.datasets.dates import line, parse_dates
from rnncast.exceptions import DataError

CANONICAL = ("open", "high", "low", "close", "adj_close", "volume")
DATE = "date"

# Aliases are compared after lower-casing and removing everything that is not
# a letter or digit, so "Adj Close", "adj_close", "AdjClose" and "ADJ-CLOSE"
# all become "adjclose". Polish names are Stooq's native headers.
_ALIASES = {
    "open": ("open", "openprice", "otwarcie"),
    "high": ("high", "highprice", "najwyzszy"),
    "low": ("low", "lowprice", "najnizszy"),
    "close": ("close", "closeprice", "closingprice", "closelast", "zamkniecie"),
    "adj_close": ("adjclose", "adjustedclose", "adjclosingprice"),
    "volume": ("volume", "vol", "wolumen"),
}
_CLOSE_FALLBACK = ("price", "last")  # used as close only when no close column exists
_DATE_ALIASES = (
    "date",
    "datetime",
    "timestamp",
    "day",
    "tradedate",
    "tradingday",
    "time",
    "data",
    "year",
)  # in priority order; "data" is Stooq's Polish header
_TICKER_ALIASES = ("ticker", "symbol", "name")
_EXPECTED = (
    "expected a date column such as Date and price columns such as Close; "
    "pass date_column= / columns= to map them"
)
_SHOW_TICKERS = 10


def snake_case(name: object) -> str:
    """Return ``name`` as a snake_case column name (``"Adj Close"`` -> ``"adj_close"``)."""
    text = re.sub(r"(?<=[a-z0-9])(?=[A-Z])", "_", str(name).strip())
    return re.sub(r"[^0-9a-z]+", "_", text.lower()).strip("_")


def _compact(name: object) -> str:
    return re.sub(r"[^0-9a-z]+", "", str(name).lower())


def describe_columns(columns: Sequence[object]) -> str:
    """Format column names for error messages."""
    return "[" + ", ".join(repr(str(c)) for c in columns) + "]" if len(columns) else "none"


def to_price_frame(
    table: pd.DataFrame,
    source: str,
    *,
    date_column: str | None = None,
    columns: Mapping[str, str] | None = None,
    ticker: str | None = None,
    date_format: str | None = None,
) -> pd.DataFrame:
    """Convert a raw table to rnncast's frame convention, without validating values.

    Args:
        table: Raw rows, one column per field (the date is a column, not the index).
        source: How to name the input in error messages (a path or ``"<buffer>"``).
        date_column: Name of the date column; detected when None.
        columns: ``{table column: rnncast name}`` overriding detection; the
            targets ``"date"`` and ``"ticker"`` mark those columns.
        ticker: Keep only this ticker (any case) and drop the ticker column;
            a table without a ticker column is accepted only when ``source``'s
            file name names the ticker (``msft.csv`` for ``"MSFT"``).
        date_format: ``strftime`` format of the dates; detected when None
            (see :mod:`rnncast.datasets.dates`).

    Returns:
        DataFrame indexed by ``date`` with float64 value columns (and a str
        ``ticker`` column for multi-ticker input), in the documented order.

    Raises:
        DataError: naming ``source``, the columns seen and what was expected.
    """
    seen = [str(c) for c in table.columns]
    table = table.set_axis(seen, axis=1)
    if table.empty:
        detail = "it has no rows" if seen else "it is empty"
        raise DataError(
            f"cannot read prices from {source}: {detail} "
            f"(columns seen: {describe_columns(seen)}); {_EXPECTED}."
        )
    numeric = {c for c in seen if _is_number(table[c])}
    names = _assign_names(seen, numeric, source, date_column, columns or {})
    roles = {name: column for column, name in names.items()}
    index = parse_dates(table[roles[DATE]], source, roles[DATE], date_format)
    tickers = _ticker_values(table, roles.get(TICKER_COLUMN), source)
    index = _one_row_per_day(index, tickers, source)
    if ticker is not None:
        keep = _select_ticker(tickers, ticker, source, seen, len(table))
        table, index, tickers = table[keep], index[keep], None
    data = {TICKER_COLUMN: tickers.to_numpy()} if tickers is not None else {}
    for file_column, name in names.items():
        if name not in (DATE, TICKER_COLUMN):
            data[name] = _to_float(table[file_column], source, file_column, index)
    frame = pd.DataFrame(data, index=index)
    frame = frame[
        [c for c in (TICKER_COLUMN, *CANONICAL) if c in frame.columns]
        + [c for c in frame.columns if c != TICKER_COLUMN and c not in CANONICAL]
    ]
    return frame.iloc[chronological_order(frame)]


def _assign_names(
    seen: list[str],
    numeric: set[str],
    source: str,
    date_column: str | None,
    columns: Mapping[str, str],
) -> dict[str, str]:
    """Map each used file column to its rnncast name (``date``, ``ticker``, ``close``, ...).

    Price and volume columns are always used; other columns only when numeric.
    """
    missing = [c for c in [*columns, date_column] if c is not None and c not in seen]
    if missing:
        raise DataError(
            f"cannot read prices from {source}: column(s) {describe_columns(missing)} "
            f"not found; columns seen: {describe_columns(seen)}."
        )
    names = {str(k): str(v) for k, v in columns.items()}
    if date_column is not None:
        names[date_column] = DATE
    free = [c for c in seen if c not in names]
    for role, aliases in ((DATE, _DATE_ALIASES), (TICKER_COLUMN, _TICKER_ALIASES)):
        if role not in names.values():
            found = _first_match(free, aliases)
            if found is not None:
                names[found] = role
                free.remove(found)
    if DATE not in names.values():
        raise DataError(
            f"cannot read prices from {source}: no date column among the columns "
            f"seen {describe_columns(seen)}; {_EXPECTED}."
        )
    for column in free:
        name = _canonical_name(column)
        if name in CANONICAL or (column in numeric and name not in (DATE, TICKER_COLUMN)):
            names[column] = name
    _use_close_fallback(names)
    _check_names(names, seen, source)
    return names


def _first_match(columns: list[str], aliases: Sequence[str]) -> str | None:
    for alias in aliases:
        for column in columns:
            if _compact(column) == alias:
                return column
    return None


def _canonical_name(column: str) -> str:
    key = _compact(column)
    for name, aliases in _ALIASES.items():
        if key in aliases:
            return name
    return snake_case(column)


def _use_close_fallback(names: dict[str, str]) -> None:
    if "close" in names.values():
        return
    for fallback in _CLOSE_FALLBACK:
        for column, name in names.items():
            if name == fallback:
                names[column] = "close"
                return


def _check_names(names: dict[str, str], seen: list[str], source: str) -> None:
    used = list(names.values())
    clashes = sorted({n for n in used if used.count(n) > 1})
    if clashes:
        files = [c for c, n in names.items() if n in clashes]
        raise DataError(
            f"cannot read prices from {source}: columns {describe_columns(files)} "
            f"all map to {clashes}; pass columns= to say which one to use."
        )
    if "close" not in used:
        raise DataError(
            f"cannot read prices from {source}: no close/price column among the "
            f"columns seen {describe_columns(seen)}; {_EXPECTED}."
        )


def _one_row_per_day(
    index: pd.DatetimeIndex, tickers: pd.Series | None, source: str
) -> pd.DatetimeIndex:
    """Dates without their time of day; intraday bars (several rows per day) are refused.

    A time on every row but one row per day (a daily bar stamped at the close,
    epoch times in UTC) is daily data: the time is dropped. Several rows on one
    day of one ticker are intraday bars, refused rather than resampled, because
    which session a bar belongs to depends on the exchange's clock.
    """
    days = index.normalize()
    if (index == days).all():
        return index  # repeated plain dates are duplicates, reported by validate
    owner = tickers.to_numpy() if tickers is not None else np.zeros(len(index), dtype=np.intp)
    repeated = pd.DataFrame({"t": owner, "d": days.asi8}).duplicated(keep=False).to_numpy()
    if repeated.any():
        first = int(np.argmax(repeated))
        count = int((days[repeated] == days[first]).sum())
        raise DataError(
            f"cannot read prices from {source}: it holds intraday bars ({count} rows on "
            f"{days[first]:%Y-%m-%d}, e.g. {index[first]}); rnncast forecasts daily prices and "
            "does not resample them for you. Resample to one row per day first, e.g. "
            "frame.resample('1D').agg({'open': 'first', 'high': 'max', 'low': 'min', "
            "'close': 'last', 'volume': 'sum'}).dropna(), and save that."
        )
    return pd.DatetimeIndex(days, name=DATE)


def _ticker_values(table: pd.DataFrame, column: str | None, source: str) -> pd.Series | None:
    if column is None:
        return None
    values = table[column]
    empty = int(values.isna().sum())
    if empty:
        raise DataError(
            f"cannot read prices from {source}: ticker column {column!r} is empty "
            f"on {empty} row(s); fill or drop those rows."
        )
    return pd.Series(values.astype(str).to_numpy(), dtype=str, name=TICKER_COLUMN)


def _select_ticker(
    tickers: pd.Series | None, wanted: str, source: str, seen: list[str], rows: int
) -> np.ndarray:
    """Boolean row mask for ``wanted`` (exact match, else case-insensitive)."""
    if tickers is None:
        if _names_ticker(source, wanted):
            return np.ones(rows, dtype=bool)
        raise DataError(
            f"ticker={wanted!r} was given but {source} has no ticker column "
            f"(columns seen: {describe_columns(seen)}) and its file name does not name "
            f"{wanted!r}; it holds one series of unknown ticker, so leave ticker= out "
            "to use it as it is, or pass the file of that ticker."
        )
    keep = (tickers == wanted).to_numpy()
    if not keep.any():
        keep = (tickers.str.upper() == str(wanted).upper()).to_numpy()
    if not keep.any():
        available = sorted(pd.unique(tickers))
        shown = ", ".join(available[:_SHOW_TICKERS])
        more = f", ... ({len(available)} in all)" if len(available) > _SHOW_TICKERS else ""
        raise DataError(
            f"ticker {wanted!r} is missing from {source} (not found in any case); "
            f"the file holds {shown}{more}."
        )
    return keep


def _names_ticker(source: str, ticker: str) -> bool:
    """Whether a file name such as ``msft.csv`` or ``MSFT_daily.csv`` names ``ticker``."""
    words = " " + re.sub(r"[^0-9a-z]+", " ", source.replace("\\", "/").split("/")[-1].lower())
    wanted = re.sub(r"[^0-9a-z]+", " ", str(ticker).lower()).strip()
    return bool(wanted) and f" {wanted} " in words + " "


def _is_number(values: pd.Series) -> bool:
    return pd.api.types.is_numeric_dtype(values) and not pd.api.types.is_bool_dtype(values)


def _to_float(values: pd.Series, source: str, column: str, index: pd.DatetimeIndex) -> np.ndarray:
    """Convert a value column to float64, naming the first value that is not a number."""
    if _is_number(values):
        return values.to_numpy(dtype=np.float64, na_value=np.nan)
    numbers = pd.to_numeric(values, errors="coerce")
    bad = (numbers.isna() & values.notna()).to_numpy()
    if bad.any():
        row = int(np.argmax(bad))
        raise DataError(
            f"cannot read prices from {source}: column {column!r} holds {values.iloc[row]!r} "
            f"on {index[row]:%Y-%m-%d} ({line(values.index[row])}), which is not a number; "
            "clean the file or pass "
            "pd.read_csv options (e.g. thousands=',', na_values=[...]) to read_csv."
        )
    return numbers.to_numpy(dtype=np.float64, na_value=np.nan)


def chronological_order(frame: pd.DataFrame) -> np.ndarray:
    """Row positions grouping tickers in sorted order and reversing newest-first series.

    Inside each ticker the file order is kept unless the dates are strictly
    decreasing (a newest-first export), in which case they are reversed. Any
    other disorder is left in place for :func:`rnncast.data.validate` to report.
    """
    n = len(frame)
    if TICKER_COLUMN in frame.columns:
        codes, _ = pd.factorize(frame[TICKER_COLUMN], sort=True)
    else:
        codes = np.zeros(n, dtype=np.intp)
    by_ticker = np.argsort(codes, kind="stable")
    codes = codes[by_ticker]
    dates = frame.index.asi8[by_ticker]
    inside = codes[1:] == codes[:-1]
    steps = np.bincount(codes[1:][inside], minlength=codes.max(initial=0) + 1)
    falling = np.bincount(codes[1:][inside & (np.diff(dates) < 0)], minlength=len(steps))
    reverse = (steps > 0) & (falling == steps)
    position = np.arange(n)
    key = np.where(reverse[codes], -position, position)
    return by_ticker[np.lexsort((key, codes))]

"""Read a date column the way it was meant, or say why not: :func:`parse_dates`.

Private helper of :mod:`rnncast.datasets.formats`. Rules, applied to the whole
column (never guessed from the first value alone):

* Year-first dates (``2024-01-02``, ``2024/01/02``, ``2024.01.02``, with an
  optional time) are never ambiguous.
* ``D/M/Y`` against ``M/D/Y`` (separators ``/``, ``-`` or ``.``, 4- or 2-digit
  years) is decided by the values: a first field above 12 makes the file
  day-first, a second field above 12 month-first. When no value decides (and
  the two readings differ), a :class:`~rnncast.exceptions.DataError` asks for
  ``date_format=``.
* Numbers are read by magnitude: 8-digit ``YYYYMMDD`` (Stooq), 4-digit years
  (Jan 1 of that year), epoch seconds (1e8 .. 1e11), milliseconds (.. 1e14),
  microseconds (.. 1e17) or nanoseconds, all in UTC.
* Dates with a month name (``Jan 2, 2024``, ``02-Jan-2024``) need a year.
* A UTC offset (``2024-03-11 00:00:00-04:00`` as yfinance writes it) is
  dropped: the date is the one on the exchange's own clock, whatever its DST.

Every failure (a blank date, a value that is not a date, a date pandas cannot
store, i.e. outside 1677-09-22 .. 2262-04-11) is a ``DataError`` naming the
line of the file (the header is line 1) and the value.
"""

from __future__ import annotations

import re
import warnings

import numpy as np
import pandas as pd

from rnncast.exceptions import DataError

DATE = "date"
_YMD = re.compile(r"^(\d{4})[-/.](\d{1,2})[-/.](\d{1,2})(.*)$")
_DMY = re.compile(r"^(\d{1,2})([-/.])(\d{1,2})\2(\d{4}|\d{2})(.*)$")
_REST = re.compile(
    r"^(?:(?:[T ]\s*)(\d{1,2}:\d{2}(?::\d{2}(?:\.\d+)?)?))?\s*(?:Z|UTC|GMT|[+-]\d{2}:?\d{2})?$"
)
_NUMBER = re.compile(r"^[+-]?\d+(?:\.\d*)?$")
_MONTH = re.compile(r"(?i)(?<![a-z])(?:jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)[a-z]*")
_YEAR = re.compile(r"(?<!\d)\d{4}(?!\d)|^\d{1,2}[- ][A-Za-z]{3,}\.?[- ]\d{2}$")
_EPOCH_UNITS = ((1e11, "s"), (1e14, "ms"), (1e17, "us"), (np.inf, "ns"))
_EPOCH_MIN = 1e8  # 1973-03-03 in seconds; smaller numbers are not taken as epochs
_LOW, _HIGH = pd.Timestamp.min.as_unit("ns"), pd.Timestamp.max.as_unit("ns")
_ASK = "pass date_format= (--date-format on the command line)"


def parse_dates(
    values: pd.Series, source: str, column: str, date_format: str | None = None
) -> pd.DatetimeIndex:
    """Parse a date column into a tz-naive ``datetime64[ns]`` index named ``date``.

    Args:
        values: The column as read (its index labels are the file's data rows).
        source: The file, for messages.
        column: The column's name in the file, for messages.
        date_format: A ``strftime`` format such as ``"%d/%m/%Y"`` (or pandas'
            ``"ISO8601"``/``"mixed"``) that overrides detection.

    Raises:
        DataError: naming the line, the value and the fix.

    Example:
        >>> import pandas as pd
        >>> parse_dates(pd.Series(["01/03/2012", "13/03/2012"]), "f.csv", "Date").strftime(
        ...     "%Y-%m-%d").tolist()
        ['2012-03-01', '2012-03-13']
    """
    where = f"cannot read prices from {source}: date column {column!r}"
    _refuse_blanks(values, where)
    if pd.api.types.is_datetime64_any_dtype(values):
        parsed = pd.DatetimeIndex(values)
    elif date_format is not None:
        text = values.astype(str).str.strip()
        parsed = _to_datetime(text, where, f"date_format={date_format!r}", format=date_format)
    elif _is_number(values):
        parsed = _numbers(values, where)
    else:
        parsed = _strings(values.astype(str).str.strip(), where)
    return _checked(parsed, values, where)


def _refuse_blanks(values: pd.Series, where: str) -> None:
    blank = np.array(values.isna(), dtype=bool)
    if values.dtype == object or pd.api.types.is_string_dtype(values):
        blank |= (values.astype(str).str.strip() == "").to_numpy()
    if blank.any():
        first = int(np.argmax(blank))
        raise DataError(
            f"{where} is blank on {line(values.index[first])} ({int(blank.sum())} row(s) in all); "
            "fill in those dates or drop those rows."
        )


def line(label: object) -> str:
    """``"line N"`` of the file for a row label of ``pd.read_csv`` (header = line 1)."""
    return f"line {label + 2}" if isinstance(label, int | np.integer) else f"row {label!r}"


def _show(value: object) -> str:
    """``repr`` of a cell without numpy's ``np.int64(...)`` wrapper."""
    return repr(value.item() if isinstance(value, np.generic) else value)


def _is_number(values: pd.Series) -> bool:
    return pd.api.types.is_numeric_dtype(values) and not pd.api.types.is_bool_dtype(values)


def _numbers(values: pd.Series, where: str) -> pd.DatetimeIndex:
    """YYYYMMDD integers, 4-digit years or epoch times, decided by magnitude."""
    numbers = values.to_numpy(dtype=np.float64)
    finite = np.isfinite(numbers)
    if not finite.all():
        first = int(np.argmax(~finite))
        shown = _show(values.iloc[first])
        raise DataError(f"{where} holds {shown} on {line(values.index[first])}; correct it.")
    whole = bool((numbers == np.round(numbers)).all())
    low, high = float(numbers.min()), float(numbers.max())
    if whole and low >= 1000_01_01 and high <= 9999_12_31:
        text = pd.Series(numbers.astype(np.int64).astype(str), index=values.index)
        return _to_datetime(text, where, "a YYYYMMDD date", format="%Y%m%d")
    if whole and low >= 1000 and high <= 9999:
        text = pd.Series(numbers.astype(np.int64).astype(str), index=values.index)
        return _to_datetime(text, where, "a year", format="%Y")
    if low >= _EPOCH_MIN:
        unit = next(u for bound, u in _EPOCH_UNITS if high < bound)
        if unit != next(u for bound, u in _EPOCH_UNITS if low < bound):
            raise DataError(
                f"{where} holds epoch times of different magnitudes ({low:.0f} .. {high:.0f}): "
                f"seconds and milliseconds mixed? Convert them to one unit, or {_ASK}."
            )
        return _epochs(numbers, unit, values, where)
    raise DataError(
        f"{where} holds numbers ({_show(values.iloc[0])} on {line(values.index[0])}, ...) that are "
        "neither YYYYMMDD dates, 4-digit years nor epoch seconds/milliseconds (>= 1e8); "
        f"{_ASK}, or give dates such as 2024-01-02."
    )


def _epochs(numbers: np.ndarray, unit: str, values: pd.Series, where: str) -> pd.DatetimeIndex:
    per_ns = {"s": 1e9, "ms": 1e6, "us": 1e3, "ns": 1.0}[unit]
    outside = numbers * per_ns >= _HIGH.value
    if outside.any():
        first = int(np.argmax(outside))
        raise DataError(
            f"{where} holds {_show(values.iloc[first])} on {line(values.index[first])}, read "
            f"as epoch {unit} that is after {_HIGH.date()}, the last date pandas can store; "
            f"check the value or {_ASK}."
        )
    return pd.DatetimeIndex(pd.to_datetime(numbers, unit=unit))


def _strings(text: pd.Series, where: str) -> pd.DatetimeIndex:
    """Dispatch on the shape of every value: numbers, year-first, D/M/Y or month names."""
    plain = pd.to_datetime(text, format="%Y-%m-%d", errors="coerce")  # the common case, fast
    if plain.notna().all():
        return pd.DatetimeIndex(plain)
    if text.str.fullmatch(_NUMBER.pattern).all():
        return _numbers(pd.to_numeric(text), where)
    ymd = text.str.extract(_YMD)
    if ymd[0].notna().all():
        return _from_parts(text, ymd[0], ymd[1], ymd[2], ymd[3], where)
    dmy = text.str.extract(_DMY)
    if dmy[0].notna().all():
        return _day_or_month_first(text, dmy, where)
    has_month = text.str.contains(_MONTH.pattern)
    if has_month.all() and text.str.contains(_YEAR.pattern).all():
        try:  # one format inferred from the first value (fast), else each value on its own
            return _to_datetime(text, where, "a date", format=None)
        except DataError:
            return _to_datetime(text, where, "a date", format="mixed")
    kinds = np.select([ymd[0].notna(), dmy[0].notna(), has_month], ["y", "d", "m"], "?")
    if (kinds != kinds[0]).any() and kinds[0] != "?":
        other = int(np.argmax(kinds != kinds[0]))
        raise DataError(
            f"{where} mixes date formats: {text.iloc[0]!r} on {line(text.index[0])} but "
            f"{text.iloc[other]!r} on {line(text.index[other])}; write every date the same "
            f"way (e.g. 2024-01-02), or {_ASK}."
        )
    first = ", ".join(repr(v) for v in text.head(3).tolist())
    bad = int(np.argmax(kinds == "?"))
    raise DataError(
        f"{where} (first: {first}) are not dates rnncast can read: {text.iloc[bad]!r} on "
        f"{line(text.index[bad])} is not a recognised date (e.g. 2024-01-02, 02/01/2024, "
        f"Jan 2 2024); pass date_column= to choose another column, or {_ASK}."
    )


def _from_parts(
    text: pd.Series, year: pd.Series, month: pd.Series, day: pd.Series, rest: pd.Series, where: str
) -> pd.DatetimeIndex:
    """Rebuild ``YYYY-MM-DD[ HH:MM:SS]`` from the parts; a UTC offset is dropped (local date)."""
    time = rest.str.extract(_REST)[0]
    unknown = rest.str.fullmatch(_REST.pattern) == False  # noqa: E712 (NaN-safe)
    if unknown.any():
        first = int(np.argmax(unknown.to_numpy()))
        raise DataError(
            f"{where} holds {text.iloc[first]!r} on {line(text.index[first])}: the part after "
            f"the date is not a time such as 16:00:00 or an offset such as -04:00; {_ASK}."
        )
    iso = year + "-" + month.str.zfill(2) + "-" + day.str.zfill(2)
    iso = iso.where(time.isna(), iso + " " + time.fillna(""))
    return _to_datetime(iso, where, "a date", format="ISO8601", shown=text)


def _day_or_month_first(text: pd.Series, dmy: pd.DataFrame, where: str) -> pd.DatetimeIndex:
    first, second = dmy[0].astype(int), dmy[2].astype(int)
    day_first, month_first = bool((second <= 12).all()), bool((first <= 12).all())
    sep = dmy[1].iloc[0]
    year = dmy[3].where(dmy[3].str.len() == 4, _century(dmy[3]))
    if not day_first and not month_first:
        a, b = int(np.argmax(first > 12)), int(np.argmax(second > 12))
        raise DataError(
            f"{where} cannot be read day-first ({text.iloc[b]!r} on {line(text.index[b])}) nor "
            f"month-first ({text.iloc[a]!r} on {line(text.index[a])}); {_ASK}."
        )
    if day_first and month_first and (first != second).any():
        y = "%Y" if dmy[3].str.len().iloc[0] == 4 else "%y"
        raise DataError(
            f"{where} holds dates such as {text.iloc[0]!r} that read both day-first and "
            f"month-first (no day above 12 decides); pass date_format='%d{sep}%m{sep}{y}' "
            f"(day first) or date_format='%m{sep}%d{sep}{y}' (month first); on the command "
            "line --date-format."
        )
    day, month = (dmy[0], dmy[2]) if day_first else (dmy[2], dmy[0])
    return _from_parts(text, year, month, day, dmy[4], where)


def _century(years: pd.Series) -> pd.Series:
    """Two-digit years as ``%y`` reads them: 69-99 -> 19xx, 00-68 -> 20xx."""
    number = pd.to_numeric(years, errors="coerce").fillna(0).astype(int)
    return np.where(number >= 69, "19", "20") + years


def _to_datetime(
    text: pd.Series, where: str, what: str, format: str | None, shown: pd.Series | None = None
) -> pd.DatetimeIndex:
    """``pd.to_datetime`` with failures named by line and value."""
    shown = text if shown is None else shown
    try:
        with warnings.catch_warnings():  # dateutil fallback for month-name formats is fine
            warnings.filterwarnings("ignore", "Could not infer format", UserWarning)
            parsed = pd.to_datetime(text, format=format, errors="coerce")
    except (ValueError, TypeError, OverflowError) as err:  # mixed time zones, bad format
        raise DataError(f"{where}: {err}; {_ASK} or write dates such as 2024-01-02.") from err
    if not isinstance(parsed, pd.Series) or not pd.api.types.is_datetime64_any_dtype(parsed):
        raise DataError(f"{where} holds dates in several time zones; {_ASK}.")
    bad = parsed.isna().to_numpy()
    if bad.any():
        first = int(np.argmax(bad))
        raise DataError(
            f"{where} holds {shown.iloc[first]!r} on {line(shown.index[first])}, which is not "
            f"{what} ({format or 'inferred format'}); correct it or {_ASK}."
        )
    return pd.DatetimeIndex(parsed)


def _checked(parsed: pd.DatetimeIndex, values: pd.Series, where: str) -> pd.DatetimeIndex:
    """Local wall-clock dates as ``datetime64[ns]``; dates pandas cannot store are named."""
    if parsed.tz is not None:
        parsed = parsed.tz_localize(None)  # the date on the exchange's own clock
    outside = np.asarray((parsed < _LOW) | (parsed > _HIGH))
    if outside.any():
        first = int(np.argmax(outside))
        raise DataError(
            f"{where} holds {_show(values.iloc[first])} on {line(values.index[first])}, outside "
            f"the dates pandas can store ({_LOW.date()} .. {_HIGH.date()}); correct that row."
        )
    return pd.DatetimeIndex(parsed, name=DATE).as_unit("ns")

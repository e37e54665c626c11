"""Trading calendars (exchange-calendars): which days an exchange is open.

``exchange_calendars`` is imported on first use, so ``import rnncast`` stays fast.
"""

from __future__ import annotations

import warnings
from contextlib import contextmanager
from functools import lru_cache

import pandas as pd

from rnncast._internal.checks import positive_int
from rnncast._internal.dates import to_timestamp
from rnncast.exceptions import ConfigError

DEFAULT_CALENDAR = "XNYS"


def next_trading_days(
    last_date: str | pd.Timestamp, n: int, calendar: str = DEFAULT_CALENDAR
) -> pd.DatetimeIndex:
    """The ``n`` sessions of ``calendar`` that follow ``last_date``.

    Args:
        last_date: The last date with data (it need not be a session itself).
        n: How many sessions to return.
        calendar: An exchange-calendars code: ``"XNYS"`` (New York),
            ``"XNAS"``, ``"XLON"``, ``"XETR"``, ``"XTKS"``, ...

    Returns:
        ``DatetimeIndex`` named ``date`` of ``n`` tz-naive session dates.

    Example:
        >>> from rnncast.data import next_trading_days
        >>> [d.strftime("%a %d %b") for d in next_trading_days("2013-03-28", 2)]
        ['Mon 01 Apr', 'Tue 02 Apr']
    """
    n = positive_int(n, "n", unit=" number of days")
    last = _as_date(last_date)
    end = last + pd.Timedelta(days=2 * n + 30)  # generous: never fewer than n sessions
    with _quiet():
        sessions = _calendar(calendar, last.year - 1, end.year + 1).sessions_in_range(
            last + pd.Timedelta(days=1), end
        )
    return pd.DatetimeIndex(sessions[:n].tz_localize(None), name="date")


def non_sessions(dates: pd.DatetimeIndex, calendar: str = DEFAULT_CALENDAR) -> pd.DatetimeIndex:
    """The dates in ``dates`` on which ``calendar`` was closed (weekends, holidays).

    Example:
        >>> import pandas as pd
        >>> non_sessions(pd.DatetimeIndex(["2012-12-24", "2012-12-25"])).strftime("%m-%d").tolist()
        ['12-25']
    """
    dates = pd.DatetimeIndex(dates).tz_localize(None).normalize()
    if len(dates) == 0:
        return dates
    with _quiet():
        cal = _calendar(calendar, dates.min().year, dates.max().year)
        sessions = cal.sessions_in_range(dates.min(), dates.max()).tz_localize(None)
    return dates[~dates.isin(sessions)]


def _as_date(value: str | pd.Timestamp) -> pd.Timestamp:
    stamp = to_timestamp(value, "last_date")
    return stamp.tz_localize(None).normalize() if stamp.tzinfo else stamp.normalize()


@contextmanager
def _quiet():
    """Hide pandas deprecation warnings raised inside exchange-calendars (not ours to fix)."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", category=DeprecationWarning)
        warnings.filterwarnings("ignore", category=FutureWarning)
        yield


@lru_cache(maxsize=16)
def _calendar(name: str, first_year: int, last_year: int):
    """A calendar covering ``first_year`` to ``last_year`` (built once per span)."""
    import exchange_calendars as xcals

    try:
        return xcals.get_calendar(name, start=f"{first_year}-01-01", end=f"{last_year}-12-31")
    except xcals.errors.InvalidCalendarName as err:
        raise ConfigError(
            f"unknown trading calendar {name!r}; use an exchange-calendars code such as "
            "'XNYS' (NYSE), 'XNAS', 'XLON', 'XETR' or 'XTKS'."
        ) from err

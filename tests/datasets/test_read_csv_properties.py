"""Property tests of read_csv: every small file reads right or fails with a DataError.

Random small files with planted dates written in one of many formats (ISO,
year-first with slashes, day-first and month-first with any separator, 2-digit
years, YYYYMMDD, epoch seconds and milliseconds, years, month names, New York
timestamps with their DST offsets), in either order. A file whose dates can be
read unambiguously must give exactly the planted dates; a day-first/month-first
file that no value decides must fail with a DataError asking for date_format=.
Arbitrary text in the date column must never raise anything but a DataError.
"""

from __future__ import annotations

import datetime as dt
import io
from zoneinfo import ZoneInfo

import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st

from rnncast.datasets import read_csv
from rnncast.exceptions import DataError

FIRST, LAST = dt.date(1990, 1, 1), dt.date(2030, 12, 31)
NEW_YORK = ZoneInfo("America/New_York")
EPOCH = dt.date(1970, 1, 1)
AMBIGUOUS = {"%d/%m/%Y", "%m/%d/%Y", "%d.%m.%Y", "%m-%d-%Y", "%d-%m-%y", "%m/%d/%y"}
FORMATS = [
    "%Y-%m-%d",
    "%Y-%m-%d 00:00:00",
    "%Y-%m-%dT00:00:00Z",
    "%Y-%m-%d 16:00:00",
    "%Y/%m/%d",
    "%d %b %Y",
    "%b %d %Y",
    *sorted(AMBIGUOUS),
    "yyyymmdd",
    "epoch_s",
    "epoch_ms",
    "new_york",
    "years",
]


def write_date(day: dt.date, fmt: str) -> str:
    seconds = (day - EPOCH).days * 86_400
    if fmt == "yyyymmdd":
        return day.strftime("%Y%m%d")
    if fmt == "epoch_s":
        return str(seconds)
    if fmt == "epoch_ms":
        return str(seconds * 1000)
    if fmt == "new_york":  # as yfinance's history() writes them: midnight with the DST offset
        return str(pd.Timestamp(day).tz_localize(NEW_YORK))
    if fmt == "years":
        return str(day.year)
    return day.strftime(fmt)


@st.composite
def files(draw):
    fmt = draw(st.sampled_from(FORMATS))
    n = draw(st.integers(1, 12))
    if fmt == "years":
        year = st.integers(FIRST.year, LAST.year)
        years = draw(st.lists(year, min_size=n, max_size=n, unique=True))
        planted = sorted(dt.date(y, 1, 1) for y in years)
    else:
        days = st.dates(min_value=FIRST, max_value=LAST)
        planted = sorted(draw(st.lists(days, min_size=n, max_size=n, unique=True)))
    moves = draw(st.lists(st.floats(0.001, 0.04), min_size=n, max_size=n))
    signs = draw(st.lists(st.booleans(), min_size=n, max_size=n))
    price, closes = 100.0, []
    for move, up in zip(moves, signs, strict=True):
        price *= 1 + move if up else 1 - move
        closes.append(round(price, 6))
    dividends = draw(st.lists(st.sampled_from(["", "0", "0.25"]), min_size=n, max_size=n))
    rows = [
        f"{write_date(d, fmt)},{c!r},{x}"
        for d, c, x in zip(planted, closes, dividends, strict=True)
    ]
    if draw(st.booleans()):
        rows.reverse()  # newest first, as many exports are
    blank = draw(st.none() | st.integers(0, n))
    if blank is not None:  # a row without its date
        rows.insert(blank, ",101.5,")
    text = "Date,Close,Dividend\n" + "\n".join(rows) + "\n"
    return fmt, planted, closes, text, blank


def undecided(fmt: str, planted: list[dt.date]) -> bool:
    """A day-first/month-first file where no day above 12 tells the two readings apart."""
    return (
        fmt in AMBIGUOUS
        and all(d.day <= 12 for d in planted)
        and any(d.day != d.month for d in planted)
    )


@settings(max_examples=200, deadline=None)
@given(files())
def test_every_file_reads_the_planted_dates_or_fails_with_a_data_error(case):
    fmt, planted, closes, text, blank = case
    try:
        frame = read_csv(io.StringIO(text))
    except DataError as err:
        if blank is not None:
            assert f"is blank on line {blank + 2}" in str(err), str(err)
            return
        assert undecided(fmt, planted), f"{fmt}: {err}\n{text}"
        assert "date_format=" in str(err)
        return
    assert blank is None, f"a blank date was accepted:\n{text}"
    assert not undecided(fmt, planted), f"{fmt} read an undecidable file:\n{text}"
    assert [d.date() for d in frame.index] == planted, text
    assert frame["close"].tolist() == closes
    assert frame.index.dtype == "datetime64[ns]"


@settings(max_examples=200, deadline=None)
@given(
    st.lists(
        st.text(alphabet="0123456789/-.: TZ+JanFebMyD", min_size=0, max_size=22),
        min_size=1,
        max_size=6,
    )
)
def test_any_text_in_the_date_column_is_read_or_refused_with_a_data_error(values):
    rows = [f'"{v}",{100 + i}' for i, v in enumerate(values)]
    text = "Date,Close\n" + "\n".join(rows) + "\n"
    try:
        frame = read_csv(io.StringIO(text))
    except DataError:
        return
    assert frame.index.dtype == "datetime64[ns]"
    assert frame.index.is_monotonic_increasing and frame.index.is_unique
    assert (frame.index == frame.index.normalize()).all()

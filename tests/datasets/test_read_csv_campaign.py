"""read_csv cases the bad-input campaign found (issue 14)."""

from __future__ import annotations

import io

import pytest

import rnncast as rc


def test_rows_with_more_fields_than_the_header_are_named():
    # an unquoted "Jan 04, 2021" made pandas use the first fields as an index: the
    # dates were read as years, and the error spoke of duplicate dates on 2021-01-01
    text = "Date,Close\nJan 04, 2021,100\nJan 05, 2021,101\nJan 06, 2021,102\n"
    with pytest.raises(rc.DataError, match=r"some rows have more fields than the header"):
        rc.datasets.read_csv(io.StringIO(text))


def test_quoted_dates_with_commas_read_right():
    text = 'Date,Close\n"Jan 04, 2021",100\n"Jan 05, 2021",101\n"Jan 06, 2021",102\n'
    frame = rc.datasets.read_csv(io.StringIO(text))
    assert [str(d.date()) for d in frame.index] == ["2021-01-04", "2021-01-05", "2021-01-06"]


def test_an_unknown_pandas_option_is_a_config_error():
    with pytest.raises(rc.ConfigError, match=r"unexpected keyword argument 'nonsense'"):
        rc.datasets.read_csv(io.StringIO("Date,Close\n2021-01-04,1\n"), nonsense=1)

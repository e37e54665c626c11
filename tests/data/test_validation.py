import numpy as np
import pandas as pd
import pytest

import rnncast as rc
from conftest import make_long, make_prices
from rnncast.exceptions import DataError


def test_valid_frame_is_returned_unchanged(prices):
    assert rc.data.validate(prices) is prices


def test_sample_data_is_valid(aapl):
    rc.data.validate(aapl)


def test_index_must_be_datetime():
    frame = make_prices(5).reset_index()
    with pytest.raises(DataError, match=r"DatetimeIndex.*set_index"):
        rc.data.validate(frame)


def test_not_a_frame():
    with pytest.raises(DataError, match="DataFrame"):
        rc.data.validate(np.zeros(3))


def test_empty_frame():
    with pytest.raises(DataError, match="no rows"):
        rc.data.validate(make_prices(5).iloc[:0])


def test_duplicate_dates_are_named():
    frame = make_prices(10)
    frame = pd.concat([frame.iloc[:5], frame.iloc[4:]])
    with pytest.raises(DataError, match=r"duplicate dates: 2020-01-07.*duplicated"):
        rc.data.validate(frame)


def test_out_of_order_date_is_named():
    frame = make_prices(10)
    frame = frame.iloc[[0, 1, 2, 4, 3, 5, 6, 7, 8, 9]]
    with pytest.raises(DataError, match=r"out of order: 2020-01-06 comes after 2020-01-07.*sort"):
        rc.data.validate(frame)


def test_descending_dates_say_newest_first():
    with pytest.raises(DataError, match=r"descending order \(newest first\)"):
        rc.data.validate(make_prices(10).iloc[::-1])


def test_nan_names_column_dates_and_fill_option():
    frame = make_prices(10)
    frame.iloc[3, 0] = np.nan
    message = r"'close' is NaN on 1 row\(s\), first on 2020-01-06.*fill='ffill'"
    with pytest.raises(DataError, match=message):
        rc.data.validate(frame)


def test_ffill_is_explicit_and_carries_last_value(prices):
    frame = prices.copy()
    frame.iloc[3, 0] = np.nan
    filled = rc.data.validate(frame, fill="ffill")
    assert filled["close"].iloc[3] == prices["close"].iloc[2]
    assert np.isnan(frame["close"].iloc[3])  # the input is not modified


def test_ffill_never_fills_across_tickers():
    frame = make_long(("AAA", "BBB"), n=20)
    frame.iloc[20, frame.columns.get_loc("close")] = np.nan  # first BBB row
    with pytest.raises(DataError, match=r"cannot fill NaN at the start"):
        rc.data.validate(frame, fill="ffill")


def test_fill_drop_removes_nan_rows(prices):
    frame = prices.copy()
    frame.iloc[[3, 7], 1] = np.nan
    assert len(rc.data.validate(frame, fill="drop")) == len(prices) - 2


def test_unknown_fill():
    with pytest.raises(DataError, match="fill='bfill' is not supported"):
        rc.data.validate(make_prices(5), fill="bfill")


def test_infinite_value():
    frame = make_prices(10)
    frame.iloc[2, 1] = np.inf
    with pytest.raises(DataError, match=r"'volume' is infinite.*2020-01-03"):
        rc.data.validate(frame)


@pytest.mark.parametrize("value", [0.0, -1.0])
def test_prices_must_be_positive(value):
    frame = make_prices(10, columns=("open", "close"))
    frame.iloc[5, 1] = value
    with pytest.raises(DataError, match=r"'close' is <= 0.*2020-01-08"):
        rc.data.validate(frame)


def test_volume_may_be_zero_but_not_negative():
    frame = make_prices(10)
    frame.iloc[1, 1] = 0.0
    rc.data.validate(frame)
    frame.iloc[2, 1] = -5.0
    with pytest.raises(DataError, match=r"'volume' is negative.*2020-01-03"):
        rc.data.validate(frame)


def test_multi_ticker_checks_dates_per_ticker(long_frame):
    rc.data.validate(long_frame)  # dates repeat across tickers: fine
    bad = long_frame.copy()
    rows = np.flatnonzero(bad["ticker"] == "BBB")
    bad = bad.iloc[np.r_[0 : rows[0], rows[1], rows[0], rows[2] : len(bad)]]
    with pytest.raises(DataError, match=r"for ticker 'BBB' are out of order"):
        rc.data.validate(bad)


def test_multi_ticker_error_names_ticker(long_frame):
    frame = long_frame.copy()
    frame.iloc[np.flatnonzero(frame["ticker"] == "CCC")[4], 1] = -1.0
    with pytest.raises(DataError, match=r"ticker CCC"):
        rc.data.validate(frame)


def test_missing_ticker_is_an_error(long_frame):
    frame = long_frame.copy()
    frame["ticker"] = frame["ticker"].astype(object)
    frame.iloc[3, 0] = None
    with pytest.raises(DataError, match="ticker"):
        rc.data.validate(frame)

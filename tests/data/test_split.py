import numpy as np
import pandas as pd
import pytest

import rnncast as rc
from conftest import make_long
from rnncast.exceptions import ConfigError, DataError


def test_fractions_split_in_time_order(prices):
    train, val, test = rc.data.chronological_split(prices, val=0.15, test=0.15)
    assert (len(train), len(val), len(test)) == (210, 45, 45)
    assert train.index[-1] < val.index[0] and val.index[-1] < test.index[0]
    pd.testing.assert_frame_equal(pd.concat([train, val, test]), prices)


def test_result_is_a_named_tuple(prices):
    parts = rc.data.chronological_split(prices)
    assert parts.train is parts[0] and parts.test is parts[2]


def test_split_by_dates(aapl):
    train, val, test = rc.data.chronological_split(
        aapl, val_start="2011-01-01", test_start="2012-01-01"
    )
    assert train.index[-1] == pd.Timestamp("2010-12-31")
    assert val.index[0] == pd.Timestamp("2011-01-03")
    assert test.index[0] == pd.Timestamp("2012-01-03")
    assert len(train) + len(val) + len(test) == len(aapl)


def test_test_start_with_val_fraction(prices):
    _train, val, test = rc.data.chronological_split(prices, val=0.1, test_start=prices.index[250])
    assert test.index[0] == prices.index[250] and len(test) == 50
    assert len(val) == 30  # 10 % of all 300 dates, just before the test part
    assert val.index[-1] == prices.index[249]


def test_zero_fraction_gives_empty_part(prices):
    train, val, test = rc.data.chronological_split(prices, val=0.0, test=0.2)
    assert val.empty and len(train) == 240 and len(test) == 60


def test_multi_ticker_split_at_same_dates():
    frame = make_long(("AAA", "BBB"), n=100)
    # BBB lacks its first 20 dates: the split still cuts both tickers on the same dates
    frame = frame[~((frame["ticker"] == "BBB").to_numpy() & (frame.index < frame.index[20]))]
    assert frame.index.nunique() == 100 and len(frame) == 180
    train, val, test = rc.data.chronological_split(frame, val=0.2, test=0.2)
    for part in (train, val, test):
        firsts = part.groupby("ticker").apply(lambda rows: rows.index.min())
        lasts = part.groupby("ticker").apply(lambda rows: rows.index.max())
        assert firsts.nunique() == 1 or part is train
        assert lasts.nunique() == 1
    assert set(test["ticker"]) == {"AAA", "BBB"}
    assert len(test) == 40


def test_never_shuffles(prices):
    for part in rc.data.chronological_split(prices):
        assert part.index.is_monotonic_increasing


@pytest.mark.parametrize(
    ("val", "test", "message"),
    [
        (-0.1, 0.1, r"val=-0.1 must be a fraction in \[0, 1\)"),
        (0.1, 1.0, r"test=1.0 must be a fraction"),
        (0.5, 0.5, r"val \+ test = 1 leaves no training data"),
    ],
)
def test_bad_fractions(prices, val, test, message):
    with pytest.raises(ConfigError, match=message):
        rc.data.chronological_split(prices, val=val, test=test)


def test_empty_test_part_from_late_date(prices):
    with pytest.raises(
        DataError,
        match=r"the test part is empty: the data has 300 dates from "
        r"2020-01-01 to 2021-02-23",
    ):
        rc.data.chronological_split(prices, test_start="2030-01-01")


def test_empty_train_part(prices):
    with pytest.raises(DataError, match="training part is empty"):
        rc.data.chronological_split(prices, val_start="2019-01-01")


def test_empty_val_part_between_dates(prices):
    with pytest.raises(DataError, match="the val part is empty"):
        rc.data.chronological_split(prices, val_start="2020-06-01", test_start="2020-06-01")


def test_val_after_test_is_an_error(prices):
    with pytest.raises(ConfigError, match="val_start='2020-09-01' must come before"):
        rc.data.chronological_split(prices, val_start="2020-09-01", test_start="2020-06-01")


def test_bad_date_string(prices):
    with pytest.raises(ConfigError, match="test_start='soon' is not a date"):
        rc.data.chronological_split(prices, test_start="soon")


def test_unsorted_frame_is_refused(prices):
    with pytest.raises(DataError, match="sort"):
        rc.data.chronological_split(prices.iloc[np.r_[1, 0, 2:300]])

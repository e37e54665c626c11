import pandas as pd
import pytest

import rnncast as rc
from rnncast.exceptions import ConfigError


def test_next_sessions_skip_weekend_and_holidays():
    days = rc.data.next_trading_days("2012-12-21", 5)  # a Friday before Christmas
    assert days.strftime("%Y-%m-%d").tolist() == [
        "2012-12-24",
        "2012-12-26",
        "2012-12-27",
        "2012-12-28",
        "2012-12-31",
    ]
    assert days.name == "date" and days.tz is None


def test_hurricane_sandy_closure_is_known():
    days = rc.data.next_trading_days(pd.Timestamp("2012-10-26"), 2)
    assert days.strftime("%Y-%m-%d").tolist() == ["2012-10-31", "2012-11-01"]


def test_last_date_need_not_be_a_session():
    days = rc.data.next_trading_days("2013-03-02", 1)  # a Saturday
    assert days[0] == pd.Timestamp("2013-03-04")


def test_other_exchange():
    # Good Friday and Easter Monday 2013: London closed on both, New York on Friday only
    assert rc.data.next_trading_days("2013-03-28", 1, calendar="XLON")[0] == pd.Timestamp(
        "2013-04-02"
    )
    assert rc.data.next_trading_days("2013-03-28", 1)[0] == pd.Timestamp("2013-04-01")


@pytest.mark.parametrize("ticker", rc.datasets.available_samples())
def test_sample_dates_are_nyse_sessions(ticker):
    frame = rc.datasets.load_sample(ticker)
    assert len(rc.data.non_sessions(frame.index)) == 0


def test_non_sessions_finds_holidays():
    dates = pd.DatetimeIndex(["2012-07-03", "2012-07-04", "2012-07-07"])
    assert rc.data.non_sessions(dates).strftime("%m-%d").tolist() == ["07-04", "07-07"]


def test_errors():
    with pytest.raises(ConfigError, match="unknown trading calendar 'NYSEE'"):
        rc.data.next_trading_days("2013-03-01", 3, calendar="NYSEE")
    with pytest.raises(ConfigError, match="n must be a positive integer"):
        rc.data.next_trading_days("2013-03-01", 0)
    with pytest.raises(ConfigError, match="last_date='someday' is not a date"):
        rc.data.next_trading_days("someday", 3)

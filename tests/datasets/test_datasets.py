"""load_sample / available_samples / adjust_ohlc on the bundled offline data."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from rnncast.datasets import COLUMNS, adjust_ohlc, available_samples, load_sample
from rnncast.exceptions import DataError

SPLIT_DAY = pd.Timestamp("2005-02-28")  # AAPL 2:1 split


def test_available_samples_lists_the_five_tickers_and_returns_a_copy():
    names = available_samples()
    assert names == ["AAPL", "FB", "GOOG", "IBM", "MSFT"]
    names.append("TSLA")
    assert available_samples() == ["AAPL", "FB", "GOOG", "IBM", "MSFT"]


@pytest.mark.parametrize("ticker", available_samples())
@pytest.mark.parametrize("adjusted", [True, False])
def test_every_sample_follows_the_frame_convention(ticker, adjusted):
    frame = load_sample(ticker, adjusted=adjusted)
    assert list(frame.columns) == list(COLUMNS)
    assert all(dtype == np.float64 for dtype in frame.dtypes)
    assert isinstance(frame.index, pd.DatetimeIndex)
    assert frame.index.name == "date"
    assert frame.index.is_monotonic_increasing and frame.index.is_unique
    assert frame.index[-1] == pd.Timestamp("2013-03-01")
    first = {"FB": "2012-05-18", "GOOG": "2004-08-19"}.get(ticker, "2000-03-01")
    assert frame.index[0] == pd.Timestamp(first)
    assert (frame[["open", "high", "low", "close", "adj_close"]] > 0).all().all()


def test_ticker_is_case_insensitive():
    pd.testing.assert_frame_equal(load_sample("msft"), load_sample("MSFT"))


def test_adjusted_aapl_has_no_split_jump_but_raw_prices_do():
    window = slice("2005-02-01", "2005-03-31")
    adjusted = load_sample("AAPL")["close"].pct_change()[window]
    raw = load_sample("AAPL", adjusted=False)["close"].pct_change()[window]
    assert adjusted.abs().max() < 0.30
    assert raw[SPLIT_DAY] == pytest.approx(44.86 / 88.99 - 1)  # about -49.6%
    assert raw.drop(SPLIT_DAY).abs().max() < 0.30


def test_adjusted_ohlc_is_raw_times_adj_close_over_close():
    raw = load_sample("AAPL", adjusted=False)
    adjusted = load_sample("AAPL")
    # Hand check against the source row: 2005-02-28 O 44.68 H 45.14 L 43.96 C 44.86 adj 5.765135
    row = raw.loc[SPLIT_DAY]
    assert (row["open"], row["close"], row["adj_close"]) == (44.68, 44.86, pytest.approx(5.765135))
    ratio = row["adj_close"] / 44.86
    assert adjusted.loc[SPLIT_DAY, "open"] == pytest.approx(44.68 * ratio)
    assert adjusted.loc[SPLIT_DAY, "high"] == pytest.approx(45.14 * ratio)
    assert adjusted.loc[SPLIT_DAY, "low"] == pytest.approx(43.96 * ratio)
    assert adjusted.loc[SPLIT_DAY, "close"] == pytest.approx(row["adj_close"])
    factor = raw["adj_close"] / raw["close"]
    for column in ("open", "high", "low", "close"):
        np.testing.assert_allclose(adjusted[column], raw[column] * factor, rtol=1e-12)
    pd.testing.assert_series_equal(adjusted["volume"], raw["volume"])
    pd.testing.assert_series_equal(adjusted["adj_close"], raw["adj_close"])


def test_unknown_ticker_lists_available_ones():
    with pytest.raises(DataError, match="TSLA") as info:
        load_sample("TSLA")
    for name in available_samples():
        assert name in str(info.value)
    assert isinstance(info.value, ValueError)


def test_adjust_ohlc_scales_prices_but_not_volume():
    raw = pd.DataFrame(
        {
            "open": [100.0, 8.0],
            "high": [110.0, 9.0],
            "low": [90.0, 7.0],
            "close": [100.0, 8.0],
            "adj_close": [50.0, 8.0],
            "volume": [1.0, 2.0],
        }
    )
    out = adjust_ohlc(raw)
    assert out["open"].tolist() == [50.0, 8.0]
    assert out["high"].tolist() == [55.0, 9.0]
    assert out["low"].tolist() == [45.0, 7.0]
    assert out["volume"].tolist() == [1.0, 2.0]
    assert raw["open"].tolist() == [100.0, 8.0]  # input untouched

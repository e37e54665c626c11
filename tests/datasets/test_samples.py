"""load_sample / available_samples / adjust_ohlc on the sample data shipped in the package."""

from __future__ import annotations

import gzip
import hashlib
from importlib.resources import files

import numpy as np
import pandas as pd
import pytest

from rnncast.datasets import COLUMNS, adjust_ohlc, available_samples, load_sample
from rnncast.exceptions import DataError

SPLIT_DAY = pd.Timestamp("2005-02-28")  # AAPL 2:1 split

# sha256 of each frame (values, dates, column names, dtypes) as load_sample returned it
# when it read bokeh_sampledata 2026.1's stocks module; the bundled file must reproduce them.
RECORDED = {
    ("AAPL", True): "b30e326e5e03aa8d0643c2884aeaf2a0a90987a95a7ecc03205ffcd690754a41",
    ("AAPL", False): "b047771e362baf78e28a645c85e469e66e29f907f0f925be03677303d998d2e8",
    ("FB", True): "611c0dd29aab14d01ea487f3db13e138eb0bafbee5ac43a33086d92c4038b1f5",
    ("FB", False): "611c0dd29aab14d01ea487f3db13e138eb0bafbee5ac43a33086d92c4038b1f5",
    ("GOOG", True): "ef81dbd7e60ab8edc15ac04661e3e69572b9bde530e44e66b98667d75013585b",
    ("GOOG", False): "4cab5caa34e4ee749c77c1f185da25f589b823d46f2e56b8dabf976ab71ed264",
    ("IBM", True): "f9a16020e9285506cef83d91b2306793eef7f98c8f5d95e818cafd43053900ec",
    ("IBM", False): "6b4104ec25667af0edae5d0d0773b37a47df7ad9e5ba97ecaa64cd1dcaf7f3a2",
    ("MSFT", True): "900beae33ab74dbc0fd53877b4a4bc98e872596b884629f1b974a48e2ee5d37f",
    ("MSFT", False): "ee952b48cc48610d6f8605b7a53c963a378434e6fe6ccfcd2afbfe65c4307045",
}
SAMPLE_FILE = files("rnncast.datasets").joinpath("sample_data", "stocks.csv.gz")
# bokeh_sampledata 2026.1's stocks.csv.gz, as recorded in its licenses/datasets.json
SOURCE_SHA256 = "5abadf99b2d394f920120a27de6f0df129859d71d4cfb0bf661bcc99446ab1fd"


def frame_digest(frame: pd.DataFrame) -> str:
    digest = hashlib.sha256()
    digest.update(frame.to_numpy().tobytes())
    digest.update(frame.index.asi8.tobytes())
    digest.update(",".join(frame.columns).encode())
    digest.update(str(frame.dtypes.tolist()).encode())
    return digest.hexdigest()


@pytest.mark.parametrize(("ticker", "adjusted"), sorted(RECORDED))
def test_bundled_samples_reproduce_the_recorded_frames(ticker, adjusted):
    assert frame_digest(load_sample(ticker, adjusted=adjusted)) == RECORDED[ticker, adjusted]


def test_bundled_file_is_the_documented_copy():
    data = SAMPLE_FILE.read_bytes()
    assert hashlib.sha256(data).hexdigest() == SOURCE_SHA256
    assert len(data) < 350_000
    readme = SAMPLE_FILE.parent.joinpath("README.md").read_text()
    assert SOURCE_SHA256 in readme and "Public domain" in readme
    lines = gzip.decompress(data).decode().splitlines()
    assert lines[0] == "Ticker,Date,Open,High,Low,Close,Volume,Adj Close"
    assert len(lines) - 1 == sum(len(load_sample(t)) for t in available_samples()) == 12_154


@pytest.mark.parametrize("ticker", available_samples())
def test_samples_match_bokeh_sampledata_when_installed(ticker):
    stocks = pytest.importorskip("bokeh_sampledata.stocks")
    source = pd.DataFrame(getattr(stocks, ticker))
    expected = pd.DataFrame(
        {
            "open": source["open"],
            "high": source["high"],
            "low": source["low"],
            "close": source["close"],
            "adj_close": source["adj_close"],
            "volume": source["volume"].astype(np.float64),
        }
    ).set_axis(pd.DatetimeIndex(pd.to_datetime(source["date"]), name="date").as_unit("ns"))
    pd.testing.assert_frame_equal(load_sample(ticker, adjusted=False), expected, check_exact=True)


def test_changing_a_loaded_sample_does_not_change_the_next_one():
    first = load_sample("IBM", adjusted=False)
    first.iloc[0, 0] = -1.0
    assert load_sample("IBM", adjusted=False).iloc[0, 0] > 0


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

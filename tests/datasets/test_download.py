"""rnncast.datasets.download with fake yfinance functions: these tests never touch the network."""

from __future__ import annotations

import logging
import sys
import warnings

import numpy as np
import pandas as pd
import platformdirs
import pytest
import yfinance

from rnncast.datasets import download
from rnncast.datasets.cache import default_cache_dir
from rnncast.exceptions import ConfigError, DownloadError

DAYS = pd.DatetimeIndex(["2024-01-02", "2024-01-03", "2024-01-04"], name="Date")
RAW = {  # yfinance's column order; adj close about 0.4% below close (dividends)
    "Adj Close": [184.938217, 183.553528, 181.222336],
    "Close": [185.639999, 184.250000, 181.910004],
    "High": [188.440002, 185.880005, 183.089996],
    "Low": [183.889999, 183.429993, 180.880005],
    "Open": [187.149994, 184.220001, 182.149994],
    "Volume": [82488700, 58414500, 71983600],
}


def yahoo_frame(ticker: str = "AAPL", *, multi_level: bool = True) -> pd.DataFrame:
    """A frame shaped like ``yf.download(ticker, auto_adjust=False)`` in yfinance >= 0.2.48."""
    frame = pd.DataFrame(RAW, index=DAYS)
    if multi_level:
        frame.columns = pd.MultiIndex.from_product([list(RAW), [ticker]], names=["Price", "Ticker"])
    return frame


class FakeDownload:
    """Records calls; returns a yfinance-like frame, an empty frame, or raises."""

    def __init__(self, mode: str = "ok", *, multi_level: bool = True):
        self.mode, self.multi_level, self.calls = mode, multi_level, []

    def __call__(self, tickers, **kwargs):
        self.calls.append((tickers, kwargs))
        if self.mode == "raise":
            raise ConnectionError("Failed to resolve 'query2.finance.yahoo.com'")
        if self.mode == "empty":  # what yfinance returns after logging a failed download
            logging.getLogger("yfinance").error("1 Failed download: DNSError('no host')")
            warnings.warn("inplace is deprecated", DeprecationWarning, stacklevel=1)
            return pd.DataFrame(columns=pd.MultiIndex.from_product([list(RAW), [tickers]]))
        return yahoo_frame(tickers, multi_level=self.multi_level)


@pytest.fixture(autouse=True)
def no_network(monkeypatch, tmp_path):
    """Fail loudly if a test reaches the real yfinance, and keep the default cache in tmp."""

    def forbidden(*args, **kwargs):
        raise AssertionError("a test tried to download from Yahoo Finance")

    monkeypatch.setattr(yfinance, "download", forbidden)
    monkeypatch.setenv("RNNCAST_CACHE_DIR", str(tmp_path / "default-cache"))


def use(monkeypatch, fake: FakeDownload) -> FakeDownload:
    monkeypatch.setattr(yfinance, "download", fake)
    return fake


@pytest.mark.parametrize("multi_level", [True, False])
def test_download_normalises_and_adjusts(monkeypatch, tmp_path, multi_level):
    fake = use(monkeypatch, FakeDownload(multi_level=multi_level))
    frame = download("aapl", "2024-01-01", "2024-01-05", cache_dir=tmp_path)
    assert fake.calls == [
        (
            "AAPL",
            {
                "start": "2024-01-01",
                "end": "2024-01-05",
                "auto_adjust": False,
                "progress": False,
                "actions": False,
            },
        )
    ]
    assert list(frame.columns) == ["open", "high", "low", "close", "adj_close", "volume"]
    assert (frame.dtypes == np.float64).all()
    assert frame.index.equals(pd.DatetimeIndex(DAYS, name="date"))
    ratio = np.array(RAW["Adj Close"]) / np.array(RAW["Close"])
    np.testing.assert_allclose(frame["open"], np.array(RAW["Open"]) * ratio)
    np.testing.assert_allclose(frame["close"], RAW["Adj Close"])
    assert frame["volume"].tolist() == [82488700.0, 58414500.0, 71983600.0]


def test_adjusted_false_returns_raw_prices(monkeypatch, tmp_path):
    use(monkeypatch, FakeDownload())
    frame = download("AAPL", "2024-01-01", "2024-01-05", cache_dir=tmp_path, adjusted=False)
    assert frame["open"].tolist() == RAW["Open"]
    assert frame["close"].tolist() == RAW["Close"]


def test_cache_file_holds_raw_normalised_columns(monkeypatch, tmp_path):
    use(monkeypatch, FakeDownload())
    download("^GSPC", "2024-01-01", "2024-01-05", cache_dir=tmp_path)
    files = sorted(p.name for p in tmp_path.iterdir())
    assert files == ["%5EGSPC_2024-01-01_2024-01-05.csv"]  # no temporary file left behind
    cached = pd.read_csv(tmp_path / files[0])
    assert list(cached.columns) == ["date", "open", "high", "low", "close", "adj_close", "volume"]
    assert cached["close"].tolist() == RAW["Close"]


def test_cache_hit_does_not_call_yfinance(monkeypatch, tmp_path):
    first = download_once(monkeypatch, tmp_path)
    fake = use(monkeypatch, FakeDownload())
    again = download("AAPL", "2024-01-01", "2024-01-05", cache_dir=tmp_path)
    assert fake.calls == []
    pd.testing.assert_frame_equal(again, first, check_exact=True)
    monkeypatch.setitem(sys.modules, "yfinance", None)  # works even without the extra
    pd.testing.assert_frame_equal(
        download("AAPL", "2024-01-01", "2024-01-05", cache_dir=tmp_path), first, check_exact=True
    )


def test_each_request_has_its_own_cache_file(monkeypatch, tmp_path):
    fake = use(monkeypatch, FakeDownload())
    download("AAPL", "2024-01-01", "2024-01-05", cache_dir=tmp_path)
    download("AAPL", "2024-01-02", "2024-01-05", cache_dir=tmp_path)
    download("AAPL", cache_dir=tmp_path)
    assert len(fake.calls) == 3
    assert fake.calls[2][1]["period"] == "max"  # whole history when no dates are given
    assert len(list(tmp_path.glob("AAPL_*.csv"))) == 3


def test_refresh_downloads_again(monkeypatch, tmp_path):
    download_once(monkeypatch, tmp_path)
    fake = use(monkeypatch, FakeDownload())
    download("AAPL", "2024-01-01", "2024-01-05", cache_dir=tmp_path, refresh=True)
    assert len(fake.calls) == 1


@pytest.mark.parametrize("mode", ["raise", "empty"])
def test_offline_with_cache_warns_and_reads_the_cache(monkeypatch, tmp_path, mode):
    first = download_once(monkeypatch, tmp_path)
    fake = use(monkeypatch, FakeDownload(mode))
    with pytest.warns(UserWarning, match="stale cached data"):
        again = download("AAPL", "2024-01-01", "2024-01-05", cache_dir=tmp_path, refresh=True)
    assert len(fake.calls) == 1
    pd.testing.assert_frame_equal(again, first, check_exact=True)


@pytest.mark.parametrize("mode", ["raise", "empty"])
def test_offline_without_cache_raises_with_alternatives(monkeypatch, tmp_path, mode, capsys):
    use(monkeypatch, FakeDownload(mode))
    with pytest.raises(DownloadError) as info:
        download("MSFT", "2024-01-01", "2024-01-05", cache_dir=tmp_path)
    message = str(info.value)
    for part in ("'MSFT'", "download", "network", "read_csv", "load_sample"):
        assert part in message
    if mode == "empty":  # yfinance's own reason is quoted, not printed to the terminal
        assert "yfinance said: 1 Failed download: DNSError('no host')" in message
        assert capsys.readouterr().err == ""
    assert isinstance(info.value, ConnectionError)
    assert list(tmp_path.iterdir()) == []


def test_missing_yahoo_extra(monkeypatch, tmp_path):
    monkeypatch.setitem(sys.modules, "yfinance", None)
    with pytest.raises(DownloadError, match=r"rnncast\[yahoo\]") as info:
        download("AAPL", cache_dir=tmp_path)
    assert "pip install" in str(info.value) and "read_csv" in str(info.value)


def test_cache_env_variable_overrides_the_default_folder(monkeypatch, tmp_path):
    use(monkeypatch, FakeDownload())
    monkeypatch.setenv("RNNCAST_CACHE_DIR", str(tmp_path / "mine"))
    download("AAPL", "2024-01-01", "2024-01-05")
    assert (tmp_path / "mine" / "AAPL_2024-01-01_2024-01-05.csv").exists()


def test_default_cache_is_the_platformdirs_user_cache(monkeypatch, tmp_path):
    asked = []

    def user_cache_path(appname, appauthor=None):
        asked.append((appname, appauthor))
        return tmp_path / "os-cache"

    use(monkeypatch, FakeDownload())
    monkeypatch.delenv("RNNCAST_CACHE_DIR")
    monkeypatch.setattr(platformdirs, "user_cache_path", user_cache_path)
    download("AAPL", "2024-01-01", "2024-01-05")
    assert asked == [("rnncast", False)]
    assert (tmp_path / "os-cache" / "AAPL_2024-01-01_2024-01-05.csv").exists()


@pytest.mark.skipif(sys.platform != "linux", reason="XDG_CACHE_HOME is the Linux convention")
def test_default_cache_on_linux_follows_xdg_cache_home(monkeypatch, tmp_path):
    monkeypatch.delenv("RNNCAST_CACHE_DIR")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert default_cache_dir() == tmp_path / "xdg" / "rnncast"
    monkeypatch.delenv("XDG_CACHE_HOME")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert default_cache_dir() == tmp_path / "home" / ".cache" / "rnncast"


def test_unwritable_cache_still_returns_data(monkeypatch, tmp_path):
    use(monkeypatch, FakeDownload())
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    with pytest.warns(UserWarning, match="could not write the download cache"):
        frame = download("AAPL", "2024-01-01", "2024-01-05", cache_dir=blocker)
    assert len(frame) == 3


@pytest.mark.parametrize(
    ("args", "match"),
    [
        (([],), "non-empty list"),
        ((["AAPL", 3],), "string"),
        ((["AAPL"], "2024-02-01", "2024-01-01"), "must be before"),
        (("AAPL", "someday"), "start='someday' is not a date"),
        (("AAPL", "2024-02-01", "2024-01-01"), "must be before"),
    ],
)
def test_bad_arguments(tmp_path, args, match):
    with pytest.raises(ConfigError, match=match):
        download(*args, cache_dir=tmp_path)


def download_once(monkeypatch, tmp_path) -> pd.DataFrame:
    use(monkeypatch, FakeDownload())
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        return download("AAPL", "2024-01-01", "2024-01-05", cache_dir=tmp_path)

"""Universe plumbing of the command line: several tickers in, picked, configured, benchmarked.

Downloads use a fake ``yfinance.download`` (never the network); the bench test runs the
universe machinery on a tiny synthetic multi-ticker frame (no timing assertions).
"""

from __future__ import annotations

import logging
import sys
import warnings

import numpy as np
import pandas as pd
import pytest
import yfinance

import rnncast as rc
from rnncast.cli import bench, pipelines
from rnncast.cli.config import dump_config, load_config
from rnncast.cli.main import main
from rnncast.datasets.tickers import select_tickers
from rnncast.exceptions import ConfigError, DataError, DownloadError

DAYS = pd.DatetimeIndex(["2024-01-02", "2024-01-03", "2024-01-04"], name="Date")
CLOSES = {
    "AAPL": [185.64, 184.25, 181.91],
    "IBM": [161.5, 160.1, 158.2],
    "MSFT": [370.9, 370.6, 367.9],
}


def yahoo_frame(ticker: str) -> pd.DataFrame:
    """Like ``yf.download(ticker, auto_adjust=False)`` (yfinance >= 0.2.48: two column levels)."""
    close = np.array(CLOSES[ticker])
    raw = {
        "Adj Close": close,
        "Close": close,
        "High": close * 1.01,
        "Low": close * 0.99,
        "Open": close,
        "Volume": [1e6, 2e6, 3e6],
    }
    frame = pd.DataFrame(raw, index=DAYS)
    frame.columns = pd.MultiIndex.from_product([list(raw), [ticker]], names=["Price", "Ticker"])
    return frame


class FakeYahoo:
    """Knows the tickers of CLOSES; ``offline`` fails like a dropped connection."""

    def __init__(self, offline: bool = False):
        self.offline, self.calls = offline, []

    def __call__(self, ticker, **kwargs):
        self.calls.append(ticker)
        if self.offline:
            raise ConnectionError("Failed to resolve 'query2.finance.yahoo.com'")
        if ticker not in CLOSES:  # what yfinance does for an unknown symbol
            logging.getLogger("yfinance").error(f"1 Failed download: ['{ticker}']: delisted")
            return pd.DataFrame(columns=pd.MultiIndex.from_product([["Close"], [ticker]]))
        return yahoo_frame(ticker)


@pytest.fixture
def yahoo(monkeypatch, tmp_path):
    fake = FakeYahoo()
    monkeypatch.setattr(yfinance, "download", fake)
    monkeypatch.setenv("RNNCAST_CACHE_DIR", str(tmp_path / "cache"))
    return fake


# ------------------------------------------------------------------ download
def test_download_of_several_tickers_writes_one_long_csv(yahoo, tmp_path, capsys):
    out = tmp_path / "universe.csv"
    args = ["data", "download", "msft", "AAPL", "--tickers", "IBM,AAPL", "--csv", str(out)]
    assert main([*args, "--start", "2024-01-01", "--end", "2024-01-05"]) == 0
    assert yahoo.calls == ["MSFT", "AAPL", "IBM"]  # each once
    printed = capsys.readouterr().out
    assert "MSFT: 3 rows 2024-01-02 .. 2024-01-04" in printed and f"written: {out}" in printed
    frame = rc.datasets.read_csv(out)  # the frame convention, read back
    assert frame["ticker"].tolist() == ["AAPL"] * 3 + ["IBM"] * 3 + ["MSFT"] * 3
    for ticker, closes in CLOSES.items():
        np.testing.assert_allclose(frame.loc[frame.ticker == ticker, "close"], closes)
    assert list(pd.read_csv(out).columns[:3]) == ["date", "ticker", "open"]


def test_one_failed_ticker_is_named_and_the_others_are_kept(yahoo, tmp_path, capsys):
    out = tmp_path / "universe.csv"
    assert main(["data", "download", "AAPL", "NOPE", "MSFT", "--csv", str(out)]) == 1
    err = capsys.readouterr().err
    assert "rnncast: failed: NOPE: downloading 'NOPE' from Yahoo Finance failed" in err
    assert "delisted" in err  # yfinance's own reason
    assert "1 of 3 tickers failed (NOPE); they are not in the output." in err
    assert sorted(rc.datasets.read_csv(out)["ticker"].unique()) == ["AAPL", "MSFT"]


def test_library_download_of_a_list_warns_about_failures(yahoo, tmp_path):
    with pytest.warns(UserWarning, match=r"downloaded 1 of 2 tickers; failed: NOPE"):
        frame = rc.datasets.download(["IBM", "NOPE"], cache_dir=tmp_path)
    assert frame["ticker"].unique().tolist() == ["IBM"]
    assert list(frame.columns) == ["ticker", "open", "high", "low", "close", "adj_close", "volume"]
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # a complete download warns about nothing
        both = rc.datasets.download(["MSFT", "ibm"], cache_dir=tmp_path)
    assert both["ticker"].unique().tolist() == ["IBM", "MSFT"]
    pd.testing.assert_frame_equal(
        both[both.ticker == "IBM"].drop(columns="ticker"),
        rc.datasets.download("IBM", cache_dir=tmp_path),
    )


def test_no_network_gives_the_clear_download_error(monkeypatch, tmp_path, capsys):
    monkeypatch.setattr(yfinance, "download", FakeYahoo(offline=True))
    monkeypatch.setenv("RNNCAST_CACHE_DIR", str(tmp_path / "cache"))
    with pytest.raises(DownloadError) as info:
        rc.datasets.download(["AAPL", "MSFT"])
    message = str(info.value)
    for part in ("AAPL, MSFT", "no network connection", "no cached copy", "load_sample"):
        assert part in message
    assert main(["data", "download", "AAPL", "MSFT", "--csv", str(tmp_path / "x.csv")]) == 2
    err = capsys.readouterr().err
    assert err.startswith("rnncast: error: no ticker could be downloaded (AAPL, MSFT)")
    assert "pass --csv FILE with a price CSV" in err  # the command-line fix
    assert not (tmp_path / "x.csv").exists()


def test_missing_yahoo_extra_with_several_tickers(monkeypatch, tmp_path):
    monkeypatch.setitem(sys.modules, "yfinance", None)
    with pytest.raises(DownloadError, match=r"rnncast\[yahoo\]"):
        rc.datasets.download(["AAPL", "MSFT"], cache_dir=tmp_path)


def test_download_needs_a_ticker(capsys):
    assert main(["data", "download"]) == 2
    assert "name at least one ticker" in capsys.readouterr().err


# ------------------------------------------------------------------ selection
def test_select_tickers_keeps_the_rows_and_names_unknown_ones():
    frame = rc.datasets.load_sample(["AAPL", "IBM", "MSFT"])
    picked = select_tickers(frame, ["msft", "AAPL", "MSFT"])
    expected = frame[frame.ticker.isin(["AAPL", "MSFT"])]
    pd.testing.assert_frame_equal(picked, expected)
    with pytest.raises(DataError, match=r"no rows for 'TSLA', 'X'; available: AAPL, IBM, MSFT"):
        select_tickers(frame, ["AAPL", "TSLA", "X"], "universe.csv")
    with pytest.raises(DataError, match="no ticker column"):
        select_tickers(rc.datasets.load_sample("IBM"), ["IBM"])
    with pytest.raises(ConfigError, match="non-empty list"):
        select_tickers(frame, "AAPL")


def test_read_csv_tickers_selects_before_validation(tmp_path):
    frame = rc.datasets.load_sample(["AAPL", "IBM", "MSFT"], adjusted=False)
    broken = frame.copy()
    broken.loc[broken.ticker == "IBM", "close"] = -1.0  # would fail validation
    path = tmp_path / "universe.csv"
    broken.to_csv(path, index_label="date")
    picked = rc.datasets.read_csv(path, tickers=["msft", "aapl"])
    assert picked["ticker"].unique().tolist() == ["AAPL", "MSFT"]
    pd.testing.assert_frame_equal(
        picked[picked.ticker == "MSFT"].drop(columns="ticker"),
        rc.datasets.read_csv(path, ticker="MSFT"),
    )
    with pytest.raises(DataError, match=r"universe.csv has no rows for 'TSLA'; available: AAPL"):
        rc.datasets.read_csv(path, tickers=["TSLA"])
    with pytest.raises(ConfigError, match="not both"):
        rc.datasets.read_csv(path, ticker="AAPL", tickers=["MSFT"])


def universe_csv(tmp_path) -> str:
    path = tmp_path / "universe.csv"
    rc.datasets.load_sample(["AAPL", "IBM", "MSFT"]).to_csv(path, index_label="date")
    return str(path)


def test_tickers_option_picks_from_a_multi_ticker_csv(tmp_path):
    csv = universe_csv(tmp_path)
    config = load_config(overrides=[f"data.csv={csv!r}".replace("'", '"'), "data.tickers=['ibm']"])
    frame, source = pipelines.load_data(config["data"])
    one = rc.datasets.read_csv(csv, ticker="IBM", required=["close"])
    pd.testing.assert_frame_equal(frame, one)  # one ticker: the single-series run of today
    assert source == csv
    config["data"]["tickers"] = ["IBM", "MSFT"]
    frame, _ = pipelines.load_data(config["data"])  # several: a long frame (the universe run)
    assert frame["ticker"].unique().tolist() == ["IBM", "MSFT"]
    pd.testing.assert_frame_equal(frame[frame.ticker == "IBM"].drop(columns="ticker"), one)
    config["data"]["tickers"] = ["IBM", "TSLA"]
    with pytest.raises(DataError, match="no rows for 'TSLA'; available: AAPL, IBM, MSFT"):
        pipelines.load_data(config["data"])


def test_tickers_option_on_the_command_line(tmp_path, capsys):
    csv = universe_csv(tmp_path)
    code = main(["train", "--csv", csv, "--tickers", "AAPL,TSLA,ZZZ", "--out", str(tmp_path)])
    assert code == 2
    err = capsys.readouterr().err
    assert "no rows for 'TSLA', 'ZZZ'; available: AAPL, IBM, MSFT" in err
    assert main(["run", "--ticker", "IBM", "--tickers", "AAPL,MSFT"]) == 2
    assert "set only one of them" in capsys.readouterr().err


def test_sample_tickers_and_a_single_ticker_run_is_unchanged():
    data = load_config(overrides=["data.tickers=['MSFT', 'ibm']"])["data"]
    frame, source = pipelines.load_data(data)  # a long frame of both samples
    assert source == "samples IBM, MSFT" and frame["ticker"].unique().tolist() == ["IBM", "MSFT"]
    frame, source = pipelines.load_data({**data, "tickers": ["msft"]})
    pd.testing.assert_frame_equal(frame, rc.datasets.load_sample("MSFT"))
    assert source == "sample MSFT"
    assert pipelines.load_data(load_config()["data"])[1] == "sample AAPL"  # the default
    with pytest.raises(ConfigError, match=r"no sample data for 'TSLA'; available: AAPL"):
        pipelines.load_data({**data, "tickers": ["AAPL", "TSLA"]})


@pytest.mark.parametrize(
    ("override", "match"),
    [
        ("data.tickers=[]", "non-empty list of ticker symbols"),
        ("data.tickers=[1, 2]", "non-empty list of ticker symbols"),
        ("data.tickers='AAPL'", "data.tickers must be list or none"),
        ("data.csv=[]", "non-empty list of file names"),
        ("data.csv=[3]", "non-empty list of file names"),
        ("data.csv=['nope-a.csv', 'nope-b.csv']", "none of the data.csv files exists"),
        ("data.csv_fallback=yes", "is not one of"),
    ],
)
def test_config_errors_name_the_key(override, match):
    with pytest.raises(ConfigError, match=match):
        load_config(overrides=[override])


# ------------------------------------------------------------------ universe_lstm config
def test_universe_config_uses_the_shared_data_when_present(tmp_path, monkeypatch):
    repo = tmp_path / "repo"
    shared = tmp_path / "shared" / "data" / "hsmd" / "hsmd_sp500_1990_2017.csv.gz"
    shared.parent.mkdir(parents=True)
    repo.mkdir()
    monkeypatch.chdir(repo)
    absent = load_config("universe_lstm")["data"]
    assert absent["csv"] is None and absent["tickers"] == rc.datasets.available_samples()
    frame, source = pipelines.load_data({**absent, "tickers": ["IBM"]})
    assert source == "sample IBM" and len(frame) == len(rc.datasets.load_sample("IBM"))
    rc.datasets.load_sample(["AAPL", "IBM"]).to_csv(shared, index_label="date")
    present = load_config("universe_lstm")
    assert present["data"]["csv"] == "../shared/data/hsmd/hsmd_sp500_1990_2017.csv.gz"
    assert present["data"]["tickers"] is None
    assert present["model"]["layers"][0] == {"type": "LSTM", "units": 64, "return_sequences": True}
    frame, _ = pipelines.load_data({**present["data"], "tickers": ["aapl"]})
    pd.testing.assert_frame_equal(frame, rc.datasets.load_sample("AAPL"), check_freq=False)
    picked = load_config("universe_lstm", ["data.ticker=IBM", "data.csv_fallback=none"])
    assert picked["data"]["csv"].endswith(".csv.gz") and picked["data"]["tickers"] is None
    resolved = dump_config(present)  # the run folder's config.toml names the file read
    saved = tmp_path / "saved.toml"
    saved.write_text(resolved.replace("../shared", str(tmp_path / "shared")))
    assert load_config(saved)["data"]["csv"] == str(shared)


def test_universe_config_without_fallback_names_the_missing_files(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    with pytest.raises(ConfigError, match=r"none of the data.csv files exists \(\.\./shared"):
        load_config("universe_lstm", ["data.csv_fallback=none"])
    config = tmp_path / "mine.toml"
    config.write_text('[data]\ncsv = ["a.csv", "b.csv"]\ncsv_fallback = "sample"\n')
    assert load_config(config)["data"]["tickers"] == rc.datasets.available_samples()
    (tmp_path / "b.csv").write_text("date,close\n2024-01-02,1\n")
    assert load_config(config)["data"]["csv"] == str(tmp_path / "b.csv")  # beside the file


def test_csv_option_overrides_the_universe_fallback(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    code = main(["train", "--config", "universe_lstm", "--csv", "missing.csv", "--out", "runs"])
    assert code == 2
    assert "missing.csv: no such file" in capsys.readouterr().err  # not the samples instead


# ------------------------------------------------------------------ bench
def synthetic_universe(tickers: int = 3, rows: int = 130, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    days = pd.bdate_range("2020-01-01", periods=rows, name="date")
    parts = {}
    for number in range(tickers):
        close = 50 * np.exp(np.cumsum(rng.normal(0, 0.01, rows)))
        parts[f"T{number}"] = pd.DataFrame(
            {"open": close, "high": close * 1.01, "low": close * 0.99, "close": close,
             "volume": rng.uniform(1e5, 2e5, rows)},
            index=days,
        )  # fmt: skip
    return rc.datasets.tickers.long_frame(parts)


@pytest.mark.slow  # two tiny trainings; seconds alone, much longer on a loaded machine
def test_universe_bench_machinery_on_a_tiny_frame():
    frame = synthetic_universe(rows=90)
    tiny = bench.Workload("universe", 4, (1,), 5, 16, 0, epochs=2)
    result = bench.universe_speed(frame, tiny, max_windows=40, validation=9)
    assert result["windowing_tickers"] == 3 and result["windowing_windows"] == 3 * 30
    assert result["train_windows"] == 40
    assert result["torch_s"] > 0 and result["rnncast_s"] > 0 and result["ratio"] > 0
    assert np.isfinite(result["val_mse_rnncast"]) and np.isfinite(result["val_mse_torch"])
    assert result["windowing_memory_vs_float32"] > 0
    rows = bench.universe_rows(result)
    assert "3 tickers, 40 training windows" in rows[0] and "270 rows -> 90 windows" in rows[1]


def test_universe_bench_skips_without_the_shared_data(tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(bench, "HSMD", tmp_path / "absent.csv.gz")
    results = bench.main(workload="universe", json_path=str(tmp_path / "b.json"))
    assert "not found" in results["universe"]["skipped"]
    assert set(results) == {"machine", "date", "quick", "device", "universe"}
    out = capsys.readouterr().out
    assert "universe: skipped" in out and "| universe workload | | skipped:" in out
    assert main(["bench", "--workload", "universe", "--max-windows", "10"]) == 0
    assert "skipped" in capsys.readouterr().out
    with pytest.raises(ConfigError, match="workload='w9' is not one of"):
        bench.run(workload="w9")


def test_reference_of_the_universe_workload_has_the_same_shape():
    ours, reference = bench.rnncast_model(bench.UNIVERSE), bench.Reference(bench.UNIVERSE)
    second_biases = 2 * 4 * bench.UNIVERSE.units  # torch's extra bias_hh per LSTM layer
    assert ours.count_params() == sum(p.numel() for p in reference.parameters()) - second_biases

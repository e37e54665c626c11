"""``rnncast run`` / ``predict`` / ``backtest`` / ``compare`` on a universe (a long CSV).

Tiny runs: the last 400 sessions of three bundled samples, LSTM(4), one epoch.
"""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

import rnncast as rc
from rnncast.cli.main import main

TICKERS = ["AAPL", "IBM", "MSFT"]
ROWS = 400  # sessions per ticker
TINY = [
    "--set",
    'model.layers=[{type="LSTM", units=4}, {type="Dense", units=1}]',
    "--set",
    "training.epochs=1",
    "--set",
    "backtest.epochs=1",
    "--set",
    "forecast.lookback=10",
    "--set",
    "forecast.days=3",
    "--set",
    "data.val=0.25",  # 100 validation rows per ticker: enough to calibrate the intervals
    "--set",
    'evaluation.baselines=["naive", "drift"]',
]


@pytest.fixture(autouse=True)
def wide_terminal(monkeypatch):
    monkeypatch.setenv("COLUMNS", "200")  # rich wraps captured output at 80 columns otherwise


@pytest.fixture
def universe_csv(tmp_path) -> Path:
    frame = rc.datasets.load_sample(TICKERS)
    frame = frame.groupby("ticker", group_keys=False).tail(ROWS)
    path = tmp_path / "universe.csv"
    frame.to_csv(path, index_label="date")
    return path


def only_folder(out: Path) -> Path:
    folders = [p for p in out.iterdir() if not p.name.startswith(".")]
    assert len(folders) == 1
    return folders[0]


@pytest.mark.slow
def test_run_on_a_long_csv_forecasts_every_ticker(universe_csv, tmp_path, capsys):
    out = tmp_path / "runs"
    assert main(["run", "--csv", str(universe_csv), "--out", str(out), *TINY]) == 0
    printed, err = capsys.readouterr()
    assert f"data: {universe_csv}, 3 tickers, {3 * ROWS} rows" in err
    folder = only_folder(out)
    assert {p.name for p in folder.iterdir()} == {
        "config.toml",
        "forecaster",
        "metrics.json",
        "predictions.csv",
        "forecast.csv",
        "plots",
        "report.html",
    }
    metrics = json.loads((folder / "metrics.json").read_text())
    summary = metrics["universe"]
    assert summary["n_tickers"] == 3 and metrics["test"]["tickers"] == 3
    assert sorted(row["ticker"] for row in metrics["per_ticker"]) == TICKERS
    assert sorted(metrics["tickers"]) == TICKERS

    predictions = pd.read_csv(folder / "predictions.csv", parse_dates=["date"])
    assert list(predictions.columns) == ["ticker", "date", "actual", "model", "naive", "drift"]
    assert sorted(predictions["ticker"].unique()) == TICKERS
    test_rows = round(ROWS * 0.15)  # the test part of each ticker (same dates for all three)
    counts = predictions.groupby("ticker").size()
    assert counts.min() == counts.max() and test_rows - 2 <= counts.iloc[0] <= test_rows
    assert (predictions.groupby("ticker")["date"].is_monotonic_increasing).all()
    assert summary["n_beats_after_fdr"] == sum(
        r["beats_naive_after_fdr"] for r in metrics["per_ticker"]
    )
    # the step-1 forecasts are those the per-ticker table scored: n per ticker
    assert {r["ticker"]: r["n"] for r in metrics["per_ticker"]} == counts.to_dict()

    forecast = pd.read_csv(folder / "forecast.csv", parse_dates=["date"])
    assert list(forecast.columns[:3]) == ["ticker", "date", "forecast"]
    assert forecast.groupby("ticker").size().to_dict() == dict.fromkeys(TICKERS, 3)
    frame = rc.datasets.read_csv(universe_csv)
    for ticker, part in forecast.groupby("ticker"):
        last = frame[frame["ticker"] == ticker].index.max()
        assert part["date"].min() > last  # the next sessions after each ticker's last date

    page = (folder / "report.html").read_text()
    sentence = metrics["verdict"]
    assert sentence.startswith("beats naive on ") and "of 3 tickers" in sentence
    assert page.index('id="sec-universe"') < page.index('id="universe-tickers"')
    assert sentence.split(";")[0] in page
    for ticker in TICKERS:
        assert f">{ticker}<" in page

    assert "universe verdict: " + sentence.split(";")[0] in printed
    assert "Next sessions" in printed and all(f"  {t} " in printed for t in TICKERS)

    assert main(["predict", "--model", str(folder), "--days", "2"]) == 0
    printed = capsys.readouterr().out
    assert f"{universe_csv}: 3 tickers, last date {frame.index.max().date()}" in printed
    lines = [line.split() for line in printed.splitlines() if line.startswith("  ")]
    assert [line[0] for line in lines] == TICKERS and all(len(line) == 3 for line in lines)
    assert main(["predict", "--model", str(folder), "--ticker", "ibm", "--days", "1"]) == 0
    lines = [line for line in capsys.readouterr().out.splitlines() if line.startswith("  ")]
    assert [line.split()[0] for line in lines] == ["IBM"]
    one = tmp_path / "ibm.csv"
    frame[frame["ticker"] == "IBM"].drop(columns="ticker").to_csv(one, index_label="date")
    assert main(["predict", "--model", str(folder), "--csv", str(one)]) == 2
    assert "holds a model of 3 tickers and " in capsys.readouterr().err


@pytest.mark.slow
def test_backtest_on_a_universe_writes_per_ticker_and_pooled_results(
    universe_csv, tmp_path, capsys
):
    out = tmp_path / "runs"
    args = ["backtest", "--csv", str(universe_csv), "--out", str(out), "--folds", "2", *TINY]
    assert main(args) == 0
    printed = capsys.readouterr().out
    assert "All folds, pooled over tickers" in printed
    folder = only_folder(out)
    assert {"folds.csv", "predictions.csv", "per_ticker.csv", "metrics.json", "report.html"} <= {
        p.name for p in folder.iterdir()
    }
    per_ticker = pd.read_csv(folder / "per_ticker.csv", index_col="ticker")
    assert sorted(per_ticker.index) == TICKERS
    predictions = pd.read_csv(folder / "predictions.csv")
    assert list(predictions.columns[:2]) == ["ticker", "date"]
    assert predictions.groupby("ticker").size().to_dict() == per_ticker["n"].to_dict()
    metrics = json.loads((folder / "metrics.json").read_text())
    assert metrics["pooled"]["rmse"] > 0 and len(metrics["per_ticker"]) == 3
    skill = metrics["pooled"]["skill_vs_naive_pct"]
    line = f"over 3 tickers and 2 folds: pooled RMSE skill vs naive {skill:+.2f}%"
    assert line in printed
    page = (folder / "report.html").read_text()
    assert line in page and all(f">{t}<" in page for t in TICKERS)


def test_compare_on_a_universe_says_what_to_do(universe_csv, tmp_path, capsys):
    out = tmp_path / "runs"
    args = ["compare", "lstm", "gru", "--csv", str(universe_csv), "--out", str(out)]
    assert main(args) == 2
    err = capsys.readouterr().err
    assert "holds 3 tickers and rnncast compare ranks models on one series" in err
    assert "--ticker AAPL" in err
    assert not [p for p in out.iterdir() if not p.name.startswith(".")]  # nothing written

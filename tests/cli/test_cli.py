"""End-to-end tests of the rnncast command (small models, one or two epochs)."""

import csv
import json
import re
import subprocess
import sys
from html.parser import HTMLParser
from pathlib import Path

import pytest

from rnncast.cli import main
from rnncast.cli import pipelines as runner

PYTHON_API = re.compile(r"rc\.|rnncast\.\w|read_csv|frame\[|fill='")  # no Python calls in CLI fixes
SMALL = [
    "--set",
    'model.layers=[{type="LSTM", units=8}, {type="Dense", units=1}]',
    "--set",
    "training.epochs=1",
    "--set",
    "forecast.lookback=20",
]


@pytest.fixture(autouse=True)
def wide_terminal(monkeypatch):
    monkeypatch.setenv("COLUMNS", "200")  # rich wraps captured output at 80 columns otherwise


def only_folder(out: Path) -> Path:
    folders = [p for p in out.iterdir()]
    assert len(folders) == 1 and not folders[0].name.startswith(".")
    return folders[0]


class DataValues(HTMLParser):
    """Collects data-value attributes of the metrics table, row by row."""

    def __init__(self):
        super().__init__()
        self.table, self.rows = None, []

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "table":
            self.table = attrs.get("id")
        elif tag == "tr" and self.table == "metrics":
            self.rows.append([])
        elif tag == "td" and self.table == "metrics" and "data-value" in attrs:
            self.rows[-1].append(float(attrs["data-value"]))

    def handle_endtag(self, tag):
        if tag == "table":
            self.table = None


@pytest.mark.slow
def test_run_writes_a_complete_run_folder(tmp_path, capsys):
    assert main(["run", "--out", str(tmp_path), *SMALL]) == 0
    out, err = capsys.readouterr()
    assert "Epoch 1/1" in err and "data: sample AAPL" in err  # progress: stderr
    assert "Epoch" not in out and "data:" not in out
    folder = only_folder(tmp_path)
    assert folder.name.endswith("-lstm")
    names = {p.name for p in folder.iterdir()}
    assert names == {
        "config.toml",
        "forecaster",
        "metrics.json",
        "predictions.csv",
        "forecast.csv",
        "plots",
        "report.html",
    }
    metrics = json.loads((folder / "metrics.json").read_text())
    assert set(metrics["models"]) == {
        "model",
        "naive",
        "drift",
        "moving_average",
        "linear_ar",
        "arima",
    }
    assert metrics["verdict"] in out and f"report: {folder / 'report.html'}" in out
    header = next(csv.reader((folder / "predictions.csv").open()))
    assert header == [
        "date",
        "actual",
        "model",
        "naive",
        "drift",
        "moving_average",
        "linear_ar",
        "arima",
    ]
    forecast = list(csv.DictReader((folder / "forecast.csv").open()))
    assert [row["date"][:10] for row in forecast] == [
        "2013-03-04",
        "2013-03-05",
        "2013-03-06",
        "2013-03-07",
        "2013-03-08",
    ]
    parser = DataValues()
    parser.feed((folder / "report.html").read_text())
    model_row = next(row for row in parser.rows if row)
    assert model_row[0] == pytest.approx(metrics["models"]["model"]["rmse"], rel=1e-12)
    assert "epoch" not in (folder / "config.toml").read_text().split("[training]")[0]

    assert main(["predict", "--model", str(folder), "--days", "3"]) == 0
    printed = capsys.readouterr().out
    assert "sample AAPL: last date 2013-03-01" in printed and "Mon 2013-03-04" in printed
    assert (
        main(
            [
                "predict",
                "--model",
                str(folder / "forecaster"),
                "--ticker",
                "MSFT",
                "--days",
                "1",
                "--interval",
                "0.9",
            ]
        )
        == 0
    )
    assert "sample MSFT" in capsys.readouterr().out


@pytest.mark.slow
def test_compare_ranks_every_shipped_config_and_the_baselines(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)  # packaged names resolve from any folder
    configs = ["bilstm", "cnn_lstm", "gru", "lstm", "lstm_bn_dropout"]
    assert (
        main(
            [
                "compare",
                *configs,
                "--out",
                str(tmp_path),
                "--set",
                "training.epochs=1",
                "--set",
                "forecast.lookback=20",
                "--ticker",
                "IBM",
            ]
        )
        == 0
    )
    out, err = capsys.readouterr()
    assert "[5/5] lstm_bn_dropout: MASE" in err and "[5/5]" not in out
    for name in ("lstm", "gru", "bilstm", "cnn_lstm", "lstm_bn_dropout", "naive", "arima"):
        assert name in out
    folder = only_folder(tmp_path)
    ranking = json.loads((folder / "metrics.json").read_text())["ranking"]
    assert len(ranking) == 10
    rows = list(csv.DictReader((folder / "leaderboard.csv").open()))
    mase = [float(row["mase"]) for row in rows]
    assert mase == sorted(mase) and [row["model"] for row in rows] == ranking
    assert (folder / "leaderboard.png").read_bytes()[:4] == b"\x89PNG"


@pytest.mark.slow
def test_train_then_backtest(tmp_path, capsys):
    assert main(["train", "--out", str(tmp_path / "t"), *SMALL]) == 0
    out, err = capsys.readouterr()
    assert "saved:" in out and "saved:" not in err and "Epoch 1/1" in err
    assert (only_folder(tmp_path / "t") / "forecaster" / "config.json").exists()
    assert (
        main(
            [
                "backtest",
                "--out",
                str(tmp_path / "b"),
                "--folds",
                "2",
                "--cost-bps",
                "3",
                "--set",
                "backtest.epochs=1",
                "--set",
                "backtest.initial_train=0.8",
                *SMALL,
            ]
        )
        == 0
    )
    out, err = capsys.readouterr()
    assert "Research simulation, not investment advice" in out
    assert "fold 2/2" in err and "fold 1/2" not in out
    folder = only_folder(tmp_path / "b")
    assert len(list(csv.DictReader((folder / "folds.csv").open()))) == 2
    metrics = json.loads((folder / "metrics.json").read_text())
    assert metrics["trading"]["settings"]["cost_bps"] == 3.0
    assert "buy_and_hold" in (folder / "equity.csv").read_text()
    assert 'id="folds"' in (folder / "report.html").read_text()


def test_config_typo_is_one_line_naming_the_nearest_key(tmp_path, capsys):
    config = tmp_path / "bad.toml"
    config.write_text("[training]\nepoch = 5\n")
    assert main(["run", "--config", str(config), "--out", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "Traceback" not in err
    assert "unknown key 'training.epoch'; did you mean 'training.epochs'?" in err
    assert not any(tmp_path.glob("*-lstm"))


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("[training]\nepochs = \n", "TOML syntax error.*line 2"),
        ('[training]\nepochs = "ten"\n', r"training.epochs must be int, got 'ten' \(str\)"),
        (
            '[model]\nlayers = [{ type = "LSTM", unit = 5 }]\n',
            r"unknown key 'model.layers\[0\].unit' for LSTM; did you mean 'units'\?",
        ),
        ('[forecast]\nscaler = "zscore"\n', "forecast.scaler='zscore' is not one of"),
    ],
)
def test_config_errors(tmp_path, capsys, text, message):
    config = tmp_path / "bad.toml"
    config.write_text(text)
    assert main(["train", "--config", str(config), "--out", str(tmp_path)]) == 2
    assert re.search(message, capsys.readouterr().err)


def test_set_override_errors(capsys):
    assert main(["train", "--set", "training.epochz=3"]) == 2
    assert "did you mean 'training.epochs'" in capsys.readouterr().err
    assert main(["train", "--set", "epochs"]) == 2
    assert "must look like section.key=value" in capsys.readouterr().err


def test_user_error_exit_2_runtime_error_exit_1(tmp_path, capsys, monkeypatch):
    assert main(["run", "--ticker", "TSLA", "--out", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("rnncast: error: no sample data for ticker 'TSLA'; available: AAPL")
    assert "rnncast data download TSLA --csv tsla.csv, then pass --csv tsla.csv" in err
    assert not PYTHON_API.search(err), err

    def broken(*args, **kwargs):
        raise RuntimeError("disk on fire")

    monkeypatch.setattr(runner, "run", broken)
    assert main(["run", "--out", str(tmp_path)]) == 1
    assert "failed: RuntimeError: disk on fire (use --debug" in capsys.readouterr().err
    with pytest.raises(RuntimeError):
        main(["run", "--out", str(tmp_path), "--debug"])
    with pytest.raises(RuntimeError):
        main(["--debug", "run", "--out", str(tmp_path)])


def test_ctrl_c_leaves_no_half_written_folder(tmp_path, capsys, monkeypatch):
    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(runner, "dump_config", interrupted)  # inside the run folder
    assert main(["train", "--out", str(tmp_path), *SMALL]) == 130
    assert "interrupted" in capsys.readouterr().err
    assert list(tmp_path.iterdir()) == []


def test_data_commands(capsys, monkeypatch):
    assert main(["data", "list"]) == 0
    assert "FB      196 rows  2012-05-18 .. 2013-03-01" in capsys.readouterr().out
    assert main(["data", "show", "aapl", "--raw", "--rows", "1"]) == 0
    assert "118.56" in capsys.readouterr().out
    import yfinance

    def offline(*args, **kwargs):
        raise ConnectionError("no network")

    monkeypatch.setattr(yfinance, "download", offline)
    monkeypatch.setenv("RNNCAST_CACHE_DIR", "/nonexistent-cache")
    assert main(["data", "download", "AAPL", "--start", "2020-01-01"]) == 2
    err = capsys.readouterr().err
    assert "Yahoo Finance failed" in err and "pass --csv FILE" in err
    assert not PYTHON_API.search(err), err


@pytest.mark.parametrize("command", ["run", "train", "predict", "backtest", "compare", "bench"])
def test_every_command_has_help_with_an_example(command, capsys):
    with pytest.raises(SystemExit) as info:
        main([command, "--help"])
    assert info.value.code == 0
    assert "example: rnncast " + command in capsys.readouterr().out


def test_no_command_prints_help(capsys):
    assert main([]) == 2
    assert "usage: rnncast" in capsys.readouterr().out


@pytest.mark.slow
def test_python_dash_m_is_the_cli():
    result = subprocess.run(
        [sys.executable, "-m", "rnncast", "--version"], capture_output=True, text=True, check=True
    )
    assert result.stdout.startswith("rnncast ")


@pytest.mark.slow
def test_run_on_a_multi_ticker_csv_picks_the_ticker(tmp_path, capsys):
    from conftest import make_long

    path = tmp_path / "long.csv"
    make_long(("AAA", "BBB"), n=400).to_csv(path, index_label="date")
    assert (
        main(["run", "--csv", str(path), "--ticker", "BBB", "--out", str(tmp_path / "out"), *SMALL])
        == 0
    )
    assert f"data: {path}, 400 rows" in capsys.readouterr().err
    from rnncast.cli.config import load_config

    data = load_config(overrides=[f'data.csv="{path}"'])["data"]
    frame, _ = runner.load_data(data)  # no --ticker: both, a universe run (test_universe_run.py)
    assert sorted(frame["ticker"].unique()) == ["AAA", "BBB"] and len(frame) == 800


def test_missing_config_file_and_non_artifact_model_are_user_errors(tmp_path, capsys):
    assert main(["run", "--config", str(tmp_path / "nope.toml"), "--out", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert f"cannot read config {tmp_path / 'nope.toml'}" in err and "No such file" in err
    (tmp_path / "empty").mkdir()
    assert main(["predict", "--model", str(tmp_path / "empty")]) == 2
    assert "is not an rnncast artifact" in capsys.readouterr().err

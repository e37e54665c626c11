"""The command's conventions: stdout for results, stderr for progress, help, names, errors."""

import argparse
import os
import subprocess
import sys
import tomllib
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from rnncast.cli import main
from rnncast.cli.config import dump_config, load_config, packaged_configs
from rnncast.cli.main import _parser

SRC = Path(__file__).resolve().parents[2] / "src"
TINY = [
    "--ticker",
    "FB",  # 196 rows
    "--set",
    'model.layers=[{type="GRU", units=4}, {type="Dense", units=1}]',
    "--set",
    "training.epochs=2",
    "--set",
    "forecast.lookback=10",
    "--set",
    'evaluation.baselines=["naive"]',
]


@pytest.mark.slow
def test_run_redirected_to_a_file_keeps_results_and_leaves_progress_out(tmp_path):
    env = {**os.environ, "PYTHONPATH": str(SRC), "COLUMNS": "200"}
    with (tmp_path / "out.txt").open("w") as out:
        done = subprocess.run(
            [sys.executable, "-m", "rnncast", "run", "--out", str(tmp_path / "runs"), *TINY],
            stdout=out,
            stderr=subprocess.PIPE,
            text=True,
            env=env,
            cwd=tmp_path,
            timeout=300,
        )
    assert done.returncode == 0, done.stderr
    results = (tmp_path / "out.txt").read_text()
    for progress in ("Epoch 1/2", "Epoch 2/2", "data: sample FB"):
        assert progress in done.stderr and progress not in results
    (folder,) = (tmp_path / "runs").iterdir()
    assert "verdict: " in results and "Next sessions:" in results
    assert f"report: {folder / 'report.html'}" in results and "report:" not in done.stderr
    assert "naive" in results and "verdict" not in done.stderr


def test_data_and_config_alone_list_their_actions(capsys):
    assert main(["data"]) == 0
    out = capsys.readouterr().out
    assert all(action in out for action in ("list", "show", "download"))
    assert main(["config"]) == 0
    out = capsys.readouterr().out
    assert "list" in out and "show" in out


def _parsers(parser: argparse.ArgumentParser, name: str = "rnncast"):
    yield name, parser
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for sub_name, sub in action.choices.items():
                yield from _parsers(sub, f"{name} {sub_name}")


def test_every_option_and_argument_has_help():
    missing = [
        f"{name}: {action.dest}"
        for name, parser in _parsers(_parser())
        for action in parser._actions
        if not isinstance(action, argparse._SubParsersAction) and not action.help
    ]
    assert missing == []
    assert len(list(_parsers(_parser()))) == 17  # rnncast, 11 commands, data x3, config x2


@pytest.mark.parametrize(
    ("command", "option", "unit"),
    [
        ("backtest", "--cost-bps", "basis points per trade"),
        ("predict", "--interval", "coverage in (0, 1)"),
        ("predict", "--days", "trading sessions"),
    ],
)
def test_options_with_units_say_them(command, option, unit):
    parsers = dict(_parsers(_parser()))
    (action,) = [a for a in parsers[f"rnncast {command}"]._actions if option in a.option_strings]
    assert unit in action.help


def test_debug_before_the_command_shows_the_traceback(tmp_path, capsys):
    assert main(["run", "--config", "nope", "--out", str(tmp_path)]) == 2
    assert "Traceback" not in capsys.readouterr().err
    assert main(["--debug", "run", "--config", "nope", "--out", str(tmp_path)]) == 2
    assert "Traceback (most recent call last)" in capsys.readouterr().err


def test_packaged_config_names_resolve_from_any_folder(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    packaged = SRC / "rnncast" / "cli" / "configs"
    assert packaged_configs() == sorted(p.stem for p in packaged.glob("*.toml"))
    gru = load_config("gru")
    assert gru == load_config(packaged / "gru.toml") != load_config()
    assert [layer["type"] for layer in gru["model"]["layers"]] == ["GRU", "GRU", "Dense"]
    assert load_config("gru.toml") == gru  # a missing file named like a packaged one
    (tmp_path / "mine.toml").write_text('name = "mine"\n[training]\nepochs = 3\n')
    assert load_config("mine.toml")["training"]["epochs"] == 3  # a path still works
    assert main(["config", "show", "gru"]) == 0
    assert capsys.readouterr().out == (packaged / "gru.toml").read_text()
    assert main(["config", "list"]) == 0
    listed = [line.split()[0] for line in capsys.readouterr().out.splitlines()]
    assert listed == ["bilstm", "cnn_lstm", "gru", "lstm", "lstm_bn_dropout", "universe_lstm"]


def test_config_show_resolved_reads_back_to_the_same_config(capsys):
    assert main(["config", "show", "cnn_lstm", "--resolved", "--set", "training.epochs=7"]) == 0
    text = capsys.readouterr().out
    assert tomllib.loads(text)["training"]["epochs"] == 7
    assert tomllib.loads(text)["model"]["layers"][1] == {"type": "MaxPooling1D", "pool_size": 2}


def test_unknown_config_name_lists_the_packaged_ones(capsys):
    assert main(["train", "--config", "gruu"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert "no config file or packaged config named 'gruu'" in err
    assert "bilstm, cnn_lstm, gru, lstm, lstm_bn_dropout, universe_lstm" in err


def test_dump_config_round_trips_newlines_quotes_and_none(tmp_path):
    name = 'my "best"\nrun \\ with \t tabs'
    config = load_config(
        overrides=[
            "forecast.scaler=none",
            "evaluation.interval=none",
            "backtest.epochs=none",
        ]
    )
    config["name"] = name
    text = dump_config(config)
    assert tomllib.loads(text)["name"] == name
    saved = tmp_path / "config.toml"
    saved.write_text(text)
    again = load_config(saved)
    assert again == config
    assert again["forecast"]["scaler"] is None and again["evaluation"]["interval"] is None
    assert "csv" not in tomllib.loads(text)["data"]  # None by default: left out


def _csv(tmp_path, close):
    dates = pd.bdate_range("2020-01-01", periods=len(close))
    path = tmp_path / "prices.csv"
    pd.DataFrame({"date": dates, "close": close}).to_csv(path, index=False)
    return path


PYTHON_API = ("rc.", "rnncast.datasets", "read_csv", "frame[", "fill='")


def test_csv_errors_name_the_cli_fix(tmp_path, capsys):
    close = list(np.linspace(10, 20, 120))
    close[50] = np.nan
    path = _csv(tmp_path, close)
    assert main(["train", "--csv", str(path), "--out", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert "is NaN on 1 row(s)" in err and "--set data.fill=ffill" in err
    assert not any(token in err for token in PYTHON_API), err
    close[50] = "12,5"
    path = _csv(tmp_path, close)
    assert main(["train", "--csv", str(path), "--out", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert "'12,5'" in err and "clean the file" in err
    assert not any(token in err for token in PYTHON_API), err

"""``rnncast run/train --workers N``: the same command under torchrun, rank 0 writes."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import rnncast as rc
from rnncast.cli import main

TINY = [
    "--set",
    'model.layers=[{type="LSTM", units=4}, {type="Dense", units=1}]',
    "--set",
    "training.epochs=1",
    "--set",
    "training.batch_size=64",
    "--set",
    "forecast.lookback=10",
]


def test_workers_launches_torchrun_with_the_same_arguments(monkeypatch):
    seen = []

    def fake_run(command, check):
        seen.append(command)
        return subprocess.CompletedProcess(command, 0)

    monkeypatch.setattr(subprocess, "run", fake_run)
    for name in ("RANK", "WORLD_SIZE", "LOCAL_RANK", "MASTER_ADDR", "MASTER_PORT"):
        monkeypatch.delenv(name, raising=False)
    assert main(["run", "--workers", "2", "--config", "gru", "--out", "x"]) == 0
    assert main(["train", "--workers=3", "--seed", "4"]) == 0
    assert seen[0][1:] == [
        "-m", "torch.distributed.run", "--standalone", "--nproc_per_node=2",
        "-m", "rnncast", "run", "--config", "gru", "--out", "x",
    ]  # fmt: skip
    assert seen[1][-4:] == ["rnncast", "train", "--seed", "4"]
    assert seen[1][4] == "--nproc_per_node=3"


def test_workers_must_be_positive_and_only_run_and_train_share_work(monkeypatch, capsys):
    assert main(["train", "--workers", "0"]) == 2
    assert "--workers must be 1 or more" in capsys.readouterr().err
    for name in ("RANK", "WORLD_SIZE", "LOCAL_RANK", "MASTER_ADDR", "MASTER_PORT"):
        monkeypatch.setenv(name, "2")  # as torchrun sets them (2 processes)
    assert main(["backtest"]) == 2
    assert "only `rnncast run` and `rnncast train`" in capsys.readouterr().err


@pytest.mark.slow  # torchrun and two ranks importing rnncast, then one process: ~20-30 s
def test_train_on_two_workers_saves_once_the_model_one_process_trains(tmp_path):
    env = {**os.environ, "PYTHONPATH": str(Path(rc.__file__).parents[1])}
    command = [sys.executable, "-m", "rnncast", "train", "--workers", "2", *TINY]
    done = subprocess.run(
        [*command, "--out", str(tmp_path / "two")],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.count("saved:") == 1  # rank 0 only
    folders = list((tmp_path / "two").iterdir())
    assert len(folders) == 1  # one run folder, no leftover reservation
    assert main(["train", *TINY, "--out", str(tmp_path / "one")]) == 0
    (one,) = (tmp_path / "one").iterdir()
    two = rc.load(folders[0] / "forecaster").model_.get_weights()
    for a, b in zip(rc.load(one / "forecaster").model_.get_weights(), two, strict=True):
        np.testing.assert_allclose(a, b, atol=1e-5)

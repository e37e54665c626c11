"""`rnncast export RUN --format onnx`: a trained run folder becomes model.onnx + preprocess.json."""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

import numpy as np
import pytest

import rnncast as rc
from rnncast.cli import main
from rnncast.forecasting.export import read_preprocess

ort = pytest.importorskip("onnxruntime")
pytest.importorskip("onnx")

from onnx_sessions import one_thread_session  # noqa: E402 - after the importorskips

SMALL = [
    "--set",
    'model.layers=[{type="GRU", units=6}, {type="Dense", units=1}]',
    "--set",
    "training.epochs=1",
    "--set",
    "forecast.lookback=15",
]


@pytest.fixture(scope="module")
def run_folder(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("runs")
    csv = out.parent / "msft.csv"
    rc.datasets.load_sample("MSFT").iloc[-400:].to_csv(csv, index_label="date")
    assert main(["train", "--out", str(out), "--csv", str(csv), *SMALL]) == 0
    (folder,) = list(out.iterdir())
    return folder


@pytest.fixture
def run(run_folder, tmp_path) -> Path:
    """A private copy of the trained run folder."""
    return Path(shutil.copytree(run_folder, tmp_path / run_folder.name))


def test_export_a_run_folder(run, capsys):
    assert main(["export", str(run), "--format", "onnx"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out == [
        f"written: {run / 'export' / 'model.onnx'}",
        f"written: {run / 'export' / 'preprocess.json'}",
    ]
    spec = read_preprocess(run / "export")
    fc = rc.load(run / "forecaster")
    assert spec["lookback"] == 15 and spec["trained_on"] == fc.train_info_
    window = fc.windowizer_.last_window(rc.datasets.load_sample("MSFT"))  # (1, 15, 1)
    session = one_thread_session(str(run / "export" / "model.onnx"))
    np.testing.assert_allclose(
        session.run(None, {"inputs": window})[0], fc.model_.predict(window), atol=1e-5
    )


def test_export_an_artifact_folder_to_out(run, tmp_path, capsys):
    target = tmp_path / "served"
    assert main(["export", str(run / "forecaster"), "--out", str(target)]) == 0
    assert sorted(p.name for p in target.iterdir()) == ["model.onnx", "preprocess.json"]
    assert not (run / "forecaster" / "model.onnx").exists()


@pytest.mark.slow  # torch.export's first use costs seconds
def test_export_torch_format(run, tmp_path):
    assert main(["export", str(run), "--format", "torch", "--out", str(tmp_path / "t")]) == 0
    model = read_preprocess(tmp_path / "t")["model"]
    assert (model["file"], model["opset"]) == ("model.pt2", None)


def test_export_errors_are_user_errors(run, tmp_path, capsys, monkeypatch):
    assert main(["export", str(tmp_path)]) == 2
    assert "is not a run folder (no forecaster/ inside)" in capsys.readouterr().err
    assert main(["export", str(run), "--format", "tflite"]) == 2
    assert "format='tflite' is not supported; use one of" in capsys.readouterr().err
    monkeypatch.setitem(sys.modules, "onnx", None)  # as if the extra were not installed
    assert main(["export", str(run), "--out", str(tmp_path / "x")]) == 2
    assert 'pip install "rnncast[onnx]"' in capsys.readouterr().err
    assert not (tmp_path / "x").exists()

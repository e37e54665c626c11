"""Forecaster.export_onnx: model.onnx + preprocess.json reproduce predict_next without rnncast.

The 30-line program of docs/export.md runs in a subprocess where torch,
pandas and rnncast cannot be imported, on forecasters trained for one epoch
on the bundled MSFT sample, and must print ``predict_next``'s forecasts
(measured: ~2e-8 relative; allowed: 1e-4).
"""

from __future__ import annotations

import ast
import json
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import rnncast as rc
from rnncast.exceptions import ArtifactError, ConfigError, NotFittedError
from rnncast.forecasting.export import read_preprocess
from rnncast.layers import GRU, LSTM, BatchNormalization, Dense, Dropout

ort = pytest.importorskip("onnxruntime")
pytest.importorskip("onnx")

from onnx_sessions import one_thread_session  # noqa: E402 - after the importorskips

DOC = Path(__file__).resolve().parents[2] / "docs" / "export.md"
BLOCKED = ("torch", "pandas", "rnncast")


@pytest.fixture(scope="module")
def frame():
    return rc.datasets.load_sample("MSFT").iloc[-450:]


@pytest.fixture(scope="module")
def forecasters(frame):
    """The default forecaster; level/log/diff features, a diff target, horizon 3; recursive."""
    train, val, _ = rc.data.chronological_split(frame)
    plain = rc.Forecaster([LSTM(8), Dense(1)], lookback=20, seed=0)
    mixed = rc.Forecaster(
        [GRU(6, return_sequences=True), BatchNormalization(), LSTM(5), Dropout(0.2), Dense(3)],
        lookback=15,
        horizon=3,
        features=["close", "close:log_return", "volume:log", "high:diff"],
        target_transform="diff",
        scaler="minmax",
        seed=1,
    )
    recursive = rc.Forecaster(
        [LSTM(4), Dense(1)],
        lookback=10,
        horizon=2,
        features=["close:log_return", "close:log"],
        target_transform="return",
        scaler="robust",
        strategy="recursive",
        seed=2,
    )
    return {
        "plain": plain.fit(train, validation=val, epochs=1, verbose=0),
        "mixed": mixed.fit(train, validation=val, epochs=1, verbose=0),
        "recursive": recursive.fit(train, epochs=1, verbose=0),
    }


def doc_program() -> str:
    blocks = re.findall(r"```python\n(.*?)```", DOC.read_text(encoding="utf-8"), re.S)
    return next(block for block in blocks if "onnxruntime" in block)


def test_doc_program_imports_only_numpy_onnxruntime_and_the_standard_library():
    tree = ast.parse(doc_program())
    imported = {
        alias.name.split(".")[0]
        for node in ast.walk(tree)
        if isinstance(node, ast.Import | ast.ImportFrom)
        for alias in (node.names if isinstance(node, ast.Import) else [ast.alias(node.module)])
    }
    assert imported == {"csv", "json", "sys", "numpy", "onnxruntime"}
    assert len(doc_program().strip().splitlines()) <= 35


@pytest.mark.parametrize("name", ["plain", "mixed", "recursive"])
def test_doc_program_forecasts_like_predict_next(name, forecasters, frame, tmp_path):
    fc = forecasters[name]
    folder = fc.export_onnx(tmp_path / "export")
    frame.to_csv(tmp_path / "prices.csv", index_label="date")
    block = f"import sys\nfor name in {BLOCKED!r}:\n    sys.modules[name] = None\n"
    result = subprocess.run(
        [sys.executable, "-c", block + doc_program(), str(folder), str(tmp_path / "prices.csv")],
        capture_output=True,
        text=True,
        env={"PATH": "/usr/bin:/bin"},  # no PYTHONPATH: rnncast is not on the path either
        check=False,
    )
    assert result.returncode == 0, result.stderr
    printed = [float(line.rsplit(" ", 1)[1]) for line in result.stdout.splitlines()]
    steps = fc.horizon if fc.strategy == "direct" else 1  # a recursive model forecasts 1 step
    expected = fc.predict_next(frame, days=steps)["forecast"].to_numpy()
    assert len(printed) == steps
    np.testing.assert_allclose(printed, expected, rtol=1e-4)
    last = frame.index[-1].date()
    assert result.stdout.splitlines()[0].startswith(f"session 1 after {last}:")


@pytest.mark.parametrize("name", ["plain", "mixed", "recursive"])
def test_onnx_model_equals_the_forecaster_network(name, forecasters, frame, tmp_path):
    fc = forecasters[name]
    folder = fc.export_onnx(tmp_path / "export")
    session = one_thread_session(str(folder / "model.onnx"))
    X, _ = fc.windowizer_.transform(frame)  # every window of the frame: a batch of hundreds
    X = np.ascontiguousarray(X)
    (got,) = session.run(["outputs"], {"inputs": X})
    np.testing.assert_allclose(got, fc.model_.predict(X), atol=1e-5)


def test_preprocess_json_holds_the_fitted_pipeline(forecasters, tmp_path):
    fc = forecasters["mixed"]
    spec = read_preprocess(fc.export_onnx(tmp_path / "export"))
    win = fc.windowizer_
    assert spec["format"] == "rnncast-preprocess" and spec["version"] == 1
    assert (spec["lookback"], spec["horizon"], spec["model_horizon"]) == (15, 3, 3)
    assert spec["rows_needed"] == 16 and spec["strategy"] == "direct"
    assert spec["calendar"] == "XNYS"
    assert [(f["column"], f["transform"]) for f in spec["features"]] == [
        ("close", "level"),
        ("close", "log_return"),
        ("volume", "log"),
        ("high", "diff"),
    ]
    assert [f["scaler"]["center"] for f in spec["features"]] == win.scalers_[None].center_.tolist()
    assert [f["scaler"]["scale"] for f in spec["features"]] == win.scalers_[None].scale_.tolist()
    assert {f["scaler"]["kind"] for f in spec["features"]} == {"minmax"}
    assert spec["target"] == {
        "column": "close",
        "transform": "diff",
        "scaler": {
            "kind": "minmax",
            "center": win.target_scalers_[None].center_[0],
            "scale": win.target_scalers_[None].scale_[0],
        },
    }
    expected_input = {"name": "inputs", "shape": ["batch", 15, 4], "dtype": "float32"}
    assert spec["model"]["input"] == expected_input
    assert spec["model"]["output"]["shape"] == ["batch", 3] and spec["model"]["opset"] == 17
    assert spec["trained_on"] == fc.train_info_
    assert len(spec["recipe"]) >= 7


def test_recursive_spec_says_one_model_step(forecasters, tmp_path):
    spec = read_preprocess(forecasters["recursive"].export_onnx(tmp_path / "export"))
    assert (spec["strategy"], spec["horizon"], spec["model_horizon"]) == ("recursive", 2, 1)
    assert [f["scaler"]["kind"] for f in spec["features"]] == ["robust", "robust"]
    assert spec["target"]["transform"] == "return" and spec["rows_needed"] == 11


def test_export_after_save_and_load_is_the_same(forecasters, frame, tmp_path):
    fc = forecasters["plain"]
    loaded = rc.Forecaster.load(fc.save(tmp_path / "fc"))
    first = read_preprocess(fc.export_onnx(tmp_path / "a"))
    second = read_preprocess(loaded.export_onnx(tmp_path / "b"))
    assert {k: v for k, v in first.items() if k != "model"} == {
        k: v for k, v in second.items() if k != "model"
    }


def test_read_preprocess_names_the_broken_field(forecasters, tmp_path):
    folder = forecasters["plain"].export_onnx(tmp_path / "export")
    file = folder / "preprocess.json"
    good = json.loads(file.read_text())

    def broken(change):
        spec = json.loads(json.dumps(good))
        change(spec)
        file.write_text(json.dumps(spec))
        with pytest.raises(ArtifactError) as err:
            read_preprocess(folder)
        return str(err.value)

    assert "$.features[0].scaler" in broken(lambda s: s["features"][0]["scaler"].update(scale=0))
    assert "$.target.transform" in broken(lambda s: s["target"].update(transform="sqrt"))
    assert "$.lookback is missing" in broken(lambda s: s.pop("lookback"))
    assert "newer" in broken(lambda s: s.update(version=99))
    assert "$.model.input.shape" in broken(lambda s: s.update(lookback=21))
    assert "rnncast preprocessing spec" in broken(lambda s: s.update(format="other"))
    file.write_text(json.dumps(good))
    (folder / "model.onnx").write_bytes(b"replaced")
    with pytest.raises(ArtifactError, match="sha256"):
        read_preprocess(folder)


def test_export_errors(forecasters, tmp_path):
    unfitted = rc.Forecaster([LSTM(4), Dense(1)], lookback=10)
    with pytest.raises(NotFittedError):
        unfitted.export_onnx(tmp_path / "x")
    (tmp_path / "model.onnx").write_text("")
    with pytest.raises(ConfigError, match="is a file"):
        forecasters["plain"].export_onnx(tmp_path / "model.onnx")


def test_a_universe_forecaster_is_refused_with_the_fix(tmp_path):
    frame = rc.datasets.load_sample(["MSFT", "IBM"]).groupby("ticker").tail(120)
    fc = rc.Forecaster([LSTM(2), Dense(1)], lookback=5, seed=0).fit(frame, epochs=1, verbose=0)
    with pytest.raises(ConfigError, match=r"single-series.*\['IBM', 'MSFT'\].*one Forecaster per"):
        fc.export_onnx(tmp_path / "out")
    assert not (tmp_path / "out").exists()

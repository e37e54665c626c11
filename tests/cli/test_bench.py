"""The benchmark runs and reports well-formed numbers (no timing assertions)."""

import json

import pytest

from rnncast.cli import bench

pytestmark = pytest.mark.slow


def test_quick_benchmark_is_well_formed(tmp_path):
    results = bench.main(
        quick=True,
        markdown_path=str(tmp_path / "b.md"),
        json_path=str(tmp_path / "b.json"),
        device="cpu",
    )
    assert results["device"] == "cpu"
    assert json.loads((tmp_path / "b.json").read_text()) == json.loads(json.dumps(results))
    for key in ("w1_train", "w2_train", "w1_inference", "w2_inference", "memory"):
        assert results[key]["ratio"] > 0
    assert results["w1_train"]["torch_s"] > 0 and results["w2_train"]["rnncast_s"] > 0
    assert results["import"]["rnncast_extra_s"] >= 0
    text = (tmp_path / "b.md").read_text()
    assert text.startswith("# Benchmarks") and text.count("| w") >= 4


def test_reference_and_rnncast_models_have_the_same_shape():
    for workload in (bench.W1, bench.W2):
        ours, reference = bench.rnncast_model(workload), bench.Reference(workload)
        torch_params = sum(p.numel() for p in reference.parameters())
        second_biases = 2 * 4 * workload.units  # torch's extra bias_hh per LSTM layer
        assert ours.count_params() == torch_params - second_biases


def test_windows_are_scaled_random_walks():
    x, y = bench.random_walk_windows(100, 3)
    assert x.shape == (100, 60, 3) and y.shape == (100, 1)
    assert x.min() >= 0 and x.max() <= 1
    assert y[0, 0] == x[1, -1, 0]  # the target is the next window's last value

"""Smoke runs of the benchmarks: they run and report well-formed numbers (no timing asserts)."""

import importlib.util
import subprocess
import sys
from pathlib import Path

import pytest

BENCHMARKS = Path(__file__).resolve().parents[1] / "benchmarks"


def load(name: str):
    spec = importlib.util.spec_from_file_location(name, BENCHMARKS / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_forward_benchmark_reports_times_and_ratios():
    result = load("forward").compare(repeats=3, batch=4)
    assert set(result) == {"torch", "rnncast", "rnncast_predict", "ratio", "ratio_predict"}
    assert all(value > 0 for value in result.values())


def test_reference_stack_differs_only_by_torchs_second_lstm_bias():
    forward = load("forward")
    ours, plain = forward.rnncast_stack(), forward.plain_stack()
    assert ours.count_params() == sum(p.numel() for p in plain.parameters()) - 2 * 200


def test_windowing_benchmark_smoke():
    result = subprocess.run(
        [sys.executable, str(BENCHMARKS / "windowing.py"), "--smoke"],
        capture_output=True,
        text=True,
        check=True,
    )
    assert result.stdout.startswith("synthetic 10,000 x 5:") and "x input" in result.stdout


def test_scale_benchmark_counts_two_flops_per_lstm_weight_per_timestep():
    from rnncast.layers import LSTM

    units, features, lookback = 6, 3, 7
    flops = load("scale_ddp").lstm_flops(units, features, lookback)
    layer = rc_model(LSTM(units, input_shape=(lookback, features))).count_params()
    matrices = layer - 4 * units  # kernel and recurrent kernel, without the bias
    assert flops["per_step"] == 2 * matrices + 4 * units + 10 * units
    assert flops["train"] == 3 * flops["forward"]


def rc_model(layer):
    import rnncast as rc

    return rc.Sequential([layer])


@pytest.mark.slow
def test_gpu_check_cpu_dry_run_prints_one_passing_table(capsys):
    assert load("gpu_check").main(["--cpu-dry-run"]) == 0
    out = capsys.readouterr().out
    rows = [line for line in out.splitlines() if line.startswith("| ")]
    assert rows[0] == "| check | value | target | ok |"
    assert sum(line.endswith("| yes |") for line in rows) == 10  # 9 layer stacks + artifact
    assert "NO" not in out and "w2 training epoch on cpu" in out
    assert "LSTM/GRU use cuDNN (profiler) | n/a on the CPU" in out

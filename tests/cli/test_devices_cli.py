"""--device on run/train/backtest and bench, and [training] device in configs (CPU here)."""

from __future__ import annotations

import tomllib

import pytest
import torch

from rnncast.cli import bench, main
from rnncast.cli.config import load_config
from rnncast.cli.main import _parser
from rnncast.exceptions import ConfigError

CUDA = torch.cuda.is_available()
SMALL = [
    "--set",
    'model.layers=[{type="LSTM", units=4}, {type="Dense", units=1}]',
    "--set",
    "training.epochs=1",
    "--set",
    "forecast.lookback=10",
]


def test_config_has_training_device_and_mixed_precision():
    config = load_config(None, ["training.device=cpu", "training.mixed_precision=bf16"])
    assert config["training"]["device"] == "cpu"
    assert config["training"]["mixed_precision"] == "bf16"
    assert load_config(None, [])["training"]["device"] == "auto"
    with pytest.raises(ConfigError, match="mixed_precision"):
        load_config(None, ["training.mixed_precision=int8"])


@pytest.mark.parametrize("command", ["run", "train", "backtest"])
def test_device_option_reaches_the_config(command):
    args = _parser().parse_args([command, "--device", "cpu"])
    assert args.device == "cpu"
    from rnncast.cli.main import _config

    assert _config(args)["training"]["device"] == "cpu"


@pytest.mark.slow
def test_train_on_cpu_and_bad_device_is_a_clear_error(tmp_path, capsys):
    assert main(["train", "--device", "cpu", "--out", str(tmp_path), *SMALL]) == 0
    (folder,) = tmp_path.iterdir()
    saved = tomllib.loads((folder / "config.toml").read_text())
    assert saved["training"]["device"] == "cpu"  # the run's settings, not the artifact's
    assert "device" not in (folder / "forecaster" / "config.json").read_text()
    capsys.readouterr()
    assert main(["train", "--device", "gpu", "--out", str(tmp_path / "x"), *SMALL]) == 2
    assert "device='gpu' is not a device; use one of auto, cpu, cuda" in capsys.readouterr().err


def test_bench_device_defaults_to_cpu():
    assert _parser().parse_args(["bench"]).device == "cpu"
    assert _parser().parse_args(["bench", "--device", "cuda:1"]).device == "cuda:1"


@pytest.mark.skipif(CUDA, reason="checks the error of a machine without CUDA")
def test_bench_on_cuda_without_cuda_is_a_clear_error(capsys):
    assert main(["bench", "--device", "cuda", "--quick"]) == 2
    err = capsys.readouterr().err
    assert "CUDA is not available" in err and "device='cpu'" in err


@pytest.mark.slow
def test_bench_sides_run_on_the_requested_device():
    tiny = bench.Workload("w1", 4, (1,), 1, 16, 32, epochs=1)
    model = bench.rnncast_model(tiny, "cpu")
    assert model._device == torch.device("cpu")
    speed = bench.inference_speed(tiny, windows=64, repeats=1, device="cpu")
    assert speed["ratio"] > 0

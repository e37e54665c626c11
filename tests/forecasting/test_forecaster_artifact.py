"""Forecaster artifacts against hostile config.json edits and bit rot (issue 14, items 3 and 6).

Every case must end in an ArtifactError naming the file and the JSON path,
checked before the forecaster (or its model) is built.
"""

from __future__ import annotations

import json
import shutil

import pytest

import rnncast as rc
from rnncast import Forecaster
from rnncast.cli.main import main
from rnncast.exceptions import ArtifactError
from rnncast.layers import LSTM, Dense


@pytest.fixture(scope="module")
def saved(tmp_path_factory):
    train = rc.datasets.load_sample("MSFT").iloc[:120]
    forecaster = Forecaster([LSTM(3), Dense(1)], lookback=5, seed=0)
    folder = tmp_path_factory.mktemp("artifact") / "fc"
    forecaster.fit(train, epochs=1, verbose=0).save(folder)
    return folder


@pytest.fixture
def copy(saved, tmp_path):
    return shutil.copytree(saved, tmp_path / "fc")


def edit(folder, change):
    config = json.loads((folder / "config.json").read_text())
    change(config)
    (folder / "config.json").write_text(json.dumps(config))


def scalers(config):
    return config["windowizer"]["scalers"]["None"]


CASES = {
    "missing train": (lambda c: c.pop("train"), r"config\.json: train: missing \(required\)"),
    "scaler statistics as strings": (
        lambda c: scalers(c).update(center=["0.1"]),
        r'windowizer\.scalers\.None\.center\[0\]: expected a number, got "0\.1"',
    ),
    "residuals as text": (
        lambda c: c.update(residuals="abc"),
        r'residuals: expected a list, got "abc"',
    ),
    "calibration scores as text": (
        lambda c: c.update(calibration_scores="abc"),
        r'calibration_scores: expected a list, got "abc"',
    ),
    "lookback as text": (
        lambda c: c["forecaster"].update(lookback="abc"),
        r'forecaster\.lookback: expected an integer, got "abc"',
    ),
    "unknown setting": (
        lambda c: c["forecaster"].update(evil=1),
        r"forecaster\.evil: unknown setting",
    ),
    "evil optimizer kwargs": (
        lambda c: c["compile"]["optimizer"].update(config={"evil": 1}),
        r"compile\.optimizer\.config\.evil: Adam has no argument 'evil'",
    ),
    "loss as a list": (lambda c: c["compile"].update(loss=["mse"]), r"compile\.loss: expected"),
    "train scale not a number": (
        lambda c: c.update(train_scale=[1]),
        r"train_scale: expected a number, got \[1\]",
    ),
}


@pytest.mark.parametrize("case", CASES)
def test_malformed_forecaster_configs_name_the_json_path(copy, case):
    change, message = CASES[case]
    edit(copy, change)
    for load in (Forecaster.load, rc.load):
        with pytest.raises(ArtifactError, match=message):
            load(copy)


def test_forecaster_weights_are_checksummed(copy, capsys):
    assert main(["verify", str(copy)]) == 0
    file = copy / "model.safetensors"
    data = bytearray(file.read_bytes())
    data[-3] ^= 0xFF
    file.write_bytes(bytes(data))
    with pytest.raises(ArtifactError, match=r"model\.safetensors does not match its checksum"):
        Forecaster.load(copy)
    assert main(["verify", str(copy)]) == 1
    assert capsys.readouterr().out.splitlines()[-1].startswith(f"FAILED: {file}: ")


def test_a_sound_forecaster_artifact_still_loads(copy, saved):
    edit(copy, lambda c: c.pop("files"))  # as written by rnncast 0.1
    assert Forecaster.load(copy).get_config() == Forecaster.load(saved).get_config()

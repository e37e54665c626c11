"""Tampered artifacts the bad-input campaign found loading silently or with raw errors."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

import rnncast as rc
from rnncast.layers import LSTM, Dense


@pytest.fixture(scope="module")
def saved(tmp_path_factory):
    idx = pd.bdate_range("2020-01-01", periods=120, name="date")
    close = 100 * np.exp(np.cumsum(np.random.default_rng(0).normal(0, 0.01, 120)))
    frame = pd.DataFrame({"close": close}, index=idx)
    fc = rc.Forecaster([LSTM(4), Dense(1)], lookback=10, seed=0)
    fc.fit(frame.iloc[:80], validation=frame.iloc[80:], epochs=1, verbose=0)
    return fc.save(tmp_path_factory.mktemp("fc") / "fc")


def tampered(saved, tmp_path, change):
    import shutil

    folder = shutil.copytree(saved, tmp_path / "fc")
    config = json.loads((folder / "config.json").read_text())
    change(config)
    (folder / "config.json").write_text(json.dumps(config))
    return folder


CASES = {
    # a number among the rows of scores: ValueError (inhomogeneous shape) before
    "score row a number": (
        lambda c: c["calibration_scores"].__setitem__(2, 2.5),
        r"calibration_scores: expected rows that are all lists",
    ),
    "negative score": (  # loaded silently before
        lambda c: c["calibration_scores"][0].__setitem__(0, -1),
        r"calibration_scores\[0\]: expected scores >= 0",
    ),
    "ragged rows": (
        lambda c: c["calibration_scores"][1].append(0.1),
        r"calibration_scores\[1\]: expected a row of 1 scores",
    ),
    "features differ from the windowizer": (  # loaded with features=['abc'] before
        lambda c: c["forecaster"].update(features=["abc"]),
        r"forecaster\.features: \[\"abc\"\] does not match windowizer\.params\.features",
    ),
    "lookback differs from the model": (
        lambda c: c["model"].update(build_input_shape=[None, 99, 1]),
        r"forecaster\.lookback: 10 does not match model\.build_input_shape",
    ),
    "unknown initializer": (  # the message did not say which layer or setting
        lambda c: c["model"]["layers"][1]["config"].update(kernel_initializer=2.5),
        r"model\.layers\[1\]\.config\.kernel_initializer: ",
    ),
    "optimizer setting of a wrong type": (  # "float() argument must be ..." before
        lambda c: c["compile"]["optimizer"]["config"].update(weight_decay={"evil": 1}),
        r"compile\.optimizer.*weight_decay must be >= 0",
    ),
    "optimizer setting a bool": (  # loaded silently before
        lambda c: c["compile"]["optimizer"]["config"].update(weight_decay=True),
        r"weight_decay must be >= 0, got True",
    ),
    "unknown calendar": (
        lambda c: c["forecaster"].update(calendar="NOPE"),
        r"calendar='NOPE' is not an exchange-calendars code",
    ),
}


@pytest.mark.parametrize("case", CASES)
def test_tampered_forecaster_configs_are_named_artifact_errors(saved, tmp_path, case):
    change, match = CASES[case]
    folder = tampered(saved, tmp_path, change)
    with pytest.raises(rc.ArtifactError, match=match):
        rc.Forecaster.load(folder)


def test_the_untampered_artifact_loads(saved):
    assert rc.Forecaster.load(saved).lookback == 10

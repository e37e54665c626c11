"""Unadjusted splits are caught by ratio (2:1 ... 1:10 and 3:2), real crashes are not (issue 14).

The real-data tests read the developer data sets in ../shared/data (never copied
into the project; marked ``integration`` and skipped when missing).
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import rnncast as rc
from rnncast.data.validation import split_name

DATA = Path(__file__).resolve().parents[3] / "shared" / "data"


def series(values):
    return pd.DataFrame({"close": values}, index=pd.bdate_range("2021-01-04", periods=len(values)))


def walk(n=60, vol=0.01, seed=0):
    return 100 * np.exp(np.cumsum(np.random.default_rng(seed).normal(0, vol, n)))


@pytest.mark.parametrize(
    ("split", "name"),
    [
        (2, "2:1"),
        (3, "3:1"),
        (1.5, "3:2"),  # x0.667 overnight: missed before
        (4, "4:1"),
        (5, "5:1"),
        (10, "10:1"),
        (1 / 2, "reverse 1:2"),
        (1 / 1.5, "reverse 2:3"),
        (1 / 10, "reverse 1:10"),
    ],
)
def test_an_unadjusted_split_names_its_date_ratio_and_fix(split, name):
    values = walk()
    values[30:] /= split
    with pytest.raises(rc.DataError) as err:
        rc.data.validate(series(values))
    message = str(err.value)
    assert f"on 2021-02-15 (a {name} split?)" in message
    assert "looks like an unadjusted split; use adjusted prices" in message
    assert "allow_jumps=True" in message
    rc.data.validate(series(values), allow_jumps=True)


def test_a_third_off_in_a_volatile_stretch_is_a_crash_not_a_split():
    values = walk(vol=0.04, seed=3)  # 4 % daily moves, as in 2008
    values[30:] /= 1.5
    rc.data.validate(series(values))


def test_split_name():
    assert [split_name(r) for r in (0.5, 0.34, 1.49, 0.1, 2.2, 1000.0)] == [
        "2:1",
        "3:1",
        "2:3",
        "10:1",
        None,
        None,
    ]


def load_benchmark():
    path = Path(__file__).resolve().parents[2] / "benchmarks" / "split_detection.py"
    spec = importlib.util.spec_from_file_location("split_detection", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.integration
@pytest.mark.slow
@pytest.mark.skipif(not DATA.exists(), reason="../shared/data is not present")
def test_real_data_adjusted_sets_flag_nothing_and_known_unadjusted_splits_are_found():
    report = load_benchmark().main(DATA)
    assert report["hsmd"]["flagged"] == []  # 1.2M adjusted moves, 2008 crashes included
    flagged = {(name, day) for name, day, _, _ in report["sandp500_5yr"]["flagged"]}
    assert {("DISCA", "2014-08-07"), ("DISCK", "2014-08-07")} <= flagged
    assert len(flagged) <= 3  # + ARNC's unadjusted 2016-11-01 spin-off (x0.659)

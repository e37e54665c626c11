"""Forecaster arguments the bad-input campaign found unchecked (issue 14)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import rnncast as rc
from rnncast.layers import LSTM, Dense


def layers():
    return [LSTM(4), Dense(1)]


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"lookback": "20"}, r"lookback must be a positive integer, got '20'"),  # was 20
        ({"lookback": 2.5}, r"lookback must be a positive integer, got 2\.5"),  # was 2
        ({"lookback": None}, r"lookback must be a positive integer, got None"),  # TypeError
        ({"horizon": 1.5}, r"horizon must be a positive integer, got 1\.5"),
        ({"features": []}, r"features must be a column name or a non-empty list"),
        ({"features": None}, r"features must be a column name or a non-empty list"),
        ({"calendar": "NOPE"}, r"calendar='NOPE' is not an exchange-calendars code"),
        ({"calendar": 5}, r"calendar=5 is not an exchange-calendars code"),
        ({"seed": "x"}, r"seed must be an integer or None, got 'x'"),
    ],
)
def test_constructor_arguments_are_named(kwargs, match):
    with pytest.raises(rc.ConfigError, match=match):
        rc.Forecaster(layers(), **{"lookback": 10, **kwargs})


@pytest.fixture(scope="module")
def fitted():
    idx = pd.bdate_range("2020-01-01", periods=80, name="date")
    close = 100 * np.exp(np.cumsum(np.random.default_rng(0).normal(0, 0.01, 80)))
    frame = pd.DataFrame({"close": close}, index=idx)
    fc = rc.Forecaster(layers(), lookback=10, seed=0)
    fc.fit(frame.iloc[:50], validation=frame.iloc[50:], epochs=1, verbose=0)
    return fc, frame


@pytest.mark.parametrize("interval", ["x", 1.5, 0, True])
def test_predict_next_interval_is_checked(fitted, interval):
    fc, frame = fitted
    with pytest.raises(rc.ConfigError, match=r"interval coverage must be in \(0, 1\)"):
        fc.predict_next(frame, interval=interval)


def test_frames_that_are_not_dataframes_are_named(fitted):
    fc, frame = fitted
    with pytest.raises(rc.DataError, match=r"frame must be a pandas DataFrame .* got ndarray"):
        fc.predict_next(frame.to_numpy())  # AttributeError before
    with pytest.raises(rc.DataError, match=r"context must be a DataFrame"):
        fc.predict(frame, context="x")
    with pytest.raises(rc.DataError, match=r"validation must be a pandas DataFrame"):
        rc.Forecaster(layers(), lookback=10).fit(frame, validation="x", epochs=1, verbose=0)

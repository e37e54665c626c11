"""Did the network learn only the average move? Planted fits with a known answer."""

import numpy as np
import pandas as pd
import pytest

import rnncast as rc
from rnncast.forecasting.diagnostics import learned_only_the_mean
from rnncast.layers import LSTM, Dense
from rnncast.optimizers import Adam


@pytest.mark.parametrize("seed", range(5))
def test_constant_forecasts_learned_only_the_mean(seed):
    y = np.random.default_rng(seed).normal(size=(400, 1))  # (n, horizon)
    assert learned_only_the_mean(np.full_like(y, y.mean()), y)
    assert learned_only_the_mean(y.mean() + 0.01 * np.random.default_rng(9).normal(size=y.shape), y)


@pytest.mark.parametrize("seed", range(5))
def test_forecasts_that_track_the_target_learned_something(seed):
    rng = np.random.default_rng(seed)
    signal = rng.normal(size=(400, 1))
    y = 0.3 * signal + rng.normal(size=(400, 1))  # AR(1)-like: the best forecast explains ~8 %
    assert not learned_only_the_mean(0.3 * signal, y)
    assert not learned_only_the_mean(-y, y)  # wrong, but not the mean: other flags catch it


def test_constant_targets_are_not_flagged():
    y = np.ones((10, 1))
    assert not learned_only_the_mean(y, y)


def ar1_prices(n: int = 900, phi: float = 0.5, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    r = np.zeros(n)
    for t in range(1, n):
        r[t] = phi * r[t - 1] + rng.normal(0, 0.01)
    index = pd.bdate_range("2015-01-01", periods=n, name="date")
    return pd.DataFrame({"close": 100 * np.exp(np.cumsum(r))}, index=index)


def test_a_frozen_network_is_said_to_have_learned_only_the_average_move():
    frame = ar1_prices()
    train, val, test = rc.data.chronological_split(frame, val=0.2, test=0.2)
    model = rc.Sequential([LSTM(4), Dense(1, kernel_initializer="zeros")], seed=0)
    model.compile(optimizer=Adam(learning_rate=1e-9), loss="mse")  # stays at zero
    fc = rc.Forecaster(model, lookback=10, seed=0).fit(train, validation=val, epochs=1, verbose=0)
    assert fc.learned_nothing_
    verdict = fc.evaluate(test, context=val, baselines=[]).verdict
    assert verdict.learned_nothing and "learned only the average move" in str(verdict)

"""A finite but exploding loss stops fit (issue 14, item 11): planted cases over several seeds."""

import numpy as np
import pytest

from rnncast import Sequential
from rnncast.exceptions import TrainingDivergedError
from rnncast.layers import LSTM, Dense
from rnncast.models.loop import DIVERGENCE_GROWTH
from rnncast.optimizers import Adam


def data(seed):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(256, 12, 1)).astype("float32")
    y = 0.5 * x[:, -1, 0] + 0.1 * rng.normal(size=256)
    return x, y


def model(learning_rate, seed):
    net = Sequential([LSTM(8), Dense(8, activation="relu"), Dense(1)], seed=seed)
    net.compile(optimizer=Adam(learning_rate=learning_rate), loss="mse")
    return net


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_a_huge_learning_rate_raises_with_the_growth_and_the_fix(seed):
    net = model(100.0, seed)
    with pytest.raises(TrainingDivergedError, match=r"learning_rate=100\) although") as info:
        net.fit(*data(seed), epochs=3, verbose=0)
    assert "lower learning rate" in str(info.value)
    assert net.stop_training


@pytest.mark.parametrize("seed", [0, 1, 2])
@pytest.mark.parametrize("learning_rate", [1e-3, 0.05])
def test_ordinary_and_high_but_sane_rates_train(learning_rate, seed):
    history = model(learning_rate, seed).fit(*data(seed), epochs=3, verbose=0)
    assert len(history.history["loss"]) == 3
    assert max(history.history["loss"]) < DIVERGENCE_GROWTH * history.history["loss"][0]


def test_a_zero_first_loss_is_no_yardstick():
    net = model(1e-3, 0)
    x = np.zeros((64, 12, 1), dtype="float32")
    net.fit(x, np.zeros(64), epochs=1, verbose=0)  # loss 0 then tiny: never "grew 1e4x"
    net.fit(x, np.full(64, 5.0), epochs=1, verbose=0)  # a new fit takes a new first batch

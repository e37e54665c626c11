"""A finite but exploding loss stops fit (issue 14, item 11): planted cases over several seeds.

The yardstick is the loss of predicting 0 on the same samples, so noisy small batches, targets
near 0 and regularizer penalties never look like divergence.
"""

import warnings

import numpy as np
import pytest

from rnncast import Sequential
from rnncast.exceptions import TrainingDivergedError
from rnncast.layers import LSTM, Dense
from rnncast.models.loop import DIVERGENCE_GROWTH
from rnncast.optimizers import Adam
from rnncast.regularizers import l2


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


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_batch_size_one_on_unscaled_price_changes_trains(seed):
    # The stateful-LSTM tutorial: one sample per batch, dollar-sized targets; the first
    # sample's loss can be 1e4x smaller than a later one's without anything going wrong.
    rng = np.random.default_rng(seed)
    changes = rng.standard_t(3, size=300) * 2.0
    changes[0] = 0.001
    x, y = np.tanh(changes[:-1]).reshape(-1, 1, 1).astype("float32"), changes[1:]
    net = Sequential([LSTM(4), Dense(1)], seed=seed)
    net.compile(optimizer="adam", loss="mse")
    history = net.fit(x, y, epochs=2, batch_size=1, shuffle=False, verbose=0)
    assert len(history.history["loss"]) == 2


def test_a_strong_penalty_on_tiny_targets_is_not_divergence():
    x, y = data(0)
    net = Sequential([LSTM(32, kernel_regularizer=l2(1.0)), Dense(1)], seed=0)
    net.compile(optimizer=Adam(learning_rate=1e-3), loss="mse")
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # and no autograd warning from reading the data loss
        history = net.fit(x, y * 1e-3, epochs=1, verbose=0)  # penalty >> 1e4 x the data loss
    assert history.history["loss"][0] > 1e4 * np.mean((y * 1e-3) ** 2)


def test_a_zero_first_loss_is_no_yardstick():
    net = model(1e-3, 0)
    x = np.zeros((64, 12, 1), dtype="float32")
    net.fit(x, np.zeros(64), epochs=1, verbose=0)  # loss 0 then tiny: never "grew 1e4x"
    net.fit(x, np.full(64, 5.0), epochs=1, verbose=0)  # a new fit takes a new first batch

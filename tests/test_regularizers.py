"""Regularizers match Keras 3 (torch backend): same weights, data and optimizer, same losses.

Each case builds the same stack in Keras and in rnncast (``spec(keras)`` and
``spec(rnncast)``: the module paths are the same), copies Keras's random
weights into rnncast with ``set_weights``, fits both with ``shuffle=False``
for 3 epochs (batches of 16 over 40 samples: a partial last batch) and
compares ``loss`` and ``val_loss`` (Keras 3 adds the penalties to both), the
``evaluate`` result and the trained weights. Measured over all cases: the
largest loss / val_loss difference is 2.4e-7 and the largest weight
difference 1.2e-7 (float32 rounding); the tests allow 1e-5.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable

os.environ.setdefault("KERAS_BACKEND", "torch")

import numpy as np
import pytest
import torch

import rnncast
from rnncast import Sequential, regularizers
from rnncast.exceptions import ConfigError
from rnncast.layers import LSTM, Dense
from rnncast.saving import load_model, save_model

keras = pytest.importorskip("keras")

import keras_twins  # noqa: E402 - needs KERAS_BACKEND and Keras
from keras_twins import BATCH, N_VAL, F, N, T, data, twins  # noqa: E402

pytestmark = pytest.mark.filterwarnings("ignore:__array__ implementation:DeprecationWarning")

ATOL = 1e-5


def _position_weighted(w):  # a custom regularizer that depends on Keras's layout
    w = getattr(w, "value", w)  # a Keras Variable holds its torch tensor in .value
    scale = torch.linspace(0.5, 1.5, w.shape[-1], dtype=torch.float32)
    return 0.02 * (w**2 * scale).sum()


CASES: dict[str, Callable] = {
    "dense_l1": lambda M: [
        M.layers.LSTM(4),
        M.layers.Dense(
            1, kernel_regularizer=M.regularizers.L1(0.05), bias_regularizer=M.regularizers.L1(0.1)
        ),
    ],
    "dense_strings": lambda M: [
        M.layers.LSTM(4),
        M.layers.Dense(3, kernel_regularizer="l2", bias_regularizer="l1"),
        M.layers.Dense(1),
    ],
    "dense_l1_l2": lambda M: [
        M.layers.LSTM(4),
        M.layers.Dense(1, kernel_regularizer=M.regularizers.l1_l2(l1=0.01, l2=0.02)),
    ],
    "conv1d": lambda M: [
        M.layers.Conv1D(
            3, 2, kernel_regularizer=_position_weighted, bias_regularizer=M.regularizers.L2(0.1)
        ),
        M.layers.LSTM(4),
        M.layers.Dense(1),
    ],
    "lstm": lambda M: [
        M.layers.LSTM(
            4,
            kernel_regularizer=M.regularizers.L2(0.03),
            recurrent_regularizer=M.regularizers.L1(0.02),
            bias_regularizer=_position_weighted,
        ),
        M.layers.Dense(1),
    ],
    "gru": lambda M: [
        M.layers.GRU(
            4,
            kernel_regularizer=_position_weighted,
            recurrent_regularizer="l2",
            bias_regularizer=M.regularizers.L1(0.05),
        ),
        M.layers.Dense(1),
    ],
    "simple_rnn": lambda M: [
        M.layers.SimpleRNN(4, kernel_regularizer="l1", recurrent_regularizer="l2"),
        M.layers.Dense(1),
    ],
    "batch_norm": lambda M: [
        M.layers.LSTM(4, return_sequences=True),
        M.layers.BatchNormalization(
            gamma_regularizer=M.regularizers.L2(0.1), beta_regularizer=M.regularizers.L1(0.1)
        ),
        M.layers.LSTM(3),
        M.layers.Dense(1),
    ],
    "layer_norm": lambda M: [
        M.layers.LSTM(4),
        M.layers.LayerNormalization(gamma_regularizer="l2", beta_regularizer="l1"),
        M.layers.Dense(1),
    ],
    "activity": lambda M: [
        M.layers.LSTM(4, return_sequences=True, activity_regularizer=M.regularizers.L2(0.05)),
        M.layers.LSTM(3, activity_regularizer="l1"),
        M.layers.Dense(1, activity_regularizer=M.regularizers.L1L2(l1=0.01, l2=0.02)),
    ],
    "time_distributed": lambda M: [  # Keras skips the inner activity_regularizer
        M.layers.TimeDistributed(
            M.layers.Dense(2, kernel_regularizer="l2", activity_regularizer="l1")
        ),
        M.layers.LSTM(3),
        M.layers.Dense(1),
    ],
    "bidirectional": lambda M: [
        M.layers.Bidirectional(
            M.layers.LSTM(3, kernel_regularizer="l2", activity_regularizer="l1")
        ),
        M.layers.Dense(1),
    ],
}
ADAM = {"gru", "batch_norm", "activity", "dense_l1"}


def fit_both(name: str):
    return keras_twins.fit_both(CASES[name], name in ADAM, 0.01, 0.05)


@pytest.mark.parametrize("name", sorted(CASES))
def test_penalties_enter_loss_and_val_loss_as_in_keras(name):
    keras_model, model, theirs, ours = fit_both(name)
    for key in ("loss", "val_loss"):
        np.testing.assert_allclose(ours[key], theirs[key], rtol=0, atol=ATOL, err_msg=key)
    for mine, keras_weight in zip(model.get_weights(), keras_model.get_weights(), strict=True):
        np.testing.assert_allclose(mine, keras_weight, rtol=0, atol=ATOL)
    x_val, y_val = data(N_VAL, 1)
    want = keras_model.evaluate(x_val, y_val, batch_size=BATCH, verbose=0)
    assert abs(model.evaluate(x_val, y_val, batch_size=BATCH, verbose=0) - want) < ATOL


def test_the_penalty_is_really_in_the_logged_loss():
    """Without the regularizer the same model logs a smaller loss (the penalty is positive)."""
    x, y = data(N, 0)
    losses = []
    for regularizer in (None, regularizers.L2(1.0)):
        model = Sequential([LSTM(4, input_shape=(T, F)), Dense(1, kernel_regularizer=regularizer)])
        model.set_weights([np.full(w.shape, 0.2, "float32") for w in model.get_weights()])
        model.compile(optimizer=rnncast.optimizers.SGD(0.0), loss="mse")
        losses.append(model.fit(x, y, batch_size=BATCH, epochs=1, verbose=0).history["loss"][0])
    assert losses[1] - losses[0] == pytest.approx(1.0 * 4 * 0.2**2, abs=1e-5)


def test_frozen_layers_add_no_penalty_as_in_keras():
    keras_model, model = twins(CASES["dense_strings"])
    keras_model.layers[1].trainable = False
    model.layers[1].trainable = False  # the Input stays out of layers, as in Keras 3
    keras_model.compile(optimizer=keras.optimizers.SGD(0.05), loss="mse")
    model.compile(optimizer=rnncast.optimizers.SGD(0.05), loss="mse")
    x, y = data(N, 0)
    theirs = keras_model.fit(x, y, batch_size=BATCH, epochs=2, shuffle=False, verbose=0)
    ours = model.fit(x, y, batch_size=BATCH, epochs=2, shuffle=False, verbose=0)
    np.testing.assert_allclose(ours.history["loss"], theirs.history["loss"], rtol=0, atol=ATOL)


def test_regularizer_values_and_configs_equal_keras():
    w = np.random.default_rng(0).normal(size=(3, 4)).astype("float32")
    pairs = [
        (regularizers.L1(0.3), keras.regularizers.L1(0.3)),
        (regularizers.L2(0.3), keras.regularizers.L2(0.3)),
        (regularizers.l1_l2(l1=0.1, l2=0.2), keras.regularizers.l1_l2(l1=0.1, l2=0.2)),
        (regularizers.get("l1"), keras.regularizers.get("l1")),
        (regularizers.get("l2"), keras.regularizers.get("l2")),
        (regularizers.get("l1l2"), keras.regularizers.get("l1l2")),
        (regularizers.get("L1L2"), keras.regularizers.get("L1L2")),
    ]
    for ours, theirs in pairs:
        assert float(ours(torch.from_numpy(w))) == pytest.approx(float(theirs(w)), rel=1e-6)
        assert regularizers.serialize(ours) == keras.regularizers.serialize(theirs)
    # Keras documents 'l1_l2' as l1=l2=0.01 (Keras 3.15's get() rejects the string)
    assert regularizers.get("l1_l2").get_config() == {"l1": 0.01, "l2": 0.01}


def test_layer_configs_hold_regularizers_in_keras_form():
    spec = CASES["lstm"]
    keras_layer = spec(keras)[0]
    layer = spec(rnncast)[0]
    theirs = keras_layer.get_config()
    ours = layer.get_config()
    for key in ("kernel_regularizer", "recurrent_regularizer", "kernel_constraint"):
        assert ours[key] == theirs[key], key


def test_config_and_artifact_round_trip_keep_regularizers(tmp_path):
    specs = {k: CASES[k] for k in ("batch_norm", "activity", "bidirectional", "gru")}
    x, y = data(N, 0)
    for name, spec in specs.items():
        if name == "gru":  # a function regularizer cannot be written to JSON
            continue
        _, model = twins(spec)
        config = json.loads(json.dumps(model.get_config()))
        clone = Sequential.from_config(config)
        assert clone.get_config() == model.get_config(), name
        clone.set_weights(model.get_weights())
        model.compile(optimizer="sgd", loss="mse")
        clone.compile(optimizer="sgd", loss="mse")
        assert clone.evaluate(x, y, verbose=0) == pytest.approx(model.evaluate(x, y, verbose=0))
        save_model(model, tmp_path / name)
        loaded = load_model(tmp_path / name)
        assert loaded.get_config() == model.get_config(), name
        assert loaded.evaluate(x, y, verbose=0) == pytest.approx(model.evaluate(x, y, verbose=0))


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda: Dense(1, kernel_regularizer="l3"), "kernel_regularizer='l3'"),
        (lambda: LSTM(2, recurrent_regularizer="L2X"), "recurrent_regularizer='L2X'"),
        (lambda: Dense(1, bias_regularizer=3), "bias_regularizer=3"),
        (lambda: Dense(1, activity_regularizer="weird"), "activity_regularizer='weird'"),
        (lambda: regularizers.L2(-1.0), "l2=-1.0"),
        (lambda: regularizers.L1L2(l1="a"), "l1='a'"),
        (lambda: regularizers.deserialize({"class_name": "Orthogonal"}), "Orthogonal"),
    ],
)
def test_bad_regularizers_raise_config_errors_naming_the_value(make, message):
    with pytest.raises(ConfigError, match=message):
        make()

"""Constraints match Keras 3 (torch backend): applied after every optimizer step, Keras layout.

Same method as ``tests/test_regularizers.py``: the same stack in Keras and
rnncast with Keras's random weights copied over, 3 epochs with
``shuffle=False`` (batches of 16 over 40 samples), then losses and trained
weights compared. A position-dependent custom constraint on GRU and Conv1D
kernels checks that constraints see Keras's layout (gate order, transposes).
Measured: largest loss difference 1.4e-7, largest weight difference 1.3e-7;
the tests allow 1e-5.
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
from rnncast import Sequential, constraints
from rnncast.exceptions import ConfigError
from rnncast.layers import LSTM, Dense

keras = pytest.importorskip("keras")
pytestmark = pytest.mark.filterwarnings("ignore:__array__ implementation:DeprecationWarning")

T, F, N, BATCH, EPOCHS, ATOL = 6, 2, 40, 16, 3, 1e-5


def _shrink_by_position(w):  # a custom constraint that depends on Keras's layout
    w = getattr(w, "value", w)  # a Keras Variable holds its torch tensor in .value
    return w * torch.linspace(0.9, 1.0, w.shape[-1], dtype=torch.float32)


CASES: dict[str, Callable] = {
    "dense_max_norm": lambda M: [
        M.layers.LSTM(4),
        M.layers.Dense(3, kernel_constraint=M.constraints.MaxNorm(0.5)),
        M.layers.Dense(1, kernel_constraint="max_norm", bias_constraint="non_neg"),
    ],
    "dense_non_neg": lambda M: [
        M.layers.LSTM(4),
        M.layers.Dense(1, kernel_constraint=M.constraints.NonNeg()),
    ],
    "dense_unit_norm_axis_1": lambda M: [
        M.layers.LSTM(4),
        M.layers.Dense(3, kernel_constraint=M.constraints.UnitNorm(axis=1)),
        M.layers.Dense(1, kernel_constraint=M.constraints.unit_norm()),
    ],
    "lstm": lambda M: [
        M.layers.LSTM(
            4,
            kernel_constraint=M.constraints.UnitNorm(axis=0),
            recurrent_constraint=M.constraints.MinMaxNorm(0.2, 0.6, rate=0.5),
            bias_constraint=M.constraints.MaxNorm(0.4, axis=0),
        ),
        M.layers.Dense(1),
    ],
    "lstm_max_norm_axis_1": lambda M: [
        M.layers.LSTM(4, kernel_constraint=M.constraints.max_norm(0.5, axis=1)),
        M.layers.Dense(1),
    ],
    "gru_custom": lambda M: [
        M.layers.GRU(4, kernel_constraint=_shrink_by_position, bias_constraint=_shrink_by_position),
        M.layers.Dense(1),
    ],
    "conv1d_custom": lambda M: [
        M.layers.Conv1D(3, 2, kernel_constraint=_shrink_by_position),
        M.layers.LSTM(4),
        M.layers.Dense(1),
    ],
    "norms": lambda M: [
        M.layers.LSTM(4, return_sequences=True),
        M.layers.BatchNormalization(gamma_constraint="non_neg", beta_constraint="max_norm"),
        M.layers.LSTM(3),
        M.layers.LayerNormalization(gamma_constraint=M.constraints.min_max_norm(0.5, 1.0)),
        M.layers.Dense(1),
    ],
}
ADAM = {"lstm", "gru_custom", "norms"}


def data(n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, T, F)).astype("float32")
    return x, (x[:, -1, :1] - 0.5 * x[:, 0, 1:]).astype("float32")


def twins(spec: Callable, seed: int = 0):
    """A Keras model with weights U(-0.3, 0.3) and the same model in rnncast."""
    keras_model = keras.Sequential([keras.Input((T, F)), *spec(keras)])
    rng = np.random.default_rng(seed)
    for w in keras_model.weights:
        low = 0.5 if "variance" in w.path else -0.3
        w.assign(rng.uniform(low, low + 0.6, w.shape).astype("float32"))
    model = Sequential([rnncast.layers.Input(shape=(T, F)), *spec(rnncast)])
    model.set_weights(keras_model.get_weights())
    return keras_model, model


def fit_both(name: str):
    keras_model, model = twins(CASES[name])
    adam = name in ADAM
    keras_model.compile(
        optimizer=keras.optimizers.Adam(0.02) if adam else keras.optimizers.SGD(0.1), loss="mse"
    )
    model.compile(
        optimizer=rnncast.optimizers.Adam(0.02) if adam else rnncast.optimizers.SGD(0.1),
        loss="mse",
    )
    x, y = data(N, 0)
    kwargs = {"batch_size": BATCH, "epochs": EPOCHS, "shuffle": False, "verbose": 0}
    theirs = keras_model.fit(x, y, validation_data=data(16, 1), **kwargs).history
    ours = model.fit(x, y, validation_data=data(16, 1), **kwargs).history
    return keras_model, model, theirs, ours


@pytest.mark.parametrize("name", sorted(CASES))
def test_constraints_after_each_step_match_keras(name):
    keras_model, model, theirs, ours = fit_both(name)
    for key in ("loss", "val_loss"):
        np.testing.assert_allclose(ours[key], theirs[key], rtol=0, atol=ATOL, err_msg=key)
    for mine, keras_weight in zip(model.get_weights(), keras_model.get_weights(), strict=True):
        np.testing.assert_allclose(mine, keras_weight, rtol=0, atol=ATOL)


def test_constraints_hold_after_training():
    _, model, _, _ = fit_both("dense_max_norm")
    kernel, _ = model.layers[1].get_weights()  # MaxNorm(0.5) on (4, 3): column norms
    assert np.linalg.norm(kernel, axis=0).max() <= 0.5 + 1e-6
    kernel, bias = model.layers[2].get_weights()
    assert np.linalg.norm(kernel, axis=0).max() <= 2 + 1e-6 and bias.min() >= 0


def test_constraint_functions_equal_keras():
    w = np.random.default_rng(0).normal(size=(3, 4)).astype("float32")
    pairs = [
        (constraints.MaxNorm(1.0), keras.constraints.MaxNorm(1.0)),
        (constraints.max_norm(1.5, axis=1), keras.constraints.max_norm(1.5, axis=1)),
        (constraints.NonNeg(), keras.constraints.NonNeg()),
        (constraints.UnitNorm(axis=[0, 1]), keras.constraints.UnitNorm(axis=[0, 1])),
        (constraints.MinMaxNorm(0.5, 1.2, 0.7), keras.constraints.MinMaxNorm(0.5, 1.2, 0.7)),
        (constraints.get("min_max_norm"), keras.constraints.get("min_max_norm")),
        (constraints.get("unit_norm"), keras.constraints.get("unit_norm")),
    ]
    for ours, theirs in pairs:
        got = ours(torch.from_numpy(w)).numpy()
        np.testing.assert_allclose(got, keras.ops.convert_to_numpy(theirs(w)), atol=1e-6)
        assert constraints.serialize(ours) == keras.constraints.serialize(theirs)


def test_configs_keep_constraints_in_keras_form():
    keras_layer, layer = CASES["lstm"](keras)[0], CASES["lstm"](rnncast)[0]
    theirs, ours = keras_layer.get_config(), layer.get_config()
    for key in ("kernel_constraint", "recurrent_constraint", "bias_constraint"):
        assert ours[key] == theirs[key], key
    _, model = twins(CASES["norms"])
    clone = Sequential.from_config(json.loads(json.dumps(model.get_config())))
    assert clone.get_config() == model.get_config()
    assert isinstance(clone.layers[1]._weight_constraints["gamma"], constraints.NonNeg)


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda: Dense(1, kernel_constraint="positive"), "kernel_constraint='positive'"),
        (lambda: LSTM(2, recurrent_constraint=0.5), "recurrent_constraint=0.5"),
        (lambda: constraints.deserialize({"class_name": "Clip"}), "Clip"),
    ],
)
def test_bad_constraints_raise_config_errors_naming_the_value(make, message):
    with pytest.raises(ConfigError, match=message):
        make()

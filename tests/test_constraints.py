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

import keras_twins  # noqa: E402 - needs KERAS_BACKEND and Keras
from keras_twins import twins  # noqa: E402

pytestmark = pytest.mark.filterwarnings("ignore:__array__ implementation:DeprecationWarning")

ATOL = 1e-5


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


def fit_both(name: str):
    return keras_twins.fit_both(CASES[name], name in ADAM, 0.02, 0.1)


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

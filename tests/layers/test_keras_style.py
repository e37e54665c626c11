"""The five tutorial stacks, written exactly as Keras code with rnncast imports."""

import os

import numpy as np
import pytest

from rnncast import Sequential
from rnncast.layers import (
    GRU,
    LSTM,
    BatchNormalization,
    Bidirectional,
    Conv1D,
    Dense,
    Dropout,
    MaxPooling1D,
)


def stacks():
    return {
        "lstm": Sequential(
            [
                LSTM(50, return_sequences=True, input_shape=(60, 1)),
                LSTM(50),
                Dense(25, activation="relu"),
                Dense(1),
            ]
        ),
        "gru": Sequential(
            [
                GRU(50, return_sequences=True, input_shape=(60, 1)),
                GRU(50),
                Dense(1),
            ]
        ),
        "bilstm": Sequential(
            [
                Bidirectional(LSTM(50, return_sequences=True), input_shape=(60, 1)),
                Bidirectional(LSTM(50)),
                Dense(1),
            ]
        ),
        "cnn_lstm": Sequential(
            [
                Conv1D(64, 3, activation="relu", input_shape=(60, 1)),
                MaxPooling1D(2),
                LSTM(50),
                Dense(1),
            ]
        ),
        "lstm_bn_dropout": Sequential(
            [
                LSTM(50, return_sequences=True, input_shape=(60, 1)),
                BatchNormalization(),
                Dropout(0.2),
                LSTM(50),
                Dropout(0.2),
                Dense(1),
            ]
        ),
    }


KERAS_COUNTS = {
    "lstm": 31_901,
    "gru": 23_301,
    "bilstm": 81_301,
    "cnn_lstm": 23_307,
    "lstm_bn_dropout": 30_851,
}


@pytest.mark.parametrize("name", sorted(KERAS_COUNTS))
def test_stack_builds_predicts_and_counts_like_keras(name):
    model = stacks()[name]
    assert model.count_params() == KERAS_COUNTS[name]
    lines = []
    model.summary(print_fn=lines.append)
    assert f"Total params: {KERAS_COUNTS[name]:,}" in lines[0]
    out = model.predict(np.random.default_rng(0).normal(size=(5, 60, 1)))
    assert out.shape == (5, 1) and np.isfinite(out).all()


def test_counts_are_keras_own_numbers():
    os.environ.setdefault("KERAS_BACKEND", "torch")
    keras = pytest.importorskip("keras")
    layers = keras.layers
    built = {
        "lstm": [
            layers.LSTM(50, return_sequences=True),
            layers.LSTM(50),
            layers.Dense(25, activation="relu"),
            layers.Dense(1),
        ],
        "gru": [layers.GRU(50, return_sequences=True), layers.GRU(50), layers.Dense(1)],
        "bilstm": [
            layers.Bidirectional(layers.LSTM(50, return_sequences=True)),
            layers.Bidirectional(layers.LSTM(50)),
            layers.Dense(1),
        ],
        "cnn_lstm": [
            layers.Conv1D(64, 3, activation="relu"),
            layers.MaxPooling1D(2),
            layers.LSTM(50),
            layers.Dense(1),
        ],
        "lstm_bn_dropout": [
            layers.LSTM(50, return_sequences=True),
            layers.BatchNormalization(),
            layers.Dropout(0.2),
            layers.LSTM(50),
            layers.Dropout(0.2),
            layers.Dense(1),
        ],
    }
    for name, stack in built.items():
        model = keras.Sequential([keras.Input((60, 1)), *stack])
        assert model.count_params() == KERAS_COUNTS[name], name

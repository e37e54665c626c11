"""rnncast.backend: Keras's clear_session and the backend helpers tutorials call."""

from __future__ import annotations

import os

import pytest

import rnncast as rc
from rnncast import Sequential, backend
from rnncast.exceptions import ConfigError
from rnncast.layers import GRU, LSTM, Dense


def names(model: Sequential) -> list[str]:
    return [layer.name for layer in model.layers]


def test_clear_session_resets_uid_counters():
    backend.clear_session()
    assert [backend.get_uid("lstm") for _ in range(3)] == [1, 2, 3]
    assert backend.get_uid("dense") == 1
    backend.clear_session(free_memory=False)
    assert backend.get_uid("lstm") == 1


def test_names_start_again_at_lstm_and_dense_after_clear_session():
    first = Sequential([LSTM(4, return_sequences=True, input_shape=(5, 1)), LSTM(4), Dense(1)])
    backend.clear_session()
    second = Sequential([GRU(3, input_shape=(5, 1)), Dense(2), Dense(1)])
    assert names(first) == ["lstm", "lstm_1", "dense"]
    assert names(second) == ["gru", "dense", "dense_1"]


def test_clear_session_matches_keras_names():
    os.environ.setdefault("KERAS_BACKEND", "torch")
    keras = pytest.importorskip("keras")
    keras.backend.clear_session()
    theirs = keras.Sequential([keras.Input((5, 1)), keras.layers.LSTM(4), keras.layers.Dense(1)])
    backend.clear_session()
    ours = Sequential([LSTM(4, input_shape=(5, 1)), Dense(1)])
    assert names(ours) == [layer.name for layer in theirs.layers] == ["lstm", "dense"]


def test_backend_helpers_and_unsupported_settings():
    assert rc.backend is backend
    assert (backend.backend(), backend.floatx(), backend.epsilon()) == ("torch", "float32", 1e-7)
    backend.set_floatx("float32")
    backend.set_epsilon(1e-7)
    with pytest.raises(ConfigError, match=r"set_floatx\('float64'\) is not supported"):
        backend.set_floatx("float64")
    with pytest.raises(ConfigError, match=r"set_epsilon\(1e-05\) is not supported"):
        backend.set_epsilon(1e-5)

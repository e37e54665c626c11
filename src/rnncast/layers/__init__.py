"""Keras-named layers built on ``torch.nn``.

Example:
    >>> from rnncast import Sequential
    >>> from rnncast.layers import LSTM, Dense, Dropout
    >>> model = Sequential([LSTM(50, return_sequences=True, input_shape=(60, 1)),
    ...                     Dropout(0.2), LSTM(50), Dense(1)])
    >>> [layer.name for layer in model.layers]
    ['lstm', 'dropout', 'lstm_1', 'dense']
"""

from __future__ import annotations

from typing import Any

from rnncast.exceptions import ConfigError
from rnncast.layers.base import Layer
from rnncast.layers.convolutional import Conv1D, GlobalAveragePooling1D, MaxPooling1D
from rnncast.layers.core import (
    Activation,
    Dense,
    Dropout,
    Flatten,
    Input,
    InputLayer,
    Lambda,
    RepeatVector,
    Reshape,
)
from rnncast.layers.normalization import BatchNormalization, LayerNormalization
from rnncast.layers.recurrent import GRU, LSTM, SimpleRNN
from rnncast.layers.wrappers import Bidirectional, TimeDistributed

LAYERS: dict[str, type[Layer]] = {
    cls.__name__: cls
    for cls in (
        LSTM,
        GRU,
        Dense,
        Dropout,
        Flatten,
        BatchNormalization,
        Bidirectional,
        Conv1D,
        MaxPooling1D,
        SimpleRNN,
        InputLayer,
        Activation,
        Reshape,
        RepeatVector,
        GlobalAveragePooling1D,
        LayerNormalization,
        TimeDistributed,
        Lambda,
    )
}


def serialize(layer: Layer) -> dict[str, Any]:
    """``{"class_name": ..., "config": ...}`` for a layer (JSON-friendly)."""
    return {"class_name": layer.kind, "config": layer.get_config()}


def deserialize(spec: dict[str, Any]) -> Layer:
    """Build a layer from :func:`serialize` output; only rnncast's own classes are allowed.

    Raises:
        ConfigError: for an unknown class name or bad arguments.
    """
    name = spec.get("class_name") if isinstance(spec, dict) else None
    if name not in LAYERS:
        raise ConfigError(f"unknown layer class {name!r}; rnncast has {', '.join(LAYERS)}.")
    try:
        return LAYERS[name].from_config(dict(spec.get("config", {})))
    except TypeError as err:
        raise ConfigError(f"bad configuration for layer {name}: {err}") from err


__all__ = [
    "GRU",
    "LSTM",
    "Activation",
    "BatchNormalization",
    "Bidirectional",
    "Conv1D",
    "Dense",
    "Dropout",
    "Flatten",
    "GlobalAveragePooling1D",
    "Input",
    "InputLayer",
    "Lambda",
    "Layer",
    "LayerNormalization",
    "MaxPooling1D",
    "RepeatVector",
    "Reshape",
    "SimpleRNN",
    "TimeDistributed",
    "deserialize",
    "serialize",
]

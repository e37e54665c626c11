"""Wrappers: Bidirectional (a recurrent layer both ways) and TimeDistributed (per timestep)."""

from __future__ import annotations

from typing import Any

import numpy as np
import torch

from rnncast.exceptions import ConfigError, ShapeError
from rnncast.layers.base import Layer, Shape, reject_unsupported
from rnncast.layers.recurrent import Recurrent

MERGE_MODES = ("concat", "sum", "mul", "ave")


class Bidirectional(Layer):
    """Keras's ``Bidirectional`` wrapper around an :class:`LSTM` or :class:`GRU`.

    A copy of ``layer`` reads the sequence backwards. With
    ``return_sequences=True`` the backward outputs are flipped back into time
    order before merging; without it, the final states of both directions are
    merged (the backward direction's final state has seen the whole sequence,
    ending at the first timestep).

    Args:
        layer: The recurrent layer (its settings are used for both directions).
        merge_mode: ``"concat"`` (default; doubles the features), ``"sum"``,
            ``"mul"`` or ``"ave"``.
        input_shape: ``(timesteps, features)`` for a first layer; may be
            given on the wrapped layer instead.
        name: Layer name (default ``bidirectional``, ...).

    Example:
        >>> from rnncast import Sequential
        >>> from rnncast.layers import LSTM, Bidirectional, Dense
        >>> model = Sequential([Bidirectional(LSTM(50), input_shape=(60, 1)), Dense(1)])
        >>> model.output_shape, model.count_params()
        ((None, 1), 20901)
    """

    input_rank = 2

    def __init__(
        self,
        layer: Layer,
        merge_mode: str = "concat",
        input_shape: Shape | None = None,
        name: str | None = None,
    ) -> None:
        if not isinstance(layer, Recurrent):
            kind = type(layer).__name__
            raise ConfigError(
                f"Bidirectional wraps a recurrent layer (LSTM, GRU or SimpleRNN), got "
                f"{kind}; use {kind} directly or wrap a recurrent layer."
            )
        if merge_mode not in MERGE_MODES:
            raise ConfigError(
                f"merge_mode={merge_mode!r} is not supported; use one of {MERGE_MODES}."
            )
        super().__init__(name=name, input_shape=input_shape or layer.input_shape)
        self.merge_mode = merge_mode
        config = {**layer.get_config(), "input_shape": None, "name": None}
        self.forward_layer = type(layer).from_config(config)
        self.backward_layer = type(layer).from_config(
            {**config, "go_backwards": not layer.go_backwards}
        )

    @property
    def return_sequences(self) -> bool:
        """Whether the wrapped layer returns the whole sequence."""
        return self.forward_layer.return_sequences

    def build(self, input_shape: Shape, generator: torch.Generator | None = None) -> None:
        self.forward_layer.build(input_shape, generator)
        self.backward_layer.build(input_shape, generator)
        super().build(input_shape)

    def compute_output_shape(self, input_shape: Shape) -> Shape:
        shape = self.forward_layer.compute_output_shape(input_shape)
        width = shape[-1] * 2 if self.merge_mode == "concat" else shape[-1]
        return (*shape[:-1], width)

    def forward(self, x: torch.Tensor) -> torch.Tensor:  # (batch, timesteps, features)
        ahead = self.forward_layer(x)
        behind = self.backward_layer(x)
        if self.return_sequences:
            behind = behind.flip(1)  # back into time order
        if self.merge_mode == "concat":
            return torch.cat([ahead, behind], dim=-1)
        if self.merge_mode == "sum":
            return ahead + behind
        if self.merge_mode == "mul":
            return ahead * behind
        return (ahead + behind) / 2

    def get_config(self) -> dict[str, Any]:
        inner = self.forward_layer
        return {
            "layer": {"class_name": inner.kind, "config": inner.get_config()},
            "merge_mode": self.merge_mode,
            **super().get_config(),
        }

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> Bidirectional:
        from rnncast.layers import deserialize

        return super().from_config({**config, "layer": deserialize(config["layer"])})

    def keras_weights(self) -> list[np.ndarray]:
        return self.forward_layer.keras_weights() + self.backward_layer.keras_weights()

    def set_keras_weights(self, weights: list[np.ndarray]) -> None:
        half = len(weights) // 2
        self.forward_layer.set_keras_weights(weights[:half])
        self.backward_layer.set_keras_weights(weights[half:])


class TimeDistributed(Layer):
    """Apply a layer to every timestep, Keras's ``keras.layers.TimeDistributed``.

    The wrapped layer sees ``(batch, ...)`` slices of a ``(batch, timesteps,
    ...)`` input, with one set of weights for all timesteps; the output is
    ``(batch, timesteps, *layer_output)``. Weights are the wrapped layer's
    (``TimeDistributed(Dense(1))`` on 50 features has 51 parameters).

    Args:
        layer: The layer applied at each timestep (e.g. a :class:`Dense`).
        input_shape: ``(timesteps, ...)`` for a first layer.
        name: Layer name (default ``time_distributed``, ...).

    Raises:
        ConfigError: when ``layer`` is not an rnncast layer.

    Example:
        >>> from rnncast import Sequential
        >>> from rnncast.layers import LSTM, Dense, TimeDistributed
        >>> model = Sequential([LSTM(50, return_sequences=True, input_shape=(60, 1)),
        ...                     TimeDistributed(Dense(1))])
        >>> model.output_shape, model.count_params()
        ((None, 60, 1), 10451)
    """

    def __init__(
        self,
        layer: Layer,
        input_shape: Shape | None = None,
        name: str | None = None,
        **kwargs: Any,
    ) -> None:
        reject_unsupported("TimeDistributed", kwargs)
        if not isinstance(layer, Layer):
            raise ConfigError(
                f"TimeDistributed wraps an rnncast layer (e.g. Dense(1)), got "
                f"{type(layer).__name__}."
            )
        super().__init__(name=name, input_shape=input_shape or layer.input_shape)
        self.layer = layer

    def check_input_shape(self, input_shape: Shape) -> None:
        if len(input_shape) < 2:
            raise ShapeError(
                f"needs input with a time axis (batch, timesteps, ...) but gets {input_shape}"
            )
        self.layer.check_input_shape(input_shape[1:])

    def build(self, input_shape: Shape, generator: torch.Generator | None = None) -> None:
        self.layer.build(input_shape[1:], generator)
        super().build(input_shape)

    def compute_output_shape(self, input_shape: Shape) -> Shape:
        return (input_shape[0], *self.layer.compute_output_shape(input_shape[1:]))

    def forward(self, x: torch.Tensor) -> torch.Tensor:  # (batch, timesteps, ...)
        batch, steps = x.shape[:2]
        # forward, not __call__: as in Keras, the inner layer's activity_regularizer is not applied
        y = self.layer.forward(x.reshape(batch * steps, *x.shape[2:]))  # (batch * timesteps, ...)
        return y.reshape(batch, steps, *y.shape[1:])  # (batch, timesteps, ...)

    def get_config(self) -> dict[str, Any]:
        inner = self.layer
        return {
            "layer": {"class_name": inner.kind, "config": inner.get_config()},
            **super().get_config(),
        }

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> TimeDistributed:
        from rnncast.layers import deserialize

        return super().from_config({**config, "layer": deserialize(config["layer"])})

    def keras_weights(self) -> list[np.ndarray]:
        return self.layer.keras_weights()

    def set_keras_weights(self, weights: list[np.ndarray]) -> None:
        self.layer.set_keras_weights(weights)

"""Bidirectional: run a recurrent layer forwards and backwards and merge the results."""

from __future__ import annotations

from typing import Any

import numpy as np
import torch

from rnncast.exceptions import ConfigError
from rnncast.layers.base import Layer, Shape
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
                f"Bidirectional wraps a recurrent layer (LSTM or GRU), got {kind}; "
                f"use {kind} directly or wrap an LSTM/GRU."
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

        return cls(**{**config, "layer": deserialize(config["layer"])})

    def keras_weights(self) -> list[np.ndarray]:
        return self.forward_layer.keras_weights() + self.backward_layer.keras_weights()

    def set_keras_weights(self, weights: list[np.ndarray]) -> None:
        half = len(weights) // 2
        self.forward_layer.set_keras_weights(weights[:half])
        self.backward_layer.set_keras_weights(weights[half:])

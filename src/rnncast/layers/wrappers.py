"""Wrappers: Bidirectional (a recurrent layer both ways) and TimeDistributed (per timestep)."""

from __future__ import annotations

from typing import Any

import numpy as np
import torch

from rnncast.exceptions import ConfigError, ShapeError
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

    A stateful ``layer`` gives two stateful directions, reset together by
    :meth:`reset_states`. With ``return_state=True`` (outside a
    ``Sequential``) the call returns ``[output, *forward_states,
    *backward_states]``, as in Keras.

    Args:
        layer: The recurrent layer (its settings are used for both directions).
        merge_mode: ``"concat"`` (default; doubles the features), ``"sum"``,
            ``"mul"`` or ``"ave"``.
        weights: Keras weights of both directions (forward first), loaded
            when the layer is built.
        backward_layer: A recurrent layer for the backward direction instead
            of a copy of ``layer``; as in Keras it must have the opposite
            ``go_backwards`` and the same ``return_sequences``, ``return_state``
            and ``stateful``.
        input_shape: ``(timesteps, features)`` for a first layer; may be
            given on the wrapped layer instead.
        name: Layer name (default ``bidirectional``, ...).

    Raises:
        ConfigError: for a layer that is not recurrent, an unknown merge mode,
            or a ``backward_layer`` that does not match ``layer``.

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
        weights: list[np.ndarray] | None = None,
        backward_layer: Layer | None = None,
        input_shape: Shape | None = None,
        name: str | None = None,
        **kwargs: Any,
    ) -> None:
        for argument, given in (("layer", layer), ("backward_layer", backward_layer)):
            if given is not None and not isinstance(given, Recurrent):
                kind = type(given).__name__
                raise ConfigError(
                    f"Bidirectional's {argument} must be a recurrent layer (LSTM, GRU or "
                    f"SimpleRNN), got {kind}; use {kind} directly or wrap a recurrent layer."
                )
        if merge_mode not in MERGE_MODES:
            raise ConfigError(
                f"merge_mode={merge_mode!r} is not supported; use one of {MERGE_MODES}."
            )
        super().__init__(name=name, input_shape=input_shape or layer.input_shape, **kwargs)
        self.merge_mode = merge_mode
        self.initial_weights = weights
        config = {**layer.get_config(), "input_shape": None, "name": None}
        self.forward_layer = type(layer).from_config(config)
        self.custom_backward = backward_layer is not None
        self.backward_layer = (
            backward_layer
            if backward_layer is not None
            else type(layer).from_config({**config, "go_backwards": not layer.go_backwards})
        )
        _check_directions(self.forward_layer, self.backward_layer, merge_mode)

    @property
    def return_sequences(self) -> bool:
        """Whether the wrapped layer returns the whole sequence."""
        return self.forward_layer.return_sequences

    @property
    def return_state(self) -> bool:
        """Whether a call also returns both directions' final states."""
        return self.forward_layer.return_state

    @property
    def stateful(self) -> bool:
        """Whether both directions carry their state across batches."""
        return self.forward_layer.stateful

    def reset_states(self) -> None:
        """Zero the carried state of both directions (Keras's ``reset_states``)."""
        self.forward_layer.reset_states()
        self.backward_layer.reset_states()

    def reset_state(self) -> None:
        """Keras 3's name of :meth:`reset_states`."""
        self.reset_states()

    def build(self, input_shape: Shape, generator: torch.Generator | None = None) -> None:
        self.forward_layer.build(input_shape, generator)
        self.backward_layer.build(input_shape, generator)
        super().build(input_shape)
        if self.initial_weights is not None:
            self.set_keras_weights(list(self.initial_weights))
            self.initial_weights = None

    def compute_output_shape(self, input_shape: Shape) -> Shape:
        shape = self.forward_layer.compute_output_shape(input_shape)
        back = self.backward_layer.compute_output_shape(input_shape)
        width = shape[-1] + back[-1] if self.merge_mode == "concat" else shape[-1]
        return (*shape[:-1], width)

    def forward(
        self, x: torch.Tensor
    ) -> torch.Tensor | list[torch.Tensor]:  # x: (batch, timesteps, features)
        ahead, behind, states = self.forward_layer(x), self.backward_layer(x), []
        if self.return_state:
            (ahead, *ahead_states), (behind, *behind_states) = ahead, behind
            states = [*ahead_states, *behind_states]
        if self.return_sequences:
            behind = behind.flip(1)  # back into time order
        merged = _merge(self.merge_mode, ahead, behind)
        return [merged, *states] if self.return_state else merged

    def get_config(self) -> dict[str, Any]:
        inner = self.forward_layer
        config = {
            "layer": {"class_name": inner.kind, "config": inner.get_config()},
            "merge_mode": self.merge_mode,
            **super().get_config(),
        }
        if self.custom_backward:
            back = self.backward_layer
            config["backward_layer"] = {"class_name": back.kind, "config": back.get_config()}
        return config

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> Bidirectional:
        from rnncast.layers import deserialize

        config = {**config, "layer": deserialize(config["layer"])}
        if config.get("backward_layer") is not None:
            config["backward_layer"] = deserialize(config["backward_layer"])
        return super().from_config(config)

    def keras_weights(self) -> list[np.ndarray]:
        return self.forward_layer.keras_weights() + self.backward_layer.keras_weights()

    def set_keras_weights(self, weights: list[np.ndarray]) -> None:
        half = len(self.forward_layer.keras_weights())
        self.forward_layer.set_keras_weights(weights[:half])
        self.backward_layer.set_keras_weights(weights[half:])


def _merge(mode: str, ahead: torch.Tensor, behind: torch.Tensor) -> torch.Tensor:
    if mode == "concat":
        return torch.cat([ahead, behind], dim=-1)
    if mode == "sum":
        return ahead + behind
    if mode == "mul":
        return ahead * behind
    return (ahead + behind) / 2


def _check_directions(ahead: Recurrent, behind: Recurrent, merge_mode: str) -> None:
    """Keras's checks of a ``backward_layer`` against the forward layer."""
    if ahead.go_backwards == behind.go_backwards:
        raise ConfigError(
            "Bidirectional's backward_layer needs the opposite go_backwards of layer "
            f"(both are {ahead.go_backwards}); set go_backwards=True on backward_layer."
        )
    if merge_mode != "concat" and ahead.units != behind.units:
        raise ConfigError(
            f"Bidirectional(merge_mode={merge_mode!r}) needs layer and backward_layer with the "
            f"same units (got {ahead.units} and {behind.units}); use merge_mode='concat'."
        )
    for name in ("return_sequences", "return_state", "stateful"):
        if getattr(ahead, name) != getattr(behind, name):
            raise ConfigError(
                f"Bidirectional's layer has {name}={getattr(ahead, name)} but backward_layer "
                f"has {name}={getattr(behind, name)}; give both the same value."
            )


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
        if not isinstance(layer, Layer):
            raise ConfigError(
                f"TimeDistributed wraps an rnncast layer (e.g. Dense(1)), got "
                f"{type(layer).__name__}."
            )
        super().__init__(name=name, input_shape=input_shape or layer.input_shape, **kwargs)
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

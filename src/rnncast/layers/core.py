"""Dense, Dropout and Flatten with Keras semantics."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from rnncast._internal.checks import positive_int
from rnncast.exceptions import ConfigError, ShapeError
from rnncast.layers import activations, initializers
from rnncast.layers.base import Layer, Shape, assign, to_numpy


class Dense(Layer):
    """Fully connected layer: ``activation(x @ kernel + bias)`` on the last axis.

    As in Keras the activation is linear unless given, and on 3-D input
    ``(batch, timesteps, features)`` the layer acts on every timestep.

    Args:
        units: Output size.
        activation: Name of an activation (``None`` = linear).
        use_bias: Add a bias vector.
        kernel_initializer: Keras initializer name (default ``"glorot_uniform"``).
        bias_initializer: Keras initializer name (default ``"zeros"``).
        input_shape: Shape without the batch axis, for a first layer.
        name: Layer name (default ``dense``, ``dense_1``, ...).

    Example:
        >>> from rnncast import Sequential
        >>> from rnncast.layers import Dense
        >>> model = Sequential([Dense(25, activation="relu", input_shape=(50,)), Dense(1)])
        >>> model.count_params()
        1301
    """

    input_rank = None

    def __init__(
        self,
        units: int,
        activation: str | None = None,
        use_bias: bool = True,
        kernel_initializer: str = "glorot_uniform",
        bias_initializer: str = "zeros",
        input_shape: Shape | None = None,
        name: str | None = None,
    ) -> None:
        super().__init__(name=name, input_shape=input_shape)
        self.units = positive_int(units, "units")
        self.activation = activations.check(activation)
        self.use_bias = bool(use_bias)
        self.kernel_initializer = initializers.check(kernel_initializer)
        self.bias_initializer = initializers.check(bias_initializer)
        self._activation = activations.get(activation)

    def check_input_shape(self, input_shape: Shape) -> None:
        if len(input_shape) < 1 or input_shape[-1] is None:
            raise ShapeError(f"needs a known last axis (features) but gets {input_shape}")

    def build(self, input_shape: Shape, generator: torch.Generator | None = None) -> None:
        features = int(input_shape[-1])
        self.linear = nn.Linear(features, self.units, bias=self.use_bias)
        kernel = initializers.initialize(self.kernel_initializer, (features, self.units), generator)
        assign(self.linear.weight, kernel.T)  # torch keeps (out, in)
        if self.use_bias:
            assign(
                self.linear.bias,
                initializers.initialize(self.bias_initializer, (self.units,), generator),
            )
        super().build(input_shape)

    def compute_output_shape(self, input_shape: Shape) -> Shape:
        return (*input_shape[:-1], self.units)

    def forward(self, x: torch.Tensor) -> torch.Tensor:  # (batch, ..., features)
        return self._activation(self.linear(x))  # (batch, ..., units)

    def get_config(self) -> dict[str, Any]:
        return {
            "units": self.units,
            "activation": self.activation,
            "use_bias": self.use_bias,
            "kernel_initializer": self.kernel_initializer,
            "bias_initializer": self.bias_initializer,
            **super().get_config(),
        }

    def keras_weights(self) -> list[np.ndarray]:
        weights = [to_numpy(self.linear.weight).T]
        return weights + ([to_numpy(self.linear.bias)] if self.use_bias else [])

    def set_keras_weights(self, weights: list[np.ndarray]) -> None:
        features = self.linear.in_features
        shapes = [(features, self.units)] + ([(self.units,)] if self.use_bias else [])
        self._expect_weights(weights, shapes)
        assign(self.linear.weight, np.asarray(weights[0]).T)
        if self.use_bias:
            assign(self.linear.bias, weights[1])


class Dropout(Layer):
    """Randomly zero a fraction ``rate`` of inputs while training (scaled by ``1/(1-rate)``).

    Does nothing in inference (``predict``, ``evaluate``), as in Keras.

    Args:
        rate: Fraction of inputs to drop, in [0, 1).
        noise_shape: Keras's broadcast shape of the mask including batch, e.g.
            ``(None, 1, 50)`` to drop the same features at every timestep.
        name: Layer name.
    """

    def __init__(
        self,
        rate: float,
        noise_shape: tuple | None = None,
        name: str | None = None,
        input_shape: Shape | None = None,
    ) -> None:
        super().__init__(name=name, input_shape=input_shape)
        if not 0 <= float(rate) < 1:
            raise ConfigError(f"Dropout rate must be in [0, 1), got {rate!r}.")
        self.rate = float(rate)
        self.noise_shape = tuple(noise_shape) if noise_shape is not None else None

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if not self.training or self.rate == 0:
            return x
        if self.noise_shape is None:
            return F.dropout(x, self.rate, training=True)
        shape = [x.shape[i] if d is None else d for i, d in enumerate(self.noise_shape)]
        keep = torch.empty(shape, device=x.device).bernoulli_(1 - self.rate)
        return x * keep / (1 - self.rate)

    def get_config(self) -> dict[str, Any]:
        noise = list(self.noise_shape) if self.noise_shape is not None else None
        return {"rate": self.rate, "noise_shape": noise, **super().get_config()}


class Flatten(Layer):
    """Flatten all axes but the batch: ``(batch, timesteps, features)`` -> ``(batch, t*f)``."""

    def check_input_shape(self, input_shape: Shape) -> None:
        if any(d is None for d in input_shape):
            raise ShapeError(
                f"needs fixed sizes to flatten but gets {input_shape}; give the "
                "first layer an input_shape with a fixed number of timesteps"
            )

    def compute_output_shape(self, input_shape: Shape) -> Shape:
        return (math.prod(input_shape),)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x.reshape(x.shape[0], -1)

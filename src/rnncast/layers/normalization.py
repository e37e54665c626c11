"""BatchNormalization and LayerNormalization with Keras's semantics (epsilon 1e-3, ...)."""

from __future__ import annotations

from typing import Any

import numpy as np
import torch
from torch import nn

from rnncast.exceptions import ConfigError, ShapeError
from rnncast.layers import initializers
from rnncast.layers.base import Layer, Shape, assign, to_numpy


class BatchNormalization(Layer):
    """Normalise each feature by batch statistics while training, moving statistics after.

    Keras semantics, which differ from ``torch.nn.BatchNorm1d``:
    ``momentum=0.99`` is the weight of the *old* moving statistic (torch's
    momentum 0.1 is the weight of the new one), ``epsilon=1e-3`` (torch:
    1e-5), and the moving variance is updated with the biased batch variance.
    Features are the last axis (channels-last input ``(batch, timesteps,
    features)``); statistics are taken over all other axes.

    Args:
        axis: The feature axis; only ``-1`` (the last axis) is supported.
        momentum: Weight of the old moving statistics in each update.
        epsilon: Added to the variance before the square root.
        center: Learn an offset ``beta``.
        scale: Learn a scale ``gamma``.
        beta_initializer: Keras initializer name of ``beta`` (``"zeros"``).
        gamma_initializer: Keras initializer name of ``gamma`` (``"ones"``).
        moving_mean_initializer: Initializer of the moving mean (``"zeros"``).
        moving_variance_initializer: Initializer of the moving variance (``"ones"``).
        beta_regularizer, gamma_regularizer: Penalties added to the loss.
        beta_constraint, gamma_constraint: Projections after each optimizer step.
        trainable: ``False`` freezes ``gamma`` and ``beta`` and, as in Keras 3,
            runs the layer in inference mode (moving statistics, no updates).
        name: Layer name.

    Raises:
        ConfigError: for another axis, bad momentum/epsilon, or an unsupported
            Keras argument (``renorm=True``, ``synchronized=True``, ...).

    Example:
        >>> from rnncast import Sequential
        >>> from rnncast.layers import LSTM, BatchNormalization
        >>> model = Sequential([LSTM(50, return_sequences=True, input_shape=(60, 1)),
        ...                     BatchNormalization()])
        >>> model.count_params(), model.count_params(trainable_only=True)
        (10600, 10500)
    """

    def __init__(
        self,
        axis: int = -1,
        momentum: float = 0.99,
        epsilon: float = 1e-3,
        center: bool = True,
        scale: bool = True,
        beta_initializer: str = "zeros",
        gamma_initializer: str = "ones",
        moving_mean_initializer: str = "zeros",
        moving_variance_initializer: str = "ones",
        beta_regularizer: Any = None,
        gamma_regularizer: Any = None,
        beta_constraint: Any = None,
        gamma_constraint: Any = None,
        name: str | None = None,
        input_shape: Shape | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(name=name, input_shape=input_shape, **kwargs)
        self._set_weight_options(
            beta=(beta_regularizer, beta_constraint), gamma=(gamma_regularizer, gamma_constraint)
        )
        if axis not in (-1, [-1], (-1,)):
            raise ConfigError(
                f"BatchNormalization(axis={axis}) is not supported: rnncast "
                "inputs are channels-last, so normalise the last axis (axis=-1)."
            )
        if not 0 <= momentum < 1 or epsilon <= 0:
            raise ConfigError(
                f"need 0 <= momentum < 1 and epsilon > 0, got momentum={momentum}, "
                f"epsilon={epsilon}."
            )
        self.axis, self.momentum, self.epsilon = -1, float(momentum), float(epsilon)
        self.center, self.scale = bool(center), bool(scale)
        self.beta_initializer = initializers.check(beta_initializer)
        self.gamma_initializer = initializers.check(gamma_initializer)
        self.moving_mean_initializer = initializers.check(moving_mean_initializer)
        self.moving_variance_initializer = initializers.check(moving_variance_initializer)

    def check_input_shape(self, input_shape: Shape) -> None:
        if len(input_shape) < 1 or input_shape[-1] is None:
            raise ShapeError(f"needs a known last axis (features) but gets {input_shape}")

    def build(self, input_shape: Shape, generator: torch.Generator | None = None) -> None:
        def make(initializer: str) -> torch.Tensor:  # (features,)
            return initializers.initialize(initializer, (int(input_shape[-1]),), generator)

        self.gamma = nn.Parameter(make(self.gamma_initializer)) if self.scale else None
        self.beta = nn.Parameter(make(self.beta_initializer)) if self.center else None
        self.register_buffer("moving_mean", make(self.moving_mean_initializer))
        self.register_buffer("moving_variance", make(self.moving_variance_initializer))
        super().build(input_shape)

    def forward(self, x: torch.Tensor) -> torch.Tensor:  # (batch, ..., features)
        if self.training and self.trainable:  # Keras 3: a frozen BN runs in inference mode
            flat = x.reshape(-1, x.shape[-1])  # (batch * ..., features)
            variance, mean = torch.var_mean(flat, dim=0, unbiased=False)
            with torch.no_grad():
                self.moving_mean.lerp_(mean.detach(), 1 - self.momentum)
                self.moving_variance.lerp_(variance.detach(), 1 - self.momentum)
        else:
            mean, variance = self.moving_mean, self.moving_variance
        y = (x - mean) * torch.rsqrt(variance + self.epsilon)
        if self.gamma is not None:
            y = y * self.gamma
        return y + self.beta if self.beta is not None else y

    def _statistics(self) -> list[torch.Tensor]:
        return [self.moving_mean, self.moving_variance]

    def get_config(self) -> dict[str, Any]:
        return {
            "axis": self.axis,
            "momentum": self.momentum,
            "epsilon": self.epsilon,
            "center": self.center,
            "scale": self.scale,
            "beta_initializer": self.beta_initializer,
            "gamma_initializer": self.gamma_initializer,
            "moving_mean_initializer": self.moving_mean_initializer,
            "moving_variance_initializer": self.moving_variance_initializer,
            **self._weight_options_config("beta", "gamma"),
            **super().get_config(),
        }

    def _keras_weight(self, weight: str) -> torch.Tensor | None:
        return getattr(self, weight, None) if weight in ("gamma", "beta") else None

    def _assign_keras_weight(self, weight: str, value: torch.Tensor) -> None:
        getattr(self, weight).copy_(value)

    def keras_weights(self) -> list[np.ndarray]:
        learned = [p for p in (self.gamma, self.beta) if p is not None]
        return [to_numpy(t) for t in (*learned, self.moving_mean, self.moving_variance)]

    def set_keras_weights(self, weights: list[np.ndarray]) -> None:
        targets = [p for p in (self.gamma, self.beta) if p is not None]
        targets += [self.moving_mean, self.moving_variance]
        self._expect_weights(weights, [tuple(t.shape) for t in targets])
        for target, value in zip(targets, weights, strict=True):
            assign(target, value)


class LayerNormalization(Layer):
    """Normalise each sample over its features, Keras's ``keras.layers.LayerNormalization``.

    ``gamma * (x - mean) / sqrt(variance + epsilon) + beta`` with the mean
    and the biased variance of the last axis of each sample (and timestep),
    so it acts the same in training and inference. Keras's defaults differ
    from ``torch.nn.LayerNorm``: ``epsilon=1e-3`` (torch: 1e-5). Weights are
    ``[gamma, beta]`` as in Keras: ``2 * features`` parameters.

    Args:
        axis: The normalised axis; only ``-1`` (the last axis) is supported.
        epsilon: Added to the variance before the square root.
        center: Learn an offset ``beta``.
        scale: Learn a scale ``gamma``.
        beta_initializer: Keras initializer name of ``beta`` (``"zeros"``).
        gamma_initializer: Keras initializer name of ``gamma`` (``"ones"``).
        beta_regularizer, gamma_regularizer: Penalties added to the loss.
        beta_constraint, gamma_constraint: Projections after each optimizer step.
        trainable: ``False`` freezes ``gamma`` and ``beta``.
        name: Layer name (default ``layer_normalization``, ...).

    Raises:
        ConfigError: for another axis, ``epsilon <= 0``, ``rms_scaling=True``
            or an unsupported Keras argument.

    Example:
        >>> from rnncast import Sequential
        >>> from rnncast.layers import LSTM, LayerNormalization
        >>> model = Sequential([LSTM(50, return_sequences=True, input_shape=(60, 1)),
        ...                     LayerNormalization()])
        >>> model.count_params()
        10500
    """

    def __init__(
        self,
        axis: int = -1,
        epsilon: float = 1e-3,
        center: bool = True,
        scale: bool = True,
        beta_initializer: str = "zeros",
        gamma_initializer: str = "ones",
        beta_regularizer: Any = None,
        gamma_regularizer: Any = None,
        beta_constraint: Any = None,
        gamma_constraint: Any = None,
        name: str | None = None,
        input_shape: Shape | None = None,
        **kwargs: Any,
    ) -> None:
        if kwargs.pop("rms_scaling", False):
            raise ConfigError(
                "LayerNormalization(rms_scaling=True) is not supported (Keras deprecates "
                "it); remove it to normalise by mean and variance."
            )
        super().__init__(name=name, input_shape=input_shape, **kwargs)
        self._set_weight_options(
            beta=(beta_regularizer, beta_constraint), gamma=(gamma_regularizer, gamma_constraint)
        )
        if axis not in (-1, [-1], (-1,)):
            raise ConfigError(
                f"LayerNormalization(axis={axis}) is not supported: rnncast normalises "
                "the features, the last axis (axis=-1)."
            )
        if not float(epsilon) > 0:
            raise ConfigError(f"LayerNormalization needs epsilon > 0, got {epsilon}.")
        self.axis, self.epsilon = -1, float(epsilon)
        self.center, self.scale = bool(center), bool(scale)
        self.beta_initializer = initializers.check(beta_initializer)
        self.gamma_initializer = initializers.check(gamma_initializer)

    def check_input_shape(self, input_shape: Shape) -> None:
        if len(input_shape) < 1 or input_shape[-1] is None:
            raise ShapeError(f"needs a known last axis (features) but gets {input_shape}")

    def build(self, input_shape: Shape, generator: torch.Generator | None = None) -> None:
        features = int(input_shape[-1])
        self.gamma = (
            nn.Parameter(initializers.initialize(self.gamma_initializer, (features,), generator))
            if self.scale
            else None
        )
        self.beta = (
            nn.Parameter(initializers.initialize(self.beta_initializer, (features,), generator))
            if self.center
            else None
        )
        super().build(input_shape)

    def forward(self, x: torch.Tensor) -> torch.Tensor:  # (batch, ..., features)
        variance, mean = torch.var_mean(x, dim=-1, unbiased=False, keepdim=True)  # (batch, ..., 1)
        y = (x - mean) * torch.rsqrt(variance + self.epsilon)
        if self.gamma is not None:
            y = y * self.gamma
        return y + self.beta if self.beta is not None else y  # (batch, ..., features)

    def get_config(self) -> dict[str, Any]:
        return {
            "axis": self.axis,
            "epsilon": self.epsilon,
            "center": self.center,
            "scale": self.scale,
            "beta_initializer": self.beta_initializer,
            "gamma_initializer": self.gamma_initializer,
            **self._weight_options_config("beta", "gamma"),
            **super().get_config(),
        }

    def _keras_weight(self, weight: str) -> torch.Tensor | None:
        return getattr(self, weight, None) if weight in ("gamma", "beta") else None

    def _assign_keras_weight(self, weight: str, value: torch.Tensor) -> None:
        getattr(self, weight).copy_(value)

    def keras_weights(self) -> list[np.ndarray]:
        return [to_numpy(p) for p in (self.gamma, self.beta) if p is not None]

    def set_keras_weights(self, weights: list[np.ndarray]) -> None:
        targets = [p for p in (self.gamma, self.beta) if p is not None]
        self._expect_weights(weights, [tuple(t.shape) for t in targets])
        for target, value in zip(targets, weights, strict=True):
            assign(target, value)

"""Conv1D, MaxPooling1D and GlobalAveragePooling1D on channels-last (batch, time, features)."""

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
from rnncast.layers.base import Layer, Shape, assign, channels_last, to_numpy

PADDINGS = ("valid", "same", "causal")


class Conv1D(Layer):
    """1-D convolution over timesteps, Keras's ``keras.layers.Conv1D``.

    Input and output are channels-last, ``(batch, timesteps, features)`` ->
    ``(batch, new_timesteps, filters)``, as in Keras (torch's ``Conv1d`` is
    channels-first; the layer transposes internally).

    Args:
        filters: Number of output channels.
        kernel_size: Length of the convolution window.
        strides: Step between windows.
        padding: ``"valid"`` (no padding), ``"same"`` (output length
            ``ceil(timesteps / strides)``, extra padding on the right as in
            Keras) or ``"causal"`` (left padding only: output ``t`` never sees
            inputs after ``t``).
        data_format: ``"channels_last"`` (or ``None``, Keras's default):
            ``(batch, timesteps, features)``; ``"channels_first"``:
            ``(batch, features, timesteps)`` in and ``(batch, filters,
            new_timesteps)`` out.
        dilation_rate: Spacing between kernel taps.
        groups: Split the input features and the filters into this many
            groups, each convolved separately (torch's grouped convolution);
            both counts must be divisible by it. The Keras kernel is then
            ``(kernel_size, features // groups, filters)``.
        activation: Activation name (default linear).
        use_bias: Add a bias per filter.
        kernel_initializer: Keras initializer name.
        bias_initializer: Keras initializer name.
        kernel_regularizer, bias_regularizer, activity_regularizer: Penalties
            added to the loss; the kernel is seen as Keras's
            ``(kernel_size, features, filters)``.
        kernel_constraint, bias_constraint: Projections applied after each
            optimizer step, on the same Keras layout.
        trainable: ``False`` freezes the weights.
        input_shape: ``(timesteps, features)`` for a first layer.
        name: Layer name (default ``conv1d``, ``conv1d_1``, ...).

    Example:
        >>> from rnncast import Sequential
        >>> from rnncast.layers import Conv1D
        >>> model = Sequential([Conv1D(64, 3, activation="relu", input_shape=(60, 1))])
        >>> model.output_shape
        (None, 58, 64)
    """

    input_rank = 2

    def __init__(
        self,
        filters: int,
        kernel_size: int,
        strides: int = 1,
        padding: str = "valid",
        data_format: str | None = None,
        dilation_rate: int = 1,
        groups: int = 1,
        activation: str | None = None,
        use_bias: bool = True,
        kernel_initializer: str = "glorot_uniform",
        bias_initializer: str = "zeros",
        kernel_regularizer: Any = None,
        bias_regularizer: Any = None,
        activity_regularizer: Any = None,
        kernel_constraint: Any = None,
        bias_constraint: Any = None,
        input_shape: Shape | None = None,
        name: str | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(
            name=name,
            input_shape=input_shape,
            activity_regularizer=activity_regularizer,
            **kwargs,
        )
        self._set_weight_options(
            kernel=(kernel_regularizer, kernel_constraint),
            bias=(bias_regularizer, bias_constraint),
        )
        if data_format not in (None, "channels_last", "channels_first"):
            raise ConfigError(
                f"Conv1D(data_format={data_format!r}) is not supported; use "
                "'channels_last' (batch, timesteps, features) or 'channels_first'."
            )
        self.data_format = data_format or "channels_last"
        self.filters = positive_int(filters, "filters")
        self.groups = positive_int(groups, "groups")
        if self.filters % self.groups:
            raise ConfigError(
                f"Conv1D(filters={filters}, groups={groups}): filters must be divisible by "
                "groups; change one of them."
            )
        self.kernel_size = positive_int(_single(kernel_size), "kernel_size")
        self.strides = positive_int(_single(strides), "strides")
        self.dilation_rate = positive_int(_single(dilation_rate), "dilation_rate")
        self.padding = _check_padding(padding, PADDINGS)
        if self.padding == "causal" and self.strides != 1:
            raise ConfigError("padding='causal' needs strides=1 (as in Keras).")
        self.activation = activations.check(activation)
        self.use_bias = bool(use_bias)
        self.kernel_initializer = initializers.check(kernel_initializer)
        self.bias_initializer = initializers.check(bias_initializer)
        self._activation = activations.get(activation)

    @property
    def span(self) -> int:
        """Timesteps covered by one application of the kernel."""
        return self.dilation_rate * (self.kernel_size - 1) + 1

    def _steps_channels(self, input_shape: Shape) -> tuple[int | None, int | None]:
        """``(timesteps, features)`` of an input shape in this layer's data format."""
        steps, channels = input_shape
        return (channels, steps) if self.data_format == "channels_first" else (steps, channels)

    def check_input_shape(self, input_shape: Shape) -> None:
        super().check_input_shape(input_shape)
        steps, channels = self._steps_channels(input_shape)
        if channels is not None and channels % self.groups:
            raise ShapeError(
                f"has groups={self.groups} but its input has {channels} features, which "
                f"{self.groups} does not divide; use a groups value that divides both "
                f"{channels} and filters={self.filters}"
            )
        if self.padding == "valid" and steps is not None and steps < self.span:
            raise ShapeError(
                f"has a kernel spanning {self.span} timesteps (kernel_size={self.kernel_size}, "
                f"dilation_rate={self.dilation_rate}) but its input has only {steps}; use a "
                "shorter kernel, a longer lookback, or padding='same' / 'causal'"
            )

    def build(self, input_shape: Shape, generator: torch.Generator | None = None) -> None:
        channels = self._steps_channels(input_shape)[1]
        if channels is None:
            raise ConfigError(f"layer {self.name!r} needs a known number of input features.")
        self.conv = nn.Conv1d(
            int(channels),
            self.filters,
            self.kernel_size,
            stride=self.strides,
            dilation=self.dilation_rate,
            groups=self.groups,
            bias=self.use_bias,
        )
        kernel_shape = (self.kernel_size, int(channels) // self.groups, self.filters)
        kernel = initializers.initialize(self.kernel_initializer, kernel_shape, generator)
        self.set_keras_weights(
            [kernel.numpy()]
            + (
                [initializers.initialize(self.bias_initializer, (self.filters,), generator).numpy()]
                if self.use_bias
                else []
            )
        )
        super().build(input_shape)

    def compute_output_shape(self, input_shape: Shape) -> Shape:
        steps = self._steps_channels(input_shape)[0]
        if steps is not None and self.padding == "valid":
            steps = (steps - self.span) // self.strides + 1
        elif steps is not None:
            steps = math.ceil(steps / self.strides)
        return (
            (self.filters, steps) if self.data_format == "channels_first" else (steps, self.filters)
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:  # (batch, timesteps, features)
        last = self.data_format == "channels_last"
        x = x.transpose(1, 2) if last else x  # (batch, features, timesteps)
        left, right = _padding(self.padding, x.shape[-1], self.span, self.strides)
        if left or right:
            x = F.pad(x, (left, right))
        y = self.conv(x)  # (batch, filters, steps)
        return self._activation(y.transpose(1, 2) if last else y)  # (batch, steps, filters)

    def get_config(self) -> dict[str, Any]:
        return {
            "filters": self.filters,
            "kernel_size": self.kernel_size,
            "strides": self.strides,
            "padding": self.padding,
            "data_format": self.data_format,
            "dilation_rate": self.dilation_rate,
            "groups": self.groups,
            "activation": self.activation,
            "use_bias": self.use_bias,
            "kernel_initializer": self.kernel_initializer,
            "bias_initializer": self.bias_initializer,
            **self._weight_options_config("kernel", "bias"),
            **super().get_config(),
        }

    def _keras_weight(self, weight: str) -> torch.Tensor | None:
        if weight == "kernel":
            return self.conv.weight.permute(2, 1, 0)  # (kernel_size, features, filters)
        return self.conv.bias if weight == "bias" else None

    def _assign_keras_weight(self, weight: str, value: torch.Tensor) -> None:
        target = self.conv.weight if weight == "kernel" else self.conv.bias
        target.copy_(value.permute(2, 1, 0) if weight == "kernel" else value)

    def keras_weights(self) -> list[np.ndarray]:
        weights = [to_numpy(self.conv.weight).transpose(2, 1, 0)]  # (k, in, filters)
        return weights + ([to_numpy(self.conv.bias)] if self.use_bias else [])

    def set_keras_weights(self, weights: list[np.ndarray]) -> None:
        shapes = [(self.kernel_size, self.conv.in_channels // self.groups, self.filters)]
        self._expect_weights(weights, shapes + ([(self.filters,)] if self.use_bias else []))
        assign(self.conv.weight, np.asarray(weights[0]).transpose(2, 1, 0))
        if self.use_bias:
            assign(self.conv.bias, weights[1])


class MaxPooling1D(Layer):
    """Maximum over windows of ``pool_size`` timesteps, channels-last (Keras semantics).

    Args:
        pool_size: Window length.
        strides: Step between windows (default ``pool_size``).
        padding: ``"valid"`` or ``"same"``.
        data_format: ``"channels_last"`` or ``None``; ``"channels_first"``
            raises ``ConfigError``.
        name: Layer name.

    Example:
        >>> import torch
        >>> pool = MaxPooling1D(2)
        >>> pool(torch.tensor([[[1.0], [3.0], [2.0], [0.0]]])).flatten().tolist()
        [3.0, 2.0]
    """

    input_rank = 2

    def __init__(
        self,
        pool_size: int = 2,
        strides: int | None = None,
        padding: str = "valid",
        data_format: str | None = None,
        name: str | None = None,
        input_shape: Shape | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(name=name, input_shape=input_shape, **kwargs)
        channels_last(data_format, "MaxPooling1D")
        self.pool_size = positive_int(_single(pool_size), "pool_size")
        self.strides = positive_int(_single(strides), "strides") if strides else self.pool_size
        self.padding = _check_padding(padding, ("valid", "same"))

    def check_input_shape(self, input_shape: Shape) -> None:
        super().check_input_shape(input_shape)
        steps = input_shape[0]
        if self.padding == "valid" and steps is not None and steps < self.pool_size:
            raise ShapeError(f"pools {self.pool_size} timesteps but its input has only {steps}")

    def compute_output_shape(self, input_shape: Shape) -> Shape:
        steps, channels = input_shape
        if steps is None:
            return (None, channels)
        if self.padding == "valid":
            return ((steps - self.pool_size) // self.strides + 1, channels)
        return (math.ceil(steps / self.strides), channels)

    def forward(self, x: torch.Tensor) -> torch.Tensor:  # (batch, timesteps, features)
        x = x.transpose(1, 2)  # (batch, features, timesteps)
        left, right = _padding(self.padding, x.shape[-1], self.pool_size, self.strides)
        if left or right:
            x = F.pad(x, (left, right), value=float("-inf"))
        return F.max_pool1d(x, self.pool_size, self.strides).transpose(1, 2)

    def get_config(self) -> dict[str, Any]:
        return {
            "pool_size": self.pool_size,
            "strides": self.strides,
            "padding": self.padding,
            **super().get_config(),
        }


class GlobalAveragePooling1D(Layer):
    """Average over timesteps: ``(batch, timesteps, features)`` -> ``(batch, features)``.

    Keras's ``keras.layers.GlobalAveragePooling1D`` on channels-last input
    (rnncast has no masks, so every timestep counts).

    Args:
        data_format: ``"channels_last"`` (or ``None``, Keras's default, which
            means the same); ``"channels_first"`` is not supported.
        keepdims: Keep the time axis with size 1: ``(batch, 1, features)``.
        name: Layer name (default ``global_average_pooling1d``, ...).

    Raises:
        ConfigError: for ``data_format="channels_first"``.

    Example:
        >>> from rnncast import Sequential
        >>> from rnncast.layers import Conv1D, GlobalAveragePooling1D
        >>> Sequential([Conv1D(16, 3, input_shape=(60, 1)),
        ...             GlobalAveragePooling1D()]).output_shape
        (None, 16)
    """

    input_rank = 2

    def __init__(
        self,
        data_format: str | None = None,
        keepdims: bool = False,
        name: str | None = None,
        input_shape: Shape | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(name=name, input_shape=input_shape, **kwargs)
        channels_last(data_format, "GlobalAveragePooling1D")
        self.data_format = "channels_last"
        self.keepdims = bool(keepdims)

    def compute_output_shape(self, input_shape: Shape) -> Shape:
        return (1, input_shape[1]) if self.keepdims else (input_shape[1],)

    def forward(self, x: torch.Tensor) -> torch.Tensor:  # (batch, timesteps, features)
        return x.mean(dim=1, keepdim=self.keepdims)  # (batch, [1,] features)

    def get_config(self) -> dict[str, Any]:
        return {
            "data_format": self.data_format,
            "keepdims": self.keepdims,
            **super().get_config(),
        }


def _padding(mode: str, steps: int, span: int, stride: int) -> tuple[int, int]:
    """Left and right padding (timesteps) for ``valid``, ``same`` or ``causal``."""
    if mode == "valid":
        return 0, 0
    if mode == "causal":
        return span - 1, 0
    out = math.ceil(steps / stride)
    total = max((out - 1) * stride + span - steps, 0)
    return total // 2, total - total // 2


def _check_padding(padding: str, allowed: tuple[str, ...]) -> str:
    if not isinstance(padding, str) or padding.lower() not in allowed:
        raise ConfigError(f"padding={padding!r} is not supported; use one of {allowed}.")
    return padding.lower()


def _single(value: Any) -> Any:
    """Keras accepts ``3`` or ``(3,)`` for 1-D sizes."""
    if isinstance(value, list | tuple) and len(value) == 1:
        return value[0]
    return value

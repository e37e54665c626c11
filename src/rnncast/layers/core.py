"""Core layers with Keras semantics: Input, Dense, Activation, Dropout, Flatten, Reshape, ..."""

from __future__ import annotations

import math
import numbers
from collections.abc import Callable
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from rnncast._internal.checks import positive_int
from rnncast.exceptions import ArtifactError, ConfigError, ShapeError
from rnncast.layers import activations, initializers
from rnncast.layers.base import Layer, Shape, _as_shape, assign, channels_last, to_numpy


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
        kernel_regularizer, bias_regularizer, activity_regularizer: Penalties
            (:mod:`rnncast.regularizers`) added to the loss; the kernel is
            seen as Keras's ``(features, units)``.
        kernel_constraint, bias_constraint: Projections
            (:mod:`rnncast.constraints`) applied after each optimizer step.
        trainable: ``False`` freezes the weights.
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
        self.units = positive_int(units, "units")
        self.activation = activations.check(activation)
        self.use_bias = bool(use_bias)
        self.kernel_initializer = initializers.check(kernel_initializer)
        self.bias_initializer = initializers.check(bias_initializer)
        self._activation = activations.get(activation)
        self._set_weight_options(
            kernel=(kernel_regularizer, kernel_constraint),
            bias=(bias_regularizer, bias_constraint),
        )

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
            **self._weight_options_config("kernel", "bias"),
            **super().get_config(),
        }

    def _keras_weight(self, weight: str) -> torch.Tensor | None:
        if weight == "kernel":
            return self.linear.weight.T  # (features, units)
        return self.linear.bias if weight == "bias" else None

    def _assign_keras_weight(self, weight: str, value: torch.Tensor) -> None:
        target = self.linear.weight if weight == "kernel" else self.linear.bias
        target.copy_(value.T if weight == "kernel" else value)

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
            ``(None, 1, 50)`` to drop the same features at every timestep
            (``None`` entries take the input's size).
        seed: Seed of this layer's own mask stream (as Keras's ``seed``);
            ``None`` draws from torch's global generator, which ``fit`` seeds
            from the model's seed.
        name: Layer name.

    Raises:
        ConfigError: for a rate outside [0, 1), or a ``noise_shape`` that is not a
            tuple of positive sizes or ``None``.

    Example:
        >>> import torch
        >>> drop = Dropout(0.5, noise_shape=(None, 1, 3), seed=1).train()
        >>> mask = drop(torch.ones(2, 4, 3)) != 0
        >>> bool((mask == mask[:, :1]).all())  # the same features dropped at every timestep
        True
    """

    def __init__(
        self,
        rate: float,
        noise_shape: tuple | None = None,
        name: str | None = None,
        input_shape: Shape | None = None,
        seed: int | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(name=name, input_shape=input_shape, **kwargs)
        number = isinstance(rate, numbers.Real) and not isinstance(rate, bool)
        if not number or not 0 <= float(rate) < 1:
            raise ConfigError(f"Dropout rate must be in [0, 1), got {rate!r}.")
        self.rate = float(rate)
        self.noise_shape = _noise_shape(noise_shape)
        if seed is not None and (isinstance(seed, bool) or not isinstance(seed, int)):
            raise ConfigError(f"Dropout(seed={seed!r}) must be an integer (or None).")
        self.seed = seed
        self._generator: torch.Generator | None = None

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if not self.training or self.rate == 0:
            return x
        if self.noise_shape is None and self.seed is None:
            return F.dropout(x, self.rate, training=True)
        noise = self.noise_shape or (None,) * x.dim()
        if len(noise) != x.dim():
            raise ShapeError(
                f"Dropout(noise_shape={noise}) needs {x.dim()} entries (batch axis "
                f"included) for input of shape {tuple(x.shape)}."
            )
        shape = [x.shape[i] if d is None else d for i, d in enumerate(noise)]
        keep = torch.empty(shape, device=x.device).bernoulli_(
            1 - self.rate, generator=self._seeded(x.device)
        )
        return x * keep / (1 - self.rate)

    def _seeded(self, device: torch.device) -> torch.Generator | None:
        if self.seed is not None and (self._generator is None or self._generator.device != device):
            self._generator = torch.Generator(device).manual_seed(self.seed)
        return self._generator

    def get_config(self) -> dict[str, Any]:
        noise = list(self.noise_shape) if self.noise_shape is not None else None
        return {"rate": self.rate, "noise_shape": noise, "seed": self.seed, **super().get_config()}


def _noise_shape(noise_shape: Any) -> tuple[int | None, ...] | None:
    if noise_shape is None:
        return None
    try:
        shape = tuple(None if d is None else int(d) for d in noise_shape)
    except (TypeError, ValueError) as err:
        raise ConfigError(
            f"Dropout(noise_shape={noise_shape!r}) must be a tuple such as (None, 1, 50)."
        ) from err
    if any(d is not None and d < 1 for d in shape):
        raise ConfigError(f"Dropout(noise_shape={noise_shape!r}) needs positive sizes or None.")
    return shape


class Flatten(Layer):
    """Flatten all axes but the batch: ``(batch, timesteps, features)`` -> ``(batch, t*f)``.

    Args:
        data_format: ``"channels_last"`` or ``None`` (Keras's default, the
            same); ``"channels_first"`` raises ``ConfigError``.
        name: Layer name (default ``flatten``, ...).
    """

    def __init__(
        self,
        data_format: str | None = None,
        name: str | None = None,
        input_shape: Shape | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(name=name, input_shape=input_shape, **kwargs)
        channels_last(data_format, "Flatten")

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


class InputLayer(Layer):
    """The model's input: fixes the shape of the samples (without the batch axis).

    ``Input(shape=(60, 1))`` as the first element of a ``Sequential`` sets the
    input shape, as in Keras 3. The layer has no weights and passes its input
    through unchanged.

    Args:
        shape: Shape of one sample, e.g. ``(60, 1)``; ``None`` for a length
            that may vary.
        batch_size: The fixed batch size, which stateful recurrent layers
            need (``stateful=True``); other models run any batch size.
        batch_shape: The shape with its batch axis, e.g. ``(None, 60, 1)``;
            an alternative to ``shape``.
        name: Layer name (default ``input_layer``).

    Raises:
        ConfigError: without a shape, or for a Keras argument rnncast does
            not support (``sparse=True``, ``tensor=...``, ...).

    Example:
        >>> from rnncast import Sequential
        >>> from rnncast.layers import Input, LSTM, Dense
        >>> model = Sequential([Input(shape=(60, 1)), LSTM(50), Dense(1)])
        >>> model.input_shape, model.count_params()
        ((None, 60, 1), 10451)
    """

    def __init__(
        self,
        shape: Shape | None = None,
        batch_size: int | None = None,
        batch_shape: Shape | None = None,
        name: str | None = None,
        input_shape: Shape | None = None,
        **kwargs: Any,
    ) -> None:
        spelled = "batch_input_shape" if "batch_input_shape" in kwargs else "batch_shape"
        batch_shape = kwargs.pop("batch_input_shape", batch_shape)  # Keras 3 accepts it too
        if batch_shape is not None:
            if shape is not None:
                raise ConfigError(f"give InputLayer shape=... or {spelled}=..., not both.")
            first, *rest = tuple(batch_shape)
            batch_size, shape = (first if batch_size is None else batch_size), tuple(rest)
        shape = shape if shape is not None else input_shape
        if shape is None:
            raise ConfigError(
                "Input needs the shape of one sample without the batch axis, "
                "e.g. Input(shape=(60, 1)) for 60 timesteps of 1 feature."
            )
        super().__init__(name=name, input_shape=_as_shape(shape), batch_size=batch_size, **kwargs)

    def check_input_shape(self, input_shape: Shape) -> None:
        expected = self.input_shape or ()
        if len(input_shape) != len(expected) or any(
            e is not None and e != d for e, d in zip(expected, input_shape, strict=True)
        ):
            raise ShapeError(
                f"Input(shape={expected}) receives {input_shape}; an Input layer "
                "belongs first in the model"
            )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x

    def get_config(self) -> dict[str, Any]:
        shape = list(self.input_shape or ())
        return {"batch_shape": [self.batch_size, *shape], "name": self.name}


def Input(
    shape: Shape | None = None,
    batch_size: int | None = None,
    name: str | None = None,
    batch_shape: Shape | None = None,
    **kwargs: Any,
) -> InputLayer:
    """Keras's ``keras.Input``: the input of a model, here an :class:`InputLayer`.

    In Keras, ``Input`` returns a symbolic tensor; in rnncast it returns the
    :class:`InputLayer`, which a ``Sequential`` accepts as its first element
    with the same effect: the model is built for inputs of ``shape``.

    Args:
        shape: Shape of one sample without the batch axis, e.g. ``(60, 1)``.
        batch_size: The fixed batch size (what stateful layers need).
        name: Layer name (default ``input_layer``).
        batch_shape: The shape with its batch axis, instead of ``shape``.
        **kwargs: Other Keras arguments; unsupported ones raise ``ConfigError``.

    Example:
        >>> from rnncast import Sequential
        >>> from rnncast.layers import Input, Dense
        >>> Sequential([Input((8,)), Dense(2)]).output_shape
        (None, 2)
    """
    return InputLayer(
        shape=shape, batch_size=batch_size, batch_shape=batch_shape, name=name, **kwargs
    )


class Activation(Layer):
    """Apply an activation function to the input, Keras's ``keras.layers.Activation``.

    Args:
        activation: Name of the activation, e.g. ``"relu"`` or ``"tanh"``.
        name: Layer name (default ``activation``, ...).

    Example:
        >>> import torch
        >>> from rnncast.layers import Activation
        >>> Activation("relu")(torch.tensor([[-1.0, 2.0]])).tolist()
        [[0.0, 2.0]]
    """

    def __init__(
        self,
        activation: str,
        name: str | None = None,
        input_shape: Shape | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(name=name, input_shape=input_shape, **kwargs)
        if activation is None:
            raise ConfigError('Activation needs a name, e.g. Activation("relu").')
        self.activation = activations.check(activation)
        self._activation = activations.get(activation)

    def forward(self, x: torch.Tensor) -> torch.Tensor:  # any shape
        return self._activation(x)

    def get_config(self) -> dict[str, Any]:
        return {"activation": self.activation, **super().get_config()}


class Reshape(Layer):
    """Reshape each sample to ``target_shape`` (batch axis untouched), Keras's ``Reshape``.

    One entry of ``target_shape`` may be ``-1``: it is inferred from the
    others, as in Keras 3.

    Args:
        target_shape: The new shape without the batch axis, e.g. ``(60, 1)``.
        name: Layer name (default ``reshape``, ...).

    Raises:
        ConfigError: for more than one ``-1`` or a non-positive size.
        ShapeError: when the input's size does not fit ``target_shape``.

    Example:
        >>> from rnncast import Sequential
        >>> from rnncast.layers import Reshape
        >>> Sequential([Reshape((-1, 1), input_shape=(60,))]).output_shape
        (None, 60, 1)
    """

    def __init__(
        self,
        target_shape: tuple[int, ...],
        name: str | None = None,
        input_shape: Shape | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(name=name, input_shape=input_shape, **kwargs)
        if isinstance(target_shape, int):
            target_shape = (target_shape,)
        try:
            target = tuple(int(d) for d in target_shape)
        except (TypeError, ValueError) as err:
            raise ConfigError(
                f"target_shape={target_shape!r} must be a tuple of sizes such as (60, 1)."
            ) from err
        if target.count(-1) > 1 or any(d < 1 and d != -1 for d in target):
            raise ConfigError(
                f"target_shape={target_shape!r} needs positive sizes and at most one -1."
            )
        self.target_shape = target

    def check_input_shape(self, input_shape: Shape) -> None:
        self.compute_output_shape(input_shape)

    def compute_output_shape(self, input_shape: Shape) -> Shape:
        if -1 not in self.target_shape:
            if None not in input_shape and math.prod(input_shape) != math.prod(self.target_shape):
                raise ShapeError(
                    f"cannot reshape {input_shape} ({math.prod(input_shape)} values) "
                    f"to {self.target_shape}"
                )
            return self.target_shape
        if None in input_shape:
            return tuple(None if d == -1 else d for d in self.target_shape)
        known = -math.prod(self.target_shape)
        if math.prod(input_shape) % known:
            raise ShapeError(f"cannot reshape {input_shape} to {self.target_shape}")
        return tuple(math.prod(input_shape) // known if d == -1 else d for d in self.target_shape)

    def forward(self, x: torch.Tensor) -> torch.Tensor:  # (batch, ...)
        return x.reshape(x.shape[0], *self.target_shape)  # (batch, *target_shape)

    def get_config(self) -> dict[str, Any]:
        return {"target_shape": list(self.target_shape), **super().get_config()}


class RepeatVector(Layer):
    """Repeat a vector ``n`` times: ``(batch, features)`` -> ``(batch, n, features)``.

    The usual bridge of an encoder-decoder forecaster: the encoder's last
    state is repeated once per forecast step for a decoder LSTM.

    Args:
        n: Number of repetitions.
        name: Layer name (default ``repeat_vector``, ...).

    Example:
        >>> from rnncast import Sequential
        >>> from rnncast.layers import LSTM, RepeatVector
        >>> Sequential([LSTM(8, input_shape=(60, 1)), RepeatVector(5)]).output_shape
        (None, 5, 8)
    """

    input_rank = 1

    def __init__(
        self, n: int, name: str | None = None, input_shape: Shape | None = None, **kwargs: Any
    ) -> None:
        super().__init__(name=name, input_shape=input_shape, **kwargs)
        self.n = positive_int(n, "n")

    def compute_output_shape(self, input_shape: Shape) -> Shape:
        return (self.n, input_shape[0])

    def forward(self, x: torch.Tensor) -> torch.Tensor:  # (batch, features)
        return x.unsqueeze(1).repeat(1, self.n, 1)  # (batch, n, features)

    def get_config(self) -> dict[str, Any]:
        return {"n": self.n, **super().get_config()}


class Lambda(Layer):
    """Wrap a Python function of a tensor as a layer, Keras's ``keras.layers.Lambda``.

    The function receives and returns a ``torch.Tensor`` with the batch axis
    first. A Python function cannot be written to rnncast's JSON artifact, so
    ``model.save(...)`` of a model with a ``Lambda`` raises ``ArtifactError``
    (as does ``Forecaster``, which copies its model through the same JSON
    config). Save the weights with ``model.save_weights(...)`` and rebuild
    the model in code, or use a built-in layer (``Activation``, ``Reshape``,
    ...) where one fits.

    Args:
        function: The function, ``function(x, **arguments)``.
        output_shape: Output shape without the batch axis (a tuple, or a
            function of the input shape); inferred by a trial call if omitted.
        arguments: Extra keyword arguments for ``function``.
        name: Layer name (default ``lambda``, ...).

    Raises:
        ConfigError: when ``function`` is not callable.

    Example:
        >>> from rnncast import Sequential
        >>> from rnncast.layers import Lambda
        >>> model = Sequential([Lambda(lambda x: x[:, -1, :], input_shape=(60, 3))])
        >>> model.output_shape
        (None, 3)
    """

    def __init__(
        self,
        function: Callable[..., torch.Tensor],
        output_shape: Shape | Callable[[Shape], Shape] | None = None,
        arguments: dict[str, Any] | None = None,
        name: str | None = None,
        input_shape: Shape | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(name=name, input_shape=input_shape, **kwargs)
        if not callable(function):
            raise ConfigError(f"Lambda needs a function, got {type(function).__name__}.")
        self.function = function
        self.output_shape = output_shape
        if arguments is not None and not isinstance(arguments, dict):
            raise ConfigError(
                f"Lambda(arguments={arguments!r}) must be a dict of keyword arguments."
            )
        self.arguments = dict(arguments or {})

    def compute_output_shape(self, input_shape: Shape) -> Shape:
        if callable(self.output_shape):
            return _as_shape(self.output_shape(input_shape))
        if self.output_shape is not None:
            return _as_shape(self.output_shape)
        trial = torch.zeros(2, *(1 if d is None else d for d in input_shape))
        with torch.no_grad():
            return tuple(self.function(trial, **self.arguments).shape[1:])

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.function(x, **self.arguments)

    def get_config(self) -> dict[str, Any]:
        """Raise ``ArtifactError``: a Python function has no JSON form."""
        raise ArtifactError(
            f"layer {self.name!r} is a Lambda, whose Python function cannot be saved to "
            "rnncast's JSON artifact; save the weights with model.save_weights(path) and "
            "rebuild the model in code, or replace the Lambda with a built-in layer."
        )

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> Lambda:
        """Raise ``ArtifactError``: a saved config never holds a Lambda's function."""
        raise ArtifactError(
            "a Lambda layer cannot be rebuilt from a config (its Python function is not "
            "saved); rebuild the model in code and load its weights with load_weights."
        )

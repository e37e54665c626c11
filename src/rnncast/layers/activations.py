"""Activation functions by Keras name, with Keras 3's definitions and defaults.

Every name here computes what ``keras.activations.get(name)`` computes (the
tests compare them on a grid of inputs). Where Keras and PyTorch disagree,
Keras wins: ``leaky_relu`` has Keras's ``negative_slope=0.2`` (torch's default
is 0.01), ``gelu`` is the exact erf form (Keras's ``approximate=False``),
``hard_sigmoid`` is Keras 3's ``relu6(x + 3) / 6`` (Keras 2 used
``0.2 * x + 0.5``) and ``softmax`` normalises over the last axis.

Example:
    >>> import torch
    >>> from rnncast.layers.activations import get
    >>> get("relu")(torch.tensor([-1.0, 2.0])).tolist()
    [0.0, 2.0]
    >>> get("leaky_relu")(torch.tensor([-1.0, 2.0])).tolist()  # Keras's slope 0.2
    [-0.20000000298023224, 2.0]
    >>> get("softmax")(torch.tensor([[0.0, 0.0]])).tolist()
    [[0.5, 0.5]]
"""

from __future__ import annotations

from collections.abc import Callable

import torch
import torch.nn.functional as F

from rnncast.exceptions import ConfigError

Activation = Callable[[torch.Tensor], torch.Tensor]


def linear(x: torch.Tensor) -> torch.Tensor:
    """The identity (Keras's ``linear``, the default of ``Dense``)."""
    return x


def leaky_relu(x: torch.Tensor, negative_slope: float = 0.2) -> torch.Tensor:
    """``x`` for ``x >= 0``, ``negative_slope * x`` below (Keras's default slope 0.2)."""
    return F.leaky_relu(x, negative_slope=negative_slope)


def hard_sigmoid(x: torch.Tensor) -> torch.Tensor:
    """Keras 3's hard sigmoid: 0 below -3, 1 above 3, ``x / 6 + 0.5`` between."""
    return F.hardsigmoid(x)


def softmax(x: torch.Tensor) -> torch.Tensor:
    """Softmax over the last axis (each row sums to 1)."""
    return torch.softmax(x, dim=-1)  # (..., classes)


def log_softmax(x: torch.Tensor) -> torch.Tensor:
    """Logarithm of :func:`softmax` over the last axis."""
    return torch.log_softmax(x, dim=-1)  # (..., classes)


ACTIVATIONS: dict[str, Activation] = {
    "linear": linear,
    "relu": torch.relu,
    "relu6": F.relu6,
    "leaky_relu": leaky_relu,
    "sigmoid": torch.sigmoid,
    "hard_sigmoid": hard_sigmoid,
    "log_sigmoid": F.logsigmoid,
    "tanh": torch.tanh,
    "elu": F.elu,  # alpha=1.0, as Keras
    "selu": torch.selu,
    "softplus": F.softplus,
    "softsign": F.softsign,
    "softmax": softmax,
    "log_softmax": log_softmax,
    "gelu": F.gelu,  # exact (erf) form, Keras's default approximate=False
    "swish": F.silu,
    "silu": F.silu,
    "hard_silu": F.hardswish,
    "hard_swish": F.hardswish,
    "mish": F.mish,
    "exponential": torch.exp,
}


def get(name: str | None) -> Activation:
    """The activation function called ``name``; ``None`` means linear (Keras's default).

    Args:
        name: A Keras activation name such as ``"relu"`` or ``"softmax"``, or ``None``.

    Returns:
        A function from a tensor to a tensor of the same shape.

    Raises:
        ConfigError: for an unknown name, listing the valid ones.

    Example:
        >>> import torch
        >>> get("hard_sigmoid")(torch.tensor([-4.0, 0.0, 3.0])).tolist()
        [0.0, 0.5, 1.0]
    """
    if name is None:
        return linear
    if not isinstance(name, str) or name not in ACTIVATIONS:
        raise ConfigError(
            f"unknown activation {name!r}; use one of {', '.join(sorted(ACTIVATIONS))} (or None)."
        )
    return ACTIVATIONS[name]


def check(name: str | None) -> str | None:
    """Return ``name`` unchanged after checking it is a known activation."""
    get(name)
    return name

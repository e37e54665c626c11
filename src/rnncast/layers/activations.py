"""Activation functions by Keras name.

Example:
    >>> import torch
    >>> from rnncast.layers.activations import get
    >>> get("relu")(torch.tensor([-1.0, 2.0])).tolist()
    [0.0, 2.0]
"""

from __future__ import annotations

from collections.abc import Callable

import torch
import torch.nn.functional as F

from rnncast.exceptions import ConfigError

Activation = Callable[[torch.Tensor], torch.Tensor]


def _linear(x: torch.Tensor) -> torch.Tensor:
    return x


ACTIVATIONS: dict[str, Activation] = {
    "linear": _linear,
    "relu": torch.relu,
    "sigmoid": torch.sigmoid,
    "tanh": torch.tanh,
    "elu": F.elu,
    "selu": torch.selu,
    "softplus": F.softplus,
    "gelu": F.gelu,  # exact (erf) form, Keras's default approximate=False
    "swish": F.silu,
    "silu": F.silu,
}


def get(name: str | None) -> Activation:
    """The activation function called ``name``; ``None`` means linear (Keras's default).

    Raises:
        ConfigError: for an unknown name, listing the valid ones.
    """
    if name is None:
        return _linear
    if not isinstance(name, str) or name not in ACTIVATIONS:
        raise ConfigError(
            f"unknown activation {name!r}; use one of {', '.join(sorted(ACTIVATIONS))} (or None)."
        )
    return ACTIVATIONS[name]


def check(name: str | None) -> str | None:
    """Return ``name`` unchanged after checking it is a known activation."""
    get(name)
    return name

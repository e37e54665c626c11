"""Weight initializers with Keras's names and formulas.

Shapes are given in Keras's layout (e.g. a Dense kernel is ``(in, out)``, a
Conv1D kernel ``(kernel_size, in, out)``), because fan-in and fan-out are
defined on it; layers transpose the result to PyTorch's layout. A
``torch.Generator`` makes initialisation reproducible without touching the
global random state.

Example:
    >>> import torch
    >>> from rnncast.layers.initializers import initialize
    >>> kernel = initialize("glorot_uniform", (60, 200), torch.Generator().manual_seed(0))
    >>> bool(kernel.abs().max() <= (6 / 260) ** 0.5)
    True
"""

from __future__ import annotations

import math

import torch

from rnncast.exceptions import ConfigError

INITIALIZERS = (
    "zeros",
    "ones",
    "glorot_uniform",
    "glorot_normal",
    "he_uniform",
    "he_normal",
    "lecun_uniform",
    "lecun_normal",
    "orthogonal",
    "random_normal",
    "random_uniform",
)
_TRUNCATED_STD = 0.87962566103423978  # std of a unit normal truncated to [-2, 2] (Keras)


def check(name: str) -> str:
    """Return ``name`` if it is a known initializer, else raise ``ConfigError``."""
    if name not in INITIALIZERS:
        raise ConfigError(f"unknown initializer {name!r}; use one of {', '.join(INITIALIZERS)}.")
    return name


def initialize(
    name: str, shape: tuple[int, ...], generator: torch.Generator | None = None
) -> torch.Tensor:
    """A new float32 tensor of ``shape`` (Keras layout) drawn from initializer ``name``."""
    check(name)
    if name in ("zeros", "ones"):
        return (torch.zeros if name == "zeros" else torch.ones)(shape)
    if name == "orthogonal":
        return _orthogonal(shape, generator)
    if name == "random_normal":
        return torch.empty(shape).normal_(0.0, 0.05, generator=generator)
    if name == "random_uniform":
        return torch.empty(shape).uniform_(-0.05, 0.05, generator=generator)
    fan_in, fan_out = _fans(shape)
    family, distribution = name.split("_")
    fan = {"glorot": (fan_in + fan_out) / 2, "he": fan_in / 2, "lecun": fan_in}[family]
    if distribution == "uniform":
        limit = math.sqrt(3.0 / fan)
        return torch.empty(shape).uniform_(-limit, limit, generator=generator)
    std = math.sqrt(1.0 / fan) / _TRUNCATED_STD
    return torch.nn.init.trunc_normal_(
        torch.empty(shape), 0.0, std, -2 * std, 2 * std, generator=generator
    )


def _fans(shape: tuple[int, ...]) -> tuple[int, int]:
    """Keras's fan-in/fan-out: the last two axes, times the receptive field."""
    if len(shape) == 1:
        return shape[0], shape[0]
    receptive = math.prod(shape[:-2])
    return shape[-2] * receptive, shape[-1] * receptive


def _orthogonal(shape: tuple[int, ...], generator: torch.Generator | None) -> torch.Tensor:
    """Keras's Orthogonal(gain=1): QR of a normal matrix, signs fixed by diag(R)."""
    rows, cols = math.prod(shape[:-1]), shape[-1]
    normal = torch.empty(max(rows, cols), min(rows, cols)).normal_(generator=generator)
    q, r = torch.linalg.qr(normal)
    q = q * torch.sign(torch.diagonal(r))
    if rows < cols:
        q = q.T
    return q.reshape(shape).contiguous()

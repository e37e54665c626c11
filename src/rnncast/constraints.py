"""Weight constraints, Keras's ``keras.constraints``: MaxNorm, NonNeg, UnitNorm, MinMaxNorm.

A layer given ``kernel_constraint=MaxNorm(3)`` projects its kernel after every
optimizer step, as Keras does. Constraints see the weight in Keras's layout
(a ``Dense`` kernel is ``(features, units)``, an LSTM kernel ``(features,
4 * units)``), so ``axis=0`` means what it means in Keras: the norm of the
weights coming into each unit.

Example:
    >>> import torch
    >>> from rnncast import constraints
    >>> constraints.NonNeg()(torch.tensor([-1.0, 2.0])).tolist()
    [0.0, 2.0]
    >>> constraints.get("max_norm").get_config()
    {'max_value': 2, 'axis': 0}
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import torch

from rnncast._internal.keras_objects import from_keras_dict, to_keras_dict
from rnncast.exceptions import ConfigError

__all__ = [
    "Constraint",
    "MaxNorm",
    "MinMaxNorm",
    "NonNeg",
    "UnitNorm",
    "deserialize",
    "get",
    "max_norm",
    "min_max_norm",
    "non_neg",
    "serialize",
    "unit_norm",
]

_EPSILON = 1e-7  # keras.backend.epsilon()


class Constraint:
    """Base class: a projection ``weight -> weight`` applied after each update.

    Subclasses implement ``__call__`` (and ``get_config`` when they have
    arguments). The base class returns the weight unchanged.
    """

    def __call__(self, w: torch.Tensor) -> torch.Tensor:
        """The projected weight (the base class changes nothing)."""
        return w

    def get_config(self) -> dict[str, Any]:
        """Constructor arguments that rebuild this constraint."""
        return {}

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> Constraint:
        """Create a constraint from :meth:`get_config` output."""
        return cls(**config)

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.get_config().items())
        return f"{type(self).__name__}({args})"


class MaxNorm(Constraint):
    """Scale weights whose norm along ``axis`` exceeds ``max_value`` back to it.

    Args:
        max_value: The largest norm allowed (Keras's default 2).
        axis: Axis (or axes) of the norm; 0 = the weights into each unit.

    Example:
        >>> import torch
        >>> MaxNorm(1.0)(torch.tensor([[3.0], [4.0]])).flatten().tolist()
        [0.6000000238418579, 0.800000011920929]
    """

    def __init__(self, max_value: float = 2, axis: int | list[int] = 0) -> None:
        self.max_value, self.axis = max_value, axis

    def __call__(self, w: torch.Tensor) -> torch.Tensor:
        """The projected weight."""
        norms = _norms(w, self.axis)
        return w * (norms.clamp(0, self.max_value) / (_EPSILON + norms))

    def get_config(self) -> dict[str, Any]:
        """Constructor arguments that rebuild this object."""
        return {"max_value": self.max_value, "axis": self.axis}


class NonNeg(Constraint):
    """Set negative weights to zero.

    Example:
        >>> import torch
        >>> NonNeg()(torch.tensor([-0.5, 0.5])).tolist()
        [0.0, 0.5]
    """

    def __call__(self, w: torch.Tensor) -> torch.Tensor:
        """The projected weight."""
        return w.clamp(min=0)


class UnitNorm(Constraint):
    """Divide weights by their norm along ``axis`` (plus Keras's epsilon 1e-7).

    Example:
        >>> import torch
        >>> UnitNorm()(torch.tensor([[3.0], [4.0]])).flatten().tolist()
        [0.6000000238418579, 0.800000011920929]
    """

    def __init__(self, axis: int | list[int] = 0) -> None:
        self.axis = axis

    def __call__(self, w: torch.Tensor) -> torch.Tensor:
        """The projected weight."""
        return w / (_EPSILON + _norms(w, self.axis))

    def get_config(self) -> dict[str, Any]:
        """Constructor arguments that rebuild this object."""
        return {"axis": self.axis}


class MinMaxNorm(Constraint):
    """Move the norm along ``axis`` into ``[min_value, max_value]`` at ``rate``.

    The new norm is ``rate * clip(norm, min_value, max_value) + (1 - rate) * norm``.

    Example:
        >>> import torch
        >>> projected = MinMaxNorm(1.0, 2.0)(torch.tensor([[0.3], [0.4]]))
        >>> [round(v, 4) for v in projected.flatten().tolist()]
        [0.6, 0.8]
    """

    def __init__(
        self,
        min_value: float = 0.0,
        max_value: float = 1.0,
        rate: float = 1.0,
        axis: int | list[int] = 0,
    ) -> None:
        self.min_value, self.max_value, self.rate, self.axis = min_value, max_value, rate, axis

    def __call__(self, w: torch.Tensor) -> torch.Tensor:
        """The projected weight."""
        norms = _norms(w, self.axis)
        desired = self.rate * norms.clamp(self.min_value, self.max_value) + (1 - self.rate) * norms
        return w * (desired / (_EPSILON + norms))

    def get_config(self) -> dict[str, Any]:
        """Constructor arguments that rebuild this object."""
        return {
            "min_value": self.min_value,
            "max_value": self.max_value,
            "rate": self.rate,
            "axis": self.axis,
        }


max_norm, non_neg, unit_norm, min_max_norm = MaxNorm, NonNeg, UnitNorm, MinMaxNorm

_CLASSES: dict[str, type[Constraint]] = {
    cls.__name__: cls for cls in (Constraint, MaxNorm, NonNeg, UnitNorm, MinMaxNorm)
}
_STRINGS: dict[str, type[Constraint]] = {
    "constraint": Constraint,
    "max_norm": MaxNorm,
    "non_neg": NonNeg,
    "unit_norm": UnitNorm,
    "min_max_norm": MinMaxNorm,
    **_CLASSES,
}


def serialize(constraint: Any) -> Any:
    """Keras's serialized form: ``{"module", "class_name", "config", "registered_name"}``.

    A plain function is returned as is (usable in memory, not in a JSON artifact).

    Example:
        >>> serialize(NonNeg())
        {'module': 'keras.constraints', 'class_name': 'NonNeg', 'config': {}, 'registered_name': None}
    """  # noqa: E501
    return to_keras_dict(constraint, _CLASSES, "keras.constraints")


def deserialize(config: dict[str, Any] | str, argument: str = "constraint") -> Constraint:
    """Build a constraint from :func:`serialize` output (Keras's format) or a name.

    Raises:
        ConfigError: for an unknown class name or bad arguments.
    """
    if isinstance(config, str):
        if config not in _STRINGS:
            raise ConfigError(
                f"{argument}={config!r} is not a known constraint; use 'max_norm', "
                "'non_neg', 'unit_norm', 'min_max_norm' or an object such as "
                "rnncast.constraints.MaxNorm(3)."
            )
        return _STRINGS[config]()
    return from_keras_dict(config, _CLASSES, "constraint", argument)


def get(identifier: Any, argument: str = "constraint") -> Constraint | Callable | None:
    """A constraint from a name, a config dict, an instance, a class or a function.

    Raises:
        ConfigError: naming the argument and the value it cannot interpret.

    Example:
        >>> get("non_neg")
        NonNeg()
    """
    if identifier is None:
        return None
    if isinstance(identifier, str | dict):
        return deserialize(identifier, argument)
    if isinstance(identifier, type) and issubclass(identifier, Constraint):
        return identifier()
    if callable(identifier):
        return identifier
    raise ConfigError(
        f"{argument}={identifier!r} is not a constraint; give 'max_norm', 'non_neg', "
        "'unit_norm', 'min_max_norm', a rnncast.constraints object or a function."
    )


def _norms(w: torch.Tensor, axis: int | list[int]) -> torch.Tensor:
    dims = tuple(axis) if isinstance(axis, list | tuple) else axis
    return w.square().sum(dim=dims, keepdim=True).sqrt()

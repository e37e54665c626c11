"""Weight and activity penalties, Keras's ``keras.regularizers``: L1, L2, L1L2.

A layer given ``kernel_regularizer=L2(0.01)`` adds ``0.01 * sum(kernel**2)``
to the training loss, as in Keras 3: the penalty is part of the ``loss`` (and
``val_loss``) that ``fit`` and ``evaluate`` report. Regularizers see every
weight in Keras's layout and shape (an LSTM kernel is ``(features,
4 * units)``), so a custom regularizer written for Keras works unchanged.
Strings work too: ``"l1"`` and ``"l2"`` use the factor 0.01; ``"l1_l2"`` uses
0.01 for both (Keras's documented default; Keras 3.15 itself rejects that
string), while ``"l1l2"`` and ``"L1L2"`` give Keras's ``L1L2()`` with zero
factors.

Example:
    >>> import torch
    >>> from rnncast import regularizers
    >>> float(regularizers.L2(2.0)(torch.ones(5, 5)))
    50.0
    >>> regularizers.get("l1").get_config()
    {'l1': 0.009999999776482582}
    >>> regularizers.serialize(regularizers.l1_l2(l1=1e-5, l2=1e-4))["config"]
    {'l1': 1e-05, 'l2': 0.0001}
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import torch

from rnncast._internal.keras_objects import from_keras_dict, to_keras_dict
from rnncast.exceptions import ConfigError

__all__ = [
    "L1",
    "L1L2",
    "L2",
    "Regularizer",
    "deserialize",
    "get",
    "l1",
    "l1_l2",
    "l2",
    "serialize",
]


class Regularizer:
    """Base class: a callable from a weight tensor to a scalar penalty (Keras's ``Regularizer``).

    Subclasses implement ``__call__`` and ``get_config``. Any plain function
    ``f(weight) -> scalar tensor`` is accepted where a regularizer is, too.
    """

    def __call__(self, x: torch.Tensor) -> torch.Tensor:
        """The penalty of ``x`` (the base class adds nothing)."""
        return x.new_zeros(())

    def get_config(self) -> dict[str, Any]:
        """Constructor arguments that rebuild this regularizer."""
        return {}

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> Regularizer:
        """Create a regularizer from :meth:`get_config` output."""
        return cls(**config)

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.get_config().items())
        return f"{type(self).__name__}({args})"


class L1L2(Regularizer):
    """``l1 * sum(abs(x)) + l2 * sum(x**2)``; both factors default to 0, as in Keras 3.

    Args:
        l1: L1 factor (>= 0).
        l2: L2 factor (>= 0).

    Example:
        >>> import torch
        >>> float(L1L2(l1=0.5, l2=1.0)(torch.tensor([1.0, -2.0])))
        6.5
    """

    def __init__(self, l1: float = 0.0, l2: float = 0.0) -> None:
        self.l1 = _factor(0.0 if l1 is None else l1, "l1")
        self.l2 = _factor(0.0 if l2 is None else l2, "l2")

    def __call__(self, x: torch.Tensor) -> torch.Tensor:
        """The penalty of ``x``, a scalar tensor."""
        penalty = x.new_zeros(())
        if self.l1:
            penalty = penalty + self.l1 * x.abs().sum()
        if self.l2:
            penalty = penalty + self.l2 * x.square().sum()
        return penalty

    def get_config(self) -> dict[str, Any]:
        """Constructor arguments that rebuild this object."""
        return {"l1": self.l1, "l2": self.l2}


class L1(Regularizer):
    """``l1 * sum(abs(x))`` (Keras's ``L1``; ``"l1"`` means ``L1(0.01)``).

    Keras keeps the factor as a float32 tensor, so its config shows the
    float32 value (``0.01`` -> ``0.009999999776482582``); rnncast does the same.

    Example:
        >>> import torch
        >>> float(L1(0.5)(torch.tensor([1.0, -2.0])))
        1.5
    """

    def __init__(self, l1: float = 0.01) -> None:
        value = _factor(0.01 if l1 is None else l1, "l1")
        self.l1 = float(torch.tensor(value, dtype=torch.float32))

    def __call__(self, x: torch.Tensor) -> torch.Tensor:
        """The penalty of ``x``, a scalar tensor."""
        return self.l1 * x.abs().sum()

    def get_config(self) -> dict[str, Any]:
        """Constructor arguments that rebuild this object."""
        return {"l1": self.l1}


class L2(Regularizer):
    """``l2 * sum(x**2)`` (Keras's ``L2``; ``"l2"`` means ``L2(0.01)``).

    Example:
        >>> import torch
        >>> float(L2(0.5)(torch.tensor([1.0, -2.0])))
        2.5
    """

    def __init__(self, l2: float = 0.01) -> None:
        self.l2 = _factor(0.01 if l2 is None else l2, "l2")

    def __call__(self, x: torch.Tensor) -> torch.Tensor:
        """The penalty of ``x``, a scalar tensor."""
        return self.l2 * x.square().sum()

    def get_config(self) -> dict[str, Any]:
        """Constructor arguments that rebuild this object."""
        return {"l2": self.l2}


# Keras's lower-case aliases are the classes themselves (Keras 3: l1_l2() has zero factors).
l1, l2, l1_l2 = L1, L2, L1L2

_CLASSES: dict[str, type[Regularizer]] = {cls.__name__: cls for cls in (Regularizer, L1, L2, L1L2)}
_STRINGS: dict[str, Callable[[], Regularizer]] = {
    "l1": L1,
    "l2": L2,
    "l1l2": L1L2,  # Keras 3's snake-case name of L1L2: zero factors
    "l1_l2": lambda: L1L2(l1=0.01, l2=0.01),  # Keras's documented string default
    "regularizer": Regularizer,
    **{name: cls for name, cls in _CLASSES.items()},
}


def serialize(regularizer: Any) -> Any:
    """Keras's serialized form: ``{"module", "class_name", "config", "registered_name"}``.

    A plain function (or a class rnncast does not know) is returned as is:
    it works in memory but cannot be written to a JSON artifact.

    Example:
        >>> serialize(L2(0.01))
        {'module': 'keras.regularizers', 'class_name': 'L2', 'config': {'l2': 0.01}, 'registered_name': None}
    """  # noqa: E501
    return to_keras_dict(regularizer, _CLASSES, "keras.regularizers")


def deserialize(config: dict[str, Any] | str, argument: str = "regularizer") -> Regularizer:
    """Build a regularizer from :func:`serialize` output (Keras's format) or a name.

    Raises:
        ConfigError: for an unknown class name or bad factors.
    """
    if isinstance(config, str):
        return _from_string(config, argument)
    return from_keras_dict(
        config, _CLASSES, "regularizer (or the strings 'l1', 'l2', 'l1_l2')", argument
    )


def get(identifier: Any, argument: str = "regularizer") -> Regularizer | Callable | None:
    """A regularizer from a name, a config dict, an instance, a class or a function.

    Args:
        identifier: ``None``, ``"l1"``, ``"l2"``, ``"l1_l2"``, ``"L2"``, a
            :func:`serialize` dict, a :class:`Regularizer` (class or
            instance) or any ``f(weight) -> scalar`` function.
        argument: The layer argument being resolved, for error messages.

    Raises:
        ConfigError: naming the argument and the value it cannot interpret.

    Example:
        >>> get("l2")
        L2(l2=0.01)
        >>> get(None) is None
        True
    """
    if identifier is None:
        return None
    if isinstance(identifier, str | dict):
        return deserialize(identifier, argument)
    if isinstance(identifier, type) and issubclass(identifier, Regularizer):
        return identifier()
    if callable(identifier):
        return identifier
    raise ConfigError(
        f"{argument}={identifier!r} is not a regularizer; give 'l1', 'l2', 'l1_l2', "
        "a rnncast.regularizers object such as L2(0.01), or a function of the weight."
    )


def _from_string(name: str, argument: str) -> Regularizer:
    if name not in _STRINGS:
        raise ConfigError(
            f"{argument}={name!r} is not a known regularizer; use 'l1', 'l2', 'l1_l2' or "
            "an object such as rnncast.regularizers.L2(0.01)."
        )
    return _STRINGS[name]()


def _factor(value: Any, name: str) -> float:
    """Keras's check: a finite, non-negative number."""
    if (
        isinstance(value, bool)
        or not isinstance(value, int | float)
        or not math.isfinite(value)
        or value < 0
    ):
        raise ConfigError(f"{name}={value!r} must be a finite number >= 0.")
    return float(value)

"""Argument checks shared by layers, data, training and evaluation."""

from __future__ import annotations

import numbers
from typing import Any

import numpy as np

from rnncast.exceptions import ConfigError


def positive_int(value: Any, name: str, unit: str = "") -> int:
    """``value`` as an int if it is a positive integer, else ``ConfigError`` naming ``name``.

    Example:
        >>> positive_int(np.int64(3), "units")
        3
    """
    if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < 1:
        raise ConfigError(f"{name} must be a positive integer{unit}, got {value!r}.")
    return int(value)


def count(value: Any, name: str) -> int:
    """``value`` as an int if it is an integer ``>= 0``, else ``ConfigError`` naming ``name``.

    Example:
        >>> count(0, "epochs")
        0
    """
    if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < 0:
        raise ConfigError(f"{name} must be an integer >= 0, got {value!r}.")
    return int(value)


def fit_arguments(
    epochs: Any, initial_epoch: Any, validation_split: Any, callbacks: Any, shuffle: Any
) -> None:
    """Check :meth:`Sequential.fit`'s scalar arguments before any data is touched.

    Raises:
        ConfigError: naming the argument and the value.

    Example:
        >>> fit_arguments(2, 0, 0.0, None, True)
        >>> fit_arguments("3", 0, 0.0, None, True)
        Traceback (most recent call last):
        ...
        rnncast.exceptions.ConfigError: epochs must be an integer >= 0, got '3'.
    """
    count(epochs, "epochs")
    count(initial_epoch, "initial_epoch")
    if isinstance(validation_split, bool) or not isinstance(validation_split, numbers.Real):
        raise ConfigError(
            f"validation_split must be in (0, 1) (a number), got {validation_split!r}."
        )
    if callbacks is not None and not isinstance(callbacks, list | tuple):
        raise ConfigError(
            f"callbacks must be a list of rnncast.callbacks objects, got {callbacks!r}."
        )
    if not isinstance(shuffle, bool | np.bool_) and shuffle != "batch":
        raise ConfigError(f"shuffle must be True, False or 'batch', got {shuffle!r}.")

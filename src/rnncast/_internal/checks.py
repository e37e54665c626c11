"""Argument checks shared by layers, data, training and evaluation."""

from __future__ import annotations

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

"""Keras's ``keras.backend`` functions that tutorials call: ``clear_session`` and friends.

rnncast runs on PyTorch in float32, so ``backend()`` is ``"torch"`` and
``floatx()`` is ``"float32"``.

Example:
    >>> from rnncast import backend
    >>> backend.clear_session()
    >>> backend.get_uid("lstm"), backend.get_uid("lstm")
    (1, 2)
    >>> backend.backend(), backend.floatx(), backend.epsilon()
    ('torch', 'float32', 1e-07)
"""

from __future__ import annotations

import gc
from collections import defaultdict

import torch

from rnncast.exceptions import ConfigError

_EPSILON = 1e-7
_UIDS: defaultdict[str, int] = defaultdict(int)


def clear_session(free_memory: bool = True) -> None:
    """Reset rnncast's global state, as ``keras.backend.clear_session()`` does.

    Name counters start again (:func:`get_uid` returns 1 for every prefix).
    Layer names in rnncast are already numbered per model: every new
    ``Sequential`` names its layers ``lstm``, ``lstm_1``, ``dense`` ..., with
    or without this call, so a Keras script's ``clear_session()`` between
    models keeps the names it expects. With ``free_memory=True`` Python's
    garbage collector runs and PyTorch's cached GPU memory is released.

    Args:
        free_memory: Collect garbage and empty the CUDA cache (Keras's default).

    Example:
        >>> from rnncast import Sequential, backend
        >>> from rnncast.layers import LSTM, Dense
        >>> first = Sequential([LSTM(4, input_shape=(5, 1)), Dense(1)])
        >>> backend.clear_session()
        >>> second = Sequential([LSTM(4, input_shape=(5, 1)), Dense(1)])
        >>> [layer.name for layer in second.layers]
        ['lstm', 'dense']
    """
    _UIDS.clear()
    if free_memory:
        gc.collect()
        if torch.cuda.is_available():
            torch.cuda.empty_cache()


def get_uid(prefix: str = "") -> int:
    """1, 2, 3 ... on successive calls with the same ``prefix`` (``keras.backend.get_uid``).

    Example:
        >>> clear_session()
        >>> [get_uid("dense") for _ in range(3)]
        [1, 2, 3]
    """
    _UIDS[prefix] += 1
    return _UIDS[prefix]


def backend() -> str:
    """The name of the backend: always ``"torch"``."""
    return "torch"


def floatx() -> str:
    """The float type of weights and computations: always ``"float32"``."""
    return "float32"


def set_floatx(value: str) -> None:
    """Only ``"float32"`` is supported; anything else is a ConfigError.

    Example:
        >>> set_floatx("float32")
    """
    if value != "float32":
        raise ConfigError(
            f"set_floatx({value!r}) is not supported: rnncast computes in float32; remove the call."
        )


def epsilon() -> float:
    """The fuzz factor of numeric expressions (Keras's default 1e-7)."""
    return _EPSILON


def set_epsilon(value: float) -> None:
    """Only Keras's default 1e-7 is supported (rnncast's MAPE uses it); else a ConfigError.

    Example:
        >>> set_epsilon(1e-7)
    """
    if float(value) != _EPSILON:
        raise ConfigError(
            f"set_epsilon({value!r}) is not supported: rnncast's metrics use Keras's "
            "default 1e-7; remove the call."
        )

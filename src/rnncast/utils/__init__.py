"""Keras's ``keras.utils``: seeding, ``PyDataset``, timeseries windows and ``to_categorical``.

Example:
    >>> import torch
    >>> from rnncast.utils import set_random_seed
    >>> set_random_seed(7); a = torch.rand(2)
    >>> set_random_seed(7); bool((a == torch.rand(2)).all())
    True
"""

from __future__ import annotations

import random
from typing import Any

import numpy as np
import torch

from rnncast.exceptions import DataError
from rnncast.utils.sequences import PyDataset, Sequence, timeseries_dataset_from_array


def set_random_seed(seed: int) -> None:
    """Seed Python's, numpy's and torch's global random generators (CPU and CUDA).

    Args:
        seed: Any integer; numpy receives ``seed % 2**32``.
    """
    random.seed(seed)
    np.random.seed(seed % 2**32)  # noqa: NPY002 - users' legacy np.random calls
    torch.manual_seed(seed)


set_seed = set_random_seed  # the name rnncast 0.1 used; kept as an alias


def to_categorical(x: Any, num_classes: int | None = None) -> np.ndarray:
    """One-hot encode integer class labels, as Keras's ``keras.utils.to_categorical``.

    A trailing axis of size 1 is dropped first (``(n, 1)`` labels give
    ``(n, num_classes)``), and the result is float64, as in Keras.

    Args:
        x: Integer labels, e.g. ``(n,)``.
        num_classes: Number of classes (default: the largest label + 1).

    Returns:
        ``(*x.shape, num_classes)`` array of zeros and ones.

    Raises:
        DataError: for a negative label or one not below ``num_classes``.

    Example:
        >>> to_categorical([0, 2, 1])
        array([[1., 0., 0.],
               [0., 0., 1.],
               [0., 1., 0.]])
    """
    labels = np.asarray(x)
    if labels.dtype.kind == "f" and not np.array_equal(labels, np.round(labels)):
        raise DataError("to_categorical takes integer class labels; got fractional values.")
    labels = labels.astype("int64")
    shape = labels.shape[:-1] if labels.ndim > 1 and labels.shape[-1] == 1 else labels.shape
    flat = labels.reshape(-1)
    classes = int(flat.max()) + 1 if num_classes is None and flat.size else int(num_classes or 0)
    bad = (flat < 0) | (flat >= classes)
    if bad.any():
        raise DataError(
            f"to_categorical: label {int(flat[bad][0])} is outside 0 .. {classes - 1}; "
            "give num_classes= larger than the largest label, and labels from 0."
        )
    categorical = np.zeros((flat.size, classes))
    categorical[np.arange(flat.size), flat] = 1
    return categorical.reshape((*shape, classes))


__all__ = [
    "PyDataset",
    "Sequence",
    "set_random_seed",
    "set_seed",
    "timeseries_dataset_from_array",
    "to_categorical",
]

"""Keras's ``keras.utils``: reproducible seeding, ``PyDataset`` and timeseries windows.

Example:
    >>> import torch
    >>> from rnncast.utils import set_random_seed
    >>> set_random_seed(7); a = torch.rand(2)
    >>> set_random_seed(7); bool((a == torch.rand(2)).all())
    True
"""

from __future__ import annotations

import random

import numpy as np
import torch

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

__all__ = [
    "PyDataset",
    "Sequence",
    "set_random_seed",
    "set_seed",
    "timeseries_dataset_from_array",
]

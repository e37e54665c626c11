"""Small helpers: reproducible seeding.

Example:
    >>> import torch
    >>> from rnncast.utils import set_seed
    >>> set_seed(7); a = torch.rand(2)
    >>> set_seed(7); bool((a == torch.rand(2)).all())
    True
"""

from __future__ import annotations

import random

import numpy as np
import torch


def set_seed(seed: int) -> None:
    """Seed Python's, numpy's and torch's global random generators (CPU and CUDA)."""
    random.seed(seed)
    np.random.seed(seed % 2**32)  # noqa: NPY002 - users' legacy np.random calls
    torch.manual_seed(seed)

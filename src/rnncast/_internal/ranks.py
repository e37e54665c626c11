"""Which process of a ``torch.distributed`` job this is: only rank 0 writes files and text.

Outside a job (no process group) every process is rank 0 of 1, so single-process
code paths never change.
"""

from __future__ import annotations

import torch.distributed as dist


def rank() -> int:
    """This process's rank in the default process group, 0 without one.

    Example:
        >>> rank()
        0
    """
    return dist.get_rank() if dist.is_available() and dist.is_initialized() else 0


def world_size() -> int:
    """Processes in the default process group, 1 without one.

    Example:
        >>> world_size()
        1
    """
    return dist.get_world_size() if dist.is_available() and dist.is_initialized() else 1


def is_main_process() -> bool:
    """Whether this process writes files and prints progress (rank 0, or no job at all).

    Example:
        >>> is_main_process()
        True
    """
    return rank() == 0

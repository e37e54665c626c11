"""The one place library code writes text for people: epochs, callbacks, folds.

Library modules call :func:`write` instead of ``print``. The text goes to
``sys.stdout`` (looked up at each call, as Keras prints, so notebooks and
pytest's capture see it) unless :func:`redirect` points it elsewhere; the
``rnncast`` command sends it to ``sys.stderr`` so results on stdout stay clean.
In a ``torch.distributed`` job (``torchrun``) only rank 0 writes.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TextIO

from rnncast._internal import ranks

_target: TextIO | None = None  # None: sys.stdout at the time of writing


def stream() -> TextIO:
    """The stream :func:`write` writes to now.

    Example:
        >>> stream() is sys.stdout
        True
    """
    return _target if _target is not None else sys.stdout


def write(text: str = "", end: str = "\n") -> None:
    """Write ``text`` and ``end`` to :func:`stream` and flush, so progress shows at once.

    Ranks other than 0 of a ``torch.distributed`` job write nothing.

    Example:
        >>> write("Epoch 1/3")
        Epoch 1/3
    """
    if not ranks.is_main_process():
        return
    target = stream()
    target.write(text + end)
    target.flush()


@contextmanager
def redirect(target: TextIO) -> Iterator[TextIO]:
    r"""Send :func:`write` to ``target`` inside the ``with`` block, then restore the previous one.

    Example:
        >>> import io
        >>> buffer = io.StringIO()
        >>> with redirect(buffer):
        ...     write("fold 1/2")
        >>> buffer.getvalue()
        'fold 1/2\n'
    """
    global _target
    previous, _target = _target, target
    try:
        yield target
    finally:
        _target = previous

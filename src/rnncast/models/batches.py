"""Turn user arrays into tensors that batches are sliced from without copying every window.

A window view from :class:`rnncast.data.Windowizer` becomes a strided torch
view of the same memory; a :class:`rnncast.data.Windows` object becomes a
strided view over all rows plus its start indices. A batch is then one
indexing operation (``source[idx]``) that copies only that batch.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import torch

from rnncast._internal.windows import Windows
from rnncast.exceptions import DataError, ShapeError


@dataclass
class BatchSource:
    """``rows[index[i]]`` (or ``rows[i]`` without index) is sample ``i``."""

    rows: torch.Tensor  # (n_positions, *sample_shape), possibly a strided view
    index: torch.Tensor | None = None  # (n_samples,) int64

    def __len__(self) -> int:
        return len(self.index) if self.index is not None else len(self.rows)

    @property
    def sample_shape(self) -> tuple[int, ...]:
        """Shape of one sample, e.g. ``(lookback, features)``."""
        return tuple(self.rows.shape[1:])

    def take(self, selection: torch.Tensor | slice) -> torch.Tensor:
        """A contiguous float32 batch for ``selection`` (int64 positions or a slice)."""
        if self.index is not None:
            selection = self.index[selection]
        return self.rows[selection].contiguous()

    def split(self, at: int) -> tuple[BatchSource, BatchSource]:
        """The first ``at`` samples and the rest (for ``validation_split``)."""
        if self.index is not None:
            return BatchSource(self.rows, self.index[:at]), BatchSource(self.rows, self.index[at:])
        return BatchSource(self.rows[:at]), BatchSource(self.rows[at:])


def as_source(x: Any, name: str = "x") -> BatchSource:
    """Wrap ``x`` (numpy array, window view, ``Windows`` or tensor) without copying windows."""
    if isinstance(x, Windows):
        values = torch.from_numpy(_float32(x.values))
        strided = values.unfold(0, x.lookback, 1).transpose(1, 2)  # (positions, lookback, F)
        return BatchSource(strided, torch.from_numpy(x.starts))
    if isinstance(x, torch.Tensor):
        return BatchSource(x.detach().to(torch.float32))
    try:
        array = np.asarray(x)
    except (TypeError, ValueError) as err:
        raise DataError(f"{name} must be a numeric array, got {type(x).__name__}.") from err
    if not np.issubdtype(array.dtype, np.number):
        raise DataError(f"{name} must be numeric, got dtype {array.dtype}.")
    return BatchSource(_strided_tensor(array))


def as_targets(y: Any, n_samples: int) -> torch.Tensor:
    """Targets as a float32 ``(n, outputs)`` tensor; 1-D ``y`` becomes one column.

    Integer class labels (for sparse categorical crossentropy) are kept exactly
    as float32 values; the loss turns them back into indices.
    """
    try:
        array = np.asarray(y, dtype=np.float32)
    except (TypeError, ValueError) as err:
        raise DataError(f"y must be a numeric array, got {type(y).__name__}.") from err
    if array.ndim == 1:
        array = array[:, None]
    if len(array) != n_samples:
        raise ShapeError(
            f"x has {n_samples} samples but y has {len(array)}; they must match "
            "one to one (cut both with the same Windowizer call)."
        )
    return torch.from_numpy(np.ascontiguousarray(array))


def check_class_labels(targets: torch.Tensor, n_classes: int, name: str = "y") -> None:
    """Check ``(n, 1)`` targets are integer class indices in ``[0, n_classes)``.

    Sparse categorical crossentropy takes one label per sample, so ``y`` of
    shape ``(n,)`` or ``(n, 1)`` meets a model output of ``(n, n_classes)``.

    Raises:
        ShapeError: when ``y`` has more than one column.
        DataError: when a label is not an integer in range, naming the first such sample.
    """
    if targets.shape[1:] != (1,):
        raise ShapeError(
            f"sparse categorical crossentropy takes one integer class per sample, (n,) or "
            f"(n, 1), but {name} has shape {tuple(targets.shape)}; for one-hot targets "
            "use loss='categorical_crossentropy'."
        )
    labels = targets[:, 0]  # (n,)
    bad = (labels != labels.round()) | (labels < 0) | (labels >= n_classes) | ~labels.isfinite()
    if bad.any():
        first = int(bad.nonzero()[0])
        raise DataError(
            f"{name}[{first}] = {float(labels[first])!r} is not a class index in "
            f"0..{n_classes - 1}; the model's last layer has {n_classes} outputs "
            f"(make it Dense(number of classes)) and labels must be integers."
        )


def _strided_tensor(array: np.ndarray) -> torch.Tensor:
    """A float32 tensor sharing ``array``'s memory when possible (read-only views included)."""
    root = array  # walk to the array that owns the memory (through numpy's stride-trick wrappers)
    while getattr(root, "base", None) is not None:
        root = root.base
    shareable = (
        isinstance(root, np.ndarray)
        and array.dtype == np.float32
        and root.dtype == np.float32
        and root.flags.c_contiguous
        and root.flags.writeable
        and all(s >= 0 and s % 4 == 0 for s in array.strides)
    )
    if not shareable:
        return torch.from_numpy(np.ascontiguousarray(array, dtype=np.float32))
    offset = array.__array_interface__["data"][0] - root.__array_interface__["data"][0]
    flat = torch.from_numpy(root.reshape(-1))
    return torch.as_strided(flat, array.shape, [s // 4 for s in array.strides], offset // 4)


def _float32(values: np.ndarray) -> np.ndarray:
    if values.dtype == np.float32 and values.flags.writeable and values.flags.c_contiguous:
        return values
    return np.ascontiguousarray(values, dtype=np.float32).copy()


def check_finite(source: BatchSource, targets: torch.Tensor, chunk: int = 4096) -> None:
    """Raise ``DataError`` naming the first sample with NaN/inf in x or y."""
    bad_y = ~torch.isfinite(targets).all(dim=1)
    if bad_y.any():
        raise DataError(
            f"y has NaN or inf values, first at sample {int(bad_y.nonzero()[0])}; "
            "clean the data (rc.data.validate) before windowing."
        )
    for start in range(0, len(source), chunk):
        batch = source.take(slice(start, start + chunk))
        bad = ~torch.isfinite(batch.reshape(len(batch), -1)).all(dim=1)
        if bad.any():
            raise DataError(
                f"x has NaN or inf values, first at sample "
                f"{start + int(bad.nonzero()[0])}; clean the data first."
            )

"""Turn user arrays into tensors that batches are sliced from without copying every window.

A window view from :class:`rnncast.data.Windowizer` becomes a strided torch
view of the same memory; a :class:`rnncast.data.Windows` object becomes a
strided view over all rows plus its start indices. A batch is then one
indexing operation (``source[idx]``) that copies only that batch.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch

from rnncast._internal.windows import Windows
from rnncast.exceptions import ConfigError, DataError, ShapeError

# One batch: inputs, targets (None in predict) and per-sample weights (None when unweighted)
Batch = tuple[torch.Tensor, torch.Tensor | None, torch.Tensor | None]


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

    def take(self, selection: torch.Tensor | slice, pin: bool = False) -> torch.Tensor:
        """A contiguous float32 batch for ``selection`` (int64 positions or a slice).

        With ``pin=True`` the batch is cut straight into pinned (page-locked)
        host memory, ready for a ``non_blocking`` copy to a CUDA device.
        """
        if self.index is not None:
            selection = self.index[selection]
        if pin:
            return pinned(self.rows, selection)
        return self.rows[selection].contiguous()

    def split(self, at: int) -> tuple[BatchSource, BatchSource]:
        """The first ``at`` samples and the rest (for ``validation_split``)."""
        if self.index is not None:
            return BatchSource(self.rows, self.index[:at]), BatchSource(self.rows, self.index[at:])
        return BatchSource(self.rows[:at]), BatchSource(self.rows[at:])

    def with_feature_axis(self) -> BatchSource:
        """``(n, timesteps)`` samples as ``(n, timesteps, 1)``: a view, nothing copied."""
        return BatchSource(self.rows.unsqueeze(-1), self.index)


class ArrayFeed:
    """Batches sliced out of in-memory arrays: the zero-copy fast path of ``fit``.

    Args:
        data: The inputs.
        targets: ``(n, outputs)`` targets, or ``None`` (``predict``).
        weights: ``(n,)`` sample weights, or ``None``.
        batch_size: Samples per batch (the last one may be shorter).
        shuffle: Draw a new order for every pass over the data.
    """

    def __init__(
        self,
        data: BatchSource,
        targets: torch.Tensor | None,
        weights: torch.Tensor | None = None,
        batch_size: int = 32,
        shuffle: bool = False,
    ) -> None:
        self.data, self.targets, self.weights = data, targets, weights
        self.batch_size, self.shuffle = batch_size, shuffle
        self.pin_memory = False  # cut batches into pinned memory (set for CUDA models)

    @property
    def num_batches(self) -> int:
        """Batches in one pass over the data."""
        return math.ceil(len(self.data) / self.batch_size)

    def new_pass(self, generator: torch.Generator | None = None) -> Iterator[Batch]:
        """One pass over the data, in a new random order when shuffling."""
        order = (
            torch.randperm(len(self.data), generator=generator)
            if self.shuffle and generator is not None
            else None
        )
        targets, weights, size = self.targets, self.weights, self.batch_size
        if self.pin_memory:
            yield from self._pinned_pass(order)
            return
        for start in range(0, len(self.data), size):
            chosen = slice(start, start + size) if order is None else order[start : start + size]
            yield (
                self.data.take(chosen),
                None if targets is None else targets[chosen],
                None if weights is None else weights[chosen],
            )

    def _pinned_pass(self, order: torch.Tensor | None) -> Iterator[Batch]:
        """:meth:`new_pass` with every batch cut into pinned memory (for a CUDA model)."""
        targets, weights, size = self.targets, self.weights, self.batch_size
        for start in range(0, len(self.data), size):
            chosen = slice(start, start + size) if order is None else order[start : start + size]
            yield (
                self.data.take(chosen, pin=True),
                None if targets is None else pinned(targets, chosen),
                None if weights is None else pinned(weights, chosen),
            )

    def on_epoch_begin(self) -> None:
        """Nothing to do for arrays (the hook of Python datasets)."""

    def on_epoch_end(self) -> None:
        """Nothing to do for arrays (the hook of Python datasets)."""

    def split(self, at: int) -> tuple[ArrayFeed, ArrayFeed]:
        """The first ``at`` samples and the rest (Keras's ``validation_split``)."""
        first, rest = self.data.split(at)
        targets, weights = self.targets, self.weights
        parts = (
            ArrayFeed(
                first,
                None if targets is None else targets[:at],
                None if weights is None else weights[:at],
                self.batch_size,
                self.shuffle,
            ),
            ArrayFeed(
                rest,
                None if targets is None else targets[at:],
                None if weights is None else weights[at:],
                self.batch_size,
            ),
        )
        for part in parts:
            part.pin_memory = self.pin_memory
        return parts


def pinned(rows: torch.Tensor, selection: torch.Tensor | slice) -> torch.Tensor:
    """``rows[selection]`` copied once, straight into pinned host memory.

    PyTorch's caching host allocator reuses the pinned blocks, and keeps a
    block alive until the asynchronous copy that reads it has finished.
    """
    count = len(range(*selection.indices(len(rows)))) if isinstance(selection, slice) else None
    shape = (count if count is not None else len(selection), *rows.shape[1:])
    out = torch.empty(shape, dtype=rows.dtype, pin_memory=True)  # (batch, *sample_shape)
    if isinstance(selection, slice):
        return out.copy_(rows[selection])
    return torch.index_select(rows, 0, selection, out=out)


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


def as_weights(sample_weight: Any, n_samples: int, name: str = "sample_weight") -> torch.Tensor:
    """Per-sample weights as a float32 ``(n,)`` tensor; ``(n, 1)`` is accepted too.

    Raises:
        ShapeError: when there is not one weight per sample.
        DataError: for non-numeric, NaN, inf or negative weights.
    """
    try:
        array = np.asarray(sample_weight, dtype=np.float32)
    except (TypeError, ValueError) as err:
        raise DataError(f"{name} must be numeric, got {type(sample_weight).__name__}.") from err
    if array.ndim == 2 and array.shape[1] == 1:
        array = array[:, 0]
    if array.shape != (n_samples,):
        raise ShapeError(
            f"{name} needs one weight per sample, shape ({n_samples},), got {array.shape}; "
            "rnncast takes one scalar weight per sample (no per-timestep weights)."
        )
    if not np.isfinite(array).all() or (array < 0).any():
        raise DataError(f"{name} must be finite and >= 0; fix or drop the bad weights.")
    return torch.from_numpy(np.ascontiguousarray(array))


def class_weights_to_sample_weights(targets: torch.Tensor, class_weight: Any) -> torch.Tensor:
    """Keras's rule: each sample gets the weight of its class, 1.0 for classes not listed.

    The class of a sample is its target rounded to an integer (one column) or
    the argmax of a one-hot row (several columns).

    Example:
        >>> labels = torch.tensor([[0.0], [1.0], [1.0]])
        >>> class_weights_to_sample_weights(labels, {1: 3.0}).tolist()
        [1.0, 3.0, 3.0]
    """
    if not isinstance(class_weight, dict):
        raise ConfigError(
            "class_weight must be a dict {class index: weight}, got "
            f"{type(class_weight).__name__}."
        )
    if targets.shape[1] == 1:
        classes = torch.round(targets[:, 0]).to(torch.int64)  # (n,)
    else:
        classes = targets.argmax(dim=1)  # (n,) one-hot rows
    table = {int(k): float(v) for k, v in class_weight.items()}
    return torch.tensor([table.get(int(c), 1.0) for c in classes.tolist()], dtype=torch.float32)


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

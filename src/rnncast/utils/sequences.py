"""``PyDataset`` (alias ``Sequence``) and ``timeseries_dataset_from_array``, as in ``keras.utils``.

A :class:`PyDataset` hands out whole batches by index; ``fit``, ``evaluate``
and ``predict`` read it batch by batch and call its ``on_epoch_end`` after
every epoch. :func:`timeseries_dataset_from_array` cuts sliding windows out
of an array and returns them as such a dataset of batches, with the windows,
targets and order Keras 3 gives.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Iterator
from typing import Any

import numpy as np

from rnncast.exceptions import ConfigError


class PyDataset:
    """Datasets that return a whole batch for ``dataset[i]`` (``keras.utils.PyDataset``).

    Subclasses define ``__len__`` (the number of batches) and
    ``__getitem__(i)`` returning ``(x, y)`` or ``(x, y, sample_weight)`` for
    batch ``i``; ``on_epoch_end`` is called after every epoch (to reshuffle,
    say). A dataset without ``__len__`` may define ``num_batches`` instead, or
    return ``None`` from it for an infinite dataset (then pass ``steps_per_epoch``).

    Args:
        workers: Accepted for Keras compatibility; rnncast reads batches in
            the main thread (no worker threads or processes).
        use_multiprocessing: Accepted with no effect, as ``workers``.
        max_queue_size: Accepted with no effect, as ``workers``.

    Example:
        >>> import numpy as np
        >>> class Batches(PyDataset):
        ...     def __init__(self, x, y, batch_size, **kwargs):
        ...         super().__init__(**kwargs)
        ...         self.x, self.y, self.batch_size = x, y, batch_size
        ...     def __len__(self):
        ...         return math.ceil(len(self.x) / self.batch_size)
        ...     def __getitem__(self, i):
        ...         rows = slice(i * self.batch_size, (i + 1) * self.batch_size)
        ...         return self.x[rows], self.y[rows]
        >>> data = Batches(np.zeros((10, 5, 1)), np.zeros(10), batch_size=4, workers=2)
        >>> len(data), data[2][0].shape, data.workers
        (3, (2, 5, 1), 2)
    """

    def __init__(
        self, workers: int = 1, use_multiprocessing: bool = False, max_queue_size: int = 10
    ) -> None:
        self._workers = workers
        self._use_multiprocessing = use_multiprocessing
        self._max_queue_size = max_queue_size

    @property
    def workers(self) -> int:
        """Keras's number of workers (no effect in rnncast)."""
        return getattr(self, "_workers", 1)

    @workers.setter
    def workers(self, value: int) -> None:
        self._workers = value

    @property
    def use_multiprocessing(self) -> bool:
        """Keras's multiprocessing switch (no effect in rnncast)."""
        return getattr(self, "_use_multiprocessing", False)

    @use_multiprocessing.setter
    def use_multiprocessing(self, value: bool) -> None:
        self._use_multiprocessing = value

    @property
    def max_queue_size(self) -> int:
        """Keras's queue size (no effect in rnncast)."""
        return getattr(self, "_max_queue_size", 10)

    @max_queue_size.setter
    def max_queue_size(self, value: int) -> None:
        self._max_queue_size = value

    def __getitem__(self, index: int) -> Any:
        """Batch number ``index``."""
        raise NotImplementedError

    @property
    def num_batches(self) -> int | None:
        """Number of batches (``len(self)``); ``None`` means infinite."""
        if hasattr(self, "__len__"):
            return len(self)
        raise NotImplementedError(
            "define __len__ (the number of batches) or a num_batches property."
        )

    def __iter__(self) -> Iterator[Any]:
        count = self.num_batches
        for index in range(count) if count is not None else itertools.count():
            yield self[index]

    def on_epoch_begin(self) -> None:
        """Called at the start of every epoch."""

    def on_epoch_end(self) -> None:
        """Called at the end of every epoch."""


Sequence = PyDataset  # Keras's older name (keras.utils.Sequence)


class _TimeseriesDataset(PyDataset):
    """Batches of windows at ``starts`` (see :func:`timeseries_dataset_from_array`)."""

    def __init__(
        self,
        data: np.ndarray,
        targets: np.ndarray | None,
        starts: np.ndarray,
        offsets: np.ndarray,
        batch_size: int | None,
    ) -> None:
        super().__init__()
        self.data, self.targets, self.starts, self.offsets = data, targets, starts, offsets
        self.batch_size = batch_size

    def __len__(self) -> int:
        if self.batch_size is None:
            return len(self.starts)
        return math.ceil(len(self.starts) / self.batch_size)

    def __getitem__(self, index: int) -> Any:
        if not 0 <= index < len(self):
            raise IndexError(f"batch {index} is out of range: the dataset has {len(self)}.")
        if self.batch_size is None:
            starts = self.starts[index]  # one window, no batch axis (Keras's batch_size=None)
        else:
            starts = self.starts[index * self.batch_size : (index + 1) * self.batch_size]
        windows = self.data[np.add.outer(starts, self.offsets)]  # (batch, sequence_length, ...)
        if self.targets is None:
            return windows
        return windows, self.targets[starts]

    def __repr__(self) -> str:
        return f"<timeseries dataset: {len(self.starts)} windows, {len(self)} batches>"


def timeseries_dataset_from_array(
    data: Any,
    targets: Any,
    sequence_length: int,
    sequence_stride: int = 1,
    sampling_rate: int = 1,
    batch_size: int | None = 128,
    shuffle: bool = False,
    seed: int | None = None,
    start_index: int | None = None,
    end_index: int | None = None,
    format: str = "tf",
) -> PyDataset:
    """Sliding windows over ``data`` as a dataset of batches (``keras.utils``'s function).

    Window ``i`` starts at row ``start_index + i * sequence_stride`` and takes
    ``sequence_length`` rows, ``sampling_rate`` apart; its target is
    ``targets[start_index + i * sequence_stride]`` (the row where the window
    starts: shift ``targets`` to predict the step after the window, as the
    Keras examples do with ``data[:-10], data[10:]``).

    Args:
        data: Rows ``(timesteps, ...)``: numpy array, list or tensor.
        targets: One target per row, or ``None`` for windows alone.
        sequence_length: Rows per window.
        sequence_stride: Step between the starts of consecutive windows.
        sampling_rate: Step between rows within a window.
        batch_size: Windows per batch (the last may be shorter); ``None``
            gives single windows, as in Keras.
        shuffle: Shuffle the windows once, with ``numpy.random.RandomState(seed)``
            as Keras's first shuffle. Keras (tf.data) shuffles again within a
            buffer of 8 batches, so a shuffled order differs from Keras's; the
            windows are the same.
        seed: Seed of the shuffle.
        start_index: First row used (default 0).
        end_index: Row after the last one used (default ``len(data)``).
        format: Accepted for Keras compatibility (``"tf"`` or ``"grain"``);
            rnncast always returns a :class:`PyDataset` of numpy batches.

    Returns:
        A :class:`PyDataset` whose items are ``(windows, targets)`` batches
        (``windows`` alone without targets); pass it to ``fit``/``predict``.

    Raises:
        ConfigError: for indices, strides or rates out of range (Keras's checks).

    Example:
        >>> import numpy as np
        >>> series = np.arange(10.0)
        >>> dataset = timeseries_dataset_from_array(
        ...     series[:-3], series[3:], sequence_length=3, batch_size=2)
        >>> x, y = dataset[0]
        >>> x.tolist(), y.tolist()
        ([[0.0, 1.0, 2.0], [1.0, 2.0, 3.0]], [3.0, 4.0])
        >>> len(dataset)
        3
    """
    data = np.asarray(data)
    _check_arguments(len(data), start_index, end_index, sampling_rate, sequence_stride, format)
    start = start_index or 0
    end = len(data) if end_index is None else end_index
    count = end - start - (sequence_length - 1) * sampling_rate
    if targets is not None:
        targets = np.asarray(targets)
        count = min(count, len(targets))
    starts = np.arange(0, max(count, 0), sequence_stride)
    if shuffle:
        if seed is None:
            seed = np.random.randint(1e6)  # noqa: NPY002 - Keras draws it this way
        np.random.RandomState(seed).shuffle(starts)  # Keras's exact shuffle
    offsets = np.arange(0, sequence_length * sampling_rate, sampling_rate)  # (sequence_length,)
    if batch_size is not None and batch_size < 1:
        raise ConfigError(f"batch_size must be a positive integer or None, got {batch_size!r}.")
    return _TimeseriesDataset(
        data[start:end],
        None if targets is None else targets[start:end],
        starts,
        offsets,
        batch_size,
    )


def _check_arguments(
    rows: int,
    start_index: int | None,
    end_index: int | None,
    sampling_rate: int,
    sequence_stride: int,
    format: str,
) -> None:
    """Keras's argument checks, as ``ConfigError``."""
    if start_index and not 0 <= start_index < rows:
        raise ConfigError(
            f"start_index={start_index} must be >= 0 and below the {rows} rows of data."
        )
    if end_index:
        if start_index and end_index <= start_index:
            raise ConfigError(f"end_index={end_index} must be above start_index={start_index}.")
        if not 0 < end_index < rows:
            raise ConfigError(f"end_index={end_index} must be in 1..{rows - 1} (data has {rows}).")
    for name, value in (("sampling_rate", sampling_rate), ("sequence_stride", sequence_stride)):
        if not 0 < value < rows:
            raise ConfigError(f"{name}={value} must be positive and below the {rows} rows of data.")
    if format not in ("tf", "grain"):
        raise ConfigError(
            f"format={format!r} must be 'tf' or 'grain' (both give a PyDataset here)."
        )

"""Inputs that are not arrays: generators, torch ``DataLoader``/``Dataset``, ``PyDataset``.

Keras 3's data adapters, for the kinds that exist without TensorFlow. Each
feed yields raw batches; the trainer turns them into tensors (``convert``)
and :class:`EpochIterator` cuts the stream into epochs exactly as Keras's
``EpochIterator`` does:

* without ``steps_per_epoch`` an epoch is one pass over the data; a Python
  generator is read until it is exhausted (it cannot be read twice);
* with ``steps_per_epoch`` an epoch is that many batches, and the next epoch
  goes on where the last one stopped (a new pass starts once a pass is used
  up); an infinite generator needs it;
* running out of data early warns with Keras's message and ends the epoch.

A ``tf.data.Dataset`` is recognised by its class's module (TensorFlow is
never imported) and refused with a one-line ``ConfigError``.
"""

from __future__ import annotations

import math
import types
import warnings
from collections.abc import Callable, Iterator
from typing import Any

import numpy as np
import torch

from rnncast._internal.windows import Windows
from rnncast.exceptions import ConfigError, DataError
from rnncast.models.batches import ArrayFeed, Batch

RAN_OUT = (
    "Your input ran out of data; interrupting training. Make sure that your dataset or "
    "generator can generate at least `steps_per_epoch * epochs` batches."
)


def is_array_like(x: Any) -> bool:
    """Whether ``x`` goes through the array fast path (numpy, tensors, lists, Windows, frames)."""
    return isinstance(x, np.ndarray | torch.Tensor | Windows | list | tuple) or hasattr(
        x, "__array__"
    )


def kind_of(x: Any) -> str:
    """The kind of input: array, dataloader, dataset, pydataset or iterator.

    Raises:
        ConfigError: for a ``tf.data.Dataset`` and for anything else rnncast cannot read.

    Example:
        >>> import numpy as np
        >>> kind_of(np.zeros((2, 3, 1))), kind_of(iter([]))
        ('array', 'iterator')
    """
    if _from_tensorflow(x):
        raise ConfigError(
            f"tf.data datasets ({type(x).__name__}) are not supported: rnncast runs on PyTorch "
            "without TensorFlow; pass numpy arrays, a generator of (x, y) batches, a "
            "torch.utils.data.DataLoader or an rnncast.utils.PyDataset instead."
        )
    if isinstance(x, torch.utils.data.DataLoader):
        return "dataloader"
    if isinstance(x, torch.utils.data.Dataset) and not _is_pydataset(x):
        return "dataset"
    if is_array_like(x):
        return "array"
    if _is_pydataset(x):
        return "pydataset"
    if isinstance(x, types.GeneratorType | Iterator):
        return "iterator"
    raise ConfigError(
        f"cannot read inputs of type {type(x).__module__}.{type(x).__qualname__}; pass numpy "
        "arrays, a generator of (x, y) batches, a torch DataLoader or Dataset, or an "
        "rnncast.utils.PyDataset."
    )


def _from_tensorflow(x: Any) -> bool:
    return any(str(cls.__module__).startswith("tensorflow") for cls in type(x).__mro__)


def _is_pydataset(x: Any) -> bool:
    """A Keras-style ``PyDataset``/``Sequence``: batches by index, ``__len__`` batches."""
    if any(cls.__name__ in ("PyDataset", "Sequence") for cls in type(x).__mro__[:-1]):
        return True
    return hasattr(x, "__getitem__") and hasattr(x, "__len__") and hasattr(x, "on_epoch_end")


class PythonFeed:
    """Raw batches from a Python object, one pass at a time.

    Args:
        new_pass: A fresh pass over the raw batches, given the epoch's generator.
        num_batches: Batches in one pass, ``None`` when unknown (generators).
        on_epoch_begin: Called at the start of every epoch.
        on_epoch_end: Called at the end of every epoch.
    """

    def __init__(
        self,
        new_pass: Callable[[torch.Generator | None], Iterator[Any]],
        num_batches: int | None,
        on_epoch_begin: Callable[[], Any] | None = None,
        on_epoch_end: Callable[[], Any] | None = None,
    ) -> None:
        self._new_pass, self.num_batches = new_pass, num_batches
        self._begin, self._end = on_epoch_begin, on_epoch_end

    def new_pass(self, generator: torch.Generator | None = None) -> Iterator[Any]:
        """A pass over the raw batches (a generator continues where it stopped)."""
        return self._new_pass(generator)

    def on_epoch_begin(self) -> None:
        """The dataset's ``on_epoch_begin``, if it has one."""
        if self._begin is not None:
            self._begin()

    def on_epoch_end(self) -> None:
        """The dataset's ``on_epoch_end``, if it has one (a PyDataset reshuffles here)."""
        if self._end is not None:
            self._end()


def python_feed(x: Any, kind: str, batch_size: int, shuffle: bool) -> PythonFeed:
    """A feed of raw batches over a generator, DataLoader, Dataset or PyDataset.

    As in Keras, ``shuffle`` is ignored for generators and DataLoaders (they
    decide their own order); a PyDataset's batch order and a Dataset's sample
    order are shuffled every pass with the epoch's generator.
    """
    if kind == "iterator":
        return PythonFeed(lambda generator: x, None)
    if kind == "dataloader":
        return PythonFeed(lambda generator: iter(x), _length(x))
    if kind == "dataset":
        return _dataset_feed(x, batch_size, shuffle)
    return _pydataset_feed(x, shuffle)


def _length(x: Any) -> int | None:
    try:
        return len(x)
    except TypeError:  # an IterableDataset behind the loader
        return None


def _dataset_feed(dataset: Any, batch_size: int, shuffle: bool) -> PythonFeed:
    """A map-style ``torch.utils.data.Dataset`` of samples, batched ``batch_size`` at a time."""
    size = _length(dataset)
    if size is None:  # IterableDataset: batched by a DataLoader, in its own order
        loader = torch.utils.data.DataLoader(dataset, batch_size=batch_size)
        return PythonFeed(lambda generator: iter(loader), None)

    def new_pass(generator: torch.Generator | None) -> Iterator[Any]:
        order = torch.randperm(size, generator=generator) if shuffle else torch.arange(size)
        for start in range(0, size, batch_size):
            samples = [dataset[int(i)] for i in order[start : start + batch_size]]
            yield torch.utils.data.default_collate(samples)

    return PythonFeed(new_pass, math.ceil(size / batch_size))


def _pydataset_feed(dataset: Any, shuffle: bool) -> PythonFeed:
    """A Keras ``PyDataset``: ``dataset[i]`` is batch ``i``; ``num_batches`` ``None`` = infinite."""
    count = dataset.num_batches if hasattr(dataset, "num_batches") else len(dataset)

    def new_pass(generator: torch.Generator | None) -> Iterator[Any]:
        if count is None:
            index = 0
            while True:
                yield dataset[index]
                index += 1
        order = torch.randperm(count, generator=generator) if shuffle else torch.arange(count)
        for i in order.tolist():
            yield dataset[i]

    return PythonFeed(
        new_pass,
        count,
        getattr(dataset, "on_epoch_begin", None),
        getattr(dataset, "on_epoch_end", None),
    )


def unpack(raw: Any, where: str) -> tuple[Any, Any, Any]:
    """Keras's ``unpack_x_y_sample_weight``: ``(x,)``, ``(x, y)`` or ``(x, y, sample_weight)``."""
    if isinstance(raw, dict):
        raise ConfigError(
            f"{where} yielded a dict; rnncast models have one input, so yield tuples "
            "(x, y) or (x, y, sample_weight)."
        )
    if isinstance(raw, list | tuple):
        if not 1 <= len(raw) <= 3:
            raise DataError(
                f"{where} yielded a tuple of {len(raw)} items; yield (x,), (x, y) or "
                "(x, y, sample_weight)."
            )
        return (*raw, None, None)[:3]
    return raw, None, None


class EpochIterator:
    """Cuts a feed into epochs of ``steps`` batches (Keras's ``EpochIterator``).

    Args:
        feed: An :class:`~rnncast.models.batches.ArrayFeed` or a :class:`PythonFeed`.
        steps: Batches per epoch (``steps_per_epoch``, ``validation_steps``,
            ``steps``), or ``None`` for one pass over the data.
        convert: Turns a raw batch into ``(x, y, sample_weight)`` tensors
            (``None`` for array feeds, whose batches are tensors already).
    """

    def __init__(
        self,
        feed: ArrayFeed | PythonFeed,
        steps: int | None = None,
        convert: Callable[[Any], Batch] | None = None,
    ) -> None:
        self.feed, self.steps, self.convert = feed, steps, convert
        self._known = feed.num_batches  # batches in one pass, learnt after a pass if unknown
        self._current: Iterator[Any] | None = None
        self._seen = 0

    @property
    def num_batches(self) -> int | None:
        """Batches in one epoch, ``None`` while unknown (a generator before its first pass)."""
        return self.steps or self._known

    def reset(self) -> None:
        """Start the next epoch on a new pass (Keras resets before every ``evaluate``)."""
        self._current, self._seen = None, 0

    def epoch(self, generator: torch.Generator | None = None) -> Iterator[Batch]:
        """The batches of one epoch (``generator`` orders a new pass when the data shuffles)."""
        self.feed.on_epoch_begin()
        try:
            steps = self.steps or self._known
            if not steps:  # unknown length, no steps: read until the data ends
                self._seen = 0
                for raw in self.feed.new_pass(generator):
                    self._seen += 1
                    yield self._convert(raw)
                self._known = self._seen or None
                return
            if self._current is None or self.steps is None:
                self._current, self._seen = self.feed.new_pass(generator), 0
            for _ in range(steps):
                if self._known and self._seen >= self._known:
                    if self.steps:
                        warnings.warn(RAN_OUT, stacklevel=4)
                    break
                try:
                    raw = next(self._current)
                except StopIteration:
                    self._known = self._known or self._seen or None
                    self._current = None
                    warnings.warn(RAN_OUT, stacklevel=4)
                    return
                self._seen += 1
                yield self._convert(raw)
            if self._known and self._seen >= self._known:
                self._current = None
        finally:
            self.feed.on_epoch_end()

    def _convert(self, raw: Any) -> Batch:
        return raw if self.convert is None else self.convert(raw)

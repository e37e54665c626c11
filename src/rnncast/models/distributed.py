"""Data-parallel ``fit`` under ``torchrun``: ``DistributedDataParallel``, shards, agreement.

When ``fit`` runs in a process started by ``torchrun`` (the environment holds
``RANK``, ``WORLD_SIZE`` and ``LOCAL_RANK``) with more than one process, it
joins the job's process group (gloo for CPU tensors, NCCL for CUDA ones),
wraps the model in :class:`torch.nn.parallel.DistributedDataParallel` and
trains on a shard of the windows. Nothing here is home-made: processes come
from ``torchrun``, gradients are averaged by DDP, and the few numbers the ranks
must share (epoch logs, stop flags, the resumed state) go through
``torch.distributed`` collectives.

Semantics, chosen so that N processes give the result of one process:

* ``batch_size`` is the *global* batch. Every rank draws the same shuffled
  order of all samples (the epoch's generator, seeded by the model's seed,
  which rank 0 broadcasts), cuts it into the global batches one process would
  use, and takes its ``DistributedSampler`` slice of each:
  ``batch[rank::world_size]``.
* DDP averages the ranks' gradients. A rank's loss is scaled by
  ``local_size * world_size / global_size`` before ``backward``, so the
  average is exactly the gradient of the mean loss over the global batch, also
  for a short last batch whose samples do not split evenly. A last batch with
  fewer samples than processes is skipped (at most ``world_size - 1`` samples
  per epoch).
* The epoch's loss and metrics and the validation logs are all-reduced (sums
  and counts), so every rank sees the numbers one process would log, and
  callbacks such as ``EarlyStopping`` decide alike on every rank.
* After each batch's backward (DDP's gradient all-reduce) and at the end of
  each epoch the ranks all-reduce three flags: a NaN/inf loss, Ctrl-C, and
  ``model.stop_training`` (set by a callback on one rank). A request made
  after batch k is seen in batch k+1's agreement, before that batch's update,
  so every rank stops with the weights after batch k, as one process would.
* Rank 0 alone prints and writes files (``rank_zero_only`` callbacks); after
  ``on_train_begin`` the other ranks take rank 0's weights, optimizer state,
  seed and starting epoch, so a ``BackupAndRestore`` backup written by rank 0
  resumes every rank.

Dropout draws different masks on each rank (seeded by rank), so a model with
dropout trains as well as, but not bit for bit like, one process.

Example:
    >>> launched()  # not started by torchrun
    False
"""

from __future__ import annotations

import atexit
import math
import os
import threading
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

import torch
import torch.distributed as dist

from rnncast._internal import ranks
from rnncast.exceptions import ConfigError
from rnncast.models.batches import ArrayFeed, Batch, BatchSource

if TYPE_CHECKING:
    from rnncast.models.feeds import EpochIterator
    from rnncast.models.sequential import Sequential

TORCHRUN_ENV = ("RANK", "WORLD_SIZE", "LOCAL_RANK", "MASTER_ADDR", "MASTER_PORT")


def launched() -> bool:
    """Whether ``torchrun`` started this process as one of several.

    Example:
        >>> launched()
        False
    """
    if not all(name in os.environ for name in TORCHRUN_ENV):
        return False
    return int(os.environ["WORLD_SIZE"]) > 1


def setup() -> bool:
    """Join the ``torchrun`` job's process group once; ``True`` when training is distributed.

    Uses gloo for CPU tensors and NCCL for CUDA tensors (``"cpu:gloo,cuda:nccl"``
    when CUDA is present, each rank on GPU ``LOCAL_RANK``). A process group the
    caller initialised already is used as it is.

    Example:
        >>> setup()  # a plain process: nothing to join
        False
    """
    if dist.is_available() and dist.is_initialized():
        return dist.get_world_size() > 1
    if not launched():
        return False
    if not dist.is_available():
        raise ConfigError(
            "torchrun started this process but this PyTorch build has no torch.distributed; "
            "install a PyTorch build with distributed support or run one process."
        )
    backend = "gloo"
    if torch.cuda.is_available():
        torch.cuda.set_device(int(os.environ["LOCAL_RANK"]))
        backend = "cpu:gloo,cuda:nccl"
    dist.init_process_group(backend)
    atexit.register(teardown)
    return dist.get_world_size() > 1


def teardown() -> None:
    """Leave the process group (registered with ``atexit`` by :func:`setup`)."""
    if dist.is_available() and dist.is_initialized():
        dist.destroy_process_group()


class DataParallel:
    """One ``fit`` on several processes: the DDP wrapper, the loss scale, the stop agreement.

    Args:
        model: The built model; its weights are broadcast from rank 0.
    """

    def __init__(self, model: Sequential) -> None:
        self.rank, self.world_size = dist.get_rank(), dist.get_world_size()
        if not any(p.requires_grad for p in model.parameters()):
            raise ConfigError(
                "every weight of the model is frozen (trainable=False); there is nothing to "
                "train on several processes. Unfreeze a layer or run one process."
            )
        device = next(model.parameters()).device
        self.module = torch.nn.parallel.DistributedDataParallel(
            model, device_ids=[device.index] if device.type == "cuda" else None
        )
        self.grad_scale = 1.0  # set by the shard for each batch (see ShardedFeed)
        self.interrupted, self.stopping = threading.Event(), False

    def __call__(self, x: torch.Tensor) -> torch.Tensor:
        """The model's forward through DDP, so ``backward`` all-reduces the gradients."""
        return self.module(x)

    def agree(self, model: Sequential, loss: float = 0.0) -> float:
        """All-reduce (max) "loss not finite", Ctrl-C and ``model.stop_training``; apply them.

        Called after each batch's backward (before its update) and at the end of
        each epoch, so a rank's own stop request or NaN loss never leaves the
        others waiting in an all-reduce. Returns ``loss``, or NaN when any rank's
        loss was not finite; :attr:`stopping` tells whether to stop now.
        """
        flags = torch.tensor(
            [
                float(not math.isfinite(loss)),
                float(self.interrupted.is_set()),
                float(bool(model.stop_training)),
            ]
        )
        dist.all_reduce(flags, op=dist.ReduceOp.MAX)  # on the CPU: gloo
        if flags[1]:
            self.interrupted.set()
        model.stop_training = bool(flags[2]) or bool(model.stop_training)
        self.stopping = bool(flags[1] or flags[2])
        return math.nan if flags[0] else loss

    def sync_start(
        self, model: Sequential, initial_epoch: int, interrupted: threading.Event
    ) -> int:
        """Every rank takes rank 0's weights, optimizer state, seed and first epoch.

        Called after ``on_train_begin``, where rank 0's ``BackupAndRestore`` may
        have restored a backup that the other ranks never read. ``interrupted``
        is the loop's Ctrl-C flag, agreed on by :meth:`agree`.
        """
        self.interrupted, self.stopping = interrupted, False
        optimizer = model.optimizer
        rate = optimizer.get_config()["learning_rate"]
        shared = [
            int(initial_epoch),
            int(model.training_seed),
            int(optimizer.iterations),
            rate if isinstance(rate, int | float) else None,
        ]
        dist.broadcast_object_list(shared, src=0)
        initial_epoch, model._training_seed, optimizer.iterations, rate = shared
        if rate is not None:
            optimizer.learning_rate = float(rate)
        with torch.no_grad():
            for tensor in [*model.state_dict().values(), *optimizer.state_tensors().values()]:
                dist.broadcast(tensor, src=0)
        return int(initial_epoch)


class ShardedFeed:
    """This rank's part of every global batch of an :class:`ArrayFeed` (training).

    The same permutation on every rank, cut into global batches of
    ``feed.batch_size``; the rank takes ``batch[rank::world_size]``, the slice
    ``torch.utils.data.DistributedSampler`` gives (without its padding), and
    sets ``parallel.grad_scale`` so that DDP's average is the global mean.
    """

    sharded = True

    def __init__(self, feed: ArrayFeed, parallel: DataParallel) -> None:
        self.feed, self.parallel = feed, parallel
        self.rank, self.world_size = parallel.rank, parallel.world_size

    @property
    def num_batches(self) -> int:
        """Global batches per pass (a last one smaller than the process count is skipped)."""
        n, size = len(self.feed.data), self.feed.batch_size
        return n // size + (1 if n % size >= self.world_size else 0)

    def new_pass(self, generator: torch.Generator | None = None) -> Iterator[Batch]:
        """One pass: this rank's slice of each global batch, in the shared order."""
        feed, n = self.feed, len(self.feed.data)
        shuffled = feed.shuffle and generator is not None
        order = torch.randperm(n, generator=generator) if shuffled else torch.arange(n)
        for start in range(0, n, feed.batch_size):
            batch = order[start : start + feed.batch_size]  # (global batch,) sample indices
            if len(batch) < self.world_size:
                return
            mine = batch[self.rank :: self.world_size]  # DistributedSampler's slice
            self.parallel.grad_scale = len(mine) * self.world_size / len(batch)
            yield (
                feed.data.take(mine),
                None if feed.targets is None else feed.targets[mine],
                None if feed.weights is None else feed.weights[mine],
            )

    def on_epoch_begin(self) -> None:
        """Nothing to do for arrays."""

    def on_epoch_end(self) -> None:
        """Nothing to do for arrays."""


class ValidationShard(ArrayFeed):
    """Every ``world_size``-th validation sample from ``rank`` on; logs are all-reduced after."""

    sharded = True


def validation_shard(feed: ArrayFeed, rank: int, world_size: int) -> ValidationShard:
    """This rank's validation samples (``rank::world_size``), in batches of the global size/N.

    Example:
        >>> data = BatchSource(torch.arange(5.0).reshape(5, 1, 1))
        >>> shard = validation_shard(ArrayFeed(data, torch.zeros(5, 1), batch_size=4), 1, 2)
        >>> [x.flatten().tolist() for x, _, _ in shard.new_pass()]
        [[1.0, 3.0]]
    """
    mine = torch.arange(rank, len(feed.data), world_size)  # (n / world_size,)
    positions = mine if feed.data.index is None else feed.data.index[mine]
    return ValidationShard(
        BatchSource(feed.data.rows, positions),
        None if feed.targets is None else feed.targets[mine],
        None if feed.weights is None else feed.weights[mine],
        max(1, math.ceil(feed.batch_size / world_size)),
    )


def sync_meter(meter: Any, batches: EpochIterator) -> None:
    """All-reduce a loss meter's sums and counts when ``batches`` is a shard of the data.

    ``meter`` is the loop's ``_LossMeter``: ``total``/``count`` and metrics with
    ``_total``/``_count``. Every rank then logs the numbers of all the data.
    """
    if not getattr(batches.feed, "sharded", False):
        return
    metrics = [*meter.metrics, *meter.weighted]
    values = [meter.total, meter.count, *(v for m in metrics for v in (m._total, m._count))]
    sums = torch.tensor(values, dtype=torch.float64)  # on the CPU: gloo
    dist.all_reduce(sums)  # SUM
    sums = sums.tolist()
    meter.total, meter.count = sums[0], sums[1]
    for i, metric in enumerate(metrics):
        metric._total, metric._count = sums[2 + 2 * i], sums[3 + 2 * i]


def prepare(
    model: Sequential, batches: EpochIterator, validation: EpochIterator | None
) -> tuple[EpochIterator, EpochIterator | None]:
    """Inside ``fit``: under ``torchrun``, shard the data and wrap the model in DDP.

    Returns the (training, validation) batches to use and sets
    ``model._parallel`` (``fit`` clears it when done); outside a job the
    batches are returned as given and nothing changes.

    Raises:
        ConfigError: for inputs that cannot be sharded (generators,
            DataLoaders, PyDatasets) or a global ``batch_size`` smaller than
            the number of processes.
    """
    if not setup():
        return batches, validation
    from rnncast.models.feeds import EpochIterator

    for iterator, what in ((batches, "x"), (validation, "validation_data")):
        if iterator is not None and not isinstance(iterator.feed, ArrayFeed):
            raise ConfigError(
                f"training on {ranks.world_size()} processes (torchrun) shards arrays only, "
                f"but {what} is a generator, DataLoader or PyDataset; pass numpy arrays or "
                "rnncast.data.Windows, or run one process."
            )
    if batches.feed.batch_size < ranks.world_size():
        raise ConfigError(
            f"batch_size={batches.feed.batch_size} is the global batch, split over "
            f"{ranks.world_size()} processes; make it at least the number of processes "
            "(best a multiple of it)."
        )
    parallel = DataParallel(model)
    train_batches = EpochIterator(ShardedFeed(batches.feed, parallel), batches.steps)
    val_batches = None
    if validation is not None:
        shard = validation_shard(validation.feed, parallel.rank, parallel.world_size)
        val_batches = EpochIterator(shard, validation.steps)
    model._parallel = parallel
    return train_batches, val_batches

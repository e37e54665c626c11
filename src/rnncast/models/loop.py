"""The training loop: epochs of batches sliced in place, validation, callbacks, faults.

Plain PyTorch, no DataLoader for arrays: batches are indexed out of one
pre-built (strided) tensor; generators, DataLoaders and PyDatasets come in
through :class:`~rnncast.models.feeds.EpochIterator`. Losses are reported as
Keras does: the epoch loss is the batch losses weighted by batch size, so a
short last batch counts less.
"""

from __future__ import annotations

import math
import signal
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

import torch

from rnncast import losses
from rnncast._internal import output, ranks
from rnncast.callbacks import CallbackList, History, TerminateOnNaN
from rnncast.exceptions import TrainingDivergedError
from rnncast.layers.base import add_regularization, apply_constraints
from rnncast.models import distributed
from rnncast.models.devices import backward_and_step, to_device
from rnncast.models.feeds import EpochIterator
from rnncast.models.progress import Progress

if TYPE_CHECKING:
    from rnncast.models.sequential import Sequential


def epoch_generator(seed: int, epoch: int) -> torch.Generator:
    """The generator of one epoch: the same (seed, epoch) always shuffles the same way."""
    return torch.Generator().manual_seed((seed * 1_000_003 + epoch) % (2**63))


def train(
    model: Sequential,
    batches: EpochIterator,
    *,
    epochs: int,
    initial_epoch: int,
    callbacks: CallbackList,
    history: History,
    validation: Callable[[], dict[str, float] | None] | None,
    validation_freq: int | list[int] = 1,
    mode: int,
) -> None:
    """Run epochs ``initial_epoch .. epochs-1``; stops early on request, NaN loss or Ctrl-C.

    ``validation`` returns the validation logs (``None`` when its data ran
    out); it runs after the epochs that ``validation_freq`` selects, as in Keras.
    """
    model.stop_training = False
    with _interrupt_flag() as interrupted:
        model._initial_epoch = None
        callbacks.call("on_train_begin", None)
        initial_epoch = model._initial_epoch or initial_epoch  # BackupAndRestore, as in Keras
        model._initial_epoch = None
        if model._parallel is not None:  # torchrun: every rank starts from rank 0's state
            initial_epoch = model._parallel.sync_start(model, initial_epoch, interrupted)
        try:
            for epoch in range(initial_epoch, epochs):
                if mode:
                    output.write(f"Epoch {epoch + 1}/{epochs}")
                callbacks.call("on_epoch_begin", epoch, None)
                steps = batches.num_batches
                progress = Progress(steps or 1, mode if steps or mode != 1 else 2)
                logs = _train_epoch(
                    model, batches, epoch, callbacks, history, progress, interrupted
                )
                if logs is None:  # interrupted, stopped inside the epoch, or out of data
                    break
                if validation is not None and should_validate(epoch, validation_freq):
                    val_logs = validation()
                    logs.update({f"val_{k}": v for k, v in (val_logs or {}).items()})
                callbacks.call("on_epoch_end", epoch, logs)
                progress.finish(logs)
                if model._parallel is not None:
                    model._parallel.agree(model)  # a stop on one rank stops them all
                if model.stop_training:
                    break
        finally:
            callbacks.call("on_train_end", None)
    if interrupted.is_set():
        output.write(
            f"Training interrupted; returning the history of {len(history.epoch)} "
            "finished epoch(s)."
        )


def should_validate(epoch: int, validation_freq: int | list[int]) -> bool:
    """Keras's ``validation_freq``: every n-th epoch (an int) or the listed 1-based epochs.

    Example:
        >>> [should_validate(e, 2) for e in range(4)], should_validate(2, [1, 3])
        ([False, True, False, True], True)
    """
    if isinstance(validation_freq, int):
        return (epoch + 1) % validation_freq == 0
    return epoch + 1 in validation_freq


def _train_epoch(
    model: Sequential,
    batches: EpochIterator,
    epoch: int,
    callbacks: CallbackList,
    history: History,
    progress: Progress,
    interrupted: threading.Event,
) -> dict[str, float] | None:
    """One epoch of training; returns the epoch's logs (``None`` if cut short or no data)."""
    model.train()
    generator = epoch_generator(model.training_seed, epoch)
    seed = int(torch.randint(2**62, (1,), generator=generator))
    torch.manual_seed(seed + ranks.rank())  # dropout masks (torchrun: other masks on each rank)
    meter = _LossMeter(model)
    watch = DivergenceWatch()
    last_good = model.snapshot()
    stream = batches.epoch(generator)  # shuffles with the same generator, after the seed draw
    try:
        for step, (x, y, weights) in enumerate(stream):
            callbacks.call("on_train_batch_begin", step, None)
            loss = _train_step(model, x, y, meter, weights, watch)
            if model._parallel is not None and model._parallel.stopping:
                break  # torchrun: a rank stopped after the last batch; this one was not applied
            if not math.isfinite(loss):
                _handle_divergence(model, last_good, callbacks, history, epoch, step, loss)
                return None
            watch.check(model, history, epoch)
            logs = meter.logs()  # once per batch, shared by the callbacks and the progress bar
            callbacks.call("on_train_batch_end", step, logs)
            progress.update(step + 1, logs)
            if model._parallel is None and (interrupted.is_set() or model.stop_training):
                return None if interrupted.is_set() else logs
    finally:
        stream.close()
    if model._parallel is not None:  # torchrun: agree on the flags of the last batch, then
        model._parallel.agree(model)  # log the loss and metrics of every rank's samples
        if interrupted.is_set():
            return None
        distributed.sync_meter(meter, batches)
    watch.check(model, history, epoch, final=True)
    if not meter.count:  # the data ran out before this epoch (EpochIterator warned)
        model.stop_training = True
        return None
    return meter.logs()


def batch_loss(
    model: Sequential, y: torch.Tensor, prediction: torch.Tensor, weights: torch.Tensor | None
) -> torch.Tensor:
    """The compiled loss of a batch: sample-weighted as Keras, times ``loss_weights``."""
    if weights is None:
        loss = model.loss_fn(y, prediction)  # the unweighted fast path
    else:
        loss = losses.weighted(model.loss_fn, y, prediction, weights)
    scale = model.loss_scale
    return loss if scale is None else loss * scale


def _train_step(
    model: Sequential,
    x: torch.Tensor,
    y: torch.Tensor,
    meter: _LossMeter,
    weights: torch.Tensor | None = None,
    watch: DivergenceWatch | None = None,
) -> float:
    """Forward, loss, backward and update on one batch; returns the batch loss."""
    x, y, weights = to_device((x, y, weights), model._device)  # the batch itself on the CPU
    model.optimizer.zero_grad()
    parallel = model._parallel  # torchrun: DistributedDataParallel averages the gradients
    prediction = (model if parallel is None else parallel)(x)  # (batch, outputs)
    data_loss = batch_loss(model, y, prediction, weights)
    loss = add_regularization(model, data_loss)  # + penalties, logged in "loss" as Keras
    value = float(loss.detach())
    if not math.isfinite(value) and parallel is None:
        return value
    if parallel is None:
        backward_and_step(model, loss)  # through the float16 loss scaler when there is one
    else:
        if loss.requires_grad:  # False when every weight is frozen (trainable=False)
            (loss * parallel.grad_scale).backward()  # DDP averages over the global batch
        value = parallel.agree(model, value)  # after the all-reduce: did a rank diverge or stop?
        if not math.isfinite(value) or parallel.stopping:
            return value
        model.optimizer.step()
    apply_constraints(model)  # weight constraints after each update, as Keras
    meter.update(value, y, prediction, weights)
    if watch is not None:  # judged on the data loss: penalties have no zero-prediction twin
        watch.update(
            model, value if loss is data_loss else float(data_loss.detach()), y, prediction
        )
    return value


# Training diverged, though every number is still finite (e.g. learning_rate=100), when the
# epoch's mean loss is this many times the loss of predicting 0 for the same samples.
DIVERGENCE_GROWTH = 1e4
DIVERGENCE_MIN_SAMPLES = 256  # judge once this many samples are in, or at the epoch's end
DIVERGENCE_CHECK_EVERY = 8  # batches between two mid-epoch judgements


class DivergenceWatch:
    """The epoch's mean loss against a yardstick that needs no history: predicting 0.

    Per-batch losses are too noisy to compare (with ``batch_size=1`` one sample
    can cost 1e4x another), so the watch judges running means over at least
    ``DIVERGENCE_MIN_SAMPLES`` samples, or the whole epoch.

    Example:
        >>> import torch
        >>> from types import SimpleNamespace
        >>> from rnncast import losses
        >>> model = SimpleNamespace(loss_fn=losses.get("mse"), optimizer=None)
        >>> watch = DivergenceWatch()
        >>> y = torch.ones(4, 1)
        >>> watch.update(model, 4e6, y, torch.full((4, 1), 2e3))  # zero would cost 1.0
        >>> watch.check(model, History(), 0, final=True)  # doctest: +IGNORE_EXCEPTION_DETAIL
        Traceback (most recent call last):
        rnncast.exceptions.TrainingDivergedError: the mean training loss 4e+06 ...
    """

    def __init__(self) -> None:
        self.loss = 0.0
        self.zero: torch.Tensor | float = 0.0  # a tensor sum: read (synced) only when judged
        self.count = self.unchecked = 0

    def update(
        self, model: Sequential, loss: float, y: torch.Tensor, prediction: torch.Tensor
    ) -> None:
        """Add one batch: its loss, and the loss of predicting 0 for it."""
        with torch.no_grad():
            zero = model.loss_fn(y, torch.zeros_like(prediction))  # () scalar tensor
        self.loss += loss * len(y)
        self.zero = self.zero + zero * len(y)
        self.count += len(y)
        self.unchecked += 1

    def check(
        self, model: Sequential, history: History, epoch: int | None = None, final: bool = False
    ) -> None:
        """Raise ``TrainingDivergedError`` when the mean loss is over the growth limit.

        Mid-epoch, the means are judged every ``DIVERGENCE_CHECK_EVERY`` batches once
        ``DIVERGENCE_MIN_SAMPLES`` samples are in; ``final=True`` judges them now.
        """
        due = self.count >= DIVERGENCE_MIN_SAMPLES and self.unchecked >= DIVERGENCE_CHECK_EVERY
        if not self.count or not (final or due):
            return
        self.unchecked = 0
        loss, zero = self.loss / self.count, float(self.zero) / self.count
        if not (zero > 0 and loss > DIVERGENCE_GROWTH * zero):
            return
        model.stop_training = True
        rate = getattr(model.optimizer, "learning_rate", None)
        rate = f" (learning_rate={rate:g})" if isinstance(rate, int | float) else ""
        where = "" if epoch is None else f" in epoch {epoch + 1}"
        raise TrainingDivergedError(
            f"the mean training loss {loss:.4g}{where} is over {DIVERGENCE_GROWTH:.0e}x the "
            f"loss of predicting 0 ({zero:.4g}): the model's training diverged{rate} although "
            "every number is still finite. Train again with a lower learning rate "
            "(e.g. 10x lower), or clipnorm=1.0 on the optimizer.",
            history=history,
        )


def _handle_divergence(
    model: Sequential,
    last_good: dict[str, torch.Tensor],
    callbacks: CallbackList,
    history: History,
    epoch: int,
    step: int,
    loss: float,
) -> None:
    """Keep finite weights, then stop quietly (TerminateOnNaN) or raise."""
    if not all(torch.isfinite(p).all() for p in model.parameters()):
        model.restore(last_good)  # the weights themselves overflowed: back to the epoch start
    model.stop_training = True
    if callbacks.has(TerminateOnNaN):
        callbacks.call("on_train_batch_end", step, {"loss": loss})
        return
    raise TrainingDivergedError(
        f"the loss became {loss} at epoch {epoch + 1}, batch {step + 1}; training stopped and the "
        "model keeps its last finite weights. Try a lower learning rate, "
        "clipnorm=1.0 on the optimizer, or check the inputs are scaled.",
        history=history,
    )


class _LossMeter:
    """Batch-size-weighted running loss plus the compiled (and weighted) metrics."""

    def __init__(self, model: Sequential) -> None:
        self.metrics = model.compiled_metrics
        self.weighted = model.compiled_weighted_metrics
        self.names = model.metric_log_names
        for metric in (*self.metrics, *self.weighted):
            metric.reset()
        self.total, self.count = 0.0, 0

    def update(
        self,
        loss: float,
        y: torch.Tensor,
        prediction: torch.Tensor,
        weights: torch.Tensor | None = None,
    ) -> None:
        self.total += loss * len(y)
        self.count += len(y)
        for metric in self.metrics:
            metric.update(y, prediction)
        for metric in self.weighted:
            metric.update(y, prediction, weights)

    def logs(self) -> dict[str, float]:
        logs = {"loss": self.total / self.count if self.count else math.nan}
        metrics = (*self.metrics, *self.weighted)
        logs.update({n: metric.result() for n, metric in zip(self.names, metrics, strict=True)})
        return logs


def evaluate(
    model: Sequential, batches: EpochIterator, callbacks: CallbackList | None = None
) -> dict[str, float] | None:
    """Loss and metrics over one epoch of ``batches`` in inference mode (Keras's ``evaluate``).

    Batch losses are weighted by batch size, as Keras does. Returns ``None``
    when ``batches`` yields nothing (a generator that ran out).
    """
    was_training = model.training
    model.eval()
    meter = _LossMeter(model)
    if callbacks is not None:
        callbacks.call("on_test_begin", None)
    try:
        with torch.inference_mode():
            for step, (x, y, weights) in enumerate(batches.epoch()):
                if callbacks is not None:
                    callbacks.call("on_test_batch_begin", step, None)
                x, y, weights = to_device((x, y, weights), model._device)
                prediction = model(x)
                loss = batch_loss(model, y, prediction, weights)
                loss = float(add_regularization(model, loss))  # Keras's val_loss includes penalties
                meter.update(loss, y, prediction, weights)
                if callbacks is not None:
                    callbacks.call("on_test_batch_end", step, meter.logs())
    finally:
        model.train(was_training)
    distributed.sync_meter(meter, batches)  # torchrun: each rank validated its shard
    logs = meter.logs() if meter.count else None
    if callbacks is not None:
        callbacks.call("on_test_end", logs)
    return logs


@contextmanager
def _interrupt_flag() -> Iterator[threading.Event]:
    """While training, a first Ctrl-C sets a flag checked after each batch.

    A second Ctrl-C interrupts at once.
    """
    flag = threading.Event()
    if threading.current_thread() is not threading.main_thread():
        yield flag
        return

    def handler(signum: int, frame: Any) -> None:
        if flag.is_set():
            raise KeyboardInterrupt
        flag.set()

    previous = signal.signal(signal.SIGINT, handler)
    try:
        yield flag
    finally:
        signal.signal(signal.SIGINT, previous)

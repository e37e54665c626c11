"""The training loop: epochs of batches sliced in place, validation, callbacks, faults.

Plain PyTorch, no DataLoader: batches are indexed out of one pre-built
(strided) tensor. Losses are reported as Keras does: the epoch loss is the
batch losses weighted by batch size, so a short last batch counts less.
"""

from __future__ import annotations

import math
import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

import torch

from rnncast._internal import output
from rnncast.callbacks import CallbackList, History, TerminateOnNaN
from rnncast.exceptions import TrainingDivergedError
from rnncast.layers.base import add_regularization, apply_constraints
from rnncast.models.batches import BatchSource
from rnncast.models.progress import Progress

if TYPE_CHECKING:
    from rnncast.models.sequential import Sequential


def epoch_generator(seed: int, epoch: int) -> torch.Generator:
    """The generator of one epoch: the same (seed, epoch) always shuffles the same way."""
    return torch.Generator().manual_seed((seed * 1_000_003 + epoch) % (2**63))


def train(
    model: Sequential,
    data: BatchSource,
    targets: torch.Tensor,
    *,
    batch_size: int,
    epochs: int,
    initial_epoch: int,
    shuffle: bool,
    callbacks: CallbackList,
    history: History,
    validation: tuple[BatchSource, torch.Tensor] | None,
    mode: int,
) -> None:
    """Run epochs ``initial_epoch .. epochs-1``; stops early on request, NaN loss or Ctrl-C."""
    model.stop_training = False
    with _interrupt_flag() as interrupted:
        model._initial_epoch = None
        callbacks.call("on_train_begin", None)
        initial_epoch = model._initial_epoch or initial_epoch  # BackupAndRestore, as in Keras
        model._initial_epoch = None
        try:
            for epoch in range(initial_epoch, epochs):
                if mode:
                    output.write(f"Epoch {epoch + 1}/{epochs}")
                callbacks.call("on_epoch_begin", epoch, None)
                progress = Progress(math.ceil(len(data) / batch_size), mode)
                logs = _train_epoch(
                    model,
                    data,
                    targets,
                    batch_size,
                    shuffle,
                    epoch,
                    callbacks,
                    history,
                    progress,
                    interrupted,
                )
                if logs is None:  # interrupted or stopped inside the epoch
                    break
                if validation is not None:
                    logs.update(
                        {
                            f"val_{k}": v
                            for k, v in evaluate(model, *validation, batch_size=batch_size).items()
                        }
                    )
                callbacks.call("on_epoch_end", epoch, logs)
                progress.finish(logs)
                if model.stop_training:
                    break
        finally:
            callbacks.call("on_train_end", None)
    if interrupted.is_set():
        output.write(
            f"Training interrupted; returning the history of {len(history.epoch)} "
            "finished epoch(s)."
        )


def _train_epoch(
    model: Sequential,
    data: BatchSource,
    targets: torch.Tensor,
    batch_size: int,
    shuffle: bool,
    epoch: int,
    callbacks: CallbackList,
    history: History,
    progress: Progress,
    interrupted: threading.Event,
) -> dict[str, float] | None:
    """One pass over the training data; returns the epoch's logs (``None`` if cut short)."""
    model.train()
    generator = epoch_generator(model.training_seed, epoch)
    torch.manual_seed(int(torch.randint(2**62, (1,), generator=generator)))  # dropout masks
    order = torch.randperm(len(data), generator=generator) if shuffle else None
    meter = _LossMeter(model.compiled_metrics)
    last_good = model.snapshot()
    for step, start in enumerate(range(0, len(data), batch_size)):
        chosen = (
            order[start : start + batch_size]
            if order is not None
            else slice(start, start + batch_size)
        )
        callbacks.call("on_train_batch_begin", step, None)
        loss = _train_step(model, data.take(chosen), targets[chosen], meter)
        if not math.isfinite(loss):
            _handle_divergence(model, last_good, callbacks, history, epoch, step, loss)
            return None
        logs = meter.logs()  # once per batch, shared by the callbacks and the progress bar
        callbacks.call("on_train_batch_end", step, logs)
        progress.update(step + 1, logs)
        if interrupted.is_set() or model.stop_training:
            return None if interrupted.is_set() else logs
    return meter.logs()


def _train_step(model: Sequential, x: torch.Tensor, y: torch.Tensor, meter: _LossMeter) -> float:
    """Forward, loss, backward and update on one batch; returns the batch loss."""
    model.optimizer.zero_grad()
    prediction = model(x)  # (batch, outputs)
    loss = model.loss_fn(y, prediction)
    loss = add_regularization(model, loss)  # + regularizer penalties, logged in "loss" as Keras
    value = float(loss.detach())
    if not math.isfinite(value):
        return value
    if loss.requires_grad:  # False when every weight is frozen (trainable=False)
        loss.backward()
    model.optimizer.step()
    apply_constraints(model)  # weight constraints after each update, as Keras
    meter.update(value, y, prediction)
    return value


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
    """Batch-size-weighted running loss plus the compiled metrics."""

    def __init__(self, metrics: list[Any]) -> None:
        self.metrics = metrics
        for metric in metrics:
            metric.reset()
        self.total, self.count = 0.0, 0

    def update(self, loss: float, y: torch.Tensor, prediction: torch.Tensor) -> None:
        self.total += loss * len(y)
        self.count += len(y)
        for metric in self.metrics:
            metric.update(y, prediction)

    def logs(self) -> dict[str, float]:
        logs = {"loss": self.total / self.count if self.count else math.nan}
        logs.update({metric.name: metric.result() for metric in self.metrics})
        return logs


def evaluate(
    model: Sequential, data: BatchSource, targets: torch.Tensor, batch_size: int
) -> dict[str, float]:
    """Loss and metrics over ``data`` in inference mode (batch-size-weighted, like Keras)."""
    was_training = model.training
    model.eval()
    meter = _LossMeter(model.compiled_metrics)
    try:
        with torch.inference_mode():
            for start in range(0, len(data), batch_size):
                chosen = slice(start, start + batch_size)
                prediction = model(data.take(chosen))
                y = targets[chosen]
                loss = model.loss_fn(y, prediction)
                loss = add_regularization(model, loss)  # Keras's val_loss includes penalties
                meter.update(float(loss), y, prediction)
    finally:
        model.train(was_training)
    return meter.logs()


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

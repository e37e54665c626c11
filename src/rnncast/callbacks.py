"""Callbacks with Keras's hook names and semantics.

History, EarlyStopping, ReduceLROnPlateau, ModelCheckpoint, CSVLogger,
TerminateOnNaN, LambdaCallback, LearningRateScheduler, BackupAndRestore and
TensorBoard take Keras 3's arguments and defaults.

Example:
    >>> from rnncast.callbacks import EarlyStopping
    >>> stop = EarlyStopping(monitor="val_loss", patience=5, restore_best_weights=True)
    >>> stop.patience
    5
"""

from __future__ import annotations

import contextlib
import csv
import math
import sys
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import torch
from safetensors import SafetensorError, safe_open
from safetensors.torch import save_file

from rnncast._internal import output, ranks
from rnncast._internal.files import atomic_file
from rnncast.exceptions import ArtifactError, ConfigError

Logs = dict[str, float]
_LOWER_IS_BETTER = (
    "loss",
    "mae",
    "mse",
    "rmse",
    "mape",
    "mean_absolute_error",
    "mean_squared_error",
    "root_mean_squared_error",
    "mean_absolute_percentage_error",
)


class Callback:
    """Base class. Override any hook; ``self.model`` is the model being trained.

    Hooks: ``on_train_begin/end(logs)``, ``on_epoch_begin/end(epoch, logs)``,
    ``on_train_batch_begin/end(batch, logs)``, ``on_test_begin/end(logs)``,
    ``on_test_batch_begin/end(batch, logs)``, ``on_predict_begin/end(logs)``
    and ``on_predict_batch_begin/end(batch, logs)``.
    As in Keras, the default ``on_train_batch_begin/end`` call
    ``on_batch_begin/end``, so older callbacks that override those still run.
    Set ``self.model.stop_training = True`` to stop after the current epoch.
    A callback with ``rank_zero_only = True`` (the ones that write files:
    ModelCheckpoint, CSVLogger, BackupAndRestore, TensorBoard) runs only on
    rank 0 when ``fit`` trains on several processes (``torchrun``).

    Example:
        >>> import numpy as np
        >>> from rnncast import Sequential
        >>> from rnncast.layers import LSTM, Dense
        >>> class CountBatches(Callback):
        ...     def on_train_begin(self, logs=None):
        ...         self.batches = 0
        ...     def on_batch_end(self, batch, logs=None):
        ...         self.batches += 1
        >>> model = Sequential([LSTM(2, input_shape=(4, 1)), Dense(1)], seed=0)
        >>> model.compile(optimizer="sgd", loss="mse")
        >>> counter = CountBatches()
        >>> _ = model.fit(np.zeros((10, 4, 1)), np.zeros(10), batch_size=4, epochs=2,
        ...               callbacks=[counter], verbose=0)
        >>> counter.batches  # 3 batches (4 + 4 + 2 samples) in each of 2 epochs
        6
    """

    rank_zero_only = False  # True: skipped on ranks > 0 of a torchrun job (writes files)

    def __init__(self) -> None:
        self.model: Any = None
        self.params: dict[str, Any] = {}

    def set_model(self, model: Any) -> None:
        """Attach the model (called by ``fit``)."""
        self.model = model

    def set_params(self, params: dict[str, Any]) -> None:
        """Training parameters: ``epochs``, ``steps``, ``verbose``."""
        self.params = params

    def on_train_begin(self, logs: Logs | None = None) -> None:
        """Called once before the first epoch."""

    def on_train_end(self, logs: Logs | None = None) -> None:
        """Called once after the last epoch (also after Ctrl-C)."""

    def on_epoch_begin(self, epoch: int, logs: Logs | None = None) -> None:
        """Called at the start of epoch ``epoch`` (0-based)."""

    def on_epoch_end(self, epoch: int, logs: Logs | None = None) -> None:
        """Called with the epoch's ``loss``, metrics and ``val_*`` values."""

    def on_train_batch_begin(self, batch: int, logs: Logs | None = None) -> None:
        """Called before each training batch; by default calls :meth:`on_batch_begin`."""
        self.on_batch_begin(batch, logs)

    def on_train_batch_end(self, batch: int, logs: Logs | None = None) -> None:
        """Called after each batch with the running epoch ``loss`` so far.

        By default calls :meth:`on_batch_end`.
        """
        self.on_batch_end(batch, logs)

    def on_batch_begin(self, batch: int, logs: Logs | None = None) -> None:
        """Keras's older name of ``on_train_batch_begin`` (called by it)."""

    def on_batch_end(self, batch: int, logs: Logs | None = None) -> None:
        """Keras's older name of ``on_train_batch_end`` (called by it)."""

    def on_test_begin(self, logs: Logs | None = None) -> None:
        """Called before validation or ``evaluate``."""

    def on_test_end(self, logs: Logs | None = None) -> None:
        """Called after validation or ``evaluate``."""

    def on_test_batch_begin(self, batch: int, logs: Logs | None = None) -> None:
        """Called before each batch of validation or ``evaluate``."""

    def on_test_batch_end(self, batch: int, logs: Logs | None = None) -> None:
        """Called after each batch of validation or ``evaluate`` with the running logs."""

    def on_predict_begin(self, logs: Logs | None = None) -> None:
        """Called at the start of ``predict``."""

    def on_predict_end(self, logs: Logs | None = None) -> None:
        """Called at the end of ``predict``."""

    def on_predict_batch_begin(self, batch: int, logs: Logs | None = None) -> None:
        """Called before each batch of ``predict``."""

    def on_predict_batch_end(self, batch: int, logs: Logs | None = None) -> None:
        """Called after each batch of ``predict``; ``logs["outputs"]`` holds the batch's outputs."""


class CallbackList:
    """The callbacks of one ``fit`` call; ``call(hook, ...)`` runs a hook on each, in order."""

    def __init__(self, callbacks: list[Callback] | None, model: Any, params: dict[str, Any]):
        self.callbacks = list(callbacks or [])
        for callback in self.callbacks:
            if not isinstance(callback, Callback):
                raise ConfigError(
                    f"callbacks must be rnncast.callbacks.Callback objects, got "
                    f"{type(callback).__name__}."
                )
            callback.set_model(model)
            callback.set_params(params)
        if not ranks.is_main_process():  # several processes: only rank 0 writes files
            self.callbacks = [c for c in self.callbacks if not c.rank_zero_only]

    def call(self, hook: str, *args: Any) -> None:
        """Run ``hook`` (e.g. ``"on_epoch_end"``) on every callback."""
        for callback in self.callbacks:
            getattr(callback, hook)(*args)

    def has(self, kind: type[Callback]) -> bool:
        """Whether a callback of class ``kind`` is in the list."""
        return any(isinstance(callback, kind) for callback in self.callbacks)


class History(Callback):
    """Records every epoch's logs: ``history.history["loss"]``, ``history.epoch``."""

    def __init__(self) -> None:
        super().__init__()
        self.history: dict[str, list[float]] = {}
        self.epoch: list[int] = []

    def on_epoch_end(self, epoch: int, logs: Logs | None = None) -> None:
        """Append the epoch's logs."""
        self.epoch.append(epoch)
        for key, value in (logs or {}).items():
            self.history.setdefault(key, []).append(value)

    def __repr__(self) -> str:
        return f"History(epochs={len(self.epoch)}, keys={list(self.history)})"


class _Monitor(Callback):
    """Shared logic of callbacks that watch one logged value (Keras's MonitorCallback)."""

    def __init__(self, monitor: str, mode: str, min_delta: float) -> None:
        super().__init__()
        if mode not in ("auto", "min", "max"):
            raise ConfigError(f"mode={mode!r} is not supported; use 'auto', 'min' or 'max'.")
        self.monitor, self.mode = monitor, mode
        self.min_delta = abs(float(min_delta))
        if mode == "auto" and monitor.removeprefix("val_") not in _LOWER_IS_BETTER:
            raise ConfigError(
                f"cannot tell whether {monitor!r} should go up or down; "
                "pass mode='min' or mode='max'."
            )
        self.lower_is_better = mode != "max"

    def is_improvement(self, value: float, reference: float | None) -> bool:
        """Whether ``value`` beats ``reference`` by more than ``min_delta``."""
        if reference is None:
            return True
        if self.lower_is_better:
            return value + self.min_delta < reference
        return value - self.min_delta > reference

    def current(self, logs: Logs | None) -> float | None:
        """The monitored value, with a warning naming what is logged when it is absent."""
        value = (logs or {}).get(self.monitor)
        if value is None:
            warnings.warn(
                f"{type(self).__name__} watches {self.monitor!r}, which is not logged; "
                f"logged: {', '.join(logs or {})}. Pass validation_data for val_ "
                "values.",
                stacklevel=3,
            )
        return value


class EarlyStopping(_Monitor):
    """Stop training when ``monitor`` has not improved for ``patience`` epochs (Keras semantics).

    Args:
        monitor: Logged value to watch (default ``"val_loss"``).
        min_delta: Smallest change that counts as an improvement.
        patience: Epochs without improvement before stopping.
        verbose: 1 prints when stopping and restoring.
        mode: ``"auto"``, ``"min"`` or ``"max"``.
        baseline: Training stops unless ``monitor`` beats this value.
        restore_best_weights: At the end of training, go back to the weights
            of the best epoch.
        start_from_epoch: Epochs to wait before watching at all.
    """

    def __init__(
        self,
        monitor: str = "val_loss",
        min_delta: float = 0.0,
        patience: int = 0,
        verbose: int = 0,
        mode: str = "auto",
        baseline: float | None = None,
        restore_best_weights: bool = False,
        start_from_epoch: int = 0,
    ) -> None:
        super().__init__(monitor, mode, min_delta)
        self.patience, self.verbose, self.baseline = int(patience), int(verbose), baseline
        self.restore_best_weights = bool(restore_best_weights)
        self.start_from_epoch = int(start_from_epoch)

    def on_train_begin(self, logs: Logs | None = None) -> None:
        """Reset the counters."""
        self.wait, self.stopped_epoch, self.best_epoch = 0, 0, 0
        self.best: float | None = None
        self.best_weights: Any = None

    def on_epoch_end(self, epoch: int, logs: Logs | None = None) -> None:
        """Track the best value; ask the model to stop after ``patience`` bad epochs."""
        value = self.current(logs)
        if value is None or epoch < self.start_from_epoch:
            return
        if self.restore_best_weights and self.best_weights is None:
            self.best_weights, self.best_epoch = self.model.snapshot(), epoch
        self.wait += 1
        if self.is_improvement(value, self.best):
            self.best, self.best_epoch = value, epoch
            if self.restore_best_weights:
                self.best_weights = self.model.snapshot()
            if self.baseline is None or self.is_improvement(value, self.baseline):
                self.wait = 0
            return
        if self.wait >= self.patience and epoch > 0:
            self.stopped_epoch = epoch
            self.model.stop_training = True

    def on_train_end(self, logs: Logs | None = None) -> None:
        """Restore the best weights when asked."""
        if self.stopped_epoch > 0 and self.verbose:
            output.write(f"Epoch {self.stopped_epoch + 1}: early stopping")
        if self.restore_best_weights and self.best_weights is not None:
            if self.verbose:
                output.write(
                    f"Restoring model weights from the end of the best epoch: "
                    f"{self.best_epoch + 1}."
                )
            self.model.restore(self.best_weights)


class ReduceLROnPlateau(_Monitor):
    """Multiply the learning rate by ``factor`` when ``monitor`` stops improving (Keras).

    Args:
        monitor: Logged value to watch.
        factor: Multiplier of the learning rate (< 1).
        patience: Epochs without improvement before reducing.
        verbose: 1 prints each reduction.
        mode: ``"auto"``, ``"min"`` or ``"max"``.
        min_delta: Smallest change that counts as an improvement (Keras default 1e-4).
        cooldown: Epochs to wait after a reduction before counting again.
        min_lr: Lower bound of the learning rate.
    """

    def __init__(
        self,
        monitor: str = "val_loss",
        factor: float = 0.1,
        patience: int = 10,
        verbose: int = 0,
        mode: str = "auto",
        min_delta: float = 1e-4,
        cooldown: int = 0,
        min_lr: float = 0.0,
    ) -> None:
        super().__init__(monitor, mode, min_delta)
        if not 0 < factor < 1:
            raise ConfigError(f"ReduceLROnPlateau factor must be in (0, 1), got {factor!r}.")
        self.factor, self.patience, self.verbose = float(factor), int(patience), int(verbose)
        self.cooldown, self.min_lr = int(cooldown), float(min_lr)

    def on_train_begin(self, logs: Logs | None = None) -> None:
        """Reset the counters."""
        self.wait, self.cooldown_counter = 0, 0
        self.best: float | None = None

    def on_epoch_end(self, epoch: int, logs: Logs | None = None) -> None:
        """Reduce the rate after ``patience`` epochs without improvement."""
        optimizer = self.model.optimizer
        if logs is not None:
            logs["learning_rate"] = optimizer.learning_rate
        value = self.current(logs)
        if value is None:
            return
        if self.cooldown_counter > 0:
            self.cooldown_counter -= 1
            self.wait = 0
        if self.is_improvement(value, self.best):
            self.best, self.wait = value, 0
        elif self.cooldown_counter == 0:
            self.wait += 1
            if self.wait >= self.patience and optimizer.learning_rate > self.min_lr:
                optimizer.learning_rate = max(optimizer.learning_rate * self.factor, self.min_lr)
                if self.verbose:
                    output.write(
                        f"\nEpoch {epoch + 1}: ReduceLROnPlateau reducing learning rate to "
                        f"{optimizer.learning_rate}."
                    )
                self.cooldown_counter, self.wait = self.cooldown, 0


class ModelCheckpoint(_Monitor):
    """Save the model (or only its weights) after epochs, Keras style.

    ``filepath`` may hold ``{epoch:02d}`` and any logged value such as
    ``{val_loss:.4f}``. The model is saved as an rnncast artifact folder
    (see :meth:`rnncast.Sequential.save`); ``save_weights_only=True`` writes a
    single ``.safetensors`` file of weights.

    Args:
        filepath: Path pattern of the saved artifact.
        monitor: Logged value deciding what is "best".
        verbose: 1 prints each save.
        save_best_only: Save only when ``monitor`` improved.
        save_weights_only: Save weights only, not the full artifact.
        mode: ``"auto"``, ``"min"`` or ``"max"``.
        initial_value_threshold: Only save when better than this value.
    """

    rank_zero_only = True  # writes files: rank 0 only under torchrun

    def __init__(
        self,
        filepath: str | Path,
        monitor: str = "val_loss",
        verbose: int = 0,
        save_best_only: bool = False,
        save_weights_only: bool = False,
        mode: str = "auto",
        initial_value_threshold: float | None = None,
    ) -> None:
        super().__init__(monitor, mode, 0.0)
        self.filepath, self.verbose = str(filepath), int(verbose)
        self.save_best_only, self.save_weights_only = bool(save_best_only), bool(save_weights_only)
        self.best: float | None = initial_value_threshold

    def on_epoch_end(self, epoch: int, logs: Logs | None = None) -> None:
        """Save when due."""
        logs = logs or {}
        if self.save_best_only:
            value = self.current(logs)
            if value is None or not self.is_improvement(value, self.best):
                return
            self.best = value
        try:
            path = self.filepath.format(epoch=epoch + 1, **logs)
        except (KeyError, ValueError) as err:
            raise ConfigError(
                f"cannot fill in ModelCheckpoint filepath {self.filepath!r}: "
                f"{err}; logged values are {', '.join(logs)}."
            ) from err
        if self.save_weights_only:
            self.model.save_weights(path)
        else:
            self.model.save(path)
        if self.verbose:
            output.write(f"\nEpoch {epoch + 1}: saved model to {path}")


class CSVLogger(Callback):
    """Write one CSV row per epoch (``epoch`` then the logged values), as Keras does.

    Args:
        filename: CSV file to write.
        separator: Field separator.
        append: Append to an existing file (for resumed training) instead of overwriting.
    """

    rank_zero_only = True  # writes files: rank 0 only under torchrun

    def __init__(self, filename: str | Path, separator: str = ",", append: bool = False) -> None:
        super().__init__()
        self.filename, self.separator, self.append = Path(filename), separator, bool(append)
        self.keys: list[str] | None = None

    def on_train_begin(self, logs: Logs | None = None) -> None:
        """Open the file."""
        has_rows = self.append and self.filename.exists() and self.filename.stat().st_size > 0
        self._file = self.filename.open("a" if self.append else "w", newline="")
        self._needs_header = not has_rows
        self.keys = None

    def on_epoch_end(self, epoch: int, logs: Logs | None = None) -> None:
        """Write the row and flush it (a crash keeps every finished epoch)."""
        logs = logs or {}
        if self.keys is None:
            self.keys = sorted(logs)
            self._writer = csv.DictWriter(
                self._file, ["epoch", *self.keys], delimiter=self.separator, extrasaction="ignore"
            )
            if self._needs_header:
                self._writer.writeheader()
        self._writer.writerow({"epoch": epoch, **{k: logs.get(k, "NA") for k in self.keys}})
        self._file.flush()

    def on_train_end(self, logs: Logs | None = None) -> None:
        """Close the file."""
        self._file.close()


class TerminateOnNaN(Callback):
    """Stop quietly (no exception) when the loss becomes NaN or infinite.

    Without it, ``fit`` raises :class:`rnncast.exceptions.TrainingDivergedError`.
    Either way the model keeps its last finite weights.
    """

    def on_train_batch_end(self, batch: int, logs: Logs | None = None) -> None:
        """Check the running loss."""
        loss = (logs or {}).get("loss")
        if loss is not None and not math.isfinite(loss):
            output.write(f"Batch {batch}: invalid loss, terminating training")
            self.model.stop_training = True


class LambdaCallback(Callback):
    """A callback made of plain functions, with Keras's hook names and arguments.

    ``on_epoch_begin`` and ``on_epoch_end`` take ``(epoch, logs)``;
    ``on_train_batch_begin``/``on_train_batch_end`` and their older names
    ``on_batch_begin``/``on_batch_end`` take ``(batch, logs)``;
    ``on_train_begin`` and ``on_train_end`` take ``(logs)``. The test and
    predict hooks (``on_test_begin``, ``on_test_batch_end``, ``on_predict_end``,
    ...) are accepted too, with Keras's arguments. Any other name is a ConfigError
    (Keras would silently store it and never call it).

    Example:
        >>> import numpy as np
        >>> from rnncast import Sequential
        >>> from rnncast.layers import LSTM, Dense
        >>> seen = []
        >>> log = LambdaCallback(
        ...     on_train_begin=lambda logs: seen.append("train_begin"),
        ...     on_epoch_end=lambda epoch, logs: seen.append(f"epoch {epoch}"),
        ... )
        >>> model = Sequential([LSTM(2, input_shape=(4, 1)), Dense(1)], seed=0)
        >>> model.compile(optimizer="sgd", loss="mse")
        >>> _ = model.fit(np.zeros((8, 4, 1)), np.zeros(8), epochs=2, callbacks=[log], verbose=0)
        >>> seen
        ['train_begin', 'epoch 0', 'epoch 1']
    """

    HOOKS = (
        "on_epoch_begin",
        "on_epoch_end",
        "on_train_begin",
        "on_train_end",
        "on_train_batch_begin",
        "on_train_batch_end",
        "on_batch_begin",
        "on_batch_end",
        "on_test_begin",
        "on_test_end",
        "on_test_batch_begin",
        "on_test_batch_end",
        "on_predict_begin",
        "on_predict_end",
        "on_predict_batch_begin",
        "on_predict_batch_end",
    )

    def __init__(
        self,
        on_epoch_begin: Callable[..., Any] | None = None,
        on_epoch_end: Callable[..., Any] | None = None,
        on_train_begin: Callable[..., Any] | None = None,
        on_train_end: Callable[..., Any] | None = None,
        on_train_batch_begin: Callable[..., Any] | None = None,
        on_train_batch_end: Callable[..., Any] | None = None,
        **kwargs: Callable[..., Any],
    ) -> None:
        super().__init__()
        unknown = sorted(name for name in kwargs if name not in self.HOOKS)
        if unknown:
            raise ConfigError(
                f"LambdaCallback got {', '.join(unknown)}, which rnncast never calls; "
                f"the hooks are {', '.join(self.HOOKS)}."
            )
        hooks = {
            "on_epoch_begin": on_epoch_begin,
            "on_epoch_end": on_epoch_end,
            "on_train_begin": on_train_begin,
            "on_train_end": on_train_end,
            "on_train_batch_begin": on_train_batch_begin,
            "on_train_batch_end": on_train_batch_end,
            **kwargs,
        }
        for name, function in hooks.items():
            if function is None:
                continue
            if not callable(function):
                raise ConfigError(
                    f"LambdaCallback {name} must be a function, got {type(function).__name__}."
                )
            setattr(self, name, function)


class LearningRateScheduler(Callback):
    """Set the learning rate before every epoch from ``schedule(epoch, lr)`` (Keras semantics).

    At the start of each epoch the optimizer's learning rate becomes
    ``schedule(epoch, current_lr)`` (``epoch`` counts from 0); a one-argument
    ``schedule(epoch)`` is accepted too, as in Keras. The rate is logged as
    ``learning_rate`` in each epoch's logs (and so in ``History``).

    Args:
        schedule: Function ``(epoch, lr) -> new lr`` returning a float.
        verbose: 1 prints each new rate.

    Example:
        >>> import numpy as np
        >>> from rnncast import Sequential
        >>> from rnncast.layers import LSTM, Dense
        >>> from rnncast.optimizers import SGD
        >>> model = Sequential([LSTM(2, input_shape=(4, 1)), Dense(1)], seed=0)
        >>> model.compile(optimizer=SGD(learning_rate=0.1), loss="mse")
        >>> halve = LearningRateScheduler(lambda epoch, lr: lr if epoch == 0 else lr / 2)
        >>> history = model.fit(np.zeros((8, 4, 1)), np.zeros(8), epochs=3,
        ...                     callbacks=[halve], verbose=0)
        >>> [round(lr, 4) for lr in history.history["learning_rate"]]
        [0.1, 0.05, 0.025]
    """

    def __init__(self, schedule: Callable[..., float], verbose: int = 0) -> None:
        super().__init__()
        if not callable(schedule):
            raise ConfigError(
                f"LearningRateScheduler schedule must be a function (epoch, lr) -> lr, "
                f"got {type(schedule).__name__}."
            )
        self.schedule, self.verbose = schedule, int(verbose)

    def on_epoch_begin(self, epoch: int, logs: Logs | None = None) -> None:
        """Ask the schedule for this epoch's rate and set it on the optimizer."""
        optimizer = self.model.optimizer
        current = float(optimizer.learning_rate)
        try:
            rate = self.schedule(epoch, current)
        except TypeError:  # Keras also accepts the older schedule(epoch)
            rate = self.schedule(epoch)
        if isinstance(rate, torch.Tensor | np.ndarray | np.generic):
            with contextlib.suppress(ValueError, RuntimeError):
                rate = rate.item()  # a one-element tensor or array, e.g. lr * np.exp(-0.1)
        if isinstance(rate, bool) or not isinstance(rate, float | int | np.floating):
            raise ConfigError(
                f"the schedule of LearningRateScheduler must return a float, got {rate!r} "
                f"at epoch {epoch}."
            )
        if not math.isfinite(float(rate)) or rate < 0:
            raise ConfigError(
                f"the schedule returned learning rate {rate!r} at epoch {epoch}; "
                "it must be a finite number >= 0."
            )
        optimizer.learning_rate = float(rate)
        if self.verbose:
            output.write(
                f"\nEpoch {epoch + 1}: LearningRateScheduler setting learning rate to {rate}."
            )

    def on_epoch_end(self, epoch: int, logs: Logs | None = None) -> None:
        """Log the rate used as ``learning_rate``."""
        if logs is not None:
            logs["learning_rate"] = float(self.model.optimizer.learning_rate)


class BackupAndRestore(Callback):
    """Back up training so that a fit cut short by a crash resumes where it stopped (Keras).

    After every epoch (or every ``save_freq`` batches) the weights, the
    optimizer state, the learning rate, the training seed and the number of
    finished epochs are written to ``backup_dir`` in one safetensors file,
    atomically (a temporary file, synced, then renamed: a crash while saving
    leaves the previous backup intact, so Keras's ``double_checkpoint`` is
    always on). When ``fit`` starts and a backup exists, the model takes
    those weights and training starts at the first unfinished epoch, so
    re-running the same script after a crash ends with the same weights as a
    run never interrupted. The backup is deleted when training finishes
    (``delete_checkpoint=True``); it is kept when ``fit`` raises or is
    stopped with Ctrl-C.

    Under ``torchrun`` only rank 0 reads and writes the backup; when training
    starts, the other ranks take rank 0's weights, optimizer state, seed and
    epoch, so the backup need not be on a shared disk.

    Args:
        backup_dir: Folder of the backup (created if needed). Use one folder
            per training job.
        save_freq: ``"epoch"``, or an integer: back up every that many
            batches too (resuming then restarts the unfinished epoch from
            the mid-epoch weights, as Keras does).
        double_checkpoint: Accepted for Keras compatibility; the atomic write
            already keeps a valid backup at every moment.
        delete_checkpoint: Delete the backup once training finishes.

    Example:
        >>> import tempfile
        >>> import numpy as np
        >>> from rnncast import Sequential
        >>> from rnncast.layers import LSTM, Dense
        >>> model = Sequential([LSTM(2, input_shape=(4, 1)), Dense(1)], seed=0)
        >>> model.compile(optimizer="adam", loss="mse")
        >>> backup = BackupAndRestore(tempfile.mkdtemp() + "/backup")
        >>> history = model.fit(np.zeros((8, 4, 1)), np.zeros(8), epochs=2,
        ...                     callbacks=[backup], verbose=0)
        >>> backup.backup_file.exists()  # finished: the backup is gone
        False
    """

    FILE = "backup.safetensors"

    rank_zero_only = True  # writes files: rank 0 only under torchrun

    def __init__(
        self,
        backup_dir: str | Path,
        save_freq: str | int = "epoch",
        double_checkpoint: bool = False,
        delete_checkpoint: bool = True,
    ) -> None:
        super().__init__()
        if not str(backup_dir):
            raise ConfigError("BackupAndRestore needs a backup_dir, e.g. 'backup/'.")
        if save_freq != "epoch" and (
            isinstance(save_freq, bool) or not isinstance(save_freq, int) or save_freq < 1
        ):
            raise ConfigError(
                f"save_freq={save_freq!r} is not supported; use 'epoch' or a number of "
                "batches >= 1."
            )
        self.backup_dir = Path(backup_dir)
        self.backup_file = self.backup_dir / self.FILE
        self.save_freq, self.double_checkpoint = save_freq, bool(double_checkpoint)
        self.delete_checkpoint = bool(delete_checkpoint)
        self.resumed_from: int | None = None
        self._finished_epochs = 0
        self._batches_since_save = 0

    def on_train_begin(self, logs: Logs | None = None) -> None:
        """Restore the backup, if any, and ask ``fit`` to start at its epoch."""
        self._batches_since_save = 0
        self.resumed_from = None
        if not self.backup_file.exists():
            self._finished_epochs = 0
            return
        tensors, meta = self._read()
        model, optimizer = self.model, self.model.optimizer
        weights = {k.removeprefix("model/"): v for k, v in tensors.items() if k[:6] == "model/"}
        expected = model.snapshot()
        if set(weights) != set(expected) or any(
            weights[k].shape != v.shape for k, v in expected.items()
        ):
            raise ArtifactError(
                f"{self.backup_file}: the backup was made by a model of another architecture; "
                f"delete {self.backup_dir} to start training from scratch."
            )
        model.restore(weights)
        state = {
            k.removeprefix("optimizer/"): v for k, v in tensors.items() if k[:10] == "optimizer/"
        }
        try:
            optimizer.load_state_tensors(state, int(meta["iterations"]))
        except ConfigError as err:
            raise ArtifactError(
                f"{self.backup_file}: {err} Delete {self.backup_dir} to start from scratch."
            ) from err
        if meta.get("learning_rate") not in (None, "None"):
            optimizer.learning_rate = float(meta["learning_rate"])
        model._training_seed = int(meta["seed"])
        self._finished_epochs = int(meta["epoch"])
        self.resumed_from = self._finished_epochs
        model._initial_epoch = self._finished_epochs  # read by the fit loop, as in Keras

    def on_train_batch_end(self, batch: int, logs: Logs | None = None) -> None:
        """Back up every ``save_freq`` batches when ``save_freq`` is a number."""
        if self.save_freq == "epoch":
            return
        self._batches_since_save += 1
        if self._batches_since_save >= self.save_freq:
            self._batches_since_save = 0
            self._write()

    def on_epoch_end(self, epoch: int, logs: Logs | None = None) -> None:
        """Back up the finished epoch."""
        self._finished_epochs = epoch + 1
        if self.save_freq == "epoch":
            self._write()

    def on_train_end(self, logs: Logs | None = None) -> None:
        """Delete the backup when training finished (not when it crashed or was interrupted)."""
        crashed = sys.exc_info()[1] is not None
        finished = self._finished_epochs >= self.params.get("epochs", 0) or bool(
            self.model.stop_training
        )
        if self.delete_checkpoint and finished and not crashed:
            self.backup_file.unlink(missing_ok=True)
            with contextlib.suppress(OSError):
                self.backup_dir.rmdir()  # only if nothing else is in it

    def _write(self) -> None:
        model, optimizer = self.model, self.model.optimizer
        tensors = {f"model/{k}": v.cpu().contiguous() for k, v in model.snapshot().items()}
        tensors.update(
            {
                f"optimizer/{k}": v.detach().cpu().contiguous().clone()
                for k, v in optimizer.state_tensors().items()
            }
        )
        rate = optimizer.get_config()["learning_rate"]
        meta = {
            "format": "rnncast-backup-1",
            "epoch": str(self._finished_epochs),
            "iterations": str(optimizer.iterations),
            "seed": str(model.training_seed),
            "learning_rate": str(rate) if isinstance(rate, float | int) else "None",
        }
        with atomic_file(self.backup_file) as temporary:
            save_file(tensors, str(temporary), metadata=meta)

    def _read(self) -> tuple[dict[str, torch.Tensor], dict[str, str]]:
        try:
            with safe_open(str(self.backup_file), framework="pt") as handle:
                meta = handle.metadata() or {}
                tensors = {key: handle.get_tensor(key) for key in handle.keys()}  # noqa: SIM118
        except (SafetensorError, OSError, ValueError) as err:
            raise ArtifactError(
                f"{self.backup_file}: cannot read the backup ({err}); delete {self.backup_dir} "
                "to start training from scratch."
            ) from err
        if meta.get("format") != "rnncast-backup-1":
            raise ArtifactError(
                f"{self.backup_file} is not an rnncast backup; give BackupAndRestore an "
                "empty folder of its own."
            )
        return tensors, meta


class TensorBoard(Callback):
    """Write the logged losses and metrics for TensorBoard (``torch.utils.tensorboard``).

    As in Keras, training values go to ``log_dir/train`` and validation values
    (``val_loss`` ...) to ``log_dir/validation``, under the tags
    ``epoch_loss``, ``epoch_mae``, ``epoch_learning_rate`` ... at step
    ``epoch``; with ``update_freq="batch"`` (or a number of batches) the
    running values are also written as ``batch_loss`` ... at the global
    batch step. Needs the ``tensorboard`` package
    (``pip install rnncast[tensorboard]``). View with
    ``tensorboard --logdir <log_dir>``.

    Args:
        log_dir: Folder of the event files.
        histogram_freq: Every that many epochs, write a histogram of each
            weight (0: never).
        write_graph: Accepted for Keras compatibility; no graph is written
            (PyTorch models have no static graph to show).
        update_freq: ``"epoch"``, ``"batch"`` or a number of batches.

    Keras's ``write_images``, ``write_steps_per_second``, ``profile_batch``,
    ``embeddings_freq`` and ``embeddings_metadata`` are not supported: passing
    them (other than their defaults) raises a ConfigError.

    Example:
        >>> TensorBoard("logs", profile_batch=5)  # doctest: +ELLIPSIS
        Traceback (most recent call last):
            ...
        rnncast.exceptions.ConfigError: TensorBoard profile_batch=5 is not supported ...
        >>> board = TensorBoard("logs")  # doctest: +SKIP
    """

    rank_zero_only = True  # writes files: rank 0 only under torchrun

    def __init__(
        self,
        log_dir: str | Path = "logs",
        histogram_freq: int = 0,
        write_graph: bool = True,
        write_images: bool = False,
        write_steps_per_second: bool = False,
        update_freq: str | int = "epoch",
        profile_batch: int = 0,
        embeddings_freq: int = 0,
        embeddings_metadata: Any = None,
    ) -> None:
        super().__init__()
        unsupported = {
            "write_images": (write_images, False, "look at weights with histogram_freq"),
            "write_steps_per_second": (write_steps_per_second, False, "time epochs yourself"),
            "profile_batch": (profile_batch, 0, "profile with torch.profiler"),
            "embeddings_freq": (embeddings_freq, 0, "rnncast models have no Embedding layer"),
            "embeddings_metadata": (embeddings_metadata, None, "drop it"),
        }
        for name, (value, default, instead) in unsupported.items():
            if value != default:
                raise ConfigError(
                    f"TensorBoard {name}={value!r} is not supported by rnncast; {instead}."
                )
        if update_freq not in ("epoch", "batch") and (
            isinstance(update_freq, bool) or not isinstance(update_freq, int) or update_freq < 1
        ):
            raise ConfigError(
                f"update_freq={update_freq!r} is not supported; use 'epoch', 'batch' or a "
                "number of batches >= 1."
            )
        if isinstance(histogram_freq, bool) or int(histogram_freq) < 0:
            raise ConfigError(f"histogram_freq must be an integer >= 0, got {histogram_freq!r}.")
        try:
            from torch.utils.tensorboard import SummaryWriter
        except ImportError as err:
            raise ConfigError(
                "TensorBoard needs the tensorboard package: pip install rnncast[tensorboard] "
                f"(or pip install tensorboard). ({err})"
            ) from err
        self._writer_class = SummaryWriter
        self.log_dir = Path(log_dir)
        self.histogram_freq, self.write_graph = int(histogram_freq), bool(write_graph)
        self.update_freq = 1 if update_freq == "batch" else update_freq
        self._writers: dict[str, Any] = {}
        self._step = 0

    def _writer(self, part: str) -> Any:
        if part not in self._writers:
            self._writers[part] = self._writer_class(log_dir=str(self.log_dir / part))
        return self._writers[part]

    def on_train_begin(self, logs: Logs | None = None) -> None:
        """Start counting batches."""
        self._step = 0

    def on_train_batch_end(self, batch: int, logs: Logs | None = None) -> None:
        """Write the running values every ``update_freq`` batches."""
        self._step += 1
        if self.update_freq == "epoch" or self._step % self.update_freq:
            return
        writer = self._writer("train")
        for key, value in (logs or {}).items():
            writer.add_scalar(f"batch_{key}", value, self._step)

    def on_epoch_end(self, epoch: int, logs: Logs | None = None) -> None:
        """Write the epoch's values (and the weight histograms when due)."""
        logs = dict(logs or {})
        logs.setdefault("learning_rate", float(self.model.optimizer.learning_rate))
        for key, value in logs.items():
            part, name = ("validation", key[4:]) if key.startswith("val_") else ("train", key)
            self._writer(part).add_scalar(f"epoch_{name}", value, epoch)
        if self.histogram_freq and epoch % self.histogram_freq == 0:
            writer = self._writer("train")
            for layer in self.model.layers:
                for key, weight in layer.state_dict().items():
                    writer.add_histogram(f"{layer.name}/{key}", weight.detach(), epoch)
        for writer in self._writers.values():
            writer.flush()

    def on_train_end(self, logs: Logs | None = None) -> None:
        """Close the event files."""
        for writer in self._writers.values():
            writer.close()
        self._writers = {}

"""Callbacks with Keras's hook names and semantics.

Example:
    >>> from rnncast.callbacks import EarlyStopping
    >>> stop = EarlyStopping(monitor="val_loss", patience=5, restore_best_weights=True)
    >>> stop.patience
    5
"""

from __future__ import annotations

import csv
import math
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

from rnncast._internal import output
from rnncast.exceptions import ConfigError

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
    ``on_train_batch_begin/end(batch, logs)``, ``on_test_begin/end(logs)``.
    Set ``self.model.stop_training = True`` to stop after the current epoch.
    """

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
        """Called before each training batch."""

    def on_train_batch_end(self, batch: int, logs: Logs | None = None) -> None:
        """Called after each batch with the running epoch ``loss`` so far."""

    def on_test_begin(self, logs: Logs | None = None) -> None:
        """Called before validation or ``evaluate``."""

    def on_test_end(self, logs: Logs | None = None) -> None:
        """Called after validation or ``evaluate``."""


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
    """A callback made of plain functions.

    Example: ``LambdaCallback(on_epoch_end=lambda epoch, logs: print(logs["loss"]))``.
    """

    def __init__(self, **hooks: Callable[..., Any]) -> None:
        super().__init__()
        unknown = [
            name for name in hooks if not name.startswith("on_") or not hasattr(Callback, name)
        ]
        if unknown:
            raise ConfigError(f"LambdaCallback got unknown hooks {unknown}.")
        for name, function in hooks.items():
            setattr(self, name, function)

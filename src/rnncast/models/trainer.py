"""compile / fit / evaluate / save for :class:`rnncast.Sequential` (Keras's Trainer API)."""

from __future__ import annotations

import math
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import torch

from rnncast import losses, optimizers
from rnncast import metrics as metrics_module
from rnncast._internal import output
from rnncast._internal.checks import positive_int
from rnncast.callbacks import Callback, CallbackList, History
from rnncast.exceptions import ConfigError, FitError, ShapeError
from rnncast.models.batches import (
    BatchSource,
    as_source,
    as_targets,
    check_class_labels,
    check_finite,
)
from rnncast.models.loop import evaluate as _evaluate
from rnncast.models.loop import train
from rnncast.models.progress import resolve_verbose


class Trainer:
    """Mixin with Keras's training methods; ``Sequential`` inherits it."""

    optimizer: optimizers.Optimizer | None = None
    loss_fn: Callable[[torch.Tensor, torch.Tensor], torch.Tensor] | None = None
    compiled_metrics: list[metrics_module.Metric] = []  # noqa: RUF012 - replaced per instance
    compile_config: dict[str, Any] | None = None
    history: History | None = None
    stop_training = False
    _training_seed: int | None = None

    def compile(
        self,
        optimizer: str | optimizers.Optimizer = "rmsprop",
        loss: str | Callable[..., torch.Tensor] | None = None,
        metrics: list[str | metrics_module.Metric] | None = None,
    ) -> None:
        """Choose the optimizer, the loss and the metrics to report (Keras's ``compile``).

        Args:
            optimizer: A name (``"adam"``, ``"sgd"``, ``"rmsprop"``, ``"adamw"``)
                or an instance such as ``Adam(learning_rate=1e-3)``.
            loss: A name (``"mse"``, ``"mae"``, ``"huber"``, ``"binary_crossentropy"``,
                ``"categorical_crossentropy"``, ``"sparse_categorical_crossentropy"``),
                a loss object (``Huber(delta=2.0)``, ``BinaryCrossentropy(from_logits=True)``)
                or ``callable(y_true, y_pred)``.
            metrics: Names (``"mae"``, ``"rmse"``, ``"accuracy"``, ...) or metric
                objects (``RootMeanSquaredError()``, ``BinaryAccuracy()``, ...).

        Example:
            >>> from rnncast import Sequential
            >>> from rnncast.layers import LSTM, Dense
            >>> from rnncast.optimizers import Adam
            >>> model = Sequential([LSTM(8, input_shape=(10, 1)), Dense(1)])
            >>> model.compile(optimizer=Adam(learning_rate=1e-3), loss="mse", metrics=["mae"])
        """
        if loss is None:
            raise ConfigError("compile needs a loss, e.g. loss='mse'.")
        self.optimizer = optimizers.get(optimizer)
        self.loss_fn = losses.get(loss)
        if isinstance(metrics, str | metrics_module.Metric):
            metrics = [metrics]
        self.compiled_metrics = [metrics_module.get(metric) for metric in metrics or []]
        self.compile_config = {
            "optimizer": optimizers.serialize(self.optimizer),
            "loss": losses.serialize(loss),
            "metrics": [metrics_module.serialize(metric) for metric in metrics or []],
        }

    @property
    def metrics_names(self) -> list[str]:
        """``["loss", *metric names]``, the order ``evaluate`` returns them in."""
        return ["loss", *(m.name for m in self.compiled_metrics)]

    @property
    def training_seed(self) -> int:
        """Seed of shuffling and dropout in ``fit``: the model's ``seed``, or one drawn once."""
        if self._training_seed is None:
            drawn = int(torch.randint(2**31 - 1, (1,)))
            self._training_seed = int(self.seed) if self.seed is not None else drawn
        return self._training_seed

    # ------------------------------------------------------------------ fit
    def fit(
        self,
        x: Any = None,
        y: Any = None,
        batch_size: int | None = None,
        epochs: int = 1,
        verbose: int | str = "auto",
        callbacks: list[Callback] | None = None,
        validation_split: float = 0.0,
        validation_data: tuple[Any, Any] | None = None,
        shuffle: bool = True,
        initial_epoch: int = 0,
    ) -> History:
        """Train for ``epochs`` epochs (Keras's ``fit``); returns a :class:`History`.

        ``validation_split`` holds out the *last* fraction of the samples before
        any shuffling (never a random split), as Keras does. Training is
        reproducible: shuffling and dropout follow the model's ``seed``.
        A NaN/inf loss raises :class:`~rnncast.exceptions.TrainingDivergedError`
        (the model keeps its last finite weights); Ctrl-C stops after the
        current batch and returns the History so far.

        Args:
            x: Windows ``(n, timesteps, features)``: numpy array, window view
                or :class:`rnncast.data.Windows`.
            y: Targets ``(n, outputs)`` or ``(n,)``.
            batch_size: Samples per update (default 32).
            epochs: Index of the last epoch (training runs ``initial_epoch .. epochs-1``).
            verbose: ``"auto"``/1 progress bar (a line per epoch when not a
                terminal), 2 a line per epoch, 0 silent.
            callbacks: :mod:`rnncast.callbacks` objects.
            validation_split: Fraction of the last samples used for validation.
            validation_data: ``(x_val, y_val)``; takes precedence over ``validation_split``.
            shuffle: Shuffle the training samples every epoch.
            initial_epoch: Epoch to start from (to resume training).

        Example:
            >>> import numpy as np
            >>> from rnncast import Sequential
            >>> from rnncast.layers import LSTM, Dense
            >>> model = Sequential([LSTM(4, input_shape=(5, 1)), Dense(1)], seed=0)
            >>> model.compile(optimizer="adam", loss="mse")
            >>> history = model.fit(np.zeros((8, 5, 1)), np.zeros(8), epochs=2, verbose=0)
            >>> history.epoch
            [0, 1]
        """
        self._require_compiled("fit")
        batch_size = positive_int(32 if batch_size is None else batch_size, "batch_size")
        if not 0 <= int(initial_epoch) <= int(epochs):
            raise ConfigError(
                f"need 0 <= initial_epoch <= epochs, got initial_epoch="
                f"{initial_epoch}, epochs={epochs}."
            )
        data, targets = self._prepare(x, y, "x", "y")
        validation = None
        if validation_data is not None:
            validation = self._prepare(*_pair(validation_data), "x_val", "y_val")
        elif validation_split:
            data, targets, validation = _split_last(data, targets, validation_split)
        self._build_optimizer()
        mode = resolve_verbose(verbose)
        history = History()
        params = {
            "epochs": int(epochs),
            "steps": math.ceil(len(data) / batch_size),
            "verbose": mode,
        }
        # History last, as in Keras: it records what the other callbacks add to the logs
        callback_list = CallbackList([*(callbacks or []), history], self, params)
        history.set_model(self)
        self.history = history
        train(
            self,
            data,
            targets,
            batch_size=batch_size,
            epochs=int(epochs),
            initial_epoch=int(initial_epoch),
            shuffle=bool(shuffle),
            callbacks=callback_list,
            history=history,
            validation=validation,
            mode=mode,
        )
        return history

    def evaluate(
        self,
        x: Any = None,
        y: Any = None,
        batch_size: int | None = None,
        verbose: int | str = "auto",
        return_dict: bool = False,
    ) -> float | list[float] | dict[str, float]:
        """Loss (and metrics) on ``x, y`` in inference mode, as Keras's ``evaluate``.

        Returns the loss alone when no metrics were compiled, else
        ``[loss, *metrics]`` in :attr:`metrics_names` order, or a dict with
        ``return_dict=True``.
        """
        self._require_compiled("evaluate")
        data, targets = self._prepare(x, y, "x", "y")
        logs = _evaluate(self, data, targets, positive_int(batch_size or 32, "batch_size"))
        if resolve_verbose(verbose):
            from rnncast.models.progress import format_logs

            output.write(format_logs(logs))
        if return_dict:
            return logs
        values = [logs[name] for name in self.metrics_names]
        return values[0] if len(values) == 1 else values

    def _prepare(
        self, x: Any, y: Any, x_name: str, y_name: str
    ) -> tuple[BatchSource, torch.Tensor]:
        """Check and wrap inputs: dimensions, lengths, feature count, NaN/inf."""
        if x is None or y is None:
            raise ConfigError(f"{x_name} and {y_name} are both required.")
        data = as_source(x, x_name)
        if len(data.sample_shape) != 2:
            raise ShapeError(
                f"{x_name} must be 3-D (samples, timesteps, features), got shape "
                f"{(len(data), *data.sample_shape)}; cut windows with "
                "rnncast.data.Windowizer."
            )
        self._check_input((len(data), *data.sample_shape))
        targets = as_targets(y, len(data))
        expected = tuple(self.output_shape[1:])
        if losses.takes_class_indices(self.loss_fn):
            check_class_labels(targets, expected[-1], y_name)
        elif tuple(targets.shape[1:]) != expected:
            raise ShapeError(
                f"the model outputs {self.output_shape} but {y_name} has shape "
                f"{tuple(targets.shape)}; make the last layer "
                f"Dense({targets.shape[1]}) or cut targets with that horizon."
            )
        check_finite(data, targets)
        return data, targets

    def _build_optimizer(self) -> None:
        """Give the optimizer the trainable weights; frozen ones (trainable=False) leave it.

        When the trainable set changed since the last fit, the optimizer is
        rebuilt and weights still trained keep their slots (moments, ...).
        """
        params = [p for p in self.parameters() if p.requires_grad]
        old = self.optimizer.params
        if len(old) == len(params) and all(a is b for a, b in zip(old, params, strict=True)):
            return
        kept = {id(p): i for i, p in enumerate(old)}
        slots = self.optimizer.slots
        self.optimizer.build(params)
        for name, values in self.optimizer.slots.items():
            for i, p in enumerate(params):
                if id(p) in kept and name in slots:
                    values[i].copy_(slots[name][kept[id(p)]])

    def _require_compiled(self, what: str) -> None:
        if self.optimizer is None or self.loss_fn is None:
            raise FitError(f"call model.compile(optimizer=..., loss=...) before {what}.")

    # -------------------------------------------------------------- weights
    def snapshot(self) -> dict[str, torch.Tensor]:
        """A copy of every weight and statistic (for ``restore``)."""
        return {name: t.detach().clone() for name, t in self.state_dict().items()}

    def restore(self, snapshot: dict[str, torch.Tensor]) -> None:
        """Put back weights taken with :meth:`snapshot`."""
        with torch.no_grad():
            self.load_state_dict(snapshot)

    def get_weights(self) -> list[np.ndarray]:
        """All weights as numpy arrays in Keras's order and shapes (``keras.Model.get_weights``)."""
        return [w for layer in self.layers for w in layer.keras_weights()]

    def set_weights(self, weights: list[np.ndarray]) -> None:
        """Set weights from a list in Keras's order (e.g. another model's ``get_weights()``)."""
        weights, position = list(weights), 0
        for layer in self.layers:
            count = len(layer.keras_weights())
            layer.set_keras_weights(weights[position : position + count])
            position += count
        if position != len(weights):
            raise ShapeError(f"got {len(weights)} weight arrays but the model has {position}.")

    def save(self, filepath: str | Path, overwrite: bool = True) -> None:
        """Save architecture, weights, compile settings and optimizer state to a folder.

        A path ending in ``.keras`` writes a Keras 3 ``.keras`` file instead, which
        ``keras.saving.load_model`` opens (optimizer state included).
        See :func:`rnncast.saving.save_model`; load with :func:`rnncast.load_model`.

        Args:
            filepath: The folder, or a ``.keras`` file.
            overwrite: Replace what is at ``filepath`` (Keras's default); with
                ``False`` an existing path raises ``ConfigError`` (Keras asks).
        """
        from rnncast.saving import save_model

        save_model(self, filepath, overwrite=overwrite)

    def save_weights(self, filepath: str | Path, overwrite: bool = True) -> None:
        """Save only the weights to one file (atomic write).

        A path ending in ``.weights.h5`` gets Keras 3's h5 weights file (as
        Keras's ``save_weights``, which requires that suffix); any other path
        a safetensors file. ``overwrite`` as in :meth:`save`.
        """
        from rnncast.saving import save_weights

        save_weights(self, filepath, overwrite=overwrite)

    def load_weights(self, filepath: str | Path) -> None:
        """Load weights written by :meth:`save_weights` into this (same-architecture) model.

        Also reads Keras 3's ``.weights.h5`` files and the weights of ``.keras`` files.
        """
        from rnncast.saving import load_weights

        load_weights(self, filepath)


def _pair(validation_data: Any) -> tuple[Any, Any]:
    if not isinstance(validation_data, tuple | list) or len(validation_data) != 2:
        raise ConfigError("validation_data must be a tuple (x_val, y_val).")
    return validation_data[0], validation_data[1]


def _split_last(data: BatchSource, targets: torch.Tensor, fraction: float):
    """Keras's validation_split: the last ``fraction`` of samples, before any shuffling."""
    if not 0 < fraction < 1:
        raise ConfigError(f"validation_split must be in (0, 1), got {fraction!r}.")
    at = math.floor(len(data) * (1.0 - fraction))
    if at == 0 or at == len(data):
        raise ConfigError(
            f"validation_split={fraction} leaves an empty part of {len(data)} samples."
        )
    train_part, held_out = data.split(at)
    return train_part, targets[:at], (held_out, targets[at:])

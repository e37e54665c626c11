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
from rnncast._internal import output, ranks
from rnncast._internal.checks import fit_arguments, positive_int
from rnncast.callbacks import Callback, CallbackList, History
from rnncast.exceptions import ConfigError, DataError, FitError, ShapeError
from rnncast.models import distributed
from rnncast.models.batches import (
    ArrayFeed,
    Batch,
    BatchSource,
    as_source,
    as_targets,
    as_weights,
    check_class_labels,
    check_finite,
    class_weights_to_sample_weights,
)
from rnncast.models.devices import move_model, pins_memory, precision_for, resolve_device
from rnncast.models.feeds import EpochIterator, kind_of, python_feed, unpack
from rnncast.models.loop import evaluate as _evaluate
from rnncast.models.loop import train
from rnncast.models.progress import resolve_verbose

# Keras arguments accepted with no effect here, and why (said in the docstrings too)
_NO_EFFECT = {
    "workers": "Keras 2's fit/evaluate argument; data are read in the main process",
    "use_multiprocessing": "Keras 2's fit/evaluate argument; data are read in the main process",
    "max_queue_size": "Keras 2's fit/evaluate argument; data are read in the main process",
}
# Keras (2 or 3) arguments rnncast cannot honour: what to do instead
_UNSUPPORTED = {
    "sample_weight_mode": "rnncast weights whole samples: pass sample_weight of shape (n,) to fit",
    "target_tensors": "pass the targets to fit as y",
    "distribute": "start the script with torchrun: fit then trains with DistributedDataParallel",
    "pss_evaluation_shards": "drop it; under torchrun fit shards validation data itself",
    "return_state": "drop it",
}


def reject_unknown(method: str, arguments: dict[str, Any], known: str) -> None:
    """Raise ``ConfigError`` for a keyword ``method`` does not take (never a ``TypeError``).

    Keras 2's ``workers``/``use_multiprocessing``/``max_queue_size`` pass
    silently (they have no effect on in-process data).

    Example:
        >>> reject_unknown("fit", {"workers": 4}, "x, y")
        >>> reject_unknown("fit", {"epoch": 3}, "x, y, epochs")
        Traceback (most recent call last):
        ...
        rnncast.exceptions.ConfigError: fit got an unknown argument epoch=3; Keras 3's fit takes x, y, epochs.
    """  # noqa: E501
    for name, value in arguments.items():
        if name in _NO_EFFECT:
            continue
        if name in _UNSUPPORTED:
            raise ConfigError(
                f"{method}({name}={value!r}) is not supported by rnncast; {_UNSUPPORTED[name]}."
            )
        raise ConfigError(
            f"{method} got an unknown argument {name}={value!r}; Keras 3's {method} takes {known}."
        )


_COMPILE_ARGS = (
    "optimizer, loss, loss_weights, metrics, weighted_metrics, run_eagerly, "
    "steps_per_execution, jit_compile, auto_scale_loss (and rnncast's device, mixed_precision)"
)
_FIT_ARGS = (
    "x, y, batch_size, epochs, verbose, callbacks, validation_split, validation_data, "
    "shuffle, class_weight, sample_weight, initial_epoch, steps_per_epoch, validation_steps, "
    "validation_batch_size, validation_freq"
)
_EVALUATE_ARGS = "x, y, batch_size, verbose, sample_weight, steps, callbacks, return_dict"


class Trainer:
    """Mixin with Keras's training methods; ``Sequential`` inherits it."""

    optimizer: optimizers.Optimizer | None = None
    loss_fn: Callable[[torch.Tensor, torch.Tensor], torch.Tensor] | None = None
    loss_scale: float | None = None  # compile's loss_weights on the one output
    compiled_metrics: list[metrics_module.Metric] = []  # noqa: RUF012 - replaced per instance
    compiled_weighted_metrics: list[metrics_module.Metric] = []  # noqa: RUF012 - same
    compile_config: dict[str, Any] | None = None
    history: History | None = None
    stop_training = False
    _training_seed: int | None = None
    _parallel: distributed.DataParallel | None = None  # set during a fit under torchrun
    _device: torch.device | None = None  # where the weights are; batches follow (devices.py)
    _precision: Any = None  # devices.Precision under a mixed_* policy, else None

    def compile(
        self,
        optimizer: str | optimizers.Optimizer = "rmsprop",
        loss: str | Callable[..., torch.Tensor] | None = None,
        loss_weights: float | list[float] | dict[str, float] | None = None,
        metrics: list[str | metrics_module.Metric] | None = None,
        weighted_metrics: list[str | metrics_module.Metric] | None = None,
        run_eagerly: bool = False,
        steps_per_execution: int = 1,
        jit_compile: bool | str = "auto",
        auto_scale_loss: bool = True,
        device: str | torch.device | None = "auto",
        mixed_precision: str | Any = None,
        **kwargs: Any,
    ) -> None:
        """Choose the optimizer, the loss and the metrics to report (Keras's ``compile``).

        Args:
            optimizer: A name (``"adam"``, ``"sgd"``, ``"rmsprop"``, ``"adamw"``)
                or an instance such as ``Adam(learning_rate=1e-3)``.
            loss: A name (``"mse"``, ``"mae"``, ``"huber"``, ``"binary_crossentropy"``,
                ``"categorical_crossentropy"``, ``"sparse_categorical_crossentropy"``),
                a loss object (``Huber(delta=2.0)``, ``BinaryCrossentropy(from_logits=True)``)
                or ``callable(y_true, y_pred)``.
            loss_weights: Scales the loss (the model has one output): a number,
                a one-element list or a one-key dict, as in Keras. The logged
                ``loss`` is the scaled one, as in Keras.
            metrics: Names (``"mae"``, ``"rmse"``, ``"accuracy"``, ...) or metric
                objects (``RootMeanSquaredError()``, ``BinaryAccuracy()``, ...),
                computed without sample weights.
            weighted_metrics: Metrics weighted by ``sample_weight`` or
                ``class_weight`` in ``fit``/``evaluate``. A name also in
                ``metrics`` is logged as ``weighted_<name>``, as in Keras.
            run_eagerly: Accepted; rnncast always runs eagerly (plain PyTorch).
            steps_per_execution: Accepted as a hint with no effect: every batch
                is one step (Keras's torch backend does not use it either).
            jit_compile: Accepted as a hint with no effect: rnncast does not
                ``torch.compile`` the model (its fused LSTM/GRU kernels are fast already).
            auto_scale_loss: Under a ``mixed_float16`` policy, scale the loss
                (``torch.amp.GradScaler``, Keras's ``LossScaleOptimizer``); no
                effect otherwise.
            device: rnncast's extension (Keras places models itself): ``"auto"``
                (CUDA, then Apple MPS, then the CPU), ``"cpu"``, ``"cuda"``,
                ``"cuda:1"`` or ``"mps"``. The weights and optimizer slots move
                there; batches are copied over as they are cut.
            mixed_precision: rnncast's extension: ``"bf16"`` or ``"fp16"`` compute
                under ``torch.autocast`` with float32 weights; ``None`` follows
                :func:`rnncast.mixed_precision.set_global_policy` (float32 by default).
            **kwargs: Anything else is a ``ConfigError`` naming the argument.

        Raises:
            ConfigError: for a missing loss, ``loss_weights`` for more than one
                output, an unknown or absent device, float16 on the CPU, or an
                argument Keras's ``compile`` does not have.

        Example:
            >>> from rnncast import Sequential
            >>> from rnncast.layers import LSTM, Dense
            >>> from rnncast.optimizers import Adam
            >>> model = Sequential([LSTM(8, input_shape=(10, 1)), Dense(1)])
            >>> model.compile(optimizer=Adam(learning_rate=1e-3), loss="mse", metrics=["mae"])
        """
        reject_unknown("compile", kwargs, _COMPILE_ARGS)
        if loss is None:
            raise ConfigError("compile needs a loss, e.g. loss='mse'.")
        if getattr(loss, "reduction", None) == "none":
            raise ConfigError(
                f"compile(loss={loss!r}): a loss with reduction='none' gives one value per "
                "sample and cannot be minimised; use reduction='sum_over_batch_size'."
            )
        self.loss_scale = _loss_scale(loss_weights)
        target = resolve_device(device)
        precision = precision_for(mixed_precision, target, bool(auto_scale_loss))
        self.optimizer = optimizers.get(optimizer)
        self.loss_fn = losses.get(loss)
        self._device, self._precision = target, precision
        move_model(self, target)  # weights and optimizer slots (no-op when already there)
        metrics, weighted_metrics = _metric_list(metrics), _metric_list(weighted_metrics)
        self.compiled_metrics = [metrics_module.get(metric) for metric in metrics]
        self.compiled_weighted_metrics = [metrics_module.get(m) for m in weighted_metrics]
        self.compile_config = {
            "optimizer": optimizers.serialize(self.optimizer),
            "loss": losses.serialize(loss),
            "metrics": [metrics_module.serialize(metric) for metric in metrics],
        }
        if weighted_metrics:
            self.compile_config["weighted_metrics"] = [
                metrics_module.serialize(metric) for metric in weighted_metrics
            ]
        if loss_weights is not None:
            self.compile_config["loss_weights"] = self.loss_scale

    @property
    def metric_log_names(self) -> list[str]:
        """Log names of the metrics then the weighted metrics (Keras's ``weighted_`` prefix)."""
        names = [m.name for m in self.compiled_metrics]
        for metric in self.compiled_weighted_metrics:
            names.append(metric.name if metric.name not in names else f"weighted_{metric.name}")
        return names

    @property
    def metrics_names(self) -> list[str]:
        """``["loss", *metric names]``, the order ``evaluate`` returns them in."""
        return ["loss", *self.metric_log_names]

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
        validation_data: Any = None,
        shuffle: bool = True,
        class_weight: dict[int, float] | None = None,
        sample_weight: Any = None,
        initial_epoch: int = 0,
        steps_per_epoch: int | None = None,
        validation_steps: int | None = None,
        validation_batch_size: int | None = None,
        validation_freq: int | list[int] = 1,
        **kwargs: Any,
    ) -> History:
        """Train for ``epochs`` epochs (Keras's ``fit``); returns a :class:`History`.

        ``validation_split`` holds out the *last* fraction of the samples before
        any shuffling (never a random split), as Keras does. Training is
        reproducible: shuffling and dropout follow the model's ``seed``.
        A NaN/inf loss raises :class:`~rnncast.exceptions.TrainingDivergedError`
        (the model keeps its last finite weights); Ctrl-C stops after the
        current batch and returns the History so far.

        Args:
            x: Windows ``(n, timesteps, features)``: numpy array, window view,
                :class:`rnncast.data.Windows` or tensor; ``(n, timesteps)``
                when the model takes one feature (the feature axis is added, as
                Keras does). Or, with ``y`` omitted: a generator or iterator of
                ``(x, y)`` / ``(x, y, sample_weight)`` batches, a
                ``torch.utils.data.DataLoader``, a ``torch.utils.data.Dataset``
                of ``(x, y)`` samples (batched by ``batch_size``) or an
                :class:`rnncast.utils.PyDataset`.
            y: Targets ``(n, outputs)`` or ``(n,)``.
            batch_size: Samples per update (default 32; ``ceil(n / steps_per_epoch)``
                when only ``steps_per_epoch`` is given, as in Keras).
            epochs: Index of the last epoch (training runs ``initial_epoch .. epochs-1``).
            verbose: ``"auto"``/1 progress bar (a line per epoch when not a
                terminal), 2 a line per epoch, 0 silent.
            callbacks: :mod:`rnncast.callbacks` objects.
            validation_split: Fraction of the last samples used for validation (arrays only).
            validation_data: ``(x_val, y_val)``, ``(x_val, y_val, sample_weight_val)``
                or any input ``x`` takes (a generator, DataLoader, PyDataset);
                takes precedence over ``validation_split``.
            shuffle: Shuffle the training samples every epoch (arrays, Datasets
                and the batch order of a PyDataset; generators and DataLoaders
                keep their own order, as in Keras).
            class_weight: ``{class: weight}``; each sample is weighted by its
                class (classes not listed weigh 1), as Keras does.
            sample_weight: ``(n,)`` weights; the loss of a batch is
                ``sum(w * loss_i) / batch_size`` (Keras 3's reduction).
            initial_epoch: Epoch to start from (to resume training).
            steps_per_epoch: Batches per epoch; the next epoch continues where
                the last stopped. Needed for an infinite generator.
            validation_steps: Batches per validation (default: all).
            validation_batch_size: Batch size of validation arrays (default ``batch_size``).
            validation_freq: Validate every n-th epoch (an int) or after the
                listed epochs (1-based, e.g. ``[1, 5, 10]``).
            **kwargs: Keras 2's ``workers``, ``use_multiprocessing`` and
                ``max_queue_size`` are accepted with no effect; anything else
                is a ``ConfigError``.

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
        reject_unknown("fit", kwargs, _FIT_ARGS)
        fit_arguments(epochs, initial_epoch, validation_split, callbacks, shuffle)
        if not 0 <= int(initial_epoch) <= int(epochs):
            raise ConfigError(
                f"need 0 <= initial_epoch <= epochs, got initial_epoch="
                f"{initial_epoch}, epochs={epochs}."
            )
        steps_per_epoch = _optional_positive(steps_per_epoch, "steps_per_epoch")
        validation_steps = _optional_positive(validation_steps, "validation_steps")
        validation_freq = _check_validation_freq(validation_freq)
        if class_weight is not None and sample_weight is not None:
            raise ConfigError(
                "fit got both class_weight and sample_weight; Keras takes one of them. "
                "Multiply the class weights into sample_weight yourself to combine them."
            )
        batches = self._epoch_iterator(
            x, y, sample_weight, class_weight, batch_size, shuffle, steps_per_epoch, ("x", "y")
        )
        validation = self._validation(
            batches,
            validation_data,
            validation_split,
            validation_batch_size or batch_size,
            validation_steps,
            class_weighted=class_weight is not None,
        )
        if validation is not None and validation_split and validation_data is None:
            batches = validation[0]
        self._build_optimizer()
        val_batches = validation[1] if validation is not None else None
        batches, val_batches = distributed.prepare(self, batches, val_batches)  # torchrun
        mode = resolve_verbose(verbose) if ranks.is_main_process() else 0  # rank 0 prints
        history = History()
        params = {"epochs": int(epochs), "steps": batches.num_batches, "verbose": mode}
        # History last, as in Keras: it records what the other callbacks add to the logs
        callback_list = CallbackList([*(callbacks or []), history], self, params)
        history.set_model(self)
        self.history = history
        try:
            train(
                self,
                batches,
                epochs=int(epochs),
                initial_epoch=int(initial_epoch),
                callbacks=callback_list,
                history=history,
                validation=(
                    None
                    if val_batches is None
                    else lambda: self._run_validation(val_batches, callback_list)
                ),
                validation_freq=validation_freq,
                mode=mode,
            )
        finally:
            self._parallel = None  # the DDP wrapper lives for one fit
        return history

    def evaluate(
        self,
        x: Any = None,
        y: Any = None,
        batch_size: int | None = None,
        verbose: int | str = "auto",
        sample_weight: Any = None,
        steps: int | None = None,
        callbacks: list[Callback] | None = None,
        return_dict: bool = False,
        **kwargs: Any,
    ) -> float | list[float] | dict[str, float]:
        """Loss (and metrics) on ``x, y`` in inference mode, as Keras's ``evaluate``.

        ``x`` takes every input :meth:`fit` takes. ``sample_weight`` weights
        the loss and the ``weighted_metrics``; ``steps`` limits the number of
        batches; ``callbacks`` get the ``on_test_*`` hooks.

        Returns the loss alone when no metrics were compiled, else
        ``[loss, *metrics]`` in :attr:`metrics_names` order, or a dict with
        ``return_dict=True``.
        """
        self._require_compiled("evaluate")
        reject_unknown("evaluate", kwargs, _EVALUATE_ARGS)
        steps = _optional_positive(steps, "steps")
        names = ("x", "y")
        batches = self._epoch_iterator(x, y, sample_weight, None, batch_size, False, steps, names)
        params = {"epochs": 1, "steps": batches.num_batches, "verbose": resolve_verbose(verbose)}
        callback_list = CallbackList(callbacks, self, params)
        logs = _evaluate(self, batches, callback_list)
        if logs is None:
            raise ConfigError("evaluate got no batches: the data given as x is empty or used up.")
        if resolve_verbose(verbose):
            from rnncast.models.progress import format_logs

            output.write(format_logs(logs))
        if return_dict:
            return logs
        values = [logs[name] for name in self.metrics_names]
        return values[0] if len(values) == 1 else values

    # -------------------------------------------------------------- inputs
    def _epoch_iterator(
        self,
        x: Any,
        y: Any,
        sample_weight: Any,
        class_weight: dict[int, float] | None,
        batch_size: int | None,
        shuffle: bool,
        steps: int | None,
        names: tuple[str, str],
        targets: bool = True,
    ) -> EpochIterator:
        """Any supported input as an :class:`EpochIterator` of ``(x, y, sample_weight)`` batches."""
        x_name, y_name = names
        if x is None:
            raise ConfigError(f"{x_name} is required.")
        kind = kind_of(x)
        if kind != "array":
            _reject_for_python_input(kind, y, sample_weight, x_name, y_name)
            size = positive_int(32 if batch_size is None else batch_size, "batch_size")
            feed = python_feed(x, kind, size, bool(shuffle))
            convert = self._batch_converter(class_weight, targets, f"the {x_name} {kind}")
            return EpochIterator(feed, steps, convert)
        if targets:
            data, target_tensor = self._prepare(x, y, x_name, y_name)
        else:
            data, target_tensor = self._prepare_inputs(x, x_name), None
        weights = None
        if sample_weight is not None:
            weights = as_weights(sample_weight, len(data))
        elif class_weight is not None:
            weights = class_weights_to_sample_weights(target_tensor, class_weight)
        if batch_size is None:
            batch_size = math.ceil(len(data) / steps) if steps and len(data) else 32
        size = positive_int(batch_size, "batch_size")
        feed = ArrayFeed(data, target_tensor, weights, size, bool(shuffle))
        feed.pin_memory = pins_memory(self._device)  # CUDA: batches cut into pinned memory
        return EpochIterator(feed, steps)

    def _validation_data(
        self, validation_data: Any, batch_size: int | None, steps: int | None
    ) -> EpochIterator:
        """The batches of ``validation_data``: a tuple of arrays or a batch source."""
        if isinstance(validation_data, tuple | list):
            if len(validation_data) not in (2, 3):
                raise ConfigError(
                    "validation_data must be (x_val, y_val) or (x_val, y_val, "
                    f"sample_weight_val), got {len(validation_data)} items."
                )
            x_val, y_val, w_val = (*validation_data, None)[:3]
        elif kind_of(validation_data) == "array":
            raise ConfigError(
                "validation_data must be a tuple (x_val, y_val) or (x_val, y_val, "
                "sample_weight_val), or a generator, DataLoader or PyDataset of batches."
            )
        else:
            x_val, y_val, w_val = validation_data, None, None
        names = ("x_val", "y_val")
        return self._epoch_iterator(x_val, y_val, w_val, None, batch_size, False, steps, names)

    def _validation(
        self,
        batches: EpochIterator,
        validation_data: Any,
        validation_split: float,
        batch_size: int | None,
        steps: int | None,
        class_weighted: bool = False,
    ) -> tuple[EpochIterator, EpochIterator] | None:
        """(training batches, validation batches), or ``None`` without validation.

        As in Keras, ``validation_split`` keeps the sample weights of the held-out
        samples but not class weights (those weight training only).
        """
        if validation_data is not None:
            try:
                return batches, self._validation_data(validation_data, batch_size, steps)
            except (ConfigError, ShapeError, DataError) as err:  # say which argument
                raise type(err)(f"validation_data: {err}") from err
        if not validation_split:
            return None
        if not isinstance(batches.feed, ArrayFeed):
            raise ConfigError(
                "validation_split works on arrays only (as in Keras); pass validation_data "
                "for a generator, DataLoader or PyDataset."
            )
        train_feed, held_out = _split_last(batches.feed, validation_split)
        if batch_size is not None:
            held_out.batch_size = positive_int(batch_size, "validation_batch_size")
        if class_weighted:
            held_out.weights = None
        return EpochIterator(train_feed, batches.steps), EpochIterator(held_out, steps)

    def _run_validation(
        self, batches: EpochIterator, callbacks: CallbackList
    ) -> dict[str, float] | None:
        batches.reset()  # every validation starts at the first batch, as in Keras
        logs = _evaluate(self, batches, callbacks)
        if logs is None:
            import warnings

            warnings.warn(
                "the validation data gave no batches (a generator is read once); pass "
                "validation_steps with an infinite generator, or arrays, a DataLoader "
                "or a PyDataset that can be read again.",
                stacklevel=4,
            )
        return logs

    def _batch_converter(
        self, class_weight: dict[int, float] | None, targets: bool, where: str
    ) -> Callable[[Any], Batch]:
        """Turns a raw batch from a Python input into checked ``(x, y, sample_weight)`` tensors."""

        def convert(raw: Any) -> Batch:
            x, y, weights = unpack(raw, where)
            data = self._prepare_inputs(x, f"x from {where}")
            inputs = data.take(slice(None))  # (batch, *sample_shape)
            if not targets:
                return inputs, None, None
            if y is None:
                raise ConfigError(
                    f"{where} yielded inputs without targets; yield (x, y) or "
                    "(x, y, sample_weight) batches."
                )
            target_tensor = as_targets(y, len(inputs))
            self._check_targets(target_tensor, f"y from {where}")
            check_finite(data, target_tensor)
            if weights is not None:
                if class_weight is not None:
                    raise ConfigError(
                        f"{where} yields sample weights and fit got class_weight; use one."
                    )
                return inputs, target_tensor, as_weights(weights, len(inputs))
            if class_weight is not None:
                return (
                    inputs,
                    target_tensor,
                    class_weights_to_sample_weights(target_tensor, class_weight),
                )
            return inputs, target_tensor, None

        return convert

    def _prepare(
        self, x: Any, y: Any, x_name: str, y_name: str
    ) -> tuple[BatchSource, torch.Tensor]:
        """Check and wrap inputs: dimensions, lengths, feature count, NaN/inf."""
        if x is None or y is None:
            raise ConfigError(f"{x_name} and {y_name} are both required.")
        data = self._prepare_inputs(x, x_name)
        targets = as_targets(y, len(data))
        self._check_targets(targets, y_name)
        check_finite(data, targets)
        return data, targets

    def _prepare_inputs(self, x: Any, x_name: str) -> BatchSource:
        """``x`` as a batch source the model accepts; ``(n, timesteps)`` gains a feature axis."""
        data = as_source(x, x_name)
        if self._needs_feature_axis(data.sample_shape):
            data = data.with_feature_axis()  # (n, timesteps) -> (n, timesteps, 1), a view
        self._check_input((len(data), *data.sample_shape), x_name)
        return data

    def _needs_feature_axis(self, sample_shape: tuple[int, ...]) -> bool:
        """Whether ``(timesteps,)`` samples meet a model that takes ``(timesteps, 1)``.

        Keras adds the axis when the model's input is ``(timesteps, 1)``; rnncast
        also does when the model is not built yet and its first layer takes
        sequences (LSTM, GRU, Conv1D, ...). A Dense-first model keeps 2-D input.
        """
        if len(sample_shape) != 1:
            return False
        if self.built:
            expected = self.built_input_shape
            return (
                len(expected) == 2 and expected[-1] == 1 and expected[0] in (None, sample_shape[0])
            )
        return bool(self.layers) and getattr(self.layers[0], "input_rank", None) == 2

    def _check_targets(self, targets: torch.Tensor, y_name: str) -> None:
        expected = tuple(self.output_shape[1:])
        if losses.takes_class_indices(self.loss_fn):
            check_class_labels(targets, expected[-1], y_name)
        elif tuple(targets.shape[1:]) != expected:
            raise ShapeError(
                f"the model outputs {self.output_shape} but {y_name} has shape "
                f"{tuple(targets.shape)}; make the last layer "
                f"Dense({targets.shape[1]}) or cut targets with that horizon."
            )

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


def _loss_scale(loss_weights: Any) -> float | None:
    """Keras's ``loss_weights`` for a one-output model: a number, ``[w]`` or ``{name: w}``."""
    if loss_weights is None:
        return None
    value = loss_weights
    if isinstance(loss_weights, dict | list | tuple):
        values = list(loss_weights.values() if isinstance(loss_weights, dict) else loss_weights)
        if len(values) != 1:
            raise ConfigError(
                f"loss_weights={loss_weights!r} has {len(values)} entries but a Sequential "
                "model has one output; pass one number, e.g. loss_weights=0.5."
            )
        value = values[0]
    if isinstance(value, bool) or not isinstance(value, int | float | np.number):
        raise ConfigError(
            f"loss_weights must be a number (or a one-element list or dict), got "
            f"{loss_weights!r}; in Keras 3 the third positional argument of compile is "
            "loss_weights, so pass metrics by keyword (metrics=[...])."
        )
    return float(value)


def _metric_list(metrics: Any) -> list[Any]:
    if metrics is None:
        return []
    if isinstance(metrics, str | metrics_module.Metric):
        return [metrics]
    if isinstance(metrics, dict):
        if len(metrics) != 1:
            raise ConfigError(
                f"metrics by output name {list(metrics)} need a model with several outputs; "
                "a Sequential model has one: pass a list."
            )
        metrics = next(iter(metrics.values()))
        return _metric_list(metrics)
    return list(metrics)


def _optional_positive(value: int | None, name: str) -> int | None:
    return None if value is None else positive_int(value, name)


def _check_validation_freq(validation_freq: Any) -> int | list[int]:
    if isinstance(validation_freq, int) and not isinstance(validation_freq, bool):
        return positive_int(validation_freq, "validation_freq")
    if isinstance(validation_freq, list | tuple | range) and all(
        isinstance(e, int) for e in validation_freq
    ):
        return list(validation_freq)
    raise ConfigError(
        f"validation_freq must be an int (every n-th epoch) or a list of epochs (1-based), "
        f"got {validation_freq!r}."
    )


def _reject_for_python_input(kind: str, y: Any, sample_weight: Any, x_name: str, y_name: str):
    """Keras's rule: with a generator, DataLoader or dataset, targets and weights come in it."""
    for given, what in ((y, y_name), (sample_weight, "sample_weight")):
        if given is not None:
            raise ConfigError(
                f"when {x_name} is a {kind}, {what} must not be passed: yield it inside the "
                f"batches, (x, y) or (x, y, sample_weight)."
            )


def _split_last(feed: ArrayFeed, fraction: float) -> tuple[ArrayFeed, ArrayFeed]:
    """Keras's validation_split: the last ``fraction`` of samples, before any shuffling."""
    if not 0 < fraction < 1:
        raise ConfigError(f"validation_split must be in (0, 1), got {fraction!r}.")
    n = len(feed.data)
    at = math.floor(n * (1.0 - fraction))
    if at == 0 or at == n:
        raise ConfigError(f"validation_split={fraction} leaves an empty part of {n} samples.")
    return feed.split(at)

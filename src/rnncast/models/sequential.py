"""Sequential: a Keras-style stack of layers that is also a ``torch.nn.Module``."""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable
from typing import Any

import numpy as np
import torch
from torch import nn

from rnncast._internal import output
from rnncast._internal.artifacts import check_build_size
from rnncast._internal.checks import positive_int
from rnncast.exceptions import ConfigError, ShapeError
from rnncast.layers import Layer, deserialize, serialize
from rnncast.layers.base import Shape, show_shape
from rnncast.layers.core import InputLayer
from rnncast.layers.recurrent import Recurrent
from rnncast.layers.wrappers import Bidirectional
from rnncast.models.devices import to_device
from rnncast.models.trainer import Trainer


class Sequential(Trainer, nn.Module):
    """A linear stack of layers, built from the first layer's ``input_shape`` or the first batch.

    Args:
        layers: Layers in order (more can be added with :meth:`add`).
        name: Model name (default ``"sequential"``).
        seed: When given, weights are initialised from a generator seeded with
            it, so the same seed gives the same weights whatever else used
            the global random state.

    Example:
        >>> from rnncast import Sequential
        >>> from rnncast.layers import LSTM, Dense
        >>> model = Sequential([
        ...     LSTM(50, return_sequences=True, input_shape=(60, 1)),
        ...     LSTM(50),
        ...     Dense(25, activation="relu"),
        ...     Dense(1),
        ... ], seed=42)
        >>> model.output_shape, model.count_params()
        ((None, 1), 31901)
    """

    def __init__(
        self,
        layers: Iterable[Layer] | None = None,
        name: str | None = None,
        seed: int | None = None,
    ) -> None:
        super().__init__()
        self.name = name or "sequential"
        self.seed = seed
        self._stack = nn.ModuleList()
        self.built = False
        self.built_input_shape: Shape | None = None
        for layer in layers or []:
            self.add(layer)

    # ------------------------------------------------------------ building
    @property
    def layers(self) -> list[Layer]:
        """The layers, in order, without an ``Input`` / ``InputLayer`` (as in Keras 3).

        An ``InputLayer`` only fixes the input shape: like Keras, rnncast keeps it
        out of ``layers`` and ``summary()`` but writes it in :meth:`get_config`.
        """
        return [layer for layer in self._stack if not isinstance(layer, InputLayer)]

    def pop(self) -> Layer:
        """Remove the last layer and return it (Keras's ``Sequential.pop``).

        Raises:
            ConfigError: when the model has no layer to remove.

        Example:
            >>> from rnncast import Sequential
            >>> from rnncast.layers import Dense
            >>> model = Sequential([Dense(4, input_shape=(3,)), Dense(1)])
            >>> model.pop().name, model.output_shape
            ('dense_1', (None, 4))
        """
        if not self.layers:
            raise ConfigError(f"model {self.name!r} has no layers to pop.")
        layer = self._stack[-1]
        del self._stack[-1]
        if not len(self._stack):
            self.built, self.built_input_shape = False, None
        return layer

    def get_layer(self, name: str | None = None, index: int | None = None) -> Layer:
        """A layer by ``name`` or by ``index`` in :attr:`layers` (Keras's ``get_layer``).

        Raises:
            ConfigError: for both or neither argument, an index out of range, or
                an unknown name (the message lists the layers there are).

        Example:
            >>> from rnncast import Sequential
            >>> from rnncast.layers import LSTM, Dense
            >>> model = Sequential([LSTM(4, input_shape=(5, 1)), Dense(1, name="out")])
            >>> model.get_layer("out").units, model.get_layer(index=0).name
            (1, 'lstm')
        """
        names = [layer.name for layer in self.layers]
        if name is not None and index is not None:
            raise ConfigError(
                f"give get_layer a layer name or an index, not both (name={name!r}, "
                f"index={index!r})."
            )
        if index is not None:
            if not -len(names) <= int(index) < len(names):
                raise ConfigError(
                    f"get_layer(index={index}) is out of range: model {self.name!r} has "
                    f"{len(names)} layers {names}."
                )
            return self.layers[int(index)]
        if name is None:
            raise ConfigError("get_layer needs a layer name or an index, e.g. get_layer('dense').")
        for layer in self.layers:
            if layer.name == name:
                return layer
        raise ConfigError(f"no such layer: {name!r}. Existing layers are: {names}.")

    def add(self, layer: Layer) -> None:
        """Append a layer; it gets an automatic name (``lstm``, ``lstm_1``, ...) if it has none.

        Raises:
            ConfigError: for something that is not an rnncast layer, a duplicate
                name, or a layer with ``return_state=True``.
        """
        if not isinstance(layer, Layer):
            raise ConfigError(
                f"Sequential takes rnncast layers (rnncast.layers.LSTM, Dense, ...), "
                f"got {type(layer).__name__}."
            )
        _check_sequential_layer(layer, self._stack[0] if len(self._stack) else layer)
        if any(existing is layer for existing in self._stack):
            raise ConfigError(f"layer {layer.name!r} is already in this model; create a new one.")
        layer.name = layer.name or self._unique_name(layer.default_name)
        if layer.name in {existing.name for existing in self._stack}:
            raise ConfigError(f"two layers are named {layer.name!r}; layer names must be unique.")
        if (
            isinstance(layer, InputLayer)
            and len(self._stack)
            and isinstance(self._stack[0], InputLayer)
        ):
            raise ConfigError(
                f"model {self.name!r} already has an Input of shape "
                f"{self._stack[0].input_shape}; a Sequential model takes one Input, first."
            )
        previous = self._stack[-1] if len(self._stack) else None
        self._stack.append(layer)
        if self.built:
            self._build_layer(layer, previous, self._output_shape_of(previous), self._generator())
        elif len(self._stack) == 1 and layer.input_shape is not None:
            self._build(layer.input_shape)

    def build(self, input_shape: tuple[int | None, ...]) -> None:
        """Create all weights for inputs of ``input_shape``, batch axis included (Keras style).

        Example: ``model.build((None, 60, 1))``.
        """
        shape = tuple(input_shape)
        if len(shape) < 2:
            raise ShapeError(
                "build takes the input shape with its batch axis, e.g. "
                f"(None, 60, 1); got {input_shape!r}."
            )
        self._build(shape[1:])

    def _build(self, input_shape: Shape) -> None:
        if not len(self._stack):
            raise ConfigError("the model has no layers; add some before building it.")
        generator, shape, previous = self._generator(), tuple(input_shape), None
        for layer in self._stack:
            self._build_layer(layer, previous, shape, generator)
            shape, previous = layer.compute_output_shape(shape), layer
        self.built_input_shape = tuple(input_shape)
        self.built = True

    def _build_layer(
        self, layer: Layer, previous: Layer | None, shape: Shape, generator: torch.Generator | None
    ) -> None:
        try:
            layer.check_input_shape(shape)
        except ShapeError as err:
            raise ShapeError(_explain(layer, previous, err)) from None
        check_build_size(layer, shape[-1] if shape and shape[-1] else 1)  # before allocating
        with torch.inference_mode(False):
            layer.build(shape, generator)
        if self._device is not None and self._device.type != "cpu":
            layer.to(self._device)  # built lazily after compile(device=...)

    def _generator(self) -> torch.Generator | None:
        return None if self.seed is None else torch.Generator().manual_seed(int(self.seed))

    def _unique_name(self, stem: str) -> str:
        taken = {layer.name for layer in self._stack}
        if stem not in taken:
            return stem
        return next(f"{stem}_{i}" for i in range(1, len(taken) + 2) if f"{stem}_{i}" not in taken)

    def _output_shape_of(self, last: Layer | None) -> Shape:
        shape = self.built_input_shape
        for layer in self._stack:
            shape = layer.compute_output_shape(shape)
            if layer is last:
                break
        return shape

    def reset_states(self) -> None:
        """Reset the carried state of every stateful recurrent layer to zeros (Keras 2's name).

        Example:
            >>> from rnncast import Sequential
            >>> from rnncast.layers import Input, LSTM, Dense
            >>> model = Sequential([Input(batch_shape=(4, 10, 1)), LSTM(8, stateful=True),
            ...                     Dense(1)])
            >>> model.reset_states()
        """
        for module in self.modules():
            if isinstance(module, Recurrent):
                module.reset_states()

    # -------------------------------------------------------------- shapes
    @property
    def input_shape(self) -> tuple[int | None, ...]:
        """``(None, timesteps, features)`` once built."""
        self._require_built("input_shape")
        return (None, *self.built_input_shape)

    @property
    def output_shape(self) -> tuple[int | None, ...]:
        """``(None, ...)`` shape of the model's output once built."""
        self._require_built("output_shape")
        return (None, *self._output_shape_of(self._stack[-1]))

    def count_params(self, trainable_only: bool = False) -> int:
        """Number of weights, as Keras's ``count_params()`` (moving statistics included)."""
        self._require_built("count_params")
        counts = [layer.param_counts() for layer in self._stack]
        return sum(t for t, _ in counts) + (0 if trainable_only else sum(n for _, n in counts))

    @property
    def trainable(self) -> bool:
        """``model.trainable = False`` freezes every layer (Keras); effective at the next fit."""
        return self.__dict__.get("_model_trainable", True)

    @trainable.setter
    def trainable(self, value: bool) -> None:
        self._model_trainable = bool(value)
        for layer in self._stack:
            layer.trainable = value

    def _require_built(self, what: str) -> None:
        if not self.built:
            raise ShapeError(
                f"{what} is known once the model is built: give the first layer "
                "input_shape=(timesteps, features), call model.build((None, "
                "timesteps, features)), or pass data to fit/predict first."
            )

    # --------------------------------------------------------------- running
    def forward(self, x: Any, training: bool | None = None) -> torch.Tensor:
        """Run the stack: ``model(x)`` or ``model(x, training=True)``, as Keras's torch backend.

        ``x`` may be a torch tensor ``(batch, timesteps, features)`` or anything
        numpy can turn into one (a numpy array, a list). The result is a torch
        tensor (tracked by autograd), as Keras on its torch backend returns.
        ``training=True`` runs dropout and BatchNormalization's batch statistics
        (which updates its moving statistics, as in Keras); ``training=False``
        runs inference. Left at ``None``, a numpy input runs in inference, as
        ``model(x)`` does in Keras, and a tensor follows the module's mode
        (``model.train()`` / ``model.eval()``), as torch code expects.

        Example:
            >>> import numpy as np
            >>> from rnncast import Sequential
            >>> from rnncast.layers import Dense
            >>> model = Sequential([Dense(1, input_shape=(3,))], seed=0)
            >>> out = model(np.ones((2, 3)))
            >>> type(out).__name__, tuple(out.shape)
            ('Tensor', (2, 1))
        """
        if not isinstance(x, torch.Tensor):
            x = _as_tensor(x)
            weight = next(self.parameters(), None)
            if weight is not None and weight.device != x.device:
                x = x.to(weight.device)  # a model moved with .to(device)
            training = bool(training)
        if not self.built:
            self._build(tuple(x.shape[1:]))
        if training is None or training == self.training:
            return self._run(x)
        was_training = self.training
        self.train(bool(training))
        try:
            return self._run(x)
        finally:
            self.train(was_training)

    def _run(self, x: torch.Tensor) -> torch.Tensor:  # (batch, timesteps, features)
        if self._precision is not None:  # mixed precision: autocast, float32 out (devices.py)
            with self._precision.autocast(x.device.type):
                return self._run_layers(x).float()
        return self._run_layers(x)

    def _run_layers(self, x: torch.Tensor) -> torch.Tensor:  # (batch, timesteps, features)
        for layer in self._stack:
            x = layer(x)
        return x

    def _apply(self, fn: Any, recurse: bool = True) -> Sequential:
        """After ``.to()``/``.cuda()``/``.cpu()``, batches and optimizer slots follow the weights.

        Each LSTM/GRU module re-flattens its weights for cuDNN in torch's own ``_apply``.
        """
        result = super()._apply(fn, recurse)
        weight = next(self.parameters(), None)
        if weight is not None and weight.device != self._device:
            self._device = weight.device
            if self.optimizer is not None:
                self.optimizer.to(weight.device)
        return result

    # ------------------------------------------------------ one batch at a time
    def train_on_batch(
        self,
        x: Any,
        y: Any = None,
        sample_weight: Any = None,
        class_weight: dict[int, float] | None = None,
        return_dict: bool = False,
    ) -> float | list[float] | dict[str, float]:
        """One gradient update on one batch (Keras's ``train_on_batch``).

        The whole of ``x`` is one batch, in the order given (nothing is
        shuffled). The optimizer is built as ``fit`` builds it, so
        ``train_on_batch`` and ``fit`` can be mixed. ``sample_weight`` and
        ``class_weight`` weigh the loss as in :meth:`fit`.

        Returns:
            The batch loss (computed before the update, as Keras reports it)
            when no metrics were compiled, else ``[loss, *metrics]`` in
            :attr:`metrics_names` order, or a dict with ``return_dict=True``.
            A NaN/inf loss is returned as Keras returns it, but rnncast then
            skips the update, so the weights stay finite.

        Raises:
            FitError: before ``compile``.

        Example:
            >>> import numpy as np
            >>> from rnncast import Sequential
            >>> from rnncast.layers import Dense, Flatten
            >>> model = Sequential([Flatten(input_shape=(3, 2)), Dense(1)], seed=0)
            >>> model.compile(optimizer="sgd", loss="mse")
            >>> x, y = np.ones((4, 3, 2)), np.zeros((4, 1))
            >>> model.train_on_batch(x, y) > model.train_on_batch(x, y)
            True
        """
        from rnncast.models.loop import _LossMeter, _train_step

        self._require_compiled("train_on_batch")
        x_batch, y_batch, weights = self._one_batch(x, y, sample_weight, class_weight)
        self._build_optimizer()
        was_training = self.training
        self.train()
        meter = _LossMeter(self)
        try:
            loss = _train_step(self, x_batch, y_batch, meter, weights)
        finally:
            self.train(was_training)
        logs = meter.logs() if math.isfinite(loss) else {"loss": loss}  # NaN: weights kept
        return self._batch_logs(logs, return_dict)

    def test_on_batch(
        self,
        x: Any,
        y: Any = None,
        sample_weight: Any = None,
        return_dict: bool = False,
    ) -> float | list[float] | dict[str, float]:
        """Loss (and metrics) of one batch in inference mode (Keras's ``test_on_batch``).

        Returns what :meth:`train_on_batch` returns, without updating anything.
        """
        from rnncast.models.loop import evaluate

        self._require_compiled("test_on_batch")
        batches = self._epoch_iterator(x, y, sample_weight, None, _rows(x), False, None, ("x", "y"))
        return self._batch_logs(evaluate(self, batches), return_dict)

    def _one_batch(
        self, x: Any, y: Any, sample_weight: Any, class_weight: dict[int, float] | None
    ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor | None]:
        """``x``, ``y`` and the sample weights as one checked batch, in the order given."""
        batches = self._epoch_iterator(
            x, y, sample_weight, class_weight, _rows(x), False, None, ("x", "y")
        )
        stream = batches.epoch()
        try:
            return next(iter(stream))
        finally:
            stream.close()

    def predict_on_batch(self, x: Any) -> np.ndarray:
        """Outputs for one batch as a numpy array (Keras's ``predict_on_batch``)."""
        return self.predict(x, batch_size=max(len(x), 1))

    def _batch_logs(
        self, logs: dict[str, float], return_dict: bool
    ) -> float | list[float] | dict[str, float]:
        if return_dict:
            return logs
        values = [logs.get(name, math.nan) for name in self.metrics_names]
        return values[0] if len(values) == 1 else values

    def predict(
        self,
        x: Any,
        batch_size: int | None = None,
        verbose: int | str = 0,
        steps: int | None = None,
        callbacks: list[Any] | None = None,
        *,
        dropout: bool = False,
    ) -> np.ndarray:
        """Outputs for ``x`` as a float32 numpy array, in inference mode, batch by batch.

        Args:
            x: ``(n, timesteps, features)`` array (or a ``rnncast.data.Windows``);
                ``(n, timesteps)`` when the model takes one feature; or a
                generator, DataLoader, Dataset or PyDataset of batches (``x``
                alone or ``(x, y)``: only ``x`` is used), as in :meth:`fit`.
            batch_size: Samples per forward pass (default 32, as in Keras).
            verbose: Accepted for Keras compatibility; prediction prints nothing.
            steps: Number of batches to predict (default: all of ``x``).
            callbacks: Callbacks whose ``on_predict_*`` hooks run (Keras's hooks;
                ``on_predict_batch_end`` gets ``{"outputs": batch outputs}``).
            dropout: Keep dropout active (Monte-Carlo dropout, like Keras's
                ``model(x, training=True)`` for the dropout layers only;
                BatchNormalization still uses its moving statistics).

        Returns:
            ``(n, ...)`` float32 array, e.g. ``(n, 1)`` for a final ``Dense(1)``.
        """
        from rnncast.callbacks import CallbackList

        steps = None if steps is None else positive_int(steps, "steps")
        batches = self._epoch_iterator(
            x, None, None, None, batch_size, False, steps, ("x", "y"), targets=False
        )
        callback_list = CallbackList(callbacks, self, {"epochs": 1, "steps": batches.num_batches})
        was_training = self.training
        self.eval()
        for layer in self.dropout_layers() if dropout else []:
            layer.train(True)
        outputs = []
        callback_list.call("on_predict_begin", None)
        try:
            with torch.inference_mode():
                for step, (inputs, _, _) in enumerate(batches.epoch()):
                    callback_list.call("on_predict_batch_begin", step, None)
                    inputs = to_device((inputs, None, None), self._device)[0]
                    outputs.append(self(inputs))  # (batch, ...)
                    callback_list.call("on_predict_batch_end", step, {"outputs": outputs[-1]})
        finally:
            self.train(was_training)
        callback_list.call("on_predict_end", None)
        if not outputs:
            return np.zeros((0, *self.output_shape[1:]), dtype=np.float32)
        return torch.cat(outputs).cpu().numpy()

    def export(
        self,
        filepath: Any,
        format: str = "onnx",
        verbose: bool | None = None,
        input_signature: Any = None,
        **kwargs: Any,
    ) -> Any:
        """Write the inference pass for serving outside Python (Keras 3's ``model.export``).

        ``format="onnx"`` (the default here: Keras's ``"tf_saved_model"``
        needs TensorFlow) writes an ONNX file whose input ``inputs`` and
        output ``outputs`` have a dynamic batch axis; ``format="torch"`` a
        ``torch.export`` program (``.pt2``). ``opset_version`` may be passed
        for ONNX. See :mod:`rnncast.interop.onnx`.

        Returns:
            The path written (a ``pathlib.Path``).

        Example:
            >>> import tempfile
            >>> from rnncast import Sequential
            >>> from rnncast.layers import GRU, Dense
            >>> model = Sequential([GRU(4, input_shape=(10, 1)), Dense(1)], seed=0)
            >>> model.export(tempfile.mkdtemp() + "/model.onnx", verbose=False).name
            'model.onnx'
        """
        from rnncast.interop.onnx import export_model

        return export_model(self, filepath, format, verbose, input_signature, **kwargs)

    def dropout_layers(self) -> list[Layer]:
        """Layers that drop inputs while training (Dropout, or LSTM/GRU with ``dropout``)."""
        return [
            m
            for m in self.modules()
            if isinstance(m, Layer)
            and (
                getattr(m, "rate", 0) > 0
                or getattr(m, "dropout", 0) > 0
                or getattr(m, "recurrent_dropout", 0) > 0
            )
        ]

    def _check_input(self, shape: tuple[int, ...] | None, kind: str = "input") -> None:
        """Build the model from ``shape`` if needed, then check ``shape`` fits its input."""
        if shape is None or len(shape) < 2:
            raise ShapeError(
                f"expected an array of shape (samples, timesteps, features), got "
                f"{kind} with shape {shape}."
            )
        if not self.built:
            self._build(tuple(shape[1:]))
        expected = self.built_input_shape
        if len(shape) - 1 != len(expected) or any(
            e is not None and e != s for e, s in zip(expected, shape[1:], strict=False)
        ):
            raise ShapeError(
                f"the model expects input {show_shape(expected)} but got "
                f"{tuple(shape)}; cut windows with the lookback and features the "
                "model was built for."
            )

    # --------------------------------------------------------------- config
    def get_config(self) -> dict[str, Any]:
        """JSON-friendly architecture (no weights); :meth:`from_config` rebuilds it."""
        shape = [None, *self.built_input_shape] if self.built else None
        return {
            "name": self.name,
            "seed": self.seed,
            "build_input_shape": shape,
            "layers": [serialize(layer) for layer in self._stack],
        }

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> Sequential:
        """Rebuild a model from :meth:`get_config` output (only rnncast layer classes)."""
        if not isinstance(config, dict) or not isinstance(config.get("layers"), list):
            raise ConfigError("a Sequential config is a dict with a 'layers' list.")
        model = cls(
            [deserialize(spec) for spec in config["layers"]],
            name=config.get("name"),
            seed=config.get("seed"),
        )
        if config.get("build_input_shape") and not model.built:
            model.build(tuple(config["build_input_shape"]))
        return model

    def to_json(self, **kwargs: Any) -> str:
        """The architecture (no weights) as JSON in Keras 3's format (Keras's ``to_json``).

        :func:`rnncast.models.model_from_json` rebuilds the model, and so does
        ``keras.models.model_from_json``. ``kwargs`` go to ``json.dumps``.

        Raises:
            ConfigError: for an unbuilt model, or a ``Lambda`` layer (a Python
                function has no JSON form).

        Example:
            >>> from rnncast import Sequential
            >>> from rnncast.models import model_from_json
            >>> from rnncast.layers import LSTM, Dense
            >>> model = Sequential([LSTM(4, input_shape=(5, 1)), Dense(1)])
            >>> model_from_json(model.to_json()).count_params()
            101
        """
        from rnncast.interop.keras_writer import to_json

        return to_json(self, **kwargs)

    def summary(self, print_fn: Callable[[str], Any] | None = None) -> None:
        """Print a Keras-style table of layers, output shapes and parameter counts."""
        from rnncast.models.summary import render_summary

        text = render_summary(self)
        (print_fn or output.write)(text)

    def __repr__(self) -> str:
        return f"<Sequential name={self.name!r}, layers={[layer.name for layer in self._stack]}>"


def _has_input(stack: nn.ModuleList) -> bool:
    return isinstance(stack[0], InputLayer)


def _as_tensor(x: Any) -> torch.Tensor:
    """``model(x)``'s input as a float32 tensor; a ``ShapeError`` for what is not numeric."""
    try:
        return torch.from_numpy(np.ascontiguousarray(x, dtype=np.float32))
    except (TypeError, ValueError) as err:
        raise ShapeError(
            f"model(x) takes a numeric array or torch tensor of shape (batch, timesteps, "
            f"features), got {type(x).__name__}: {err}"
        ) from None


def _rows(x: Any) -> int:
    """The number of samples of a one-batch input (at least 1, for a clear error later)."""
    return max(len(x), 1) if hasattr(x, "__len__") else 1


def _check_sequential_layer(layer: Layer, first: Layer) -> None:
    """Refuse ``return_state`` (as Keras does); give stateful layers the model's batch size."""
    for module in layer.modules():
        if not isinstance(module, Recurrent):
            continue
        if module.return_state:
            raise ConfigError(
                f"{module.kind}(return_state=True) cannot be a Sequential layer: the next "
                "layer would receive a list of tensors. Remove return_state (the output is "
                "the last state h already), or call the layer on its own: "
                "output, *states = layer(x)."
            )
        if module.stateful and first.batch_size and module.state_batch_size is None:
            module.state_batch_size = first.batch_size


def _explain(layer: Layer, previous: Layer | None, err: ShapeError) -> str:
    """Name both layers and the fix in a build-time shape error."""
    where = f"layer {layer.name!r} ({layer.kind})"
    if previous is None:
        return f"{where} {err}; give it input_shape=(timesteps, features) matching your windows."
    message = f"{where} {err} from {previous.name!r} ({previous.kind})"
    returns_last = isinstance(previous, Recurrent | Bidirectional) and not previous.return_sequences
    if returns_last and layer.input_rank == 2:
        return (
            f"{message}: {previous.name!r} returns only its last output. Set "
            f"return_sequences=True on {previous.name!r} to pass the whole sequence on."
        )
    return f"{message}."

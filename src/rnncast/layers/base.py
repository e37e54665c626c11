"""The Layer base class: a ``torch.nn.Module`` built lazily from its input shape, Keras style."""

from __future__ import annotations

import re
from typing import Any, ClassVar

import numpy as np
import torch
from torch import nn

from rnncast import constraints as constraints_module
from rnncast import regularizers as regularizers_module
from rnncast.exceptions import ArtifactError, ConfigError, ShapeError

Shape = tuple[int | None, ...]  # without the batch axis, e.g. (60, 1); None = any length


class Layer(nn.Module):
    """Base class of rnncast layers.

    A layer is created with Keras arguments, gets its weights in :meth:`build`
    once the input shape is known (the first layer may be given
    ``input_shape``), and then is an ordinary ``torch.nn.Module``. Shapes
    exclude the batch axis, as Keras's ``input_shape`` does.

    Subclasses set ``input_rank`` (the input's number of axes without batch,
    or ``None`` for any), and implement ``build``, ``compute_output_shape``,
    ``forward``, ``get_config``, and the Keras weight order in
    ``keras_weights`` / ``set_keras_weights``. Layers with regularized or
    constrained weights also implement ``_keras_weight`` /
    ``_assign_keras_weight`` (one weight by its Keras name, in Keras's layout).

    Keras's arguments of every layer, passed on by subclasses' ``**kwargs``:

    Args:
        name: Layer name (letters, digits, ``_``, ``-``, ``.``).
        input_shape: Shape of one sample without the batch axis, for a first layer.
        trainable: ``False`` freezes the layer's weights (``requires_grad=False``):
            they leave the optimizer and count as non-trainable, as in Keras.
        activity_regularizer: A penalty on the layer's output
            (:mod:`rnncast.regularizers`), divided by the batch size as in Keras 3.
        input_dim: Keras's shorthand for ``input_shape=(input_dim,)``.
        batch_size: A fixed batch size (what a stateful recurrent layer needs).
        batch_input_shape: Keras 2's ``(batch_size, *input_shape)``; Keras 3
            refuses it, rnncast accepts it so Keras 2 tutorials run.
        dtype: ``None``, ``"float32"`` or a float32 ``keras.DTypePolicy``;
            anything else is a ``ConfigError`` (rnncast computes in float32).
        **kwargs: Other Keras arguments: accepted at their "off" value,
            otherwise a ``ConfigError`` naming the argument and what to do.
    """

    input_rank: ClassVar[int | None] = None

    def __init__(
        self,
        name: str | None = None,
        input_shape: Shape | None = None,
        *,
        trainable: bool = True,
        activity_regularizer: Any = None,
        input_dim: int | None = None,
        batch_size: int | None = None,
        batch_input_shape: Shape | None = None,
        dtype: Any = None,
        **kwargs: Any,
    ) -> None:
        super().__init__()
        if name is not None and not re.fullmatch(r"[A-Za-z_][\w.-]*", str(name)):
            raise ConfigError(f"layer name {name!r} must be letters, digits, '_', '-' or '.'.")
        reject_unsupported(type(self).__name__, kwargs)
        check_dtype(dtype, type(self).__name__)
        self.name = name
        input_shape, self.batch_size = _keras_shape(input_shape, input_dim, batch_input_shape)
        self.batch_size = _batch_size(batch_size if batch_size is not None else self.batch_size)
        self.input_shape = _as_shape(input_shape) if input_shape is not None else None
        self.built = False
        self.built_input_shape: Shape | None = None
        self._trainable = _flag(trainable, "trainable")
        self._weight_regularizers: dict[str, Any] = {}  # Keras weight name -> regularizer
        self._weight_constraints: dict[str, Any] = {}  # Keras weight name -> constraint
        self._activity_regularizer: Any = None
        self._activity_hook: Any = None
        self._activity_loss: torch.Tensor | None = None
        self.activity_regularizer = activity_regularizer

    def __call__(self, inputs: Any, *args: Any, **kwargs: Any) -> Any:
        """Run the layer, building it from the first input's shape, as Keras does.

        A numpy array is taken as a float32 tensor, so a layer can be tried on
        its own: ``LSTM(4)(np.zeros((2, 5, 1)))`` returns a ``(2, 4)`` tensor.
        """
        if isinstance(inputs, np.ndarray):
            inputs = torch.from_numpy(np.asarray(inputs, dtype=np.float32))
        if not self.built and isinstance(inputs, torch.Tensor):
            shape = tuple(inputs.shape[1:])
            self.check_input_shape(shape)
            with torch.inference_mode(False):
                self.build(shape)
        return super().__call__(inputs, *args, **kwargs)

    # -- to override ------------------------------------------------------
    def build(self, input_shape: Shape, generator: torch.Generator | None = None) -> None:
        """Create the weights for inputs of ``input_shape`` (no batch axis)."""
        self.built_input_shape = input_shape
        self.built = True
        self._sync_trainable()

    def compute_output_shape(self, input_shape: Shape) -> Shape:
        """Output shape for ``input_shape`` (both without the batch axis)."""
        return input_shape

    def get_config(self) -> dict[str, Any]:
        """Constructor arguments (Keras names) that rebuild this layer."""
        config: dict[str, Any] = {"name": self.name, "trainable": self.trainable}
        if self.input_shape is not None:
            config["input_shape"] = list(self.input_shape)
        if self.batch_size is not None:
            config["batch_size"] = self.batch_size
        if self.activity_regularizer is not None:
            config["activity_regularizer"] = regularizers_module.serialize(
                self.activity_regularizer
            )
        return config

    def keras_weights(self) -> list[np.ndarray]:
        """Weights as Keras orders and shapes them (what ``get_weights()`` returns)."""
        return []

    def set_keras_weights(self, weights: list[np.ndarray]) -> None:
        """Load weights given in Keras's order and shapes."""
        self._expect_weights(weights, [])

    # -- shared -------------------------------------------------------------
    @classmethod
    def from_config(cls, config: dict[str, Any]) -> Layer:
        """Create a layer from :meth:`get_config` output."""
        config = dict(config)
        trainable = config.pop("trainable", True)
        activity_regularizer = config.pop("activity_regularizer", None)
        layer = cls(**config)
        layer.trainable = trainable
        if activity_regularizer is not None:
            layer.activity_regularizer = activity_regularizer
        return layer

    @property
    def kind(self) -> str:
        """The Keras class name, e.g. ``"LSTM"``."""
        return type(self).__name__

    @property
    def default_name(self) -> str:
        """Keras's automatic name stem: ``LSTM`` -> ``lstm``, ``Conv1D`` -> ``conv1d``."""
        return _snake(type(self).__name__)

    def _statistics(self) -> list[torch.Tensor]:
        """State that Keras counts as non-trainable weights (e.g. moving statistics)."""
        return []

    def param_counts(self) -> tuple[int, int]:
        """``(trainable, non_trainable)`` parameter counts, as Keras's summary reports them."""
        trainable = sum(p.numel() for p in self.parameters() if p.requires_grad)
        frozen = sum(p.numel() for p in self.parameters() if not p.requires_grad)
        statistics = [t for m in self.modules() if isinstance(m, Layer) for t in m._statistics()]
        return trainable, frozen + sum(t.numel() for t in statistics)

    def count_params(self) -> int:
        """Number of weights (moving statistics included), as Keras's ``layer.count_params()``.

        Example:
            >>> from rnncast import Sequential
            >>> from rnncast.layers import Dense
            >>> Sequential([Dense(3, input_shape=(4,))]).layers[0].count_params()
            15
        """
        self._require_built("count_params")
        return sum(self.param_counts())

    # -- Keras's weight API ---------------------------------------------------
    @property
    def trainable(self) -> bool:
        """Whether the optimizer updates this layer's weights (settable, as in Keras).

        Setting it sets every wrapped layer too and takes effect at the next
        ``fit``. A frozen ``BatchNormalization`` also runs in inference mode.

        Example:
            >>> from rnncast import Sequential
            >>> from rnncast.layers import Dense
            >>> model = Sequential([Dense(3, input_shape=(4,)), Dense(1)])
            >>> model.layers[0].trainable = False
            >>> model.count_params(), model.count_params(trainable_only=True)
            (19, 4)
        """
        return self._trainable

    @trainable.setter
    def trainable(self, value: bool) -> None:
        value = _flag(value, "trainable")
        for module in self.modules():
            if isinstance(module, Layer):
                module._trainable = value
        self._sync_trainable()

    def _sync_trainable(self, parent: bool = True) -> None:
        """Set ``requires_grad`` on the weights: trainable only if every enclosing layer is."""
        _set_requires_grad(self, parent and self._trainable)

    def get_weights(self) -> list[np.ndarray]:
        """The weights as numpy arrays in Keras's order and shapes (``layer.get_weights()``)."""
        return self.keras_weights() if self.built else []

    def set_weights(self, weights: list[np.ndarray]) -> None:
        """Load numpy arrays given in Keras's order and shapes (``layer.set_weights(...)``).

        Raises:
            ShapeError: when the number or the shapes of the arrays do not fit.
        """
        self._require_built("set_weights")
        try:
            self.set_keras_weights(list(weights))
        except ArtifactError as err:
            raise ShapeError(str(err)) from None

    @property
    def weights(self) -> list[torch.Tensor]:
        """Copies of the weights as tensors in Keras's order and shapes (``layer.weights``)."""
        return [torch.from_numpy(w) for w in self.get_weights()]

    @property
    def trainable_weights(self) -> list[torch.Tensor]:
        """The weights the optimizer updates (copies, Keras's order and shapes)."""
        return [w for w, t in zip(self.weights, self._weight_flags(), strict=True) if t]

    @property
    def non_trainable_weights(self) -> list[torch.Tensor]:
        """Frozen weights and moving statistics (copies, Keras's order and shapes)."""
        return [w for w, t in zip(self.weights, self._weight_flags(), strict=True) if not t]

    def _weight_flags(self) -> list[bool]:
        """For each Keras weight: is it trainable?"""
        inner = [m for m in self.children() if isinstance(m, Layer)]
        if inner:  # a wrapper: its weights are its layers' weights, in order
            return [self.trainable and f for m in inner for f in m._weight_flags()]
        count, statistics = len(self.get_weights()), len(self._statistics())
        return [self.trainable] * (count - statistics) + [False] * statistics

    # -- regularizers and constraints ---------------------------------------------
    @property
    def activity_regularizer(self) -> Any:
        """Penalty on the layer's output, divided by the batch size (settable, as in Keras)."""
        return self._activity_regularizer

    @activity_regularizer.setter
    def activity_regularizer(self, value: Any) -> None:
        self._activity_regularizer = regularizers_module.get(value, "activity_regularizer")
        if self._activity_hook is not None:
            self._activity_hook.remove()
            self._activity_hook = None
        self._activity_loss = None
        if self._activity_regularizer is not None:
            self._activity_hook = self.register_forward_hook(_record_activity)

    @property
    def losses(self) -> list[torch.Tensor]:
        """Penalties of this layer and the layers it wraps (Keras's ``layer.losses``).

        The activity penalties of the last call, then the weight penalties on
        the current weights; ``fit`` and ``evaluate`` add them to the loss.
        """
        layers = [m for m in self.modules() if isinstance(m, Layer)]
        return [t for m in layers for t in m._activity_losses()] + [
            t for m in layers for t in m._weight_penalties()
        ]

    def _set_weight_options(self, **options: tuple[Any, Any]) -> None:
        """Resolve ``kernel=(kernel_regularizer, kernel_constraint)`` and the like."""
        for weight, (regularizer, constraint) in options.items():
            found = regularizers_module.get(regularizer, f"{weight}_regularizer")
            if found is not None:
                self._weight_regularizers[weight] = found
            found = constraints_module.get(constraint, f"{weight}_constraint")
            if found is not None:
                self._weight_constraints[weight] = found

    def _weight_options_config(self, *weights: str) -> dict[str, Any]:
        """``{"kernel_regularizer": ..., ..., "kernel_constraint": ...}`` in Keras's form."""
        config = {
            f"{w}_regularizer": regularizers_module.serialize(self._weight_regularizers.get(w))
            for w in weights
        }
        config.update(
            {
                f"{w}_constraint": constraints_module.serialize(self._weight_constraints.get(w))
                for w in weights
            }
        )
        return config

    def _keras_weight(self, weight: str) -> torch.Tensor | None:
        """The weight named ``weight`` (``"kernel"``, ``"bias"``, ...) in Keras's layout.

        Differentiable (a view or a permutation of the torch parameter);
        ``None`` when the layer has no such weight (e.g. ``use_bias=False``).
        """
        return None

    def _assign_keras_weight(self, weight: str, value: torch.Tensor) -> None:
        """Write ``value`` (Keras's layout) into the weight named ``weight``."""
        raise NotImplementedError(f"{self.kind} has no weight {weight!r}")

    def _learns(self) -> bool:
        return any(p.requires_grad for p in self.parameters())

    def _activity_losses(self) -> list[torch.Tensor]:
        return [] if self._activity_loss is None else [self._activity_loss]

    def _weight_penalties(self) -> list[torch.Tensor]:
        """This layer's own weight penalties; frozen weights have none (as in Keras)."""
        if not self.built or not self._weight_regularizers or not self._learns():
            return []
        weights = {name: self._keras_weight(name) for name in self._weight_regularizers}
        return [
            regularizer(weights[name])
            for name, regularizer in self._weight_regularizers.items()
            if weights[name] is not None
        ]

    def apply_constraints(self) -> None:
        """Project this layer's own weights with their constraints (after an optimizer step)."""
        if not self.built or not self._weight_constraints or not self._learns():
            return
        with torch.no_grad():
            for name, constraint in self._weight_constraints.items():
                weight = self._keras_weight(name)
                if weight is not None:
                    self._assign_keras_weight(name, constraint(weight))

    def _require_built(self, what: str) -> None:
        if not self.built:
            raise ShapeError(
                f"layer {self.name!r} ({self.kind}) has no weights before it is built; "
                f"call {what} after model.build(...), fit or predict, or give the first "
                "layer input_shape=(timesteps, features)."
            )

    def check_input_shape(self, input_shape: Shape) -> None:
        """Raise ``ShapeError`` when ``input_shape`` has the wrong number of axes."""
        if self.input_rank is not None and len(input_shape) != self.input_rank:
            raise ShapeError(
                f"expects {self.input_rank + 1}-D input (batch, "
                f"{_axes(self.input_rank)}) but gets {_show(input_shape)}"
            )

    def _expect_weights(self, weights: list[np.ndarray], shapes: list[tuple[int, ...]]) -> None:
        got = [tuple(np.shape(w)) for w in weights]
        if got != [tuple(s) for s in shapes]:
            raise ArtifactError(
                f"layer {self.name!r} ({self.kind}) needs weights of shapes {shapes}, got {got}."
            )

    def extra_repr(self) -> str:
        """Shown inside ``repr(layer)`` by ``torch.nn.Module``."""
        return f"name={self.name!r}"


def add_regularization(model: nn.Module, loss: torch.Tensor) -> torch.Tensor:
    """``loss`` plus every layer's activity and weight penalties, as Keras adds ``model.losses``.

    Returns ``loss`` itself when no layer has a regularizer (nothing is computed).
    """
    layers = [
        m for m in _layers_in(model) if m._weight_regularizers or m._activity_loss is not None
    ]
    if not layers:
        return loss
    penalties = [t for m in layers for t in m._activity_losses()]
    penalties += [t for m in layers for t in m._weight_penalties()]
    return loss + torch.stack(penalties).sum() if penalties else loss


def apply_constraints(model: nn.Module) -> None:
    """Apply the weight constraints of every layer in ``model``; call after each optimizer step."""
    for layer in _layers_in(model):
        if layer._weight_constraints:
            layer.apply_constraints()


def _layers_in(module: nn.Module) -> list[Layer]:
    """Every :class:`Layer` inside ``module`` (wrapped ones too), faster than ``modules()``."""
    found: list[Layer] = []
    for child in module._modules.values():
        if isinstance(child, Layer):
            found.append(child)
        if child is not None and child._modules:
            found.extend(_layers_in(child))
    return found


def _record_activity(layer: Layer, inputs: Any, output: Any) -> None:
    """Forward hook: the activity penalty of this call, divided by the batch size (Keras 3)."""
    if not torch.is_tensor(output):
        return
    penalty = layer.activity_regularizer(output)
    if output.ndim > 0:
        penalty = penalty / output.shape[0] if output.shape[0] else penalty * 0.0
    layer._activity_loss = penalty


def _set_requires_grad(module: nn.Module, on: bool) -> None:
    for parameter in module.parameters(recurse=False):
        parameter.requires_grad_(on)
    for child in module.children():
        if isinstance(child, Layer):
            child._sync_trainable(on)
        else:
            _set_requires_grad(child, on)


def _flag(value: Any, name: str) -> bool:
    if not isinstance(value, bool | np.bool_ | int) or value not in (0, 1):
        raise ConfigError(f"{name}={value!r} must be True or False.")
    return bool(value)


def _as_shape(shape: Any) -> Shape:
    if isinstance(shape, int):
        shape = (shape,)
    try:
        dims = tuple(None if d is None else int(d) for d in shape)
    except (TypeError, ValueError) as err:
        raise ConfigError(f"input_shape={shape!r} must be a tuple such as (60, 1).") from err
    if any(d is not None and d < 1 for d in dims):
        raise ConfigError(f"input_shape={shape!r} must hold positive sizes (or None).")
    return dims


def _keras_shape(
    input_shape: Any, input_dim: Any, batch_input_shape: Any
) -> tuple[Any, int | None]:
    """``(input_shape, batch_size)`` from whichever of Keras's three spellings was given."""
    given = (
        ("input_shape", input_shape),
        ("input_dim", input_dim),
        ("batch_input_shape", batch_input_shape),
    )
    named = [name for name, value in given if value is not None]
    if len(named) > 1:
        raise ConfigError(f"give only one of {' / '.join(named)}; each sets the input shape.")
    if input_dim is not None:
        return (input_dim,), None
    if batch_input_shape is None:
        return input_shape, None
    if not isinstance(batch_input_shape, list | tuple) or len(batch_input_shape) < 2:
        raise ConfigError(
            f"batch_input_shape={batch_input_shape!r} must be a tuple such as (32, 60, 1)."
        )
    batch, *rest = batch_input_shape
    return tuple(rest), batch


def _batch_size(value: Any) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < 1:
        raise ConfigError(f"batch_size={value!r} must be a positive integer (or None).")
    return int(value)


def check_dtype(dtype: Any, kind: str) -> None:
    """Accept Keras's ``dtype`` when it means float32; rnncast layers compute in float32.

    Example:
        >>> check_dtype("float32", "Dense")
        >>> check_dtype("float16", "Dense")
        Traceback (most recent call last):
        ...
        rnncast.exceptions.ConfigError: Dense(dtype='float16') is not supported: rnncast layers compute in float32; remove dtype= or use dtype="float32".
    """  # noqa: E501
    name = getattr(dtype, "name", dtype)  # a keras.DTypePolicy has .name
    if dtype is None or name in ("float32", torch.float32):
        return
    raise ConfigError(
        f"{kind}(dtype={dtype!r}) is not supported: rnncast layers compute in float32; "
        'remove dtype= or use dtype="float32".'
    )


def channels_last(data_format: Any, kind: str) -> None:
    """Accept Keras's ``data_format`` when it means channels-last (the only layout here).

    Example:
        >>> channels_last(None, "Flatten")
        >>> channels_last("channels_first", "Flatten")
        Traceback (most recent call last):
        ...
        rnncast.exceptions.ConfigError: Flatten(data_format='channels_first') is not supported: rnncast inputs are channels-last (batch, timesteps, features); use data_format='channels_last'.
    """  # noqa: E501
    if data_format not in (None, "channels_last"):
        raise ConfigError(
            f"{kind}(data_format={data_format!r}) is not supported: rnncast inputs are "
            "channels-last (batch, timesteps, features); use data_format='channels_last'."
        )


def _snake(name: str) -> str:
    name = re.sub(r"(.)([A-Z][a-z]+)", r"\1_\2", name)
    return re.sub(r"([a-z])([A-Z])", r"\1_\2", name).lower()


def _axes(rank: int) -> str:
    return {1: "features", 2: "timesteps, features"}.get(rank, f"{rank} axes")


def _show(shape: Shape) -> str:
    return "(None, " + ", ".join("None" if d is None else str(d) for d in shape) + ")"


def show_shape(shape: Shape) -> str:
    """Keras's way to print a shape with its batch axis, e.g. ``(None, 60, 50)``."""
    return _show(shape)


def to_numpy(tensor: torch.Tensor) -> np.ndarray:
    """A float32 numpy copy of a weight tensor."""
    return tensor.detach().cpu().numpy().astype(np.float32, copy=True)


def assign(target: torch.Tensor, value: np.ndarray | torch.Tensor) -> None:
    """Copy ``value`` into the parameter or buffer ``target`` without tracking gradients."""
    with torch.no_grad():
        target.copy_(torch.as_tensor(np.asarray(value), dtype=target.dtype))


# Keras arguments rnncast does not implement, with the value that means "off" (accepted
# silently, as a tutorial may spell out a default) and what to do instead.
_UNSUPPORTED: dict[str, tuple[tuple[Any, ...], str]] = {
    "seed": ((None,), "this layer draws no random numbers; remove it"),
    "use_cudnn": (("auto",), "remove it; only recurrent layers take use_cudnn"),
    "renorm": ((False,), "remove it; rnncast's BatchNormalization has no batch renormalization"),
    "renorm_clipping": ((None,), "remove it; rnncast has no batch renormalization"),
    "renorm_momentum": ((0.99,), "remove it; rnncast has no batch renormalization"),
    "synchronized": ((False,), "remove it; rnncast normalizes with each process's own batch"),
    "weights": ((None,), "build the model, then call layer.set_weights(...)"),
    "lora_rank": ((None,), "remove it; rnncast has no LoRA adapters, train the layer itself"),
    "lora_alpha": ((None,), "remove it; rnncast has no LoRA adapters"),
    "quantization_config": ((None,), "remove it; rnncast layers compute in float32"),
    "zero_output_for_mask": ((False, True), "remove it"),
    "autocast": ((True,), "remove it; rnncast computes in float32"),
    "mask": ((None,), "remove it; rnncast layers do not propagate masks"),
    "sparse": ((None, False), "remove it; rnncast inputs are dense arrays"),
    "ragged": ((None, False), "remove it; rnncast inputs are dense arrays"),
    "optional": ((False,), "remove it; every rnncast input is required"),
    "tensor": ((None,), "give shape=(timesteps, features) instead"),
    "input_tensor": ((None,), "give shape=(timesteps, features) instead"),
}


def reject_unsupported(kind: str, arguments: dict[str, Any]) -> None:
    """Raise ``ConfigError`` for the first Keras argument rnncast does not support.

    Arguments set to Keras's "off" value (``sparse=False``, ``dtype="float32"``,
    ...) are accepted silently, so a tutorial that spells out defaults still runs.

    Args:
        kind: The layer class name, for the message.
        arguments: The extra keyword arguments the layer was given.

    Raises:
        ConfigError: naming the argument and what to do instead.

    Example:
        >>> reject_unsupported("InputLayer", {"sparse": False})
        >>> reject_unsupported("InputLayer", {"sparse": True})
        Traceback (most recent call last):
        ...
        rnncast.exceptions.ConfigError: InputLayer(sparse=True) is not supported by rnncast; remove it; rnncast inputs are dense arrays.
    """  # noqa: E501
    for name, value in arguments.items():
        off, advice = _UNSUPPORTED.get(name, ((), ""))
        if any(value is v or (type(value) is type(v) and value == v) for v in off):
            continue
        if not advice:
            raise ConfigError(
                f"{kind} got an unknown argument {name}={value!r}; check the spelling "
                f"against Keras 3's keras.layers.{kind}."
            )
        raise ConfigError(f"{kind}({name}={value!r}) is not supported by rnncast; {advice}.")

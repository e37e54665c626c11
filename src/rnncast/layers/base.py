"""The Layer base class: a ``torch.nn.Module`` built lazily from its input shape, Keras style."""

from __future__ import annotations

import re
from typing import Any, ClassVar

import numpy as np
import torch
from torch import nn

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
    ``keras_weights`` / ``set_keras_weights``.

    Keras's arguments of every layer, passed on by subclasses' ``**kwargs``:

    Args:
        name: Layer name (letters, digits, ``_``, ``-``, ``.``).
        input_shape: Shape of one sample without the batch axis, for a first layer.
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

    # -- to override ------------------------------------------------------
    def build(self, input_shape: Shape, generator: torch.Generator | None = None) -> None:
        """Create the weights for inputs of ``input_shape`` (no batch axis)."""
        self.built_input_shape = input_shape
        self.built = True

    def compute_output_shape(self, input_shape: Shape) -> Shape:
        """Output shape for ``input_shape`` (both without the batch axis)."""
        return input_shape

    def get_config(self) -> dict[str, Any]:
        """Constructor arguments (Keras names) that rebuild this layer."""
        config: dict[str, Any] = {"name": self.name}
        if self.input_shape is not None:
            config["input_shape"] = list(self.input_shape)
        if self.batch_size is not None:
            config["batch_size"] = self.batch_size
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
        return cls(**config)

    @property
    def kind(self) -> str:
        """The Keras class name, e.g. ``"LSTM"``."""
        return type(self).__name__

    @property
    def default_name(self) -> str:
        """Keras's automatic name stem: ``LSTM`` -> ``lstm``, ``Conv1D`` -> ``conv1d``."""
        return _snake(type(self).__name__)

    def non_trainable_weights(self) -> list[torch.Tensor]:
        """State that Keras counts as non-trainable weights (e.g. moving statistics)."""
        return []

    def count_params(self) -> tuple[int, int]:
        """``(trainable, non_trainable)`` parameter counts, as Keras reports them."""
        trainable = sum(p.numel() for p in self.parameters() if p.requires_grad)
        frozen = sum(p.numel() for p in self.parameters() if not p.requires_grad)
        return trainable, frozen + sum(t.numel() for t in self.non_trainable_weights())

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
    "kernel_regularizer": ((None,), "use AdamW(weight_decay=...) for weight decay"),
    "recurrent_regularizer": ((None,), "use AdamW(weight_decay=...) for weight decay"),
    "bias_regularizer": ((None,), "use AdamW(weight_decay=...) for weight decay"),
    "beta_regularizer": ((None,), "use AdamW(weight_decay=...) for weight decay"),
    "gamma_regularizer": ((None,), "use AdamW(weight_decay=...) for weight decay"),
    "activity_regularizer": ((None,), "remove it; rnncast adds no activity penalty"),
    "kernel_constraint": ((None,), "remove it; rnncast layers have no weight constraints"),
    "recurrent_constraint": ((None,), "remove it; rnncast layers have no weight constraints"),
    "bias_constraint": ((None,), "remove it; rnncast layers have no weight constraints"),
    "beta_constraint": ((None,), "remove it; rnncast layers have no weight constraints"),
    "gamma_constraint": ((None,), "remove it; rnncast layers have no weight constraints"),
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
    "trainable": ((True,), "remove it; freeze weights with requires_grad_(False) on the layer"),
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

    Arguments set to Keras's "off" value (``kernel_regularizer=None``,
    ``stateful=False``, ``dtype="float32"``, ...) are accepted silently, so a
    tutorial that spells out defaults still runs.

    Args:
        kind: The layer class name, for the message.
        arguments: The extra keyword arguments the layer was given.

    Raises:
        ConfigError: naming the argument and what to do instead.

    Example:
        >>> reject_unsupported("Dense", {"kernel_regularizer": None})
        >>> reject_unsupported("Dense", {"kernel_regularizer": "l2"})
        Traceback (most recent call last):
        ...
        rnncast.exceptions.ConfigError: Dense(kernel_regularizer='l2') is not supported by rnncast; use AdamW(weight_decay=...) for weight decay.
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

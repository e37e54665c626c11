"""Losses by Keras name and as Keras-named objects, computed as Keras 3 computes them.

A loss is called ``loss(y_true, y_pred)`` and returns a scalar: the mean over
the batch of the per-sample losses (Keras's ``reduction="sum_over_batch_size"``).
``compile(loss=...)`` takes a name (``"mse"``, ``"binary_crossentropy"``, ...),
a loss object (``Huber(delta=2.0)``, ``BinaryCrossentropy(from_logits=True)``)
or any ``callable(y_true, y_pred)``.

Crossentropies from probabilities clip them to ``[1e-7, 1 - 1e-7]`` (Keras's
backend epsilon) before the logarithm, exactly as Keras does; pass
``from_logits=True`` on the objects when the last layer has no sigmoid or
softmax. Sparse categorical crossentropy takes integer class indices,
``(n,)`` or ``(n, 1)``.

Example:
    >>> import torch
    >>> from rnncast.losses import get, BinaryCrossentropy
    >>> get("mse")(torch.tensor([[1.0], [2.0]]), torch.tensor([[1.5], [2.0]])).item()
    0.125
    >>> loss = BinaryCrossentropy()
    >>> round(loss(torch.tensor([1.0, 0.0]), torch.tensor([[0.8], [0.4]])).item(), 4)
    0.367
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any

import torch
import torch.nn.functional as F

from rnncast.exceptions import ConfigError

Loss = Callable[[torch.Tensor, torch.Tensor], torch.Tensor]

EPSILON = 1e-7  # Keras's backend epsilon: the clipping of probabilities


def _same_rank(y_true: torch.Tensor, y_pred: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Keras's ``squeeze_or_expand_to_same_rank``: ``(n,)`` targets meet ``(n, 1)`` outputs."""
    if y_true.ndim == y_pred.ndim - 1 and y_pred.shape[-1] == 1:
        y_true = y_true.unsqueeze(-1)  # (n,) -> (n, 1)
    elif y_pred.ndim == y_true.ndim - 1 and y_true.shape[-1] == 1:
        y_pred = y_pred.unsqueeze(-1)
    return y_true.to(y_pred.dtype), y_pred


def _per_sample_mse(y_true: torch.Tensor, y_pred: torch.Tensor) -> torch.Tensor:
    y_true, y_pred = _same_rank(y_true, y_pred)
    return (y_pred - y_true).square().mean(dim=-1)  # (n,)


def _per_sample_mae(y_true: torch.Tensor, y_pred: torch.Tensor) -> torch.Tensor:
    y_true, y_pred = _same_rank(y_true, y_pred)
    return (y_pred - y_true).abs().mean(dim=-1)  # (n,)


def _per_sample_huber(y_true: torch.Tensor, y_pred: torch.Tensor, delta: float) -> torch.Tensor:
    y_true, y_pred = _same_rank(y_true, y_pred)
    return F.huber_loss(y_pred, y_true, delta=delta, reduction="none").mean(dim=-1)  # (n,)


def _per_sample_bce(
    y_true: torch.Tensor, y_pred: torch.Tensor, from_logits: bool, label_smoothing: float
) -> torch.Tensor:
    y_true, y_pred = _same_rank(y_true, y_pred)
    if label_smoothing:
        y_true = y_true * (1.0 - label_smoothing) + 0.5 * label_smoothing
    if from_logits:
        values = F.binary_cross_entropy_with_logits(y_pred, y_true, reduction="none")
    else:
        clipped = torch.clip(y_pred, EPSILON, 1.0 - EPSILON)
        values = F.binary_cross_entropy(clipped, y_true, reduction="none")
    return values.mean(dim=-1)  # (n,)


def _log_probabilities(y_pred: torch.Tensor, from_logits: bool) -> torch.Tensor:
    """``log`` of the class probabilities, normalised and clipped as Keras does."""
    if from_logits:
        return torch.log_softmax(y_pred, dim=-1)  # (n, classes)
    y_pred = y_pred / y_pred.sum(dim=-1, keepdim=True)
    return torch.log(torch.clip(y_pred, EPSILON, 1.0 - EPSILON))  # (n, classes)


def _per_sample_cce(
    y_true: torch.Tensor, y_pred: torch.Tensor, from_logits: bool, label_smoothing: float
) -> torch.Tensor:
    if y_true.shape != y_pred.shape:
        raise ConfigError(
            f"categorical_crossentropy needs one-hot targets shaped like the outputs "
            f"{tuple(y_pred.shape)}, got {tuple(y_true.shape)}; for integer class "
            "labels use loss='sparse_categorical_crossentropy'."
        )
    y_true = y_true.to(y_pred.dtype)
    if label_smoothing:
        y_true = y_true * (1.0 - label_smoothing) + label_smoothing / y_pred.shape[-1]
    return -(y_true * _log_probabilities(y_pred, from_logits)).sum(dim=-1)  # (n,)


def _per_sample_sparse_cce(
    y_true: torch.Tensor, y_pred: torch.Tensor, from_logits: bool
) -> torch.Tensor:
    if y_true.ndim == y_pred.ndim and y_true.shape[-1] == 1:
        y_true = y_true.squeeze(-1)  # (n, 1) -> (n,)
    if tuple(y_true.shape) != tuple(y_pred.shape[:-1]):
        raise ConfigError(
            f"sparse_categorical_crossentropy needs one class index per sample, shape "
            f"{tuple(y_pred.shape[:-1])}, got targets {tuple(y_true.shape)}; for one-hot "
            "targets use loss='categorical_crossentropy'."
        )
    log_prob = _log_probabilities(y_pred, from_logits)  # (n, classes)
    return F.nll_loss(log_prob, y_true.long(), reduction="none")  # (n,)


def mean_squared_error(y_true: torch.Tensor, y_pred: torch.Tensor) -> torch.Tensor:
    """Mean of ``(y_pred - y_true)**2``."""
    return _per_sample_mse(y_true, y_pred).mean()


def mean_absolute_error(y_true: torch.Tensor, y_pred: torch.Tensor) -> torch.Tensor:
    """Mean of ``|y_pred - y_true|``."""
    return _per_sample_mae(y_true, y_pred).mean()


def huber(y_true: torch.Tensor, y_pred: torch.Tensor, delta: float = 1.0) -> torch.Tensor:
    """Huber loss: squared below ``delta``, linear above (Keras's ``Huber(delta=1.0)``)."""
    return _per_sample_huber(y_true, y_pred, delta).mean()


def binary_crossentropy(
    y_true: torch.Tensor,
    y_pred: torch.Tensor,
    from_logits: bool = False,
    label_smoothing: float = 0.0,
) -> torch.Tensor:
    """Mean of ``-(y log p + (1 - y) log(1 - p))``, ``p`` clipped to ``[1e-7, 1 - 1e-7]``."""
    return _per_sample_bce(y_true, y_pred, from_logits, label_smoothing).mean()


def categorical_crossentropy(
    y_true: torch.Tensor,
    y_pred: torch.Tensor,
    from_logits: bool = False,
    label_smoothing: float = 0.0,
) -> torch.Tensor:
    """Mean over samples of ``-sum(y_true * log p)`` for one-hot ``y_true``."""
    return _per_sample_cce(y_true, y_pred, from_logits, label_smoothing).mean()


def sparse_categorical_crossentropy(
    y_true: torch.Tensor, y_pred: torch.Tensor, from_logits: bool = False
) -> torch.Tensor:
    """Mean over samples of ``-log p[label]`` for integer labels ``(n,)`` or ``(n, 1)``."""
    return _per_sample_sparse_cce(y_true, y_pred, from_logits).mean()


LOSSES: dict[str, Loss] = {
    "mse": mean_squared_error,
    "mean_squared_error": mean_squared_error,
    "mae": mean_absolute_error,
    "mean_absolute_error": mean_absolute_error,
    "huber": huber,
    "bce": binary_crossentropy,
    "binary_crossentropy": binary_crossentropy,
    "categorical_crossentropy": categorical_crossentropy,
    "sparse_categorical_crossentropy": sparse_categorical_crossentropy,
}

_REDUCTIONS = ("sum_over_batch_size", "sum", "none")

_PER_SAMPLE: dict[Loss, Callable[..., torch.Tensor]] = {
    mean_squared_error: _per_sample_mse,
    mean_absolute_error: _per_sample_mae,
    huber: lambda y_true, y_pred: _per_sample_huber(y_true, y_pred, 1.0),
    binary_crossentropy: lambda y_true, y_pred: _per_sample_bce(y_true, y_pred, False, 0.0),
    categorical_crossentropy: lambda y_true, y_pred: _per_sample_cce(y_true, y_pred, False, 0.0),
    sparse_categorical_crossentropy: lambda y_true, y_pred: _per_sample_sparse_cce(
        y_true, y_pred, False
    ),
}


def weighted(
    loss: Loss, y_true: torch.Tensor, y_pred: torch.Tensor, sample_weight: torch.Tensor
) -> torch.Tensor:
    """The loss of a batch with per-sample weights, reduced as Keras 3 reduces it.

    ``"sum_over_batch_size"``: ``sum(w * loss_i) / batch size`` (not divided by
    the sum of the weights); ``"sum"``: ``sum(w * loss_i)``. A plain callable's
    result is weighted the same way (a scalar result is scaled by ``mean(w)``).

    Example:
        >>> y, p = torch.tensor([[0.0], [0.0]]), torch.tensor([[1.0], [2.0]])
        >>> weighted(get("mse"), y, p, torch.tensor([1.0, 0.5])).item()  # (1 + 0.5 * 4) / 2
        1.5
    """
    if isinstance(loss, LossFunction):
        return loss(y_true, y_pred, sample_weight)
    values = _PER_SAMPLE[loss](y_true, y_pred) if loss in _PER_SAMPLE else loss(y_true, y_pred)
    return _reduce(values, sample_weight, "sum_over_batch_size")


def _reduce(
    values: torch.Tensor, sample_weight: torch.Tensor | None, reduction: str
) -> torch.Tensor:
    """Keras's ``reduce_weighted_values``: weight the values, then sum or average them."""
    if sample_weight is not None:
        weights = sample_weight.to(values.dtype)
        while weights.ndim < values.ndim:
            weights = weights.unsqueeze(-1)  # (n,) -> (n, 1, ...) to broadcast over values
        values = values * weights
    if reduction == "none" or values.ndim == 0:
        return values
    total = values.sum()
    return total if reduction == "sum" else total / values.numel()


class LossFunction:
    """Base of the Keras-named loss objects: per-sample losses, then the reduction.

    Args:
        reduction: ``"sum_over_batch_size"`` (Keras's default: the mean over
            samples), ``"sum"`` or ``"none"`` (the per-sample losses, ``(n,)``).
        name: Name stored in the config (Keras's default for each class).
        dtype: Only ``None`` or ``"float32"``: rnncast computes in float32.
    """

    default_name = "loss"
    sparse_targets = False  # True when targets are class indices, not shaped like outputs

    def __init__(
        self,
        reduction: str = "sum_over_batch_size",
        name: str | None = None,
        dtype: str | None = None,
        **unsupported: Any,
    ) -> None:
        if unsupported:
            keyword = next(iter(unsupported))
            raise ConfigError(
                f"{type(self).__name__} got the argument {keyword}={unsupported[keyword]!r}, "
                f"which rnncast does not support; drop it (arguments: {self._arguments()})."
            )
        if reduction not in _REDUCTIONS:
            raise ConfigError(
                f"{type(self).__name__}(reduction={reduction!r}) is not supported; use "
                "'sum_over_batch_size' (the mean over samples, Keras's default), 'sum' or 'none'."
            )
        if dtype not in (None, "float32"):
            raise ConfigError(
                f"{type(self).__name__}(dtype={dtype!r}) is not supported; rnncast "
                "computes losses in float32, drop dtype."
            )
        self.reduction = reduction
        self.name = name or self.default_name

    def per_sample(self, y_true: torch.Tensor, y_pred: torch.Tensor) -> torch.Tensor:
        """The loss of each sample, shape ``(n,)``."""
        raise NotImplementedError

    def __call__(
        self,
        y_true: torch.Tensor,
        y_pred: torch.Tensor,
        sample_weight: torch.Tensor | None = None,
    ) -> torch.Tensor:
        """The reduced loss of a batch, each sample weighted by ``sample_weight`` (Keras's call).

        With weights, ``"sum_over_batch_size"`` is ``sum(w * loss_i) / n``, as in Keras 3.
        """
        values = self.per_sample(y_true, y_pred)  # (n,)
        if sample_weight is None and self.reduction != "none":
            return values.sum() if self.reduction == "sum" else values.mean()
        return _reduce(values, sample_weight, self.reduction)

    def get_config(self) -> dict[str, Any]:
        """Constructor arguments, JSON-safe (``type(loss)(**config)`` rebuilds it)."""
        return {"name": self.name, "reduction": self.reduction}

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> LossFunction:
        """The loss described by :meth:`get_config`."""
        return cls(**config)

    def _arguments(self) -> str:
        """The supported keyword arguments of this class (its own and its bases')."""
        names: list[str] = []
        for cls in type(self).__mro__:
            if "__init__" in vars(cls):
                parameters = inspect.signature(vars(cls)["__init__"]).parameters
                names += [
                    n
                    for n, p in parameters.items()
                    if n != "self" and p.kind == p.POSITIONAL_OR_KEYWORD
                ]
        return ", ".join(dict.fromkeys(names))

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.get_config().items())
        return f"{type(self).__name__}({args})"


class MeanSquaredError(LossFunction):
    """Mean of ``(y_pred - y_true)**2`` (``keras.losses.MeanSquaredError``).

    Example:
        >>> import torch
        >>> MeanSquaredError()(torch.tensor([0.0, 1.0]), torch.tensor([[1.0], [1.0]])).item()
        0.5
    """

    default_name = "mean_squared_error"

    def per_sample(self, y_true: torch.Tensor, y_pred: torch.Tensor) -> torch.Tensor:
        """Squared errors averaged over the outputs, ``(n,)``."""
        return _per_sample_mse(y_true, y_pred)


class MeanAbsoluteError(LossFunction):
    """Mean of ``|y_pred - y_true|`` (``keras.losses.MeanAbsoluteError``).

    Example:
        >>> import torch
        >>> MeanAbsoluteError()(torch.tensor([0.0, 1.0]), torch.tensor([[2.0], [1.0]])).item()
        1.0
    """

    default_name = "mean_absolute_error"

    def per_sample(self, y_true: torch.Tensor, y_pred: torch.Tensor) -> torch.Tensor:
        """Absolute errors averaged over the outputs, ``(n,)``."""
        return _per_sample_mae(y_true, y_pred)


class Huber(LossFunction):
    """Huber loss: ``0.5 e**2`` for ``|e| <= delta``, ``delta (|e| - delta / 2)`` above.

    Args:
        delta: Where the loss turns from quadratic to linear (Keras's default 1.0).

    Example:
        >>> import torch
        >>> Huber(delta=1.0)(torch.tensor([0.0]), torch.tensor([[3.0]])).item()
        2.5
    """

    default_name = "huber_loss"

    def __init__(self, delta: float = 1.0, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        if not delta > 0:
            raise ConfigError(f"Huber(delta={delta!r}): delta must be > 0.")
        self.delta = float(delta)

    def per_sample(self, y_true: torch.Tensor, y_pred: torch.Tensor) -> torch.Tensor:
        """Huber values averaged over the outputs, ``(n,)``."""
        return _per_sample_huber(y_true, y_pred, self.delta)

    def get_config(self) -> dict[str, Any]:
        """Name, reduction and ``delta``."""
        return {**super().get_config(), "delta": self.delta}


class _Crossentropy(LossFunction):
    """Shared arguments of the crossentropies: ``from_logits`` and ``axis=-1``."""

    def __init__(self, from_logits: bool = False, axis: int = -1, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        if axis != -1:
            raise ConfigError(
                f"{type(self).__name__}(axis={axis!r}) is not supported; rnncast takes "
                "the classes on the last axis (axis=-1), so drop axis."
            )
        self.from_logits = bool(from_logits)
        self.axis = -1

    def get_config(self) -> dict[str, Any]:
        """Name, reduction, ``from_logits`` and ``axis``."""
        return {**super().get_config(), "from_logits": self.from_logits, "axis": self.axis}


class _Smoothed(_Crossentropy):
    def __init__(self, from_logits: bool = False, label_smoothing: float = 0.0, **kwargs: Any):
        super().__init__(from_logits=from_logits, **kwargs)
        if not 0.0 <= label_smoothing <= 1.0:
            raise ConfigError(
                f"{type(self).__name__}(label_smoothing={label_smoothing!r}) must be in [0, 1]."
            )
        self.label_smoothing = float(label_smoothing)

    def get_config(self) -> dict[str, Any]:
        """The crossentropy arguments and ``label_smoothing``."""
        return {**super().get_config(), "label_smoothing": self.label_smoothing}


class BinaryCrossentropy(_Smoothed):
    """Binary crossentropy for 0/1 targets (``keras.losses.BinaryCrossentropy``).

    Args:
        from_logits: ``True`` when ``y_pred`` are logits (no sigmoid on the last
            layer); otherwise probabilities, clipped to ``[1e-7, 1 - 1e-7]``.
        label_smoothing: Squeeze targets towards 0.5: ``y (1 - s) + 0.5 s``.

    Example:
        >>> import torch
        >>> y_true, logits = torch.tensor([[1.0], [0.0]]), torch.tensor([[2.0], [-1.0]])
        >>> round(BinaryCrossentropy(from_logits=True)(y_true, logits).item(), 4)
        0.2201
    """

    default_name = "binary_crossentropy"

    def per_sample(self, y_true: torch.Tensor, y_pred: torch.Tensor) -> torch.Tensor:
        """Crossentropy averaged over the outputs, ``(n,)``."""
        return _per_sample_bce(y_true, y_pred, self.from_logits, self.label_smoothing)


class CategoricalCrossentropy(_Smoothed):
    """Crossentropy for one-hot targets ``(n, classes)`` (``keras.losses.CategoricalCrossentropy``).

    Args:
        from_logits: ``True`` when ``y_pred`` are logits (no softmax on the last layer).
        label_smoothing: ``y (1 - s) + s / classes``.

    Example:
        >>> import torch
        >>> y_true, p = torch.tensor([[0.0, 1.0]]), torch.tensor([[0.25, 0.75]])
        >>> round(CategoricalCrossentropy()(y_true, p).item(), 4)  # -log(0.75)
        0.2877
    """

    default_name = "categorical_crossentropy"

    def per_sample(self, y_true: torch.Tensor, y_pred: torch.Tensor) -> torch.Tensor:
        """``-sum(y_true * log p)`` per sample, ``(n,)``."""
        return _per_sample_cce(y_true, y_pred, self.from_logits, self.label_smoothing)


class SparseCategoricalCrossentropy(_Crossentropy):
    """Crossentropy for integer class labels ``(n,)`` or ``(n, 1)``.

    ``keras.losses.SparseCategoricalCrossentropy``; ``ignore_class`` is not supported.

    Args:
        from_logits: ``True`` when ``y_pred`` are logits (no softmax on the last layer).

    Example:
        >>> import torch
        >>> p = torch.tensor([[0.25, 0.75], [0.5, 0.5]])
        >>> round(SparseCategoricalCrossentropy()(torch.tensor([1, 0]), p).item(), 4)
        0.4904
    """

    default_name = "sparse_categorical_crossentropy"
    sparse_targets = True

    def __init__(self, from_logits: bool = False, ignore_class: int | None = None, **kwargs: Any):
        if ignore_class is not None:
            raise ConfigError(
                f"SparseCategoricalCrossentropy(ignore_class={ignore_class!r}) is not "
                "supported; drop the samples of that class from x and y instead."
            )
        super().__init__(from_logits=from_logits, **kwargs)

    def per_sample(self, y_true: torch.Tensor, y_pred: torch.Tensor) -> torch.Tensor:
        """``-log p[label]`` per sample, ``(n,)``."""
        return _per_sample_sparse_cce(y_true, y_pred, self.from_logits)


CLASSES: dict[str, type[LossFunction]] = {
    cls.__name__: cls
    for cls in (
        MeanSquaredError,
        MeanAbsoluteError,
        Huber,
        BinaryCrossentropy,
        CategoricalCrossentropy,
        SparseCategoricalCrossentropy,
    )
}


def get(loss: str | dict[str, Any] | Loss) -> Loss:
    """The loss for a name, a class name, a config dict (:func:`serialize`) or a callable.

    Args:
        loss: ``"mse"``, ``"binary_crossentropy"``, ... (:data:`LOSSES`), a class
            name such as ``"Huber"``, ``{"class_name": "Huber", "config": {...}}``,
            a loss object, or any ``callable(y_true, y_pred)`` returning a scalar.

    Raises:
        ConfigError: for an unknown name, listing the valid ones.

    Example:
        >>> get({"class_name": "Huber", "config": {"delta": 2.0}})
        Huber(name='huber_loss', reduction='sum_over_batch_size', delta=2.0)
    """
    if callable(loss):
        return loss
    if isinstance(loss, dict):
        return from_class_config(loss, CLASSES, "loss")
    if isinstance(loss, str) and loss in CLASSES:
        return CLASSES[loss]()
    if not isinstance(loss, str) or loss not in LOSSES:
        raise ConfigError(
            f"unknown loss {loss!r}; use one of {', '.join(LOSSES)}, a loss object "
            f"({', '.join(CLASSES)}) or a callable(y_true, y_pred) returning a scalar tensor."
        )
    return LOSSES[loss]


def from_class_config(spec: dict[str, Any], classes: dict[str, type], kind: str) -> Any:
    """The object described by ``{"class_name": ..., "config": {...}}`` (shared with metrics).

    Raises:
        ConfigError: when ``class_name`` is not in ``classes`` or ``config`` is not a dict.
    """
    config = spec.get("config", {})
    if spec.get("class_name") not in classes or not isinstance(config, dict):
        raise ConfigError(
            f"cannot read the {kind} config {spec!r}; expected "
            f"{{'class_name': one of {', '.join(classes)}, 'config': {{...}}}}."
        )
    return classes[spec["class_name"]].from_config(config)


def serialize(loss: str | Loss) -> str | dict[str, Any]:
    """What ``compile`` stores: a name as is, a loss object as ``{"class_name", "config"}``.

    Example:
        >>> serialize(BinaryCrossentropy(from_logits=True))["config"]["from_logits"]
        True
    """
    if isinstance(loss, LossFunction):
        return {"class_name": type(loss).__name__, "config": loss.get_config()}
    return name_of(loss)


def name_of(loss: str | Loss) -> str:
    """A name to store in configs: the string itself, an object's ``name``, or ``__name__``."""
    if isinstance(loss, str):
        return loss
    if isinstance(loss, LossFunction):
        return loss.name
    return getattr(loss, "__name__", type(loss).__name__)


def takes_class_indices(loss: Loss) -> bool:
    """Whether ``loss`` expects integer class labels rather than targets shaped like outputs.

    Example:
        >>> takes_class_indices(get("sparse_categorical_crossentropy"))
        True
        >>> takes_class_indices(get("mse"))
        False
    """
    return loss is sparse_categorical_crossentropy or bool(getattr(loss, "sparse_targets", False))

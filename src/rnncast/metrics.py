"""Training metrics by Keras name and as Keras-named objects, accumulated over an epoch.

Each metric keeps running sums, so the epoch value is over all samples (for
``rmse``: the square root of the epoch's mean squared error, not a mean of
batch RMSEs), exactly like Keras's stateful metrics. ``compile(metrics=...)``
takes names (``"mae"``, ``"rmse"``, ``"accuracy"``) or objects
(``RootMeanSquaredError()``, ``BinaryAccuracy(threshold=0.7)``). As in Keras,
a metric given by a string is reported under that string and an object under
its ``name`` (``"root_mean_squared_error"``).

``"accuracy"`` (or ``"acc"``) is resolved as Keras resolves it, from the
shapes of the first batch: one output is binary accuracy; integer labels
``(n, 1)`` against ``(n, classes)`` outputs are sparse categorical accuracy;
one-hot targets are categorical accuracy.

Example:
    >>> import torch
    >>> metric = get("rmse")
    >>> metric.update(torch.tensor([[0.0], [0.0]]), torch.tensor([[3.0], [4.0]]))
    >>> round(metric.result(), 4)
    3.5355
    >>> accuracy = get("accuracy")
    >>> accuracy.update(torch.tensor([[1.0], [0.0]]), torch.tensor([[0.1, 0.9], [0.3, 0.7]]))
    >>> accuracy.result(), accuracy.resolved_name
    (0.5, 'sparse_categorical_accuracy')
"""

from __future__ import annotations

import math
from typing import Any

import torch

from rnncast.exceptions import ConfigError
from rnncast.losses import from_class_config

_EPSILON = 1e-7  # Keras's backend epsilon, used by MAPE


class Metric:
    """A running mean of a per-sample quantity; ``result()`` maps it to the reported value.

    Args:
        name: Name in the logs and ``History`` (Keras's default for each class).
        dtype: Only ``None`` or ``"float32"``.
    """

    default_name = "metric"

    def __init__(self, name: str | None = None, dtype: str | None = None, **unsupported: Any):
        if unsupported:
            keyword = next(iter(unsupported))
            raise ConfigError(
                f"{type(self).__name__} got the argument {keyword}={unsupported[keyword]!r}, "
                "which rnncast does not support; drop it."
            )
        if dtype not in (None, "float32"):
            raise ConfigError(
                f"{type(self).__name__}(dtype={dtype!r}) is not supported; rnncast "
                "computes metrics in float32, drop dtype."
            )
        self.name = name or self.default_name
        self.reset()

    def reset(self) -> None:
        """Forget the accumulated values (called at the start of every epoch)."""
        self._total = 0.0
        self._count = 0

    def update(
        self, y_true: torch.Tensor, y_pred: torch.Tensor, sample_weight: torch.Tensor | None = None
    ) -> None:
        """Add a batch; with ``sample_weight`` (n,) sample ``i`` counts ``w[i]`` times, as in Keras.

        Example:
            >>> m = MeanAbsoluteError()
            >>> m.update(torch.tensor([[0.0], [0.0]]), torch.tensor([[1.0], [4.0]]),
            ...          sample_weight=torch.tensor([3.0, 1.0]))
            >>> m.result()  # (3 * 1 + 1 * 4) / (3 + 1)
            1.75
        """
        values = self.values(y_true.detach(), y_pred.detach())
        if sample_weight is None:
            self._total += float(values.sum())
            self._count += values.numel()
            return
        weights = sample_weight.detach().to(values.dtype).reshape(-1)  # (n,)
        per_sample = values.reshape(len(weights), -1)  # (n, values per sample)
        self._total += float((per_sample * weights[:, None]).sum())
        self._count += float(weights.sum()) * per_sample.shape[1]

    def result(self) -> float:
        """The metric over everything since the last :meth:`reset`."""
        return self._total / self._count if self._count else math.nan

    def values(self, y_true: torch.Tensor, y_pred: torch.Tensor) -> torch.Tensor:
        """Per-element values whose mean is the metric."""
        raise NotImplementedError

    def get_config(self) -> dict[str, Any]:
        """Constructor arguments, JSON-safe."""
        return {"name": self.name}

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> Metric:
        """The metric described by :meth:`get_config`."""
        return cls(**config)


def _same_rank(y_true: torch.Tensor, y_pred: torch.Tensor) -> torch.Tensor:
    """``y_true`` as ``(n, 1)`` when it is ``(n,)`` and the outputs ``(n, 1)``."""
    if y_true.ndim == y_pred.ndim - 1:
        return y_true.unsqueeze(-1)
    return y_true


class MeanAbsoluteError(Metric):
    """Mean of ``|y_pred - y_true|`` (``keras.metrics.MeanAbsoluteError``).

    Example:
        >>> import torch
        >>> m = MeanAbsoluteError()
        >>> m.update(torch.tensor([[0.0]]), torch.tensor([[-2.0]]))
        >>> m.name, m.result()
        ('mean_absolute_error', 2.0)
    """

    default_name = "mean_absolute_error"

    def values(self, y_true: torch.Tensor, y_pred: torch.Tensor) -> torch.Tensor:
        """Absolute errors."""
        return (y_pred - _same_rank(y_true, y_pred)).abs()


class MeanSquaredError(Metric):
    """Mean of ``(y_pred - y_true)**2`` (``keras.metrics.MeanSquaredError``)."""

    default_name = "mean_squared_error"

    def values(self, y_true: torch.Tensor, y_pred: torch.Tensor) -> torch.Tensor:
        """Squared errors."""
        return (y_pred - _same_rank(y_true, y_pred)).square()


class RootMeanSquaredError(MeanSquaredError):
    """Square root of the epoch's mean squared error (``keras.metrics.RootMeanSquaredError``).

    Example:
        >>> import torch
        >>> m = RootMeanSquaredError()
        >>> m.update(torch.tensor([[0.0], [0.0]]), torch.tensor([[3.0], [4.0]]))
        >>> m.name, round(m.result(), 4)
        ('root_mean_squared_error', 3.5355)
    """

    default_name = "root_mean_squared_error"

    def result(self) -> float:
        """``sqrt`` of the accumulated mean squared error."""
        return math.sqrt(super().result())


class MeanAbsolutePercentageError(Metric):
    """``100 * mean(|y_true - y_pred| / max(|y_true|, 1e-7))``, as Keras computes it."""

    default_name = "mean_absolute_percentage_error"

    def values(self, y_true: torch.Tensor, y_pred: torch.Tensor) -> torch.Tensor:
        """Absolute percentage errors."""
        y_true = _same_rank(y_true, y_pred)
        return 100.0 * (y_true - y_pred).abs() / y_true.abs().clamp_min(_EPSILON)


class BinaryAccuracy(Metric):
    """Share of outputs on the right side of ``threshold`` (``keras.metrics.BinaryAccuracy``).

    Args:
        threshold: An output above it predicts 1 (Keras's default 0.5).

    Example:
        >>> import torch
        >>> m = BinaryAccuracy()
        >>> m.update(torch.tensor([1.0, 0.0, 1.0]), torch.tensor([[0.9], [0.6], [0.2]]))
        >>> round(m.result(), 4)
        0.3333
    """

    default_name = "binary_accuracy"

    def __init__(
        self,
        name: str | None = None,
        dtype: str | None = None,
        threshold: float = 0.5,
        **unsupported: Any,
    ) -> None:
        super().__init__(name=name, dtype=dtype, **unsupported)
        self.threshold = float(threshold)

    def values(self, y_true: torch.Tensor, y_pred: torch.Tensor) -> torch.Tensor:
        """1 where ``(y_pred > threshold) == y_true``, else 0."""
        predicted = (y_pred > self.threshold).to(y_pred.dtype)
        return (predicted == _same_rank(y_true, y_pred).to(y_pred.dtype)).float()

    def get_config(self) -> dict[str, Any]:
        """Name and ``threshold``."""
        return {**super().get_config(), "threshold": self.threshold}


class CategoricalAccuracy(Metric):
    """Share of samples whose largest output is the one-hot target's class.

    Example:
        >>> import torch
        >>> m = CategoricalAccuracy()
        >>> m.update(torch.tensor([[0.0, 1.0], [1.0, 0.0]]), torch.tensor([[0.2, 0.8], [0.3, 0.7]]))
        >>> m.result()
        0.5
    """

    default_name = "categorical_accuracy"

    def values(self, y_true: torch.Tensor, y_pred: torch.Tensor) -> torch.Tensor:
        """1 where ``argmax(y_pred) == argmax(y_true)``, per sample."""
        return (y_pred.argmax(dim=-1) == y_true.argmax(dim=-1)).float()  # (n,)


class SparseCategoricalAccuracy(Metric):
    """Share of samples whose largest output is the integer label (``(n,)`` or ``(n, 1)``).

    Example:
        >>> import torch
        >>> m = SparseCategoricalAccuracy()
        >>> m.update(torch.tensor([1, 1]), torch.tensor([[0.2, 0.8], [0.9, 0.1]]))
        >>> m.result()
        0.5
    """

    default_name = "sparse_categorical_accuracy"

    def values(self, y_true: torch.Tensor, y_pred: torch.Tensor) -> torch.Tensor:
        """1 where ``argmax(y_pred) == label``, per sample."""
        if y_true.ndim == y_pred.ndim and y_true.shape[-1] == 1:
            y_true = y_true.squeeze(-1)  # (n, 1) -> (n,)
        return (y_pred.argmax(dim=-1) == y_true.long()).float()  # (n,)


class _ResolvedAccuracy(Metric):
    """The string ``"accuracy"``: binary, sparse or categorical, chosen on the first batch."""

    default_name = "accuracy"
    _inner: Metric | None = None  # set on the first batch

    def reset(self) -> None:
        """Forget the values (the resolved kind is kept, as in Keras)."""
        super().reset()
        if self._inner is not None:
            self._inner.reset()

    @property
    def resolved_name(self) -> str | None:
        """The metric chosen (``"binary_accuracy"``, ...), or ``None`` before any batch."""
        return self._inner.default_name if self._inner is not None else None

    def update(
        self, y_true: torch.Tensor, y_pred: torch.Tensor, sample_weight: torch.Tensor | None = None
    ) -> None:
        """Resolve on the first batch (Keras's rule), then add the batch."""
        if self._inner is None:
            sparse = y_true.ndim < y_pred.ndim or (y_true.shape[-1] == 1 and y_pred.shape[-1] > 1)
            if y_pred.shape[-1] == 1:
                self._inner = BinaryAccuracy()
            elif sparse:
                self._inner = SparseCategoricalAccuracy()
            else:
                self._inner = CategoricalAccuracy()
        self._inner.update(y_true, y_pred, sample_weight)

    def result(self) -> float:
        """The accuracy since the last reset."""
        return self._inner.result() if self._inner is not None else math.nan


METRICS: dict[str, type[Metric]] = {
    "mae": MeanAbsoluteError,
    "mean_absolute_error": MeanAbsoluteError,
    "mse": MeanSquaredError,
    "mean_squared_error": MeanSquaredError,
    "rmse": RootMeanSquaredError,
    "root_mean_squared_error": RootMeanSquaredError,
    "mape": MeanAbsolutePercentageError,
    "mean_absolute_percentage_error": MeanAbsolutePercentageError,
    "accuracy": _ResolvedAccuracy,
    "acc": _ResolvedAccuracy,
    "binary_accuracy": BinaryAccuracy,
    "categorical_accuracy": CategoricalAccuracy,
    "sparse_categorical_accuracy": SparseCategoricalAccuracy,
}

CLASSES: dict[str, type[Metric]] = {
    cls.__name__: cls
    for cls in (
        MeanAbsoluteError,
        MeanSquaredError,
        RootMeanSquaredError,
        MeanAbsolutePercentageError,
        BinaryAccuracy,
        CategoricalAccuracy,
        SparseCategoricalAccuracy,
    )
}


def get(identifier: str | dict[str, Any] | Metric) -> Metric:
    """A fresh metric for a name or a config dict; a :class:`Metric` object is returned as is.

    Args:
        identifier: A name from :data:`METRICS` (reported under that name), a
            class name (``"BinaryAccuracy"``), ``{"class_name": ..., "config":
            {...}}`` from :func:`serialize`, or a metric object.

    Raises:
        ConfigError: for an unknown name, listing the valid ones.

    Example:
        >>> get("mae").name, get(RootMeanSquaredError()).name
        ('mae', 'root_mean_squared_error')
    """
    if isinstance(identifier, Metric):
        return identifier
    if isinstance(identifier, dict):
        return from_class_config(identifier, CLASSES, "metric")
    if isinstance(identifier, str) and identifier in CLASSES:
        return CLASSES[identifier]()
    if not isinstance(identifier, str) or identifier not in METRICS:
        raise ConfigError(
            f"unknown metric {identifier!r}; use one of {', '.join(METRICS)} or a metric "
            f"object ({', '.join(CLASSES)})."
        )
    return METRICS[identifier](name=identifier)


def serialize(identifier: str | Metric) -> str | dict[str, Any]:
    """What ``compile`` stores: a name as is, an object as ``{"class_name", "config"}``.

    Example:
        >>> serialize(BinaryAccuracy(threshold=0.7))
        {'class_name': 'BinaryAccuracy', 'config': {'name': 'binary_accuracy', 'threshold': 0.7}}
    """
    if isinstance(identifier, str):
        return identifier
    if type(identifier).__name__ not in CLASSES:
        raise ConfigError(
            f"cannot store the metric {identifier!r}; use a name or one of {', '.join(CLASSES)}."
        )
    return {"class_name": type(identifier).__name__, "config": identifier.get_config()}

"""Training metrics by Keras name, accumulated over an epoch as Keras does.

Each metric keeps running sums, so the epoch value is over all samples (for
``rmse``: the square root of the epoch's mean squared error, not a mean of
batch RMSEs), exactly like Keras's stateful metrics.

Example:
    >>> import torch
    >>> metric = get("rmse")
    >>> metric.update(torch.tensor([[0.0], [0.0]]), torch.tensor([[3.0], [4.0]]))
    >>> round(metric.result(), 4)
    3.5355
"""

from __future__ import annotations

import math

import torch

from rnncast.exceptions import ConfigError

_EPSILON = 1e-7  # Keras's backend epsilon, used by MAPE


class Metric:
    """A running mean of a per-element quantity; ``result()`` maps it to the reported value."""

    name = "metric"

    def __init__(self) -> None:
        self.reset()

    def reset(self) -> None:
        """Forget the accumulated values (called at the start of every epoch)."""
        self._total = 0.0
        self._count = 0

    def update(self, y_true: torch.Tensor, y_pred: torch.Tensor) -> None:
        """Add a batch."""
        values = self.values(y_true.detach(), y_pred.detach())
        self._total += float(values.sum())
        self._count += values.numel()

    def result(self) -> float:
        """The metric over everything since the last :meth:`reset`."""
        return self._total / self._count if self._count else math.nan

    def values(self, y_true: torch.Tensor, y_pred: torch.Tensor) -> torch.Tensor:
        """Per-element values whose mean is the metric."""
        raise NotImplementedError


class MeanAbsoluteError(Metric):
    """Mean of ``|y_pred - y_true|``."""

    name = "mae"

    def values(self, y_true: torch.Tensor, y_pred: torch.Tensor) -> torch.Tensor:
        """Absolute errors."""
        return (y_pred - y_true).abs()


class MeanSquaredError(Metric):
    """Mean of ``(y_pred - y_true)**2``."""

    name = "mse"

    def values(self, y_true: torch.Tensor, y_pred: torch.Tensor) -> torch.Tensor:
        """Squared errors."""
        return (y_pred - y_true).square()


class RootMeanSquaredError(MeanSquaredError):
    """Square root of the mean squared error over the epoch."""

    name = "rmse"

    def result(self) -> float:
        """``sqrt`` of the accumulated mean squared error."""
        return math.sqrt(super().result())


class MeanAbsolutePercentageError(Metric):
    """``100 * mean(|y_true - y_pred| / max(|y_true|, 1e-7))``, as Keras computes it."""

    name = "mape"

    def values(self, y_true: torch.Tensor, y_pred: torch.Tensor) -> torch.Tensor:
        """Absolute percentage errors."""
        return 100.0 * (y_true - y_pred).abs() / y_true.abs().clamp_min(_EPSILON)


METRICS: dict[str, type[Metric]] = {
    "mae": MeanAbsoluteError,
    "mean_absolute_error": MeanAbsoluteError,
    "mse": MeanSquaredError,
    "mean_squared_error": MeanSquaredError,
    "rmse": RootMeanSquaredError,
    "root_mean_squared_error": RootMeanSquaredError,
    "mape": MeanAbsolutePercentageError,
    "mean_absolute_percentage_error": MeanAbsolutePercentageError,
}


def get(name: str) -> Metric:
    """A fresh metric object for ``name``.

    Raises:
        ConfigError: for an unknown name, listing the valid ones.
    """
    if name not in METRICS:
        raise ConfigError(f"unknown metric {name!r}; use one of {', '.join(METRICS)}.")
    metric = METRICS[name]()
    metric.name = name
    return metric

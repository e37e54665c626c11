"""Loss functions by Keras name; each returns the mean over all elements (Keras's default).

Example:
    >>> import torch
    >>> from rnncast.losses import get
    >>> get("mse")(torch.tensor([[1.0], [2.0]]), torch.tensor([[1.5], [2.0]])).item()
    0.125
"""

from __future__ import annotations

from collections.abc import Callable

import torch
import torch.nn.functional as F

from rnncast.exceptions import ConfigError

Loss = Callable[[torch.Tensor, torch.Tensor], torch.Tensor]


def mean_squared_error(y_true: torch.Tensor, y_pred: torch.Tensor) -> torch.Tensor:
    """Mean of ``(y_pred - y_true)**2``."""
    return F.mse_loss(y_pred, y_true)


def mean_absolute_error(y_true: torch.Tensor, y_pred: torch.Tensor) -> torch.Tensor:
    """Mean of ``|y_pred - y_true|``."""
    return F.l1_loss(y_pred, y_true)


def huber(y_true: torch.Tensor, y_pred: torch.Tensor, delta: float = 1.0) -> torch.Tensor:
    """Huber loss: squared below ``delta``, linear above (Keras's ``Huber(delta=1.0)``)."""
    return F.huber_loss(y_pred, y_true, delta=delta)


LOSSES: dict[str, Loss] = {
    "mse": mean_squared_error,
    "mean_squared_error": mean_squared_error,
    "mae": mean_absolute_error,
    "mean_absolute_error": mean_absolute_error,
    "huber": huber,
}


def get(loss: str | Loss) -> Loss:
    """The loss called ``loss``, or ``loss`` itself when it is a callable ``(y_true, y_pred)``.

    Raises:
        ConfigError: for an unknown name, listing the valid ones.
    """
    if callable(loss):
        return loss
    if loss not in LOSSES:
        raise ConfigError(
            f"unknown loss {loss!r}; use one of {', '.join(LOSSES)} or a "
            "callable(y_true, y_pred) returning a scalar tensor."
        )
    return LOSSES[loss]


def name_of(loss: str | Loss) -> str:
    """A name to store in configs: the string itself or the callable's ``__name__``."""
    return loss if isinstance(loss, str) else getattr(loss, "__name__", type(loss).__name__)

"""Stochastic gradient descent with Keras's defaults and (Nesterov) momentum rule.

Example:
    >>> import torch
    >>> from rnncast.optimizers import SGD
    >>> weight = torch.nn.Parameter(torch.tensor([1.0]))
    >>> opt = SGD()          # Keras's default learning_rate=0.01
    >>> opt.build([weight])
    >>> weight.grad = torch.tensor([2.0])
    >>> opt.step()
    >>> round(weight.item(), 4)
    0.98
"""

from __future__ import annotations

from typing import Any

import torch

from rnncast.exceptions import ConfigError
from rnncast.optimizers.base import Optimizer
from rnncast.optimizers.schedules import LearningRateSchedule


class SGD(Optimizer):
    """Stochastic gradient descent with optional (Nesterov) momentum, Keras's rule.

    ``m = momentum·m - lr·g``; ``w += m`` (Nesterov: ``w += momentum·m - lr·g``).
    Default ``learning_rate=0.01`` as in Keras.

    Args:
        learning_rate: Step size or schedule.
        momentum: Momentum in ``[0, 1)`` (0 = plain gradient descent).
        nesterov: Use Nesterov momentum.
        **kwargs: The Keras base arguments (see :class:`Optimizer`).

    Example:
        >>> SGD(momentum=0.9).get_config()["momentum"]
        0.9
    """

    def __init__(
        self,
        learning_rate: float | LearningRateSchedule = 0.01,
        momentum: float = 0.0,
        nesterov: bool = False,
        **kwargs: Any,
    ) -> None:
        super().__init__(learning_rate, **kwargs)
        if not 0 <= momentum < 1:
            raise ConfigError(f"momentum must be in [0, 1), got {momentum!r}.")
        self.momentum, self.nesterov = float(momentum), bool(nesterov)
        self.slot_names = ("momentum",) if self.momentum else ()

    def _update(self, params, grads, lr, rows):
        if not self.momentum:
            torch._foreach_add_(params, grads, alpha=-lr)
            return
        velocity = self._slots("momentum", rows)
        torch._foreach_mul_(velocity, self.momentum)
        torch._foreach_add_(velocity, grads, alpha=-lr)  # m = momentum·m - lr·g
        if self.nesterov:
            torch._foreach_add_(params, velocity, alpha=self.momentum)
            torch._foreach_add_(params, grads, alpha=-lr)
        else:
            torch._foreach_add_(params, velocity)

    def get_config(self) -> dict[str, Any]:
        """Constructor arguments (Keras names)."""
        return {**super().get_config(), "momentum": self.momentum, "nesterov": self.nesterov}

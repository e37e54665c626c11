"""Per-parameter adaptive rates with Keras's rules: RMSprop, Adagrad, Adadelta.

Example:
    >>> import torch
    >>> from rnncast.optimizers import Adagrad
    >>> weight = torch.nn.Parameter(torch.tensor([1.0]))
    >>> opt = Adagrad(learning_rate=0.1)
    >>> opt.build([weight])
    >>> weight.grad = torch.tensor([0.3])
    >>> opt.step()           # accumulator 0.1 + 0.09; step 0.1 * 0.3 / sqrt(0.19)
    >>> round(weight.item(), 4)
    0.9312
"""

from __future__ import annotations

from typing import Any

import torch

from rnncast.exceptions import ConfigError
from rnncast.optimizers.base import Optimizer, float32
from rnncast.optimizers.schedules import LearningRateSchedule


class RMSprop(Optimizer):
    """RMSprop with Keras's rule: ``w -= lr·g / sqrt(v + epsilon)`` (epsilon inside the root).

    Args:
        learning_rate: Step size or schedule.
        rho: Decay of the running mean of squared gradients.
        momentum: Momentum on the increments (0 = none).
        epsilon: Added to ``v`` before the square root.
        centered: Divide by the centred second moment (variance) instead.
        **kwargs: The Keras base arguments (see :class:`Optimizer`).

    Example:
        >>> RMSprop().get_config()["rho"]
        0.9
    """

    def __init__(
        self,
        learning_rate: float | LearningRateSchedule = 0.001,
        rho: float = 0.9,
        momentum: float = 0.0,
        epsilon: float = 1e-7,
        centered: bool = False,
        **kwargs: Any,
    ) -> None:
        super().__init__(learning_rate, **kwargs)
        self.rho, self.momentum, self.epsilon = float(rho), float(momentum), float(epsilon)
        self.centered = bool(centered)
        self.slot_names = (
            ("velocity",)
            + (("average_gradient",) if centered else ())
            + (("momentum",) if self.momentum else ())
        )

    def _update(self, params, grads, lr, rows):
        velocity = self._slots("velocity", rows)
        torch._foreach_lerp_(velocity, torch._foreach_mul(grads, grads), 1 - self.rho)
        denominator = torch._foreach_add(velocity, self.epsilon)
        if self.centered:
            average = self._slots("average_gradient", rows)
            torch._foreach_lerp_(average, grads, 1 - self.rho)
            torch._foreach_sub_(denominator, torch._foreach_mul(average, average))
        increments = torch._foreach_div(
            torch._foreach_mul(grads, lr), torch._foreach_sqrt(denominator)
        )
        if self.momentum:
            buffers = self._slots("momentum", rows)
            torch._foreach_mul_(buffers, self.momentum)
            torch._foreach_add_(buffers, increments)
            increments = buffers
        torch._foreach_sub_(params, increments)

    def get_config(self) -> dict[str, Any]:
        """Constructor arguments (Keras names)."""
        return {
            **super().get_config(),
            "rho": self.rho,
            "momentum": self.momentum,
            "epsilon": self.epsilon,
            "centered": self.centered,
        }


class Adagrad(Optimizer):
    """Adagrad (Duchi et al. 2011) with Keras's rule and defaults.

    ``a += g²`` (``a`` starts at ``initial_accumulator_value``);
    ``w -= lr·g / sqrt(a + epsilon)``. Keras's default ``learning_rate=0.001`` is
    small for Adagrad; the paper's form uses ``1.0``.

    Args:
        learning_rate: Step size or schedule.
        initial_accumulator_value: Starting value of the accumulators (``>= 0``).
        epsilon: Added to the accumulator before the square root.
        **kwargs: The Keras base arguments (see :class:`Optimizer`).

    Example:
        >>> Adagrad().get_config()["initial_accumulator_value"]
        0.1
    """

    slot_names = ("accumulator",)

    def __init__(
        self,
        learning_rate: float | LearningRateSchedule = 0.001,
        initial_accumulator_value: float = 0.1,
        epsilon: float = 1e-7,
        **kwargs: Any,
    ) -> None:
        super().__init__(learning_rate, **kwargs)
        if not float(initial_accumulator_value) >= 0:
            raise ConfigError(
                f"initial_accumulator_value must be >= 0, got {initial_accumulator_value!r}."
            )
        self.initial_accumulator_value = float(initial_accumulator_value)
        self.epsilon = float(epsilon)

    def build(self, params: list[torch.Tensor]) -> None:
        """Attach the tensors; the accumulators start at ``initial_accumulator_value``."""
        super().build(params)
        for accumulator in self.slots["accumulator"]:
            accumulator.fill_(self.initial_accumulator_value)

    def _update(self, params, grads, lr, rows):
        accumulators = self._slots("accumulator", rows)
        torch._foreach_add_(accumulators, torch._foreach_mul(grads, grads))
        torch._foreach_sub_(
            params,
            torch._foreach_div(
                torch._foreach_mul(grads, float32(lr)),
                torch._foreach_sqrt(torch._foreach_add(accumulators, self.epsilon)),
            ),
        )

    def get_config(self) -> dict[str, Any]:
        """Constructor arguments (Keras names)."""
        return {
            **super().get_config(),
            "initial_accumulator_value": self.initial_accumulator_value,
            "epsilon": self.epsilon,
        }


class Adadelta(Optimizer):
    """Adadelta (Zeiler 2012) with Keras's rule and defaults.

    ``a = rho·a + (1 - rho)·g²``; ``d = -sqrt(s + epsilon)·g / sqrt(a + epsilon)``;
    ``s = rho·s + (1 - rho)·d²``; ``w += lr·d``. Keras's default
    ``learning_rate=0.001`` scales the step; the paper's form uses ``1.0``.

    Args:
        learning_rate: Step size or schedule.
        rho: Decay of both running averages.
        epsilon: Added inside both square roots.
        **kwargs: The Keras base arguments (see :class:`Optimizer`).

    Example:
        >>> import torch
        >>> weight = torch.nn.Parameter(torch.tensor([1.0]))
        >>> opt = Adadelta(learning_rate=1.0)
        >>> opt.build([weight])
        >>> weight.grad = torch.tensor([1.0])
        >>> opt.step()           # -sqrt(1e-7) / sqrt(0.05 + 1e-7): a tiny first step
        >>> round(1.0 - weight.item(), 7)
        0.0014142
    """

    slot_names = ("accumulated_grad", "accumulated_delta_var")

    def __init__(
        self,
        learning_rate: float | LearningRateSchedule = 0.001,
        rho: float = 0.95,
        epsilon: float = 1e-7,
        **kwargs: Any,
    ) -> None:
        super().__init__(learning_rate, **kwargs)
        self.rho, self.epsilon = float(rho), float(epsilon)

    def _update(self, params, grads, lr, rows):
        grad_avg = self._slots("accumulated_grad", rows)
        delta_avg = self._slots("accumulated_delta_var", rows)
        torch._foreach_mul_(grad_avg, self.rho)
        torch._foreach_add_(grad_avg, torch._foreach_mul(grads, grads), alpha=1 - self.rho)
        deltas = torch._foreach_mul(
            torch._foreach_div(
                torch._foreach_mul(self._rms(delta_avg), grads), self._rms(grad_avg)
            ),
            -1,
        )
        torch._foreach_mul_(delta_avg, self.rho)
        torch._foreach_add_(delta_avg, torch._foreach_mul(deltas, deltas), alpha=1 - self.rho)
        torch._foreach_add_(params, deltas, alpha=float(float32(lr)))

    def _rms(self, averages: list[torch.Tensor]) -> list[torch.Tensor]:
        return torch._foreach_sqrt(torch._foreach_add(averages, self.epsilon))

    def get_config(self) -> dict[str, Any]:
        """Constructor arguments (Keras names)."""
        return {**super().get_config(), "rho": self.rho, "epsilon": self.epsilon}

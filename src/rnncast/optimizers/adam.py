"""The Adam family with Keras's defaults and update rules: Adam, AdamW, Adamax, Nadam.

Example:
    >>> import torch
    >>> from rnncast.optimizers import Adam
    >>> weight = torch.nn.Parameter(torch.tensor([1.0]))
    >>> opt = Adam(learning_rate=0.1)
    >>> opt.build([weight])
    >>> weight.grad = torch.tensor([2.0])
    >>> opt.step()
    >>> round(weight.item(), 4)   # the first Adam step moves by about lr
    0.9
"""

from __future__ import annotations

from typing import Any

import torch

from rnncast.optimizers.base import Optimizer, float32
from rnncast.optimizers.schedules import LearningRateSchedule


class _Moments(Optimizer):
    """Shared arguments of the Adam family: ``beta_1``, ``beta_2`` and ``epsilon``."""

    def __init__(
        self,
        learning_rate: float | LearningRateSchedule = 0.001,
        beta_1: float = 0.9,
        beta_2: float = 0.999,
        epsilon: float = 1e-7,
        **kwargs: Any,
    ) -> None:
        super().__init__(learning_rate, **kwargs)
        self.beta_1, self.beta_2, self.epsilon = float(beta_1), float(beta_2), float(epsilon)

    def get_config(self) -> dict[str, Any]:
        """Constructor arguments (Keras names)."""
        return {
            **super().get_config(),
            "beta_1": self.beta_1,
            "beta_2": self.beta_2,
            "epsilon": self.epsilon,
        }


class Adam(_Moments):
    """Adam (Kingma & Ba 2014) with Keras's defaults and update rule.

    ``m += (g - m)(1 - beta_1)``; ``v += (g² - v)(1 - beta_2)``;
    ``w -= lr·sqrt(1 - beta_2^t)/(1 - beta_1^t) · m / (sqrt(v) + epsilon)``.
    Note ``epsilon=1e-7`` and that it is added to the uncorrected ``sqrt(v)``:
    ``torch.optim.Adam(eps=1e-7)`` gives slightly different losses.

    Args:
        learning_rate: Step size, or a schedule such as :class:`ExponentialDecay`.
        beta_1: Decay of the first-moment estimate.
        beta_2: Decay of the second-moment estimate.
        epsilon: Added to ``sqrt(v)``.
        amsgrad: Use the running maximum of ``v`` (Reddi et al. 2018).
        **kwargs: ``weight_decay``, ``clipnorm``, ``clipvalue``, ``global_clipnorm``
            and the other Keras base arguments (see :class:`Optimizer`).

    Example:
        >>> Adam().get_config()["epsilon"]
        1e-07
    """

    slot_names = ("m", "v")

    def __init__(
        self,
        learning_rate: float | LearningRateSchedule = 0.001,
        beta_1: float = 0.9,
        beta_2: float = 0.999,
        epsilon: float = 1e-7,
        amsgrad: bool = False,
        **kwargs: Any,
    ) -> None:
        super().__init__(learning_rate, beta_1, beta_2, epsilon, **kwargs)
        self.amsgrad = bool(amsgrad)
        if self.amsgrad:
            self.slot_names = ("m", "v", "v_hat")

    def _update(self, params, grads, lr, rows):
        m, v = self._slots("m", rows), self._slots("v", rows)
        step = self.iterations + 1
        torch._foreach_lerp_(m, grads, 1 - self.beta_1)  # m += (g - m)(1 - beta_1)
        torch._foreach_lerp_(v, torch._foreach_mul(grads, grads), 1 - self.beta_2)
        if self.amsgrad:
            v_hat = self._slots("v_hat", rows)
            torch._foreach_maximum_(v_hat, v)
            v = v_hat
        alpha = _float32_step_size(lr, self.beta_1, self.beta_2, step)
        denominator = torch._foreach_add(torch._foreach_sqrt(v), self.epsilon)
        torch._foreach_addcdiv_(params, m, denominator, value=-alpha)

    def get_config(self) -> dict[str, Any]:
        """Constructor arguments (Keras names)."""
        return {**super().get_config(), "amsgrad": self.amsgrad}


def _float32_step_size(lr: float, beta_1: float, beta_2: float, step: int) -> float:
    """``lr * sqrt(1 - beta_2^t) / (1 - beta_1^t)`` in float32, as Keras computes it.

    In float64 the result differs from Keras's by about 6e-6 relative (``1 - 0.999``
    is not exact in float32), which shows up in training losses.
    """
    t, b1, b2, rate = (float32(v) for v in (step, beta_1, beta_2, lr))
    return float(rate * torch.sqrt(1 - b2**t) / (1 - b1**t))


class AdamW(Adam):
    """Adam with decoupled weight decay, Keras's ``AdamW`` (default ``weight_decay=0.004``).

    Example:
        >>> AdamW().get_config()["weight_decay"]
        0.004
    """

    def __init__(
        self,
        learning_rate: float | LearningRateSchedule = 0.001,
        weight_decay: float = 0.004,
        **kwargs: Any,
    ) -> None:
        super().__init__(learning_rate, weight_decay=weight_decay, **kwargs)


class Adamax(_Moments):
    """Adamax (Kingma & Ba 2014, section 7.1): Adam with the infinity norm, Keras's rule.

    ``m = beta_1·m + (1 - beta_1)·g``; ``u = max(beta_2·u, |g|)``;
    ``w -= lr·m / ((1 - beta_1^t)·(u + epsilon))``.

    Args:
        learning_rate: Step size or schedule.
        beta_1: Decay of the first-moment estimate.
        beta_2: Decay of the exponentially weighted infinity norm.
        epsilon: Added to ``u``.
        **kwargs: The Keras base arguments (see :class:`Optimizer`).

    Example:
        >>> import torch
        >>> weight = torch.nn.Parameter(torch.tensor([1.0]))
        >>> opt = Adamax(learning_rate=0.1)
        >>> opt.build([weight])
        >>> weight.grad = torch.tensor([-3.0])
        >>> opt.step()
        >>> round(weight.item(), 4)   # the first step moves by lr, against the gradient
        1.1
    """

    slot_names = ("momentum", "norm")

    def _update(self, params, grads, lr, rows):
        m, u = self._slots("momentum", rows), self._slots("norm", rows)
        rate = float32(lr)
        beta_1_power = float32(self.beta_1) ** float32(self.iterations + 1)  # float32, as Keras
        torch._foreach_mul_(m, self.beta_1)
        torch._foreach_add_(m, grads, alpha=1 - self.beta_1)
        torch._foreach_mul_(u, self.beta_2)
        torch._foreach_maximum_(u, torch._foreach_abs(grads))
        torch._foreach_sub_(
            params,
            torch._foreach_div(
                torch._foreach_mul(m, rate),
                torch._foreach_mul(torch._foreach_add(u, self.epsilon), 1 - beta_1_power),
            ),
        )


class Nadam(_Moments):
    """Nadam (Dozat 2015): Adam with Nesterov momentum, Keras's rule and momentum schedule.

    With ``u_t = beta_1·(1 - 0.5·0.96^t)`` and ``P_t = u_1···u_t``:
    ``m̂ = u_{t+1}·m / (1 - P_t·u_{t+1}) + (1 - u_t)·g / (1 - P_t)``,
    ``v̂ = v / (1 - beta_2^t)``, ``w -= lr·m̂ / (sqrt(v̂) + epsilon)``; the scalars
    are computed in float32 as Keras does.

    Args:
        learning_rate: Step size or schedule.
        beta_1: Decay of the first-moment estimate.
        beta_2: Decay of the second-moment estimate.
        epsilon: Added to ``sqrt(v̂)``.
        **kwargs: The Keras base arguments (see :class:`Optimizer`).

    Example:
        >>> import torch
        >>> weight = torch.nn.Parameter(torch.tensor([1.0]))
        >>> opt = Nadam(learning_rate=0.1)
        >>> opt.build([weight])
        >>> weight.grad = torch.tensor([2.0])
        >>> opt.step()
        >>> round(weight.item(), 4)   # a Nesterov step: a little more than lr
        0.8937
    """

    slot_names = ("momentum", "velocity")
    # (steps it covers, P_steps in float32); replaced per instance, never mutated in place
    _u_product: tuple[int, torch.Tensor] = (0, float32(1.0))

    def _momentum_product(self, steps: int) -> torch.Tensor:
        """``P_steps = u_1···u_steps``, multiplied up in float32 in Keras's order."""
        done, product = self._u_product
        if done > steps:  # e.g. after loading a state: start again from 1
            done, product = 0, float32(1.0)
        for t in range(done + 1, steps + 1):
            product = product * self._u(t)
        self._u_product = (steps, product)
        return product

    def _u(self, t: int) -> torch.Tensor:
        return float32(self.beta_1) * (1.0 - 0.5 * float32(0.96) ** float32(t))

    def _update(self, params, grads, lr, rows):
        m, v = self._slots("momentum", rows), self._slots("velocity", rows)
        step = self.iterations + 1
        rate = float32(lr)
        u_t, u_next = self._u(step), self._u(step + 1)
        product = self._momentum_product(step)  # P_t (includes u_t)
        product_next = product * u_next
        beta_2_power = float32(self.beta_2) ** float32(step)
        torch._foreach_mul_(m, self.beta_1)
        torch._foreach_add_(m, grads, alpha=1 - self.beta_1)
        torch._foreach_mul_(v, self.beta_2)
        torch._foreach_add_(v, torch._foreach_mul(grads, grads), alpha=1 - self.beta_2)
        m_hat = torch._foreach_add(
            torch._foreach_div(torch._foreach_mul(m, u_next), float(1 - product_next)),
            torch._foreach_div(torch._foreach_mul(grads, 1 - u_t), float(1 - product)),
        )
        v_hat = torch._foreach_div(v, 1 - beta_2_power)
        torch._foreach_sub_(
            params,
            torch._foreach_div(
                torch._foreach_mul(m_hat, rate),
                torch._foreach_add(torch._foreach_sqrt(v_hat), self.epsilon),
            ),
        )

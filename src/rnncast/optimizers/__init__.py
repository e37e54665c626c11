"""Optimizers with Keras's names, defaults and update rules, on torch tensors.

These are not wrappers of ``torch.optim``: Keras's rules differ in small ways
that change the losses users compare against (Adam adds ``epsilon`` to the
*uncorrected* ``sqrt(v)``, RMSprop puts ``epsilon`` inside the square root),
so the updates are written out here, with torch's multi-tensor (``_foreach``)
ops for speed. Each step does, in Keras's order: clip gradients
(``clipvalue``, per-tensor ``clipnorm``, ``global_clipnorm``), decoupled
weight decay, the update, then ``iterations += 1``.

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

from rnncast.exceptions import ConfigError
from rnncast.optimizers.schedules import LearningRateSchedule, deserialize_schedule


class Optimizer:
    """Base class: learning rate (float or schedule), clipping, weight decay, slots.

    Subclasses define ``slot_names`` and ``_update(params, grads, lr, step)``.
    """

    slot_names: tuple[str, ...] = ()

    def __init__(
        self,
        learning_rate: float | LearningRateSchedule = 0.001,
        weight_decay: float | None = None,
        clipnorm: float | None = None,
        clipvalue: float | None = None,
        global_clipnorm: float | None = None,
    ) -> None:
        if isinstance(learning_rate, dict):
            learning_rate = deserialize_schedule(learning_rate)
        if not isinstance(learning_rate, LearningRateSchedule) and not float(learning_rate) > 0:
            raise ConfigError(f"learning_rate must be > 0, got {learning_rate!r}.")
        if clipnorm is not None and global_clipnorm is not None:
            raise ConfigError("use clipnorm or global_clipnorm, not both.")
        for name, value in (
            ("weight_decay", weight_decay),
            ("clipnorm", clipnorm),
            ("clipvalue", clipvalue),
            ("global_clipnorm", global_clipnorm),
        ):
            if value is not None and not float(value) >= 0:
                raise ConfigError(f"{name} must be >= 0, got {value!r}.")
        self._learning_rate = learning_rate
        self.weight_decay = weight_decay
        self.clipnorm, self.clipvalue, self.global_clipnorm = clipnorm, clipvalue, global_clipnorm
        self.iterations = 0
        self.params: list[torch.Tensor] = []
        self.slots: dict[str, list[torch.Tensor]] = {}

    # -------------------------------------------------------------- state
    @property
    def learning_rate(self) -> float:
        """The learning rate of the next step (a schedule is evaluated at ``iterations``)."""
        if isinstance(self._learning_rate, LearningRateSchedule):
            return float(self._learning_rate(self.iterations))
        return float(self._learning_rate)

    @learning_rate.setter
    def learning_rate(self, value: float) -> None:
        if isinstance(self._learning_rate, LearningRateSchedule):
            raise ConfigError(
                "this optimizer follows a learning-rate schedule; the rate cannot "
                "be set by hand (ReduceLROnPlateau needs a float learning_rate)."
            )
        self._learning_rate = float(value)

    def build(self, params: list[torch.Tensor]) -> None:
        """Attach the trainable tensors and create zeroed slot variables for them."""
        self.params = list(params)
        self.slots = {name: [torch.zeros_like(p) for p in self.params] for name in self.slot_names}

    def step(self) -> None:
        """Apply one update from the gradients stored in ``param.grad``."""
        pairs = [(p, p.grad) for p in self.params if p.grad is not None]
        if not pairs:
            self.iterations += 1
            return
        index = {id(p): i for i, p in enumerate(self.params)}
        params = [p for p, _ in pairs]
        grads = self._clip([g for _, g in pairs])
        lr = self.learning_rate
        with torch.no_grad():
            if self.weight_decay:
                torch._foreach_mul_(params, 1.0 - self.weight_decay * lr)
            self._update(params, grads, lr, [index[id(p)] for p in params])
        self.iterations += 1

    def zero_grad(self) -> None:
        """Drop the stored gradients (``set_to_none``, as torch does by default)."""
        for p in self.params:
            p.grad = None

    def _clip(self, grads: list[torch.Tensor]) -> list[torch.Tensor]:
        if self.clipvalue is not None:
            grads = [g.clamp(-self.clipvalue, self.clipvalue) for g in grads]
        if self.clipnorm is not None:
            norms = torch._foreach_norm(grads)
            grads = [
                g * (self.clipnorm / torch.clamp(n, min=self.clipnorm))
                for g, n in zip(grads, norms, strict=True)
            ]
        if self.global_clipnorm is not None:
            total = torch.linalg.vector_norm(torch.stack(torch._foreach_norm(grads)))
            scale = self.global_clipnorm / torch.clamp(total, min=self.global_clipnorm)
            grads = torch._foreach_mul(grads, scale)
        return grads

    def _slots(self, name: str, rows: list[int]) -> list[torch.Tensor]:
        return [self.slots[name][i] for i in rows]

    def _update(
        self, params: list[torch.Tensor], grads: list[torch.Tensor], lr: float, rows: list[int]
    ) -> None:
        raise NotImplementedError

    # ------------------------------------------------------------- config
    def get_config(self) -> dict[str, Any]:
        """Constructor arguments (Keras names); a schedule is stored as a dict."""
        rate = self._learning_rate
        return {
            "learning_rate": rate.get_config() if isinstance(rate, LearningRateSchedule) else rate,
            "weight_decay": self.weight_decay,
            "clipnorm": self.clipnorm,
            "clipvalue": self.clipvalue,
            "global_clipnorm": self.global_clipnorm,
        }

    def state_tensors(self) -> dict[str, torch.Tensor]:
        """Slot variables keyed ``"<slot>/<param index>"`` (for safetensors)."""
        return {f"{name}/{i}": t for name, slot in self.slots.items() for i, t in enumerate(slot)}

    def load_state_tensors(self, tensors: dict[str, torch.Tensor], iterations: int) -> None:
        """Restore slot variables saved by :meth:`state_tensors` (after :meth:`build`)."""
        for name, slot in self.slots.items():
            for i, target in enumerate(slot):
                key = f"{name}/{i}"
                if key not in tensors or tensors[key].shape != target.shape:
                    raise ConfigError(
                        f"optimizer state {key!r} is missing or has the wrong shape for this model."
                    )
                target.copy_(tensors[key])
        self.iterations = int(iterations)

    def __repr__(self) -> str:
        return f"{type(self).__name__}(learning_rate={self._learning_rate!r})"


class Adam(Optimizer):
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
        weight_decay: Decoupled weight decay: ``w -= w·weight_decay·lr`` per step.
        clipnorm: Clip each gradient tensor to this norm.
        clipvalue: Clip each gradient element to ``[-clipvalue, clipvalue]``.
        global_clipnorm: Clip all gradients together to this global norm.
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
        super().__init__(learning_rate, **kwargs)
        self.beta_1, self.beta_2, self.epsilon = float(beta_1), float(beta_2), float(epsilon)
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
        return {
            **super().get_config(),
            "beta_1": self.beta_1,
            "beta_2": self.beta_2,
            "epsilon": self.epsilon,
            "amsgrad": self.amsgrad,
        }


def _float32_step_size(lr: float, beta_1: float, beta_2: float, step: int) -> float:
    """``lr * sqrt(1 - beta_2^t) / (1 - beta_1^t)`` in float32, as Keras computes it.

    In float64 the result differs from Keras's by about 6e-6 relative (``1 - 0.999``
    is not exact in float32), which shows up in training losses.
    """
    t, b1, b2, rate = (
        torch.tensor(float(v), dtype=torch.float32) for v in (step, beta_1, beta_2, lr)
    )
    return float(rate * torch.sqrt(1 - b2**t) / (1 - b1**t))


class AdamW(Adam):
    """Adam with decoupled weight decay, Keras's ``AdamW`` (default ``weight_decay=0.004``)."""

    def __init__(
        self,
        learning_rate: float | LearningRateSchedule = 0.001,
        weight_decay: float = 0.004,
        **kwargs: Any,
    ) -> None:
        super().__init__(learning_rate, weight_decay=weight_decay, **kwargs)


class SGD(Optimizer):
    """Stochastic gradient descent with optional (Nesterov) momentum, Keras's rule.

    ``m = momentum·m - lr·g``; ``w += m`` (Nesterov: ``w += momentum·m - lr·g``).
    Default ``learning_rate=0.01`` as in Keras.
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


class RMSprop(Optimizer):
    """RMSprop with Keras's rule: ``w -= lr·g / sqrt(v + epsilon)`` (epsilon inside the root).

    Args:
        learning_rate: Step size or schedule.
        rho: Decay of the running mean of squared gradients.
        momentum: Momentum on the increments (0 = none).
        epsilon: Added to ``v`` before the square root.
        centered: Divide by the centred second moment (variance) instead.
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


OPTIMIZERS: dict[str, type[Optimizer]] = {
    "adam": Adam,
    "adamw": AdamW,
    "sgd": SGD,
    "rmsprop": RMSprop,
}


def get(optimizer: str | Optimizer) -> Optimizer:
    """An optimizer instance from a name (``"adam"``, ``"sgd"``, ...) or an instance.

    Raises:
        ConfigError: for an unknown name, listing the valid ones.
    """
    if isinstance(optimizer, Optimizer):
        return optimizer
    key = str(optimizer).lower()
    if key not in OPTIMIZERS:
        raise ConfigError(
            f"unknown optimizer {optimizer!r}; use one of "
            f"{', '.join(OPTIMIZERS)} or an rnncast.optimizers instance."
        )
    return OPTIMIZERS[key]()


def serialize(optimizer: Optimizer) -> dict[str, Any]:
    """``{"class_name": ..., "config": ...}`` for saving."""
    return {"class_name": type(optimizer).__name__, "config": optimizer.get_config()}


def deserialize(spec: dict[str, Any]) -> Optimizer:
    """Rebuild an optimizer from :func:`serialize` output (rnncast classes only)."""
    classes = {cls.__name__: cls for cls in OPTIMIZERS.values()}
    name = spec.get("class_name")
    if name not in classes:
        raise ConfigError(
            f"unknown optimizer class {name!r}; expected one of {', '.join(classes)}."
        )
    return classes[name](**spec.get("config", {}))

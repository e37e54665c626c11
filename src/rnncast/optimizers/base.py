"""The optimizer base class: learning rate, Keras's keyword arguments, clipping, slots.

Every rnncast optimizer takes Keras 3's base keyword arguments. Those rnncast
implements (``weight_decay``, ``clipnorm``, ``clipvalue``, ``global_clipnorm``,
``name``) behave as in Keras; the others are accepted at their Keras defaults
and otherwise refused with a :class:`~rnncast.exceptions.ConfigError` that
names the argument and what to do instead. Keras 2's ``lr=`` is refused (as
Keras 3 refuses it) and ``decay=`` is ignored with a warning (as Keras 3
ignores it), both pointing to the Keras 3 replacement.

Example:
    >>> import torch
    >>> from rnncast.optimizers import SGD
    >>> weight = torch.nn.Parameter(torch.tensor([1.0]))
    >>> opt = SGD(learning_rate=0.1, clipvalue=0.5)
    >>> opt.build([weight])
    >>> weight.grad = torch.tensor([2.0])   # clipped to 0.5
    >>> opt.step()
    >>> round(weight.item(), 4), opt.iterations
    (0.95, 1)
"""

from __future__ import annotations

import numbers
import warnings
from typing import Any

import torch

from rnncast.exceptions import ConfigError
from rnncast.optimizers.schedules import LearningRateSchedule, deserialize_schedule

# Keras 3 base-optimizer arguments rnncast does not implement: accepted at these
# (Keras's default) values, refused otherwise with the advice given here.
_UNSUPPORTED_DEFAULTS: dict[str, tuple[Any, str]] = {
    "use_ema": (
        False,
        "rnncast keeps no moving average of the weights; drop use_ema "
        "(or average checkpoints yourself).",
    ),
    "ema_momentum": (0.99, "it only applies with use_ema, which rnncast does not support."),
    "ema_overwrite_frequency": (
        None,
        "it only applies with use_ema, which rnncast does not support.",
    ),
    "loss_scale_factor": (
        None,
        "rnncast trains in float32 and needs no loss scaling; drop loss_scale_factor.",
    ),
    "gradient_accumulation_steps": (
        None,
        "use a larger batch_size in fit() instead of accumulating gradients.",
    ),
}


def _check_keras_kwargs(owner: str, kwargs: dict[str, Any]) -> None:
    """Refuse (or, for ``decay``, warn about) Keras arguments rnncast does not implement."""
    kwargs = dict(kwargs)
    if "lr" in kwargs:
        raise ConfigError(
            f"{owner}: lr= is the Keras 2 name and Keras 3 refuses it; "
            f"use learning_rate={kwargs['lr']!r}."
        )
    if "decay" in kwargs:
        decay = kwargs.pop("decay")
        if decay is not None:
            warnings.warn(
                f"{owner}: decay={decay!r} is not supported and is ignored, as in Keras 3. "
                "For Keras 2's lr / (1 + decay * iterations) pass "
                "learning_rate=rnncast.optimizers.schedules.InverseTimeDecay("
                f"<learning_rate>, decay_steps=1, decay_rate={decay!r}).",
                UserWarning,
                stacklevel=4,
            )
    for name, (default, advice) in _UNSUPPORTED_DEFAULTS.items():
        if name in kwargs:
            value = kwargs.pop(name)
            if value != default:
                raise ConfigError(f"{owner}: {name}={value!r} is not supported; {advice}")
    if kwargs:
        raise ConfigError(
            f"{owner}: argument(s) not recognized: {', '.join(sorted(kwargs))}. "
            "Check the spelling against the Keras 3 optimizer arguments "
            "(learning_rate, weight_decay, clipnorm, clipvalue, global_clipnorm, ...)."
        )


def float32(value: float) -> torch.Tensor:
    """A 0-d float32 tensor: Keras computes its scalar step factors in float32."""
    return torch.tensor(float(value), dtype=torch.float32)


class Optimizer:
    """Base class: learning rate (float or schedule), clipping, weight decay, slots.

    Subclasses define ``slot_names`` and ``_update(params, grads, lr, rows)``.
    Each step does, in Keras's order: clip gradients (``clipvalue``, per-tensor
    ``clipnorm``, ``global_clipnorm``), decoupled weight decay, the update,
    then ``iterations += 1``.

    Args:
        learning_rate: Step size (``>= 0``; ``0.0`` as at the start of a warm-up),
            or a schedule from :mod:`rnncast.optimizers.schedules`.
        weight_decay: Decoupled weight decay: ``w -= w·weight_decay·lr`` per step.
        clipnorm: Clip each gradient tensor to this norm.
        clipvalue: Clip each gradient element to ``[-clipvalue, clipvalue]``.
        global_clipnorm: Clip all gradients together to this global norm.
        name: Optional name, as in Keras.
        **kwargs: Other Keras 3 arguments; accepted only at their Keras defaults.

    Raises:
        ConfigError: for invalid values and Keras arguments rnncast does not support.
    """

    slot_names: tuple[str, ...] = ()

    def __init__(
        self,
        learning_rate: float | LearningRateSchedule = 0.001,
        weight_decay: float | None = None,
        clipnorm: float | None = None,
        clipvalue: float | None = None,
        global_clipnorm: float | None = None,
        name: str | None = None,
        **kwargs: Any,
    ) -> None:
        _check_keras_kwargs(type(self).__name__, kwargs)
        if isinstance(learning_rate, dict):
            learning_rate = deserialize_schedule(learning_rate)
        if not isinstance(learning_rate, LearningRateSchedule):
            try:
                valid = 0 <= float(learning_rate) < float("inf")  # NaN fails too
            except (TypeError, ValueError):
                valid = False
            if not valid:
                raise ConfigError(
                    f"learning_rate must be a number >= 0 (finite) or a schedule from "
                    f"rnncast.optimizers.schedules, got {learning_rate!r}."
                )
        if clipnorm is not None and global_clipnorm is not None:
            raise ConfigError("use clipnorm or global_clipnorm, not both.")
        for arg, value in (
            ("weight_decay", weight_decay),
            ("clipnorm", clipnorm),
            ("clipvalue", clipvalue),
            ("global_clipnorm", global_clipnorm),
        ):
            number = isinstance(value, numbers.Real) and not isinstance(value, bool)
            if value is not None and not (number and 0 <= value < float("inf")):
                raise ConfigError(f"{arg} must be >= 0, got {value!r}.")
        self._learning_rate = learning_rate
        self.weight_decay = weight_decay
        self.clipnorm, self.clipvalue, self.global_clipnorm = clipnorm, clipvalue, global_clipnorm
        self.name = name
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

    @property
    def param_groups(self) -> list[dict[str, Any]]:
        """``[{"params": trainable tensors}]``: what ``torch.amp.GradScaler`` unscales.

        With it, ``scaler.step(optimizer)`` works on rnncast's optimizers as on
        ``torch.optim`` ones (mixed float16 training).
        """
        return [{"params": self.params}]

    def to(self, device: torch.device | str) -> Optimizer:
        """Move the slot variables (moments, ...) to ``device``, next to the weights they follow.

        Example:
            >>> from rnncast.optimizers import Adam
            >>> optimizer = Adam()
            >>> optimizer.build([torch.zeros(2, requires_grad=True)])
            >>> optimizer.to("cpu").slots["m"][0].device.type
            'cpu'
        """
        for values in self.slots.values():
            values[:] = [t.to(device) for t in values]
        return self

    def step(self) -> None:
        """Apply one update from the gradients stored in ``param.grad``."""
        rows = [i for i, p in enumerate(self.params) if p.grad is not None]
        if not rows:
            self.iterations += 1
            return
        params = [self.params[i] for i in rows]
        grads = self._clip([p.grad for p in params])
        lr = self.learning_rate
        with torch.no_grad():
            if self.weight_decay:
                torch._foreach_mul_(params, 1.0 - self.weight_decay * lr)
            self._update(params, grads, lr, rows)
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

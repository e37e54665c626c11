"""Learning-rate schedules with Keras's names and formulas (``keras.optimizers.schedules``).

A schedule is called with the optimizer's step count (0 for the first update).

Example:
    >>> schedule = ExponentialDecay(0.01, decay_steps=100, decay_rate=0.5)
    >>> schedule(0), schedule(100), schedule(200)
    (0.01, 0.005, 0.0025)
"""

from __future__ import annotations

import math
from typing import Any

from rnncast.exceptions import ConfigError


class LearningRateSchedule:
    """Base class: ``schedule(step) -> learning rate``."""

    def __call__(self, step: int) -> float:
        """The learning rate at optimizer step ``step``."""
        raise NotImplementedError

    def get_config(self) -> dict[str, Any]:
        """``{"class_name": ..., "config": {...}}`` for saving."""
        raise NotImplementedError


class ExponentialDecay(LearningRateSchedule):
    """``initial_learning_rate * decay_rate ** (step / decay_steps)``.

    Args:
        initial_learning_rate: Rate at step 0.
        decay_steps: Steps over which the rate is multiplied by ``decay_rate``.
        decay_rate: Factor per ``decay_steps``.
        staircase: Decay in whole steps of ``decay_steps`` (integer division).
    """

    def __init__(
        self,
        initial_learning_rate: float,
        decay_steps: int,
        decay_rate: float,
        staircase: bool = False,
    ) -> None:
        if decay_steps <= 0 or initial_learning_rate <= 0 or decay_rate <= 0:
            raise ConfigError(
                "ExponentialDecay needs initial_learning_rate > 0, "
                "decay_steps > 0 and decay_rate > 0."
            )
        self.initial_learning_rate = float(initial_learning_rate)
        self.decay_steps, self.decay_rate = int(decay_steps), float(decay_rate)
        self.staircase = bool(staircase)

    def __call__(self, step: int) -> float:
        """The decayed rate."""
        exponent = step / self.decay_steps
        if self.staircase:
            exponent = math.floor(exponent)
        return self.initial_learning_rate * self.decay_rate**exponent

    def get_config(self) -> dict[str, Any]:
        """Serialised form."""
        return {
            "class_name": "ExponentialDecay",
            "config": {
                "initial_learning_rate": self.initial_learning_rate,
                "decay_steps": self.decay_steps,
                "decay_rate": self.decay_rate,
                "staircase": self.staircase,
            },
        }


class CosineDecay(LearningRateSchedule):
    """Cosine decay (Loshchilov & Hutter 2017) with optional linear warm-up, as in Keras.

    Without warm-up: ``initial * ((1 - alpha) * 0.5 * (1 + cos(pi * s / decay_steps)) +
    alpha)`` with ``s = min(step, decay_steps)``. With ``warmup_steps`` the rate
    rises linearly from ``initial_learning_rate`` to ``warmup_target`` first,
    then decays from ``warmup_target``.
    """

    def __init__(
        self,
        initial_learning_rate: float,
        decay_steps: int,
        alpha: float = 0.0,
        warmup_target: float | None = None,
        warmup_steps: int = 0,
    ) -> None:
        if decay_steps <= 0 or initial_learning_rate < 0:
            raise ConfigError("CosineDecay needs decay_steps > 0 and initial_learning_rate >= 0.")
        self.initial_learning_rate = float(initial_learning_rate)
        self.decay_steps, self.alpha = int(decay_steps), float(alpha)
        self.warmup_target = None if warmup_target is None else float(warmup_target)
        self.warmup_steps = int(warmup_steps)

    def __call__(self, step: int) -> float:
        """The rate at ``step``."""
        if self.warmup_target is not None and step < self.warmup_steps:
            progress = step / self.warmup_steps
            return self.initial_learning_rate + progress * (
                self.warmup_target - self.initial_learning_rate
            )
        start = self.initial_learning_rate if self.warmup_target is None else self.warmup_target
        decay_step = min(
            step - (self.warmup_steps if self.warmup_target is not None else 0), self.decay_steps
        )
        cosine = 0.5 * (1 + math.cos(math.pi * decay_step / self.decay_steps))
        return start * ((1 - self.alpha) * cosine + self.alpha)

    def get_config(self) -> dict[str, Any]:
        """Serialised form."""
        return {
            "class_name": "CosineDecay",
            "config": {
                "initial_learning_rate": self.initial_learning_rate,
                "decay_steps": self.decay_steps,
                "alpha": self.alpha,
                "warmup_target": self.warmup_target,
                "warmup_steps": self.warmup_steps,
            },
        }


SCHEDULES = {"ExponentialDecay": ExponentialDecay, "CosineDecay": CosineDecay}


def deserialize_schedule(spec: dict[str, Any]) -> LearningRateSchedule:
    """Rebuild a schedule from its ``get_config()`` dict."""
    name = spec.get("class_name")
    if name not in SCHEDULES:
        raise ConfigError(
            f"unknown learning-rate schedule {name!r}; use one of {', '.join(SCHEDULES)}."
        )
    return SCHEDULES[name](**spec.get("config", {}))

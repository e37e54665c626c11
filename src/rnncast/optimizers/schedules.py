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

    #: Constructor arguments saved by :meth:`get_config`, in order.
    config_keys: tuple[str, ...] = ()

    def get_config(self) -> dict[str, Any]:
        """``{"class_name": ..., "config": {...}}`` for saving."""
        if not self.config_keys:
            raise NotImplementedError
        return {
            "class_name": type(self).__name__,
            "config": {key: getattr(self, key) for key in self.config_keys},
        }


class ExponentialDecay(LearningRateSchedule):
    """``initial_learning_rate * decay_rate ** (step / decay_steps)``.

    Args:
        initial_learning_rate: Rate at step 0.
        decay_steps: Steps over which the rate is multiplied by ``decay_rate``.
        decay_rate: Factor per ``decay_steps``.
        staircase: Decay in whole steps of ``decay_steps`` (integer division).
    """

    config_keys = ("initial_learning_rate", "decay_steps", "decay_rate", "staircase")

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


class CosineDecay(LearningRateSchedule):
    """Cosine decay (Loshchilov & Hutter 2017) with optional linear warm-up, as in Keras.

    Without warm-up: ``initial * ((1 - alpha) * 0.5 * (1 + cos(pi * s / decay_steps)) +
    alpha)`` with ``s = min(step, decay_steps)``. With ``warmup_steps`` the rate
    rises linearly from ``initial_learning_rate`` to ``warmup_target`` first,
    then decays from ``warmup_target``.
    """

    config_keys = ("initial_learning_rate", "decay_steps", "alpha", "warmup_target", "warmup_steps")

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


class InverseTimeDecay(LearningRateSchedule):
    """``initial_learning_rate / (1 + decay_rate * step / decay_steps)``, as in Keras.

    With ``decay_steps=1`` this is Keras 2's optimizer argument ``decay``
    (``lr / (1 + decay * iterations)``), which Keras 3 ignores.

    Args:
        initial_learning_rate: Rate at step 0.
        decay_steps: Steps per unit of ``decay_rate`` (``> 0``).
        decay_rate: How fast the rate falls.
        staircase: Use ``floor(step / decay_steps)`` (decay in whole steps).
        name: Optional name, as in Keras.

    Example:
        >>> schedule = InverseTimeDecay(0.1, decay_steps=1, decay_rate=0.5)
        >>> [round(schedule(step), 4) for step in range(4)]
        [0.1, 0.0667, 0.05, 0.04]
    """

    config_keys = ("initial_learning_rate", "decay_steps", "decay_rate", "staircase")

    def __init__(
        self,
        initial_learning_rate: float,
        decay_steps: int,
        decay_rate: float,
        staircase: bool = False,
        name: str | None = None,
    ) -> None:
        if not decay_steps > 0:
            raise ConfigError(f"InverseTimeDecay needs decay_steps > 0, got {decay_steps!r}.")
        self.initial_learning_rate = float(initial_learning_rate)
        self.decay_steps, self.decay_rate = decay_steps, float(decay_rate)
        self.staircase, self.name = bool(staircase), name

    def __call__(self, step: int) -> float:
        """The rate at ``step``."""
        progress = step / self.decay_steps
        if self.staircase:
            progress = math.floor(progress)
        return self.initial_learning_rate / (1 + self.decay_rate * progress)


class PolynomialDecay(LearningRateSchedule):
    """Polynomial decay from ``initial_learning_rate`` to ``end_learning_rate``, as in Keras.

    ``(initial - end) * (1 - s / decay_steps) ** power + end`` with
    ``s = min(step, decay_steps)``. With ``cycle=True`` the decay restarts:
    ``decay_steps`` becomes the first multiple of itself that is ``>= step``.
    An ``initial_learning_rate`` below ``end_learning_rate`` gives a warm-up.

    Args:
        initial_learning_rate: Rate at step 0.
        decay_steps: Steps to reach ``end_learning_rate`` (``> 0``).
        end_learning_rate: Final rate.
        power: Exponent of the polynomial (1.0 = linear).
        cycle: Restart the decay every ``decay_steps``.
        name: Optional name, as in Keras.

    Example:
        >>> schedule = PolynomialDecay(0.1, decay_steps=10, end_learning_rate=0.0)
        >>> [round(schedule(step), 4) for step in (0, 5, 10, 20)]
        [0.1, 0.05, 0.0, 0.0]
    """

    config_keys = ("initial_learning_rate", "decay_steps", "end_learning_rate", "power", "cycle")

    def __init__(
        self,
        initial_learning_rate: float,
        decay_steps: int,
        end_learning_rate: float = 0.0001,
        power: float = 1.0,
        cycle: bool = False,
        name: str | None = None,
    ) -> None:
        if not decay_steps > 0:
            raise ConfigError(f"PolynomialDecay needs decay_steps > 0, got {decay_steps!r}.")
        self.initial_learning_rate = float(initial_learning_rate)
        self.decay_steps = decay_steps
        self.end_learning_rate, self.power = float(end_learning_rate), float(power)
        self.cycle, self.name = bool(cycle), name

    def __call__(self, step: int) -> float:
        """The rate at ``step``."""
        decay_steps = float(self.decay_steps)
        if self.cycle:
            decay_steps *= 1.0 if step == 0 else math.ceil(step / self.decay_steps)
        else:
            step = min(step, decay_steps)
        remaining = (1 - step / decay_steps) ** self.power
        return (self.initial_learning_rate - self.end_learning_rate) * remaining + (
            self.end_learning_rate
        )


class PiecewiseConstantDecay(LearningRateSchedule):
    """A constant rate between boundaries, as in Keras.

    ``values[0]`` while ``step <= boundaries[0]``, ``values[i]`` while
    ``boundaries[i-1] < step <= boundaries[i]``, ``values[-1]`` after the last.

    Args:
        boundaries: Increasing step numbers.
        values: One more rate than there are boundaries.
        name: Optional name, as in Keras.

    Example:
        >>> schedule = PiecewiseConstantDecay([100, 200], [0.1, 0.01, 0.001])
        >>> [schedule(step) for step in (0, 100, 101, 200, 201)]
        [0.1, 0.1, 0.01, 0.01, 0.001]
    """

    config_keys = ("boundaries", "values")

    def __init__(self, boundaries: list[int], values: list[float], name: str | None = None) -> None:
        boundaries, values = list(boundaries), [float(v) for v in values]
        if len(values) != len(boundaries) + 1:
            raise ConfigError(
                "PiecewiseConstantDecay needs one more value than boundaries, got "
                f"{len(boundaries)} boundaries and {len(values)} values."
            )
        if any(b >= a for a, b in zip(boundaries[1:], boundaries, strict=False)):
            raise ConfigError(
                f"PiecewiseConstantDecay boundaries must be increasing, got {boundaries!r}."
            )
        self.boundaries, self.values, self.name = boundaries, values, name

    def __call__(self, step: int) -> float:
        """The rate at ``step``."""
        for boundary, value in zip(self.boundaries, self.values, strict=False):
            if step <= boundary:
                return value
        return self.values[-1]


SCHEDULES = {
    "ExponentialDecay": ExponentialDecay,
    "CosineDecay": CosineDecay,
    "InverseTimeDecay": InverseTimeDecay,
    "PolynomialDecay": PolynomialDecay,
    "PiecewiseConstantDecay": PiecewiseConstantDecay,
}


def deserialize_schedule(spec: dict[str, Any]) -> LearningRateSchedule:
    """Rebuild a schedule from its ``get_config()`` dict."""
    name = spec.get("class_name")
    if name not in SCHEDULES:
        raise ConfigError(
            f"unknown learning-rate schedule {name!r}; use one of {', '.join(SCHEDULES)}."
        )
    return SCHEDULES[name](**spec.get("config", {}))

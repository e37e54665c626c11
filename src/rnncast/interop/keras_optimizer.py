"""An optimizer's state (iterations, learning rate, slots) in Keras 3's ``optimizer/vars`` layout.

Keras saves ``optimizer.variables``: the iteration count, the learning rate
(unless it follows a schedule), then the slot variables of every trainable
weight in Keras's weight order and layout, interleaved within each
``add_optimizer_variables`` call (Adam: m0, v0, m1, v1, ...), and Nadam's
momentum product last. rnncast keeps its slots in torch's layout (e.g. the
transposed LSTM kernel), so every slot goes through the same conversion as
its weight: it is put in the weight's place for a moment and read back with
``keras_weights()`` (or written with ``set_keras_weights``).
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING

import numpy as np
import torch

from rnncast.layers import Layer
from rnncast.optimizers.schedules import LearningRateSchedule

if TYPE_CHECKING:
    from rnncast.models.sequential import Sequential

# Keras's add_optimizer_variables calls per optimizer, each a tuple of interleaved slots
_SLOT_GROUPS: dict[str, list[tuple[str, ...]]] = {
    "Adam": [("m", "v"), ("v_hat",)],
    "AdamW": [("m", "v"), ("v_hat",)],
    "SGD": [("momentum",)],
    "RMSprop": [("velocity",), ("momentum",), ("average_gradient",)],
    "Adagrad": [("accumulator",)],
    "Adadelta": [("accumulated_grad", "accumulated_delta_var")],
    "Adamax": [("momentum", "norm")],
    "Nadam": [("momentum", "velocity")],
}


def keras_optimizer_arrays(model: Sequential) -> list[np.ndarray] | None:
    """``optimizer.variables`` as Keras 3 saves them; ``None`` when they cannot be laid out.

    An optimizer that has not been built yet is built first (as ``fit`` would
    build it), so its slots start where Keras's freshly built ones start.
    """
    optimizer = model.optimizer
    groups = _groups(model)
    if groups is None:
        return None
    model._build_optimizer()
    arrays = [np.asarray(optimizer.iterations, dtype=np.int64)]
    if not isinstance(optimizer._learning_rate, LearningRateSchedule):
        arrays.append(np.asarray(optimizer.learning_rate, dtype=np.float32))
    for group in groups:
        per_slot = [_keras_slots(model, name) for name in group]
        arrays += [slots[i] for i in range(len(per_slot[0])) for slots in per_slot]
    if type(optimizer).__name__ == "Nadam":
        product = optimizer._momentum_product(optimizer.iterations)
        arrays.append(np.asarray(float(product), dtype=np.float32))
    return arrays


def load_keras_optimizer(model: Sequential, arrays: list[np.ndarray], source: str) -> None:
    """Put Keras's saved ``optimizer.variables`` into ``model``'s (compiled) optimizer.

    As Keras does, a state that does not fit (another optimizer setting, a
    different model) is skipped with a warning, and training starts afresh.
    """
    optimizer, groups = model.optimizer, _groups(model)
    if optimizer is None or not arrays or groups is None:
        return
    model._build_optimizer()
    weights = sum(_trainable_count(layer) for layer in model.layers)
    has_rate = not isinstance(optimizer._learning_rate, LearningRateSchedule)
    expected = 1 + has_rate + weights * sum(len(g) for g in groups)
    expected += type(optimizer).__name__ == "Nadam"
    if len(arrays) == 1 + has_rate:  # saved before the optimizer was built: no slots yet
        optimizer.iterations = int(arrays[0])
        return
    if len(arrays) != expected:
        warnings.warn(
            f"{source}: skipping the optimizer state: it has {len(arrays)} variables but "
            f"{type(optimizer).__name__} here has {expected}; training starts afresh.",
            stacklevel=3,
        )
        return
    position = 1 + has_rate
    for group in groups:
        block = arrays[position : position + weights * len(group)]
        for k, name in enumerate(group):
            _set_slots(model, name, block[k :: len(group)])
        position += weights * len(group)
    optimizer.iterations = int(arrays[0])


# ------------------------------------------------------------------ helpers
def _groups(model: Sequential) -> list[tuple[str, ...]] | None:
    """The slot groups of the optimizer, or ``None`` when rnncast cannot lay them out."""
    optimizer = model.optimizer
    if optimizer is None or type(optimizer).__name__ not in _SLOT_GROUPS:
        return None
    names = set(optimizer.slot_names)
    groups = [tuple(n for n in g if n in names) for g in _SLOT_GROUPS[type(optimizer).__name__]]
    return [g for g in groups if g]


def _trainable_count(layer: Layer) -> int:
    return len(layer.trainable_weights)


@contextmanager
def _swapped(layer: Layer, values: Callable[[torch.Tensor], torch.Tensor]) -> Iterator[None]:
    """Temporarily give every parameter of ``layer`` the value ``values(parameter)``."""
    params = list(layer.parameters())
    saved = [p.detach().clone() for p in params]
    try:
        with torch.no_grad():
            for p in params:
                p.copy_(values(p))
        yield
    finally:
        with torch.no_grad():
            for p, value in zip(params, saved, strict=True):
                p.copy_(value)


def _keras_slots(model: Sequential, name: str) -> list[np.ndarray]:
    """Slot ``name`` of every trainable weight in Keras's order and layout."""
    optimizer = model.optimizer
    index = {id(p): i for i, p in enumerate(optimizer.params)}
    arrays: list[np.ndarray] = []
    for layer in model.layers:
        with _swapped(
            layer, lambda p: optimizer.slots[name][index[id(p)]] if id(p) in index else p
        ):
            arrays += layer.keras_weights()[: _trainable_count(layer)]
    return arrays


def _set_slots(model: Sequential, name: str, arrays: list[np.ndarray]) -> None:
    """Write Keras-layout ``arrays`` (one per trainable weight) into slot ``name``."""
    optimizer = model.optimizer
    index = {id(p): i for i, p in enumerate(optimizer.params)}
    position = 0
    for layer in model.layers:
        count = _trainable_count(layer)
        params = list(layer.parameters())
        with _swapped(layer, lambda p: p):
            rest = layer.keras_weights()[count:]
            layer.set_keras_weights([*arrays[position : position + count], *rest])
            with torch.no_grad():
                for p in params:
                    if id(p) in index:  # frozen weights have no slots
                        optimizer.slots[name][index[id(p)]].copy_(p)
        position += count

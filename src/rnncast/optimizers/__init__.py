"""Optimizers with Keras's names, defaults and update rules, on torch tensors.

These are not wrappers of ``torch.optim``: Keras's rules differ in small ways
that change the losses users compare against (Adam adds ``epsilon`` to the
*uncorrected* ``sqrt(v)``, RMSprop puts ``epsilon`` inside the square root),
so the updates are written out here, with torch's multi-tensor (``_foreach``)
ops for speed, and Keras's float32 scalar arithmetic. Laid out as in Keras:
the base class in :mod:`~rnncast.optimizers.base`, one module per family
(:mod:`~rnncast.optimizers.adam`, :mod:`~rnncast.optimizers.sgd`,
:mod:`~rnncast.optimizers.adaptive`), schedules in
:mod:`~rnncast.optimizers.schedules`; every class is importable from here.

Example:
    >>> import torch
    >>> from rnncast import optimizers
    >>> weight = torch.nn.Parameter(torch.tensor([1.0]))
    >>> opt = optimizers.get("nadam")
    >>> opt.build([weight])
    >>> weight.grad = torch.tensor([2.0])
    >>> opt.step()
    >>> round(weight.item(), 4), optimizers.serialize(opt)["class_name"]
    (0.9989, 'Nadam')
"""

from __future__ import annotations

from typing import Any

from rnncast.exceptions import ConfigError
from rnncast.optimizers import schedules
from rnncast.optimizers.adam import Adam, Adamax, AdamW, Nadam
from rnncast.optimizers.adaptive import Adadelta, Adagrad, RMSprop
from rnncast.optimizers.base import Optimizer
from rnncast.optimizers.sgd import SGD

__all__ = [
    "OPTIMIZERS",
    "SGD",
    "Adadelta",
    "Adagrad",
    "Adam",
    "AdamW",
    "Adamax",
    "Nadam",
    "Optimizer",
    "RMSprop",
    "deserialize",
    "get",
    "schedules",
    "serialize",
]

OPTIMIZERS: dict[str, type[Optimizer]] = {
    "adam": Adam,
    "adamw": AdamW,
    "sgd": SGD,
    "rmsprop": RMSprop,
    "adagrad": Adagrad,
    "adadelta": Adadelta,
    "adamax": Adamax,
    "nadam": Nadam,
}


def get(optimizer: str | Optimizer) -> Optimizer:
    """An optimizer instance from a name (``"adam"``, ``"sgd"``, ...) or an instance.

    Raises:
        ConfigError: for an unknown name, listing the valid ones.

    Example:
        >>> type(get("Adagrad")).__name__
        'Adagrad'
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
    """``{"class_name": ..., "config": ...}`` for saving.

    Example:
        >>> serialize(Adamax())["config"]["beta_2"]
        0.999
    """
    return {"class_name": type(optimizer).__name__, "config": optimizer.get_config()}


def deserialize(spec: dict[str, Any]) -> Optimizer:
    """Rebuild an optimizer from :func:`serialize` output (rnncast classes only).

    Example:
        >>> type(deserialize({"class_name": "Adadelta", "config": {"rho": 0.9}})).__name__
        'Adadelta'
    """
    classes = {cls.__name__: cls for cls in OPTIMIZERS.values()}
    name = spec.get("class_name")
    if name not in classes:
        raise ConfigError(
            f"unknown optimizer class {name!r}; expected one of {', '.join(classes)}."
        )
    return classes[name](**spec.get("config", {}))

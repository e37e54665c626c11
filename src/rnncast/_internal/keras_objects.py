"""Keras's serialized form of small objects (regularizers, constraints), both ways.

Example:
    >>> class Half:
    ...     def get_config(self): return {}
    ...     @classmethod
    ...     def from_config(cls, config): return cls(**config)
    >>> spec = to_keras_dict(Half(), {"Half": Half}, "keras.constraints")
    >>> spec["class_name"], type(from_keras_dict(spec, {"Half": Half}, "constraint", "c")).__name__
    ('Half', 'Half')
"""

from __future__ import annotations

from typing import Any

from rnncast.exceptions import ConfigError


def to_keras_dict(obj: Any, classes: dict[str, type], module: str) -> Any:
    """``{"module", "class_name", "config", "registered_name"}`` for a known class.

    ``None`` stays ``None``; anything else (a plain function) is returned as is:
    it works in memory but cannot be written to a JSON artifact.
    """
    if obj is None or type(obj) not in classes.values():
        return obj
    return {
        "module": module,
        "class_name": type(obj).__name__,
        "config": obj.get_config(),
        "registered_name": None,
    }


def from_keras_dict(
    config: Any, classes: dict[str, type], kind: str, argument: str, hint: str = ""
) -> Any:
    """The object a :func:`to_keras_dict` dict (or Keras's own) describes.

    Raises:
        ConfigError: for an unknown class name or arguments the class refuses.
    """
    name = config.get("class_name") if isinstance(config, dict) else None
    if name not in classes:
        raise ConfigError(
            f"{argument}={config!r} names no rnncast {kind}; use one of {', '.join(classes)}{hint}."
        )
    try:
        return classes[name].from_config(dict(config.get("config") or {}))
    except TypeError as err:
        raise ConfigError(f"bad configuration for {argument} {name}: {err}") from err

"""Keras 3's ``compile_config`` (optimizer, loss, metrics) to and from rnncast's ``compile``.

Keras stores what ``compile`` got in a ``.keras`` file's ``config.json``.
rnncast writes it in Keras's format, so ``keras.saving.load_model`` compiles
the model again, and reads it back (from a file or a live Keras model) so a
model imported from Keras trains on with the same optimizer settings.
"""

from __future__ import annotations

import inspect
from typing import TYPE_CHECKING, Any

from rnncast import losses, optimizers
from rnncast import metrics as metrics_module
from rnncast.exceptions import ConfigError
from rnncast.interop.keras_h5 import snake_case

if TYPE_CHECKING:
    from rnncast.models.sequential import Sequential

# rnncast names Keras does not resolve, and Keras's name of the same thing
_METRIC_NAMES = {"rmse": "root_mean_squared_error", "acc": "accuracy"}
_LOSS_NAMES = {"bce": "binary_crossentropy"}
# Keras optimizer settings rnncast has no use for, and their "off" values
_KERAS_ONLY = {
    "name": None,
    "use_ema": False,
    "ema_momentum": None,
    "ema_overwrite_frequency": None,
    "loss_scale_factor": None,
    "gradient_accumulation_steps": None,
}


def wrap(
    module: str, kind: str, config: Any, build: dict[str, Any] | None = None
) -> dict[str, Any]:
    """Keras's serialized form of an object: ``module``, ``class_name``, ``config``, ..."""
    spec = {"module": module, "class_name": kind, "config": config, "registered_name": None}
    if build is not None:
        spec["build_config"] = build
    return spec


# ------------------------------------------------------------------ rnncast -> Keras
def keras_compile_config(model: Sequential) -> dict[str, Any] | None:
    """The ``compile_config`` Keras writes; ``None`` if not compiled or with a custom loss.

    Example:
        >>> from rnncast import Sequential
        >>> from rnncast.layers import Dense
        >>> model = Sequential([Dense(1, input_shape=(2,))])
        >>> model.compile(optimizer="adagrad", loss="mse", metrics=["rmse"])
        >>> config = keras_compile_config(model)
        >>> config["optimizer"]["class_name"], config["metrics"]
        ('Adagrad', ['root_mean_squared_error'])
    """
    settings = model.compile_config
    if model.optimizer is None or not settings:
        return None
    loss = _keras_loss(settings["loss"])
    if loss is None:
        return None
    optimizer = optimizers.serialize(model.optimizer)
    config = dict(optimizer["config"])
    rate = config.get("learning_rate")
    if isinstance(rate, dict):
        config["learning_rate"] = wrap(
            "keras.optimizers.schedules", rate["class_name"], rate["config"]
        )
    config["name"] = snake_case(optimizer["class_name"])
    return {
        "optimizer": wrap("keras.optimizers", optimizer["class_name"], config),
        "loss": loss,
        "loss_weights": None,
        "metrics": [_keras_metric(m) for m in settings.get("metrics") or []] or None,
        "weighted_metrics": None,
        "run_eagerly": False,
        "steps_per_execution": 1,
        "jit_compile": False,
    }


def _keras_loss(loss: Any) -> Any:
    if isinstance(loss, dict):
        return wrap("keras.losses", loss["class_name"], loss["config"])
    if loss in losses.LOSSES:
        return _LOSS_NAMES.get(loss, loss)
    return None  # a Python function: Keras could not rebuild it


def _keras_metric(metric: Any) -> Any:
    if isinstance(metric, dict):
        return wrap("keras.metrics", metric["class_name"], metric["config"])
    return _METRIC_NAMES.get(metric, metric)


# ------------------------------------------------------------------ Keras -> rnncast
def compile_from_keras(model: Sequential, config: dict[str, Any] | None) -> None:
    """Compile ``model`` as Keras's ``compile_config`` says (nothing when it is empty).

    Raises:
        ConfigError: for an optimizer, loss or metric rnncast does not have, or
            a Keras-only optimizer setting that is on (``use_ema=True``, ...).

    Example:
        >>> from rnncast import Sequential
        >>> from rnncast.layers import Dense
        >>> model = Sequential([Dense(1, input_shape=(2,))])
        >>> compile_from_keras(model, {"loss": "mse", "metrics": ["mae"], "optimizer": {
        ...     "module": "keras.optimizers", "class_name": "Nadam",
        ...     "config": {"name": "nadam", "learning_rate": 0.01, "use_ema": False}}})
        >>> type(model.optimizer).__name__, model.optimizer.learning_rate
        ('Nadam', 0.01)
    """
    if not config:
        return
    metrics = [_rnncast_object(m, "metric") for m in config.get("metrics") or []]
    model.compile(
        optimizer=rnncast_optimizer(config.get("optimizer") or "rmsprop"),
        loss=_rnncast_object(config.get("loss"), "loss"),
        metrics=metrics,
    )


def rnncast_optimizer(spec: Any) -> optimizers.Optimizer:
    """The rnncast optimizer of a Keras optimizer config (or name)."""
    if isinstance(spec, str):
        return optimizers.get(spec)
    if not isinstance(spec, dict):
        raise ConfigError(f"cannot read the Keras optimizer {spec!r}; compile the model again.")
    kind = spec.get("class_name")
    classes = {cls.__name__: cls for cls in optimizers.OPTIMIZERS.values()}
    if kind not in classes:
        raise ConfigError(
            f"the Keras optimizer {kind!r} has no rnncast equivalent; rnncast has "
            f"{', '.join(classes)}. Compile the model again with one of them."
        )
    accepted = set(inspect.signature(classes[kind].__init__).parameters)
    kwargs = {}
    for key, value in (spec.get("config") or {}).items():
        if key in accepted and key not in _KERAS_ONLY:
            kwargs[key] = _schedule(value) if key == "learning_rate" else value
        elif key in _KERAS_ONLY and value not in (_KERAS_ONLY[key], None, False):
            if key in ("name", "ema_momentum", "ema_overwrite_frequency"):
                continue  # only meaningful with use_ema, which is checked itself
            raise ConfigError(
                f"the Keras optimizer {kind} sets {key}={value!r}, which rnncast does not "
                "support; compile the model again without it."
            )
    return optimizers.deserialize({"class_name": kind, "config": kwargs})


def _schedule(value: Any) -> Any:
    if isinstance(value, dict):
        return {"class_name": value.get("class_name"), "config": value.get("config", {})}
    return value


def _rnncast_object(spec: Any, what: str) -> Any:
    """A loss or metric name or ``{"class_name", "config"}`` that rnncast can resolve."""
    if spec is None:
        raise ConfigError(f"the Keras compile config has no {what}; compile the model again.")
    if isinstance(spec, dict):
        config = {k: v for k, v in (spec.get("config") or {}).items() if k != "dtype"}
        spec = {"class_name": spec.get("class_name"), "config": config}
    module = losses if what == "loss" else metrics_module
    try:
        resolved = module.get(spec)
    except ConfigError as err:
        raise ConfigError(f"the Keras {what} {spec!r} cannot be used by rnncast: {err}") from err
    return spec if isinstance(spec, str) else resolved

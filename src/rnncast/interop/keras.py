"""Import Keras 3 ``Sequential`` models into rnncast, weights included.

:func:`from_keras` converts a live Keras model; :func:`load_keras` reads a
``.keras`` file without importing Keras or TensorFlow (it needs only h5py:
``pip install "rnncast[keras]"``). Both translate the same Keras layer
configs with one function, so a model imported either way is identical and
predicts what Keras predicts (float32 rounding aside).

Example:
    >>> import rnncast as rc
    >>> model = rc.load_keras("forecaster.keras")  # doctest: +SKIP
    >>> model.predict(x_test).shape  # doctest: +SKIP
    (16, 1)
"""

from __future__ import annotations

from os import PathLike
from pathlib import Path
from typing import Any

from rnncast.exceptions import ArtifactError, ConfigError
from rnncast.interop import keras_h5 as _keras_h5
from rnncast.interop.keras_compile import compile_from_keras
from rnncast.interop.keras_optimizer import load_keras_optimizer
from rnncast.interop.keras_writer import weight_specs
from rnncast.layers import LAYERS, Layer
from rnncast.layers.initializers import INITIALIZERS
from rnncast.models.sequential import Sequential

_RNN_KEYS = (
    "units",
    "activation",
    "recurrent_activation",
    "use_bias",
    "kernel_initializer",
    "recurrent_initializer",
    "bias_initializer",
    "dropout",
    "recurrent_dropout",
    "return_sequences",
    "go_backwards",
)
# Keras config keys passed on to the rnncast constructor of the same class
_KEYS: dict[str, tuple[str, ...]] = {
    "LSTM": (*_RNN_KEYS, "unit_forget_bias"),
    "GRU": (*_RNN_KEYS, "reset_after"),
    "Dense": ("units", "activation", "use_bias", "kernel_initializer", "bias_initializer"),
    "Dropout": ("rate", "noise_shape"),
    "BatchNormalization": ("axis", "momentum", "epsilon", "center", "scale"),
    "Conv1D": (
        "filters",
        "kernel_size",
        "strides",
        "padding",
        "dilation_rate",
        "activation",
        "use_bias",
        "kernel_initializer",
        "bias_initializer",
    ),
    "MaxPooling1D": ("pool_size", "strides", "padding"),
    "Flatten": (),
    "Bidirectional": ("merge_mode",),
    "SimpleRNN": _RNN_KEYS,
    "Activation": ("activation",),
    "Reshape": ("target_shape",),
    "RepeatVector": ("n",),
    "GlobalAveragePooling1D": ("keepdims",),
    "LayerNormalization": (
        "axis",
        "epsilon",
        "center",
        "scale",
        "beta_initializer",
        "gamma_initializer",
    ),
    "TimeDistributed": (),
    "InputLayer": ("batch_shape",),
}
SUPPORTED = tuple(_KEYS)
# Keras settings rnncast honours at one value only
_REQUIRED: dict[str, Any] = {
    "stateful": False,
    "return_state": False,
    "time_major": False,
    "data_format": "channels_last",
    "groups": 1,
    "renorm": False,
    "rms_scaling": False,
    "sparse": False,
    "ragged": False,
    "optional": False,
}
# Keras-only settings without effect on an imported model's predictions
_IGNORED = {
    "name",
    "trainable",
    "dtype",
    "seed",
    "unroll",
    "use_cudnn",
    "implementation",
    "zero_output_for_mask",
    "synchronized",
    "renorm_momentum",
    "renorm_clipping",
    "layer",
    "backward_layer",
    "input_shape",
    "batch_input_shape",
}
_IGNORED_SUFFIXES = ("_initializer", "_regularizer", "_constraint")
_DEFAULT = object()  # marks an argument left at rnncast's default


def from_keras(keras_model: Any) -> Sequential:
    """The rnncast equivalent of a built Keras 3 ``Sequential`` model, with its weights.

    Supported layers: InputLayer, LSTM, GRU, SimpleRNN, Dense, Dropout,
    Activation, Flatten, Reshape, RepeatVector, BatchNormalization,
    LayerNormalization, Bidirectional (of a recurrent layer), TimeDistributed,
    Conv1D, MaxPooling1D and GlobalAveragePooling1D. Layer names are kept. A
    compiled model comes compiled: the optimizer (Adam, AdamW, SGD, RMSprop,
    Adagrad, Adadelta, Adamax, Nadam) with its settings, the loss and metrics.

    Args:
        keras_model: A built ``keras.Sequential``.

    Returns:
        A built :class:`rnncast.Sequential` holding copies of the Keras weights.

    Raises:
        ConfigError: for a functional or subclassed model, an unbuilt model,
            an unsupported layer class or a setting rnncast cannot honour
            (``stateful=True``, ``return_state=True``, ...).

    Example:
        >>> import keras  # doctest: +SKIP
        >>> keras_model = keras.Sequential([keras.Input((60, 1)), keras.layers.LSTM(50),
        ...                                 keras.layers.Dense(1)])  # doctest: +SKIP
        >>> from_keras(keras_model).count_params()  # doctest: +SKIP
        10451
    """
    kind = type(keras_model).__name__
    if kind == "Sequential" and not keras_model.built:
        raise ConfigError(
            "the Keras model is not built, so it has no weights yet: start it "
            "with keras.Input((timesteps, features)) or call model.build(...)."
        )
    config = keras_model.get_config() if kind == "Sequential" else {}
    model = from_keras_config({"class_name": kind, "config": config})
    for layer, source in zip(model.layers, keras_model.layers, strict=True):
        layer.set_keras_weights(source.get_weights())
    if getattr(keras_model, "compiled", False) and kind == "Sequential":
        compile_from_keras(model, keras_model.get_compile_config())
    return model


def load_keras(path: str | PathLike[str], compile: bool = True) -> Sequential:
    """Read a Keras 3 ``.keras`` file into an rnncast model without Keras or TensorFlow.

    Only ``config.json`` (JSON) and ``model.weights.h5`` (arrays, read with
    h5py) are read; nothing in the file is unpickled or executed. The same
    layers as :func:`from_keras` are supported.

    Args:
        path: A file written by Keras 3's ``model.save("name.keras")`` (or by
            rnncast's ``model.save("name.keras")``).
        compile: Compile the model as the file's ``compile_config`` says
            (optimizer, loss, metrics), when it has one.

    Returns:
        A built :class:`rnncast.Sequential` with the saved weights.

    Raises:
        ArtifactError: if the file is missing, not a zip archive, corrupted,
            lacks ``config.json`` or ``model.weights.h5``, or its weights do
            not fit its config; also when h5py is not installed.
        ConfigError: for a model rnncast cannot represent (as :func:`from_keras`).

    Example:
        >>> model = load_keras("lstm.keras")  # doctest: +SKIP
        >>> [layer.name for layer in model.layers]  # doctest: +SKIP
        ['lstm', 'lstm_1', 'dense', 'dense_1']
    """
    path = Path(path)
    config, weights = _keras_h5.read_archive(path)
    try:
        model = from_keras_config(config)
    except ConfigError as err:
        raise ConfigError(f"{path}: {err}") from err
    arrays = _keras_h5.read_weights(weights, _layer_specs(config["config"]), path)
    for layer, values in zip(model.layers, arrays, strict=True):
        try:
            layer.set_keras_weights(values)
        except ArtifactError as err:
            raise ArtifactError(f"{path}: {err} The weights do not match config.json.") from err
    if compile:
        try:
            compile_from_keras(model, config.get("compile_config"))
        except ConfigError as err:
            raise ConfigError(f"{path}: {err} (or load it with compile=False)") from err
        state = _keras_h5.read_optimizer(weights, path) if model.optimizer else []
        load_keras_optimizer(model, state, str(path))
    return model


def load_keras_weights(model: Sequential, path: str | PathLike[str]) -> None:
    """Load a Keras 3 ``.weights.h5`` file (or a ``.keras`` file's weights) into ``model``.

    Layers are matched by position and class, as Keras matches them, so the
    file must come from a model of the same architecture.

    Raises:
        ArtifactError: for a missing or corrupted file, or weights that do not fit.
    """
    path = Path(path)
    if not path.is_file():
        raise ArtifactError(f"{path}: no such weights file.")
    source = _keras_h5.read_archive(path)[1] if path.suffix == ".keras" else path
    specs = weight_specs(model)
    for layer, values in zip(
        model.layers, _keras_h5.read_weights(source, specs, path), strict=True
    ):
        try:
            layer.set_keras_weights(values)
        except ArtifactError as err:
            raise ArtifactError(f"{path}: {err} Is it from a model of this architecture?") from err


def from_keras_config(config: dict[str, Any]) -> Sequential:
    """Build an rnncast model (fresh weights) from a Keras ``Sequential`` configuration.

    Args:
        config: ``{"class_name": "Sequential", "config": keras_model.get_config()}``,
            which is also the content of a ``.keras`` file's ``config.json``.

    Raises:
        ConfigError: as :func:`from_keras`.

    Example:
        >>> spec = {"class_name": "Sequential", "config": {"name": "mlp", "layers": [
        ...     {"class_name": "InputLayer", "config": {"batch_shape": [None, 8]}},
        ...     {"class_name": "Dense", "config": {"name": "out", "units": 1,
        ...                                        "activation": "linear"}}]}}
        >>> model = from_keras_config(spec)
        >>> model.name, model.layers[0].name, model.count_params()
        ('mlp', 'out', 9)
    """
    kind = config.get("class_name") if isinstance(config, dict) else None
    if kind != "Sequential":
        raise ConfigError(
            f"only Keras Sequential models can be imported, not a {kind} model "
            "(functional API or subclass); rebuild it as keras.Sequential([...])."
        )
    body = config.get("config")
    if not isinstance(body, dict) or not isinstance(body.get("layers"), list):
        raise ConfigError("a Keras Sequential config needs a 'config' dict with a 'layers' list.")
    specs = _layer_specs(body)
    if not specs:
        raise ConfigError("the Keras model has no layers to import.")
    layers = [translate_layer(spec) for spec in body["layers"]]
    model = Sequential(layers, name=body.get("name"), seed=body.get("seed"))
    if not model.built:
        model.build(_input_shape(body, specs))
    return model


def translate_layer(spec: dict[str, Any]) -> Layer:
    """The rnncast layer for one Keras layer config ``{"class_name": ..., "config": ...}``.

    Raises:
        ConfigError: naming the layer and the setting rnncast cannot honour.

    Example:
        >>> lstm = translate_layer({"class_name": "LSTM", "config": {
        ...     "name": "encoder", "units": 50, "return_sequences": True, "unroll": False,
        ...     "kernel_initializer": {"class_name": "GlorotUniform", "config": {}}}})
        >>> lstm.name, lstm.units, lstm.kernel_initializer
        ('encoder', 50, 'glorot_uniform')
    """
    kind, config = _unpack(spec)
    name = config.get("name")
    kwargs = _kwargs(kind, config, name)
    if kind == "Bidirectional":
        kwargs["layer"] = _wrapped_layer(config, name)
    if kind == "TimeDistributed":
        kwargs["layer"] = translate_layer(config.get("layer", {}))
    if kind in ("BatchNormalization", "LayerNormalization"):
        kwargs["axis"] = _feature_axis(kwargs.get("axis", -1), spec, name)
    if kind == "InputLayer" and "batch_shape" not in kwargs:
        kwargs["batch_shape"] = config.get("batch_input_shape")
    try:
        layer = LAYERS[kind](**kwargs)
    except (ConfigError, TypeError) as err:
        raise ConfigError(f"Keras layer {name!r} ({kind}): {err}") from err
    if config.get("trainable") is False:
        layer.trainable = False  # a frozen Keras layer stays frozen
    return layer


def _unpack(spec: Any) -> tuple[str, dict[str, Any]]:
    """Class name and config of a layer spec, refusing custom and unsupported classes."""
    if not isinstance(spec, dict) or not isinstance(spec.get("config", {}), dict):
        raise ConfigError(
            f"a Keras layer config is a dict with 'class_name' and 'config', got "
            f"{type(spec).__name__}."
        )
    kind, config = spec.get("class_name"), spec.get("config", {})
    module = spec.get("module") or "keras"
    if kind not in _KEYS or not str(module).startswith("keras"):
        raise ConfigError(
            f"Keras layer {config.get('name')!r} is a {kind} (module {module}), "
            f"which rnncast cannot import; supported: {', '.join(SUPPORTED)}."
        )
    return kind, config


def _kwargs(kind: str, config: dict[str, Any], name: Any) -> dict[str, Any]:
    """Constructor arguments from a Keras layer config; refuses what rnncast cannot honour."""
    kwargs: dict[str, Any] = {"name": name}
    for key, value in config.items():
        if key in _KEYS[kind]:
            kwargs[key] = _argument(key, value, kind, name)
        elif key in _REQUIRED:
            if value != _REQUIRED[key]:
                raise ConfigError(
                    f"Keras layer {name!r} ({kind}) sets {key}={value!r}; rnncast "
                    f"supports only {key}={_REQUIRED[key]!r}."
                )
        elif key not in _IGNORED and not key.endswith(_IGNORED_SUFFIXES) and _is_set(value):
            raise ConfigError(
                f"Keras layer {name!r} ({kind}) sets {key}={value!r}, which "
                "rnncast cannot honour; remove the setting and save again."
            )
    return {key: value for key, value in kwargs.items() if value is not _DEFAULT}


def _argument(key: str, value: Any, kind: str, name: Any) -> Any:
    if key.endswith("_initializer"):
        return _initializer(value)
    if key.endswith("activation") and value is not None and not isinstance(value, str):
        raise ConfigError(
            f"Keras layer {name!r} ({kind}) has a custom {key}; rnncast imports "
            "only built-in activations given by name, such as 'relu'."
        )
    return value


def _initializer(value: Any) -> Any:
    """``{"class_name": "GlorotUniform", ...}`` -> ``"glorot_uniform"``; unknown -> default."""
    raw = value.get("class_name") if isinstance(value, dict) else value
    snake = _keras_h5.snake_case(str(raw)) if raw is not None else None
    return snake if snake in INITIALIZERS else _DEFAULT


def _is_set(value: Any) -> bool:
    """True for a setting that is on (not None, False, 0 or empty)."""
    if isinstance(value, bool | int | float | str | list | tuple | dict):
        return bool(value)
    return value is not None


def _wrapped_layer(config: dict[str, Any], name: Any) -> Layer:
    """The recurrent layer inside a Bidirectional; refuses a custom ``backward_layer``."""
    forward = translate_layer(config.get("layer", {}))
    backward_spec = config.get("backward_layer")
    if backward_spec is not None:
        backward = translate_layer(backward_spec)
        expected = {**forward.get_config(), "go_backwards": not forward.go_backwards}
        if type(backward) is not type(forward) or _unnamed(backward.get_config()) != _unnamed(
            expected
        ):
            raise ConfigError(
                f"Keras layer {name!r} (Bidirectional) has a custom backward_layer; "
                "rnncast runs a mirror copy of the forward layer backwards."
            )
    return forward


def _unnamed(config: dict[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in config.items() if key not in ("name", "input_shape")}


def _feature_axis(axis: Any, spec: dict[str, Any], name: Any) -> int:
    """Keras's BatchNormalization axis as rnncast's ``-1``, if it is the last axis."""
    axis = axis[0] if isinstance(axis, list | tuple) and len(axis) == 1 else axis
    shape = (spec.get("build_config") or {}).get("input_shape")
    if axis == -1 or (shape is not None and axis == len(shape) - 1):
        return -1
    raise ConfigError(
        f"Keras layer {name!r} ({spec.get('class_name')}) normalises axis={axis!r}; "
        "rnncast inputs are channels-last and support only the last axis (-1)."
    )


def _layer_specs(body: dict[str, Any]) -> list[dict[str, Any]]:
    """The layer configs of a Sequential config, without its InputLayer."""
    return [
        spec
        for spec in body.get("layers", [])
        if not (isinstance(spec, dict) and spec.get("class_name") == "InputLayer")
    ]


def _input_shape(body: dict[str, Any], specs: list[dict[str, Any]]) -> tuple[int | None, ...]:
    """``(None, timesteps, features)`` from the InputLayer, the model or its first layer."""
    shape = body.get("build_input_shape") or (specs[0].get("build_config") or {}).get("input_shape")
    for spec in body["layers"]:
        if isinstance(spec, dict) and spec.get("class_name") == "InputLayer":
            inner = spec.get("config", {})
            shape = inner.get("batch_shape") or inner.get("batch_input_shape") or shape
    if not shape:
        raise ConfigError(
            "the Keras model was saved unbuilt (no input shape, no weights); "
            "start it with keras.Input((timesteps, features)) and save it again."
        )
    return tuple(shape)

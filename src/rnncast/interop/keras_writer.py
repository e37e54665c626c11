"""Write Keras 3 files without Keras: ``.keras`` archives, ``.weights.h5`` files and JSON.

``model.save("m.keras")`` writes the zip archive Keras 3 writes:
``metadata.json``, ``config.json`` in Keras 3's serialization format
(``module`` / ``class_name`` / ``config`` / ``registered_name`` /
``build_config``, and ``compile_config`` when compiled) and
``model.weights.h5`` in Keras 3's HDF5 layout (one group per layer, named
after its class and position: ``layers/lstm/cell/vars/0``, ...).
``keras.saving.load_model`` opens it, and resumes training where rnncast
stopped: the optimizer's state goes to ``optimizer/vars`` in Keras's layout
(:mod:`rnncast.interop.keras_optimizer`). h5py comes with the optional
extra: ``pip install "rnncast[keras]"``.
"""

from __future__ import annotations

import datetime
import io
import json
import os
import zipfile
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from rnncast._internal.files import atomic_file
from rnncast._internal.version import __version__
from rnncast.exceptions import ArtifactError, ConfigError
from rnncast.interop.keras_compile import keras_compile_config, wrap
from rnncast.interop.keras_h5 import CONFIG_NAME, WEIGHTS_NAME, group_keys, snake_case
from rnncast.interop.keras_optimizer import keras_optimizer_arrays
from rnncast.layers import Bidirectional, InputLayer, Lambda, Layer, TimeDistributed
from rnncast.layers.recurrent import Recurrent

if TYPE_CHECKING:
    from rnncast.models.sequential import Sequential

METADATA_NAME = "metadata.json"


# ------------------------------------------------------------------ configs
def keras_config(model: Sequential, compiled: bool = True) -> dict[str, Any]:
    """``model`` as Keras 3's ``serialize_keras_object(model)``: the ``config.json`` of a file.

    Args:
        model: A built rnncast ``Sequential``.
        compiled: Include ``compile_config`` (optimizer, loss, metrics) when compiled.

    Raises:
        ConfigError: for an unbuilt model, or a ``Lambda`` layer (its Python
            function has no JSON form).

    Example:
        >>> from rnncast import Sequential
        >>> from rnncast.layers import LSTM, Dense
        >>> config = keras_config(Sequential([LSTM(4, input_shape=(5, 1)), Dense(1)]))
        >>> [layer["class_name"] for layer in config["config"]["layers"]]
        ['InputLayer', 'LSTM', 'Dense']
    """
    if not model.built:
        raise ConfigError(
            "the model is not built, so it has no input shape or weights to write: give "
            "the first layer input_shape=..., call model.build(...) or fit it first."
        )
    shape = [None, *model.built_input_shape]
    layers, current = [], tuple(model.built_input_shape)
    stack = list(model._stack)
    if not stack or not isinstance(stack[0], InputLayer):
        layers.append(_input_spec(shape, "input_layer"))
    for layer in stack:
        if isinstance(layer, InputLayer):
            layers.append(_input_spec([layer.batch_size, *current], layer.name))
            continue
        layers.append(layer_spec(layer, current))
        current = layer.compute_output_shape(current)
    body: dict[str, Any] = {
        "name": model.name,
        "trainable": True,
        "layers": layers,
        "build_input_shape": shape,
    }
    if model.seed is not None:
        body["seed"] = model.seed  # rnncast's; Keras's Sequential.from_config ignores it
    config = wrap("keras", "Sequential", body, {"input_shape": shape})
    compile_config = keras_compile_config(model) if compiled else None
    if compile_config is not None:
        config["compile_config"] = compile_config
    return config


def layer_spec(layer: Layer, input_shape: tuple[int | None, ...] | None) -> dict[str, Any]:
    """One layer as Keras serializes it (``module``, ``class_name``, ``config``, ...)."""
    if isinstance(layer, Lambda):
        raise ConfigError(
            f"layer {layer.name!r} is a Lambda, whose Python function cannot be written to "
            "JSON or a .keras file; save the weights with model.save_weights(path) and "
            "rebuild the model in code, or replace the Lambda with a built-in layer."
        )
    config = {k: v for k, v in layer.get_config().items() if k != "input_shape"}
    if isinstance(layer, Bidirectional):
        config["layer"] = layer_spec(layer.forward_layer, input_shape)
        config["layer"]["config"]["name"] = f"forward_{layer.forward_layer.default_name}"
    elif isinstance(layer, TimeDistributed):
        inner = None if input_shape is None else tuple(input_shape[1:])
        config["layer"] = layer_spec(layer.layer, inner)
    if config.get("name") is None:
        config["name"] = layer.default_name
    build = None if input_shape is None else {"input_shape": [None, *input_shape]}
    return wrap("keras.layers", layer.kind, config, build)


def _input_spec(batch_shape: list[int | None], name: str | None) -> dict[str, Any]:
    config = {
        "batch_shape": batch_shape,
        "dtype": "float32",
        "sparse": False,
        "ragged": False,
        "name": name or "input_layer",
        "optional": False,
    }
    return wrap("keras.layers", "InputLayer", config, None)


def to_json(model: Sequential, **kwargs: Any) -> str:
    """The architecture as a Keras 3 JSON string (what ``keras.Model.to_json`` returns)."""
    return json.dumps(keras_config(model, compiled=False), **kwargs)


# ------------------------------------------------------------------ weights
def weight_specs(model: Sequential) -> list[dict[str, Any]]:
    """The class names Keras's weight file is laid out by, one spec per layer (no Input)."""

    def spec(layer: Layer) -> dict[str, Any]:
        config: dict[str, Any] = {"name": layer.name}
        if isinstance(layer, Bidirectional):
            config["layer"] = spec(layer.forward_layer)
        elif isinstance(layer, TimeDistributed):
            config["layer"] = spec(layer.layer)
        return {"class_name": layer.kind, "config": config}

    return [spec(layer) for layer in model.layers]


def write_weights(model: Sequential, target: Any) -> None:
    """Write ``model``'s weights in Keras 3's h5 layout to a path or binary file object."""
    h5py = import_h5py()
    with h5py.File(target, "w") as store:
        store.create_group("vars").attrs["name"] = model.name
        for key, layer in zip(group_keys(weight_specs(model)), model.layers, strict=True):
            _write_layer(store, f"layers/{key}", layer)
        state = keras_optimizer_arrays(model) if model.optimizer is not None else None
        if state is not None:
            group = store.create_group("optimizer/vars")
            group.attrs["name"] = snake_case(type(model.optimizer).__name__)
            for i, array in enumerate(state):
                group.create_dataset(str(i), data=array)


def _write_layer(store: Any, path: str, layer: Layer) -> None:
    name = layer.name or layer.default_name
    group = store.create_group(f"{path}/vars")
    group.attrs["name"] = name
    if isinstance(layer, Bidirectional):
        _write_layer(store, f"{path}/forward_layer", layer.forward_layer)
        _write_layer(store, f"{path}/backward_layer", layer.backward_layer)
    elif isinstance(layer, TimeDistributed):
        _write_layer(store, f"{path}/layer", layer.layer)
    else:
        if isinstance(layer, Recurrent):
            group = store.create_group(f"{path}/cell/vars")
            group.attrs["name"] = f"{layer.default_name}_cell"
        for i, array in enumerate(layer.keras_weights()):
            group.create_dataset(str(i), data=np.asarray(array, dtype=np.float32))


def import_h5py() -> Any:
    """h5py, or a ``ConfigError`` that says how to install it."""
    try:
        import h5py
    except ImportError as err:
        raise ConfigError(
            'writing Keras files (.keras, .weights.h5) needs h5py: pip install "rnncast[keras]".'
        ) from err
    return h5py


# ------------------------------------------------------------------ files
def save_keras(model: Sequential, path: str | os.PathLike[str]) -> Path:
    """Write ``model`` to a Keras 3 ``.keras`` archive at ``path`` (atomically).

    The archive is assembled in a temporary file next to ``path`` and renamed
    over it, so a failure leaves an existing file untouched.

    Raises:
        ConfigError: for an unbuilt model, a ``Lambda`` layer, or without h5py.
        ArtifactError: when ``path`` is a folder.

    Example:
        >>> import tempfile, zipfile
        >>> from rnncast import Sequential
        >>> from rnncast.layers import Dense
        >>> model = Sequential([Dense(1, input_shape=(3,))], seed=0)
        >>> path = save_keras(model, tempfile.mkdtemp() + "/m.keras")
        >>> sorted(zipfile.ZipFile(path).namelist())
        ['config.json', 'metadata.json', 'model.weights.h5']
    """
    if Path(path).is_dir():
        raise ArtifactError(
            f"{path} is a folder (an artifact of an older rnncast?); a .keras model is one "
            "file. Remove the folder or choose another name."
        )
    config = json.dumps(keras_config(model))
    weights = io.BytesIO()
    write_weights(model, weights)
    metadata = {
        "keras_version": "3",
        "date_saved": datetime.datetime.now().strftime("%Y-%m-%d@%H:%M:%S"),
        "saved_by": f"rnncast {__version__}",
    }
    with (
        atomic_file(path) as temporary,
        zipfile.ZipFile(temporary, "w", zipfile.ZIP_STORED) as archive,
    ):
        archive.writestr(METADATA_NAME, json.dumps(metadata))
        archive.writestr(CONFIG_NAME, config)
        archive.writestr(WEIGHTS_NAME, weights.getvalue())
    return Path(path)


def save_weights_h5(model: Sequential, path: str | os.PathLike[str]) -> Path:
    """Write the weights to a Keras 3 ``.weights.h5`` file (atomically)."""
    if not model.built:
        raise ConfigError("the model is not built, so it has no weights to save yet.")
    import_h5py()
    with atomic_file(path) as temporary:
        write_weights(model, str(temporary))
    return Path(path)

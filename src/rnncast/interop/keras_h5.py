"""Read a Keras 3 ``.keras`` archive without Keras: its ``config.json`` and ``model.weights.h5``.

A ``.keras`` file is a zip archive. ``config.json`` holds the model's
architecture as JSON; ``model.weights.h5`` holds the weights, one HDF5 group
per layer. Groups are named after the layer's *class* and position among
layers of that class (``layers/lstm``, ``layers/lstm_1``, ...), not after the
layer's name, and the arrays sit in a ``vars`` group as datasets ``0``,
``1``, ... (recurrent layers keep theirs under ``cell/vars``). Nothing in the
file is unpickled or executed: only JSON and numeric arrays are read.
"""

from __future__ import annotations

import io
import json
import re
import zipfile
import zlib
from pathlib import Path
from typing import Any

import numpy as np

from rnncast.exceptions import ArtifactError

CONFIG_NAME = "config.json"
WEIGHTS_NAME = "model.weights.h5"
# Limits of what a .keras archive may inflate to before it is refused: 100M float32
# parameters (rnncast's artifact limit) plus room for the h5 layout, and a generous config.
MAX_WEIGHTS_BYTES = 512 * 2**20
MAX_CONFIG_BYTES = 16 * 2**20
MAX_MEMBERS = 1000

_RECURRENT = ("LSTM", "GRU", "SimpleRNN")


def weight_groups(spec: dict[str, Any]) -> list[str]:
    """Where a layer keeps its arrays inside its group, in ``get_weights()`` order.

    Recurrent layers keep them in ``cell/vars``, wrappers in their inner
    layers' groups (a Bidirectional's file lists ``backward_layer`` first,
    alphabetically, but Keras's order is forward first).

    Example:
        >>> weight_groups({"class_name": "Bidirectional", "config": {
        ...     "layer": {"class_name": "GRU"}}})
        ['forward_layer/cell/vars', 'backward_layer/cell/vars']
    """
    kind = spec.get("class_name", "")
    inner = (spec.get("config") or {}).get("layer")
    if kind in _RECURRENT:
        return ["cell/vars"]
    if kind == "Bidirectional" and isinstance(inner, dict):
        paths = weight_groups(inner)
        return [f"forward_layer/{p}" for p in paths] + [f"backward_layer/{p}" for p in paths]
    if kind == "TimeDistributed" and isinstance(inner, dict):
        return [f"layer/{p}" for p in weight_groups(inner)]
    return ["vars"]


def read_archive(path: Path) -> tuple[dict[str, Any], bytes]:
    """The parsed ``config.json`` and the raw bytes of ``model.weights.h5`` of ``path``.

    Raises:
        ArtifactError: if the file is missing, not a zip archive, corrupted,
            or lacks one of the two members.
    """
    if not path.is_file():
        raise ArtifactError(
            f"{path}: no such file; give the path of a model saved with "
            "Keras 3's model.save('name.keras')."
        )
    try:
        with zipfile.ZipFile(path) as archive:
            names = archive.namelist()
            if len(names) > MAX_MEMBERS:
                raise ArtifactError(
                    f"{path}: the archive holds {len(names)} members, over the limit of "
                    f"{MAX_MEMBERS} for a .keras model file; refusing to read it."
                )
            for member in (CONFIG_NAME, WEIGHTS_NAME):
                if member not in names:
                    raise ArtifactError(
                        f"{path}: the archive has no {member} (it holds "
                        f"{names[:10]}); is it a Keras 3 .keras model file?"
                    )
            config = json.loads(_read_capped(archive, CONFIG_NAME, MAX_CONFIG_BYTES, path))
            weights = _read_capped(archive, WEIGHTS_NAME, MAX_WEIGHTS_BYTES, path)
    except ArtifactError:
        raise
    except (zipfile.BadZipFile, zlib.error, EOFError, OSError) as err:
        raise ArtifactError(f"{path}: not a readable .keras (zip) archive: {err}.") from err
    except RecursionError as err:  # a RuntimeError: "[[[[...]]]]" in config.json
        raise ArtifactError(f"{path}: {CONFIG_NAME} is nested too deeply to be a model.") from err
    except (NotImplementedError, RuntimeError) as err:  # odd compression, encrypted members
        raise ArtifactError(
            f"{path}: cannot read this .keras archive ({err}); save it again with "
            "Keras 3's model.save('name.keras') (deflate, not encrypted)."
        ) from err
    except ValueError as err:  # json.JSONDecodeError, UnicodeDecodeError
        raise ArtifactError(f"{path}: {CONFIG_NAME} is not valid JSON: {err}.") from err
    if not isinstance(config, dict):
        raise ArtifactError(f"{path}: {CONFIG_NAME} does not hold a model configuration.")
    return config, weights


def _read_capped(archive: zipfile.ZipFile, member: str, cap: int, path: Path) -> bytes:
    """The bytes of ``member``, refusing to inflate more than ``cap`` bytes (zip bombs)."""
    with archive.open(member) as stream:
        data = stream.read(cap + 1)
    if len(data) > cap:
        raise ArtifactError(
            f"{path}: {member} inflates to more than {cap:,} bytes, over rnncast's limit for "
            "a .keras model file (MAX_WEIGHTS_BYTES / MAX_CONFIG_BYTES in "
            "rnncast.interop.keras_h5); refusing to read it."
        )
    return data


def read_weights(
    weights: bytes | Path, specs: list[dict[str, Any]], path: Path
) -> list[list[np.ndarray]]:
    """Each layer's arrays, in Keras's ``get_weights()`` order, from ``model.weights.h5``.

    Args:
        weights: The bytes of ``model.weights.h5``, or the path of a ``.weights.h5`` file.
        specs: Keras layer configs (``{"class_name": ..., "config": ...}``) in
            model order, without the ``InputLayer``.
        path: The ``.keras`` file, for error messages.

    Raises:
        ArtifactError: if h5py is missing, or the weights are corrupted or
            lack a layer.
    """
    h5py = _import_h5py()
    try:
        source = io.BytesIO(weights) if isinstance(weights, bytes) else str(weights)
        with h5py.File(source, "r") as store:
            return [
                _layer_arrays(store, key, spec, path)
                for key, spec in zip(group_keys(specs), specs, strict=True)
            ]
    except ArtifactError:
        raise
    except (OSError, KeyError, ValueError, TypeError, RuntimeError) as err:
        raise ArtifactError(f"{path}: {WEIGHTS_NAME} is corrupted or truncated ({err}).") from err


def read_optimizer(weights: bytes, path: Path) -> list[np.ndarray]:
    """The arrays in ``optimizer/vars`` of ``model.weights.h5`` (empty when there are none)."""
    h5py = _import_h5py()
    try:
        with h5py.File(io.BytesIO(weights), "r") as store:
            if "optimizer/vars" not in store:
                return []
            group = store["optimizer/vars"]
            return [np.asarray(group[n][()]) for n in sorted(group, key=int)]
    except (OSError, KeyError, ValueError, TypeError, RuntimeError) as err:
        raise ArtifactError(f"{path}: {WEIGHTS_NAME} is corrupted or truncated ({err}).") from err


def group_keys(specs: list[dict[str, Any]]) -> list[str]:
    """Keras's weight-group names: snake-cased class name, numbered per class.

    Example:
        >>> group_keys([{"class_name": "LSTM"}, {"class_name": "LSTM"}, {"class_name": "Dense"}])
        ['lstm', 'lstm_1', 'dense']
    """
    used: dict[str, int] = {}
    keys = []
    for spec in specs:
        stem = snake_case(str(spec.get("class_name")))
        used[stem] = used.get(stem, -1) + 1
        keys.append(stem if used[stem] == 0 else f"{stem}_{used[stem]}")
    return keys


def _layer_arrays(store: Any, key: str, spec: dict[str, Any], path: Path) -> list[np.ndarray]:
    arrays: list[np.ndarray] = []
    for where in weight_groups(spec):
        name = f"layers/{key}/{where}"
        if name not in store:
            layer = spec.get("config", {}).get("name")
            raise ArtifactError(
                f"{path}: {WEIGHTS_NAME} has no weights for layer {layer!r} "
                f"(group {name!r}); the weights do not match config.json."
            )
        group = store[name]
        # datasets are "0", "1", ..., "10": sort as numbers, not as strings
        arrays += [np.asarray(group[n][()], dtype=np.float32) for n in sorted(group, key=int)]
    return arrays


def _import_h5py() -> Any:
    try:
        import h5py
    except ImportError as err:
        raise ArtifactError(
            "reading .keras files needs h5py, which comes with the optional "
            '"keras" extra: pip install "rnncast[keras]".'
        ) from err
    return h5py


def snake_case(name: str) -> str:
    """Keras's ``to_snake_case``: ``MaxPooling1D`` -> ``max_pooling1d``."""
    name = re.sub(r"\W+", "", name)
    name = re.sub(r"(.)([A-Z][a-z]+)", r"\1_\2", name)
    return re.sub(r"([a-z])([A-Z])", r"\1_\2", name).lower()

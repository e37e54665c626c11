"""Model artifacts: a folder of JSON and safetensors, written atomically, never pickled.

Layout of ``model.save("models/aapl")``::

    models/aapl/
      config.json            format_version, rnncast version, architecture,
                             compile settings, training state (seed, iterations)
      model.safetensors      weights and statistics, keyed "<layer name>.<tensor>"
      optimizer.safetensors  optimizer slots (when compiled and trained)

A path ending in ``.keras`` gets a Keras 3 ``.keras`` zip instead
(:mod:`rnncast.interop.keras_writer`), which ``keras.saving.load_model``
opens; a weights path ending in ``.weights.h5`` gets Keras 3's h5 weights file.

The folder is written next to its final place and swapped in with renames,
so a crash or a kill during a save leaves the previous artifact loadable
(:func:`load_model` finishes an interrupted swap). Loading parses JSON and
tensors only: nothing in an artifact is ever executed.
"""

from __future__ import annotations

import json
import os
import shutil
import uuid
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

import torch
from safetensors import SafetensorError
from safetensors.torch import load_file, save_file

from rnncast import losses, optimizers
from rnncast._internal.files import atomic_file, fsync
from rnncast._internal.version import __version__
from rnncast.exceptions import ArtifactError, ConfigError, RnncastError

if TYPE_CHECKING:
    from rnncast.models.sequential import Sequential

FORMAT_VERSION = 1
CONFIG, WEIGHTS, OPTIMIZER = "config.json", "model.safetensors", "optimizer.safetensors"


# ------------------------------------------------------------------ public API
def save_model(model: Sequential, filepath: str | os.PathLike[str], overwrite: bool = True) -> Path:
    """Write ``model`` to the folder ``path`` (replacing an existing artifact atomically).

    A ``path`` ending in ``.keras`` gets a Keras 3 ``.keras`` file instead
    (architecture, weights and compile settings; not the optimizer's slots),
    written atomically too; ``keras.saving.load_model`` opens it. With
    ``overwrite=False`` an existing ``filepath`` raises ``ConfigError``
    (Keras would ask in a prompt).

    Example:
        >>> import tempfile, rnncast as rc
        >>> from rnncast.layers import LSTM, Dense
        >>> model = rc.Sequential([LSTM(4, input_shape=(5, 1)), Dense(1)], seed=0)
        >>> folder = rc.saving.save_model(model, tempfile.mkdtemp() + "/m")
        >>> sorted(p.name for p in folder.iterdir())
        ['config.json', 'model.safetensors']
    """
    path = filepath
    if not model.built:
        raise ArtifactError(
            "cannot save a model that is not built yet: give the first layer "
            "input_shape, call build(), or fit it first."
        )
    _check_overwrite(path, overwrite)
    if _is_keras_file(path):
        from rnncast.interop.keras_writer import save_keras

        return save_keras(model, path)
    return write_artifact(path, model_config(model), model)


def write_artifact(path: str | os.PathLike[str], config: dict[str, Any], model: Sequential) -> Path:
    """Write ``config`` (from :func:`model_config`, maybe extended) and ``model``'s tensors."""
    tensors = model_tensors(model)
    optimizer_state = _optimizer_tensors(model)

    with atomic_folder(path) as folder:
        save_file(tensors, str(folder / WEIGHTS))
        if optimizer_state:
            save_file(optimizer_state, str(folder / OPTIMIZER))
        (folder / CONFIG).write_text(json.dumps(config, indent=2) + "\n", encoding="utf-8")
    return Path(path)


def load_model(filepath: str | os.PathLike[str], compile: bool = True) -> Sequential:
    """Load a model saved by :func:`save_model` (compiled and ready to resume training).

    A ``.keras`` file (written by rnncast or by Keras 3) is read with
    :func:`rnncast.load_keras`.

    Raises:
        ArtifactError: naming the file and the problem (missing, corrupted,
            a newer format, weights that do not match the architecture).
    """
    path = filepath
    if _is_keras_file(path) and not Path(path).is_dir():
        from rnncast.interop.keras import load_keras

        return load_keras(path, compile=compile)
    folder = resolve_folder(Path(path))
    return model_from(folder, read_config(folder, kind="model"), compile)


def model_from(folder: Path, config: dict[str, Any], compile: bool) -> Sequential:
    """Rebuild the model of an artifact ``folder`` from its parsed ``config``."""
    from rnncast.models.sequential import Sequential

    try:
        model = Sequential.from_config(config["model"])
    except (RnncastError, KeyError) as err:
        raise ArtifactError(f"{folder / CONFIG}: cannot rebuild the architecture: {err}") from err
    load_model_tensors(model, read_tensors(folder / WEIGHTS), folder / WEIGHTS)
    model._training_seed = config.get("training", {}).get("seed")
    if compile and config.get("compile"):
        _restore_compile(model, config, folder)
    return model


def save_weights(
    model: Sequential, filepath: str | os.PathLike[str], overwrite: bool = True
) -> Path:
    """Write the weights alone to one file (temporary file, then rename).

    A path ending in ``.weights.h5`` gets Keras 3's h5 weights file (what
    Keras's ``save_weights`` writes, needs h5py); any other path a
    ``.safetensors`` file. ``overwrite`` as in :func:`save_model`.
    """
    path = filepath
    _check_overwrite(path, overwrite)
    if str(path).endswith(".weights.h5"):
        from rnncast.interop.keras_writer import save_weights_h5

        return save_weights_h5(model, path)
    with atomic_file(path) as temporary:
        save_file(model_tensors(model), str(temporary))
    return Path(path)


def load_weights(model: Sequential, filepath: str | os.PathLike[str]) -> None:
    """Load weights written by :func:`save_weights` into a model of the same architecture.

    ``.weights.h5`` and ``.keras`` files (rnncast's or Keras 3's) are read in
    Keras's layout, by layer position; anything else as safetensors.
    """
    path = filepath
    if str(path).endswith((".weights.h5", ".keras")):
        from rnncast.interop.keras import load_keras_weights

        load_keras_weights(model, path)
        return
    load_model_tensors(model, read_tensors(Path(path)), Path(path))


def _check_overwrite(path: str | os.PathLike[str], overwrite: bool) -> None:
    if not overwrite and Path(path).exists():
        raise ConfigError(
            f"{path} exists and overwrite=False; choose another path or pass overwrite=True."
        )


def _is_keras_file(path: str | os.PathLike[str]) -> bool:
    return str(path).endswith(".keras")


# ------------------------------------------------------------------ tensors
def model_tensors(model: Sequential) -> dict[str, torch.Tensor]:
    """Every weight and statistic keyed ``"<layer name>.<tensor name>"`` (contiguous copies)."""
    return {
        f"{layer.name}.{key}": value.detach().contiguous().clone()
        for layer in model.layers
        for key, value in layer.state_dict().items()
    }


def load_model_tensors(model: Sequential, tensors: dict[str, torch.Tensor], source: Path) -> None:
    """Copy ``tensors`` into ``model``, checking names and shapes first."""
    expected = model_tensors(model)
    missing = sorted(set(expected) - set(tensors))
    unexpected = sorted(set(tensors) - set(expected))
    wrong = [
        f"{k} {tuple(tensors[k].shape)} (model: {tuple(v.shape)})"
        for k, v in expected.items()
        if k in tensors and tensors[k].shape != v.shape
    ]
    if missing or unexpected or wrong:
        details = "; ".join(
            part
            for part in (
                f"missing {missing[:5]}" if missing else "",
                f"unexpected {unexpected[:5]}" if unexpected else "",
                f"wrong shapes {wrong[:5]}" if wrong else "",
            )
            if part
        )
        raise ArtifactError(f"{source}: the weights do not match the architecture: {details}.")
    with torch.no_grad():
        for layer in model.layers:
            prefix = f"{layer.name}."
            layer.load_state_dict(
                {k[len(prefix) :]: v for k, v in tensors.items() if k.startswith(prefix)}
            )


def read_tensors(file: Path) -> dict[str, torch.Tensor]:
    """Load a safetensors file, turning every failure into an ``ArtifactError`` naming it."""
    if not file.is_file():
        raise ArtifactError(f"{file}: file not found; the artifact is incomplete.")
    try:
        return load_file(str(file))
    except (SafetensorError, OSError, ValueError) as err:
        raise ArtifactError(
            f"{file}: cannot read the weights (truncated or corrupted file?): {err}"
        ) from err


# ------------------------------------------------------------------ config
def read_config(folder: Path, kind: str | None) -> dict[str, Any]:
    """Parse and check ``config.json`` of an artifact of ``kind`` ("model", "forecaster", None)."""
    file = folder / CONFIG
    if not file.is_file():
        raise ArtifactError(f"{file}: not found; {folder} is not an rnncast artifact.")
    try:
        config = json.loads(file.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as err:
        raise ArtifactError(f"{file}: not valid JSON ({err}).") from err
    version = config.get("format_version") if isinstance(config, dict) else None
    if not isinstance(version, int):
        raise ArtifactError(f"{file}: no format_version; not an rnncast artifact.")
    if version > FORMAT_VERSION:
        raise ArtifactError(
            f"{file}: format_version {version} is newer than this rnncast "
            f"reads ({FORMAT_VERSION}); upgrade rnncast to load it."
        )
    if kind is not None and config.get("kind") != kind:
        raise ArtifactError(f"{file}: holds a {config.get('kind')!r} artifact, not a {kind!r}.")
    return config


def model_config(model: Sequential) -> dict[str, Any]:
    """The ``config.json`` content of a model artifact (architecture, compile, training state)."""
    history = model.history
    return {
        "format_version": FORMAT_VERSION,
        "kind": "model",
        "rnncast_version": __version__,
        "model": model.get_config(),
        "compile": _compile_config(model),
        "training": {
            "seed": model.training_seed,
            "iterations": model.optimizer.iterations if model.optimizer else 0,
            "epochs": len(history.epoch) if history is not None else 0,
        },
    }


def _compile_config(model: Sequential) -> dict[str, Any] | None:
    if model.optimizer is None:
        return None
    return {**model.compile_config, "optimizer": optimizers.serialize(model.optimizer)}


def _optimizer_tensors(model: Sequential) -> dict[str, torch.Tensor]:
    if model.optimizer is None or not model.optimizer.params:
        return {}
    return {k: v.detach().contiguous().clone() for k, v in model.optimizer.state_tensors().items()}


def _restore_compile(model: Sequential, config: dict[str, Any], folder: Path) -> None:
    settings = config["compile"]
    loss = settings["loss"]
    if isinstance(loss, str) and loss not in losses.LOSSES and loss not in losses.CLASSES:
        warnings.warn(
            f"{folder}: the model was compiled with a custom loss "
            f"{settings['loss']!r}, which cannot be restored from a file; call "
            "compile() again before training.",
            stacklevel=3,
        )
        return
    try:
        optimizer = optimizers.deserialize(settings["optimizer"])
        model.compile(optimizer=optimizer, loss=settings["loss"], metrics=settings["metrics"])
    except RnncastError as err:
        raise ArtifactError(f"{folder / CONFIG}: bad compile settings: {err}") from err
    if (folder / OPTIMIZER).is_file():
        model._build_optimizer()
        state = read_tensors(folder / OPTIMIZER)
        try:
            optimizer.load_state_tensors(state, config["training"]["iterations"])
        except RnncastError as err:
            raise ArtifactError(f"{folder / OPTIMIZER}: {err}") from err


# ------------------------------------------------------------------ atomic folders
@contextmanager
def atomic_folder(path: str | os.PathLike[str]) -> Iterator[Path]:
    """Yield a staging folder to fill; on success it takes the place of ``path``.

    The new folder is complete and synced before ``path`` is touched. The swap
    is two renames (old aside, new in place); if the process dies between them,
    :func:`resolve_folder` completes the swap on the next load. An exception
    (or Ctrl-C) while filling removes the staging folder and leaves ``path`` as
    it was. An existing ``path`` is only replaced if it is an rnncast artifact.
    """
    path = Path(path)
    path = path.resolve() if path.exists() else path.absolute()
    path.parent.mkdir(parents=True, exist_ok=True)
    _clean_leftovers(path)
    token = uuid.uuid4().hex
    staging = path.with_name(f".{path.name}.tmp-{token}")
    staging.mkdir()
    try:
        yield staging
        for file in staging.iterdir():
            fsync(file)
        fsync(staging)
        if path.exists() and (not path.is_dir() or not (path / CONFIG).exists()):
            raise ArtifactError(
                f"{path} exists and is not an rnncast artifact; refusing to "
                "replace it. Choose another path or remove it."
            )
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    if path.exists():
        retired = path.with_name(f".{path.name}.old-{token}")
        os.rename(path, retired)
        os.rename(staging, path)
        shutil.rmtree(retired, ignore_errors=True)
    else:
        os.rename(staging, path)
    fsync(path.parent)


def resolve_folder(path: Path) -> Path:
    """The artifact folder at ``path``, finishing a swap that a killed save left half done."""
    if path.is_dir():
        return path
    if path.exists():
        raise ArtifactError(f"{path}: an artifact is a folder, this is a file.")
    retired = sorted(path.parent.glob(f".{path.name}.old-*")) if path.parent.exists() else []
    for old in retired:
        token = old.name.rsplit("-", 1)[-1]
        staging = path.with_name(f".{path.name}.tmp-{token}")
        os.rename(staging if staging.is_dir() else old, path)  # the new one was complete
        return path
    raise ArtifactError(f"{path}: no such artifact (file not found).")


def _clean_leftovers(path: Path) -> None:
    if not path.exists() and any(path.parent.glob(f".{path.name}.old-*")):
        resolve_folder(path)  # finish a swap a killed save left half done
    for stale in path.parent.glob(f".{path.name}.tmp-*"):
        shutil.rmtree(stale, ignore_errors=True)
    for stale in path.parent.glob(f".{path.name}.old-*"):
        shutil.rmtree(stale, ignore_errors=True)

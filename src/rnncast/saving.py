"""Model artifacts: a folder of JSON and safetensors, written atomically, never pickled.

Layout of ``model.save("models/aapl")``::

    models/aapl/
      config.json            format_version, rnncast version, architecture,
                             compile settings, training state (seed, iterations),
                             "files": each weights file's SHA-256 and tensor table
      model.safetensors      weights and statistics, keyed "<layer name>.<tensor>"
      optimizer.safetensors  optimizer slots (when compiled and trained)

A path ending in ``.keras`` gets a Keras 3 ``.keras`` zip instead
(:mod:`rnncast.interop.keras_writer`), which ``keras.saving.load_model``
opens; a weights path ending in ``.weights.h5`` gets Keras 3's h5 weights file.

The folder is written next to its final place (``.aapl.tmp-<token>-<pid>@<host>``)
and swapped in with renames under a lock on ``.aapl.lock``, so a crash or a
kill during a save leaves the previous artifact loadable (:func:`load_model`
finishes an interrupted swap) and concurrent saves to one path serialize.
Loading parses JSON and tensors only: nothing in an artifact is ever
executed. Before anything is built, ``config.json`` is checked against one
schema, each weights file against its checksum, dtypes and shapes, and the
model's size against :data:`rnncast._internal.artifacts.MAX_PARAMETERS`;
non-finite weights are refused by tensor name. :func:`verify` runs these
checks alone (``rnncast verify PATH``).
"""

from __future__ import annotations

import errno
import inspect
import json
import os
import re
import shutil
import time
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
from rnncast._internal import artifacts
from rnncast._internal.files import atomic_file, file_lock, fsync, owner_alive, owner_tag
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
    """Write ``config`` (from :func:`model_config`, maybe extended) and ``model``'s tensors.

    ``config.json`` also records each weights file's SHA-256 and its tensors'
    dtypes and shapes (under ``"files"``), checked again on load.

    Raises:
        ArtifactError: naming ``path`` and the cause (disk full, read-only
            folder, a setting that cannot be written to JSON); the previous
            artifact at ``path`` is then unchanged.
    """
    check_json(config)
    tensors = model_tensors(model)
    optimizer_state = _optimizer_tensors(model)

    with atomic_folder(path) as folder:
        files = {WEIGHTS: _write_tensors(tensors, folder / WEIGHTS)}
        if optimizer_state:
            files[OPTIMIZER] = _write_tensors(optimizer_state, folder / OPTIMIZER)
        text = json.dumps({**config, "files": files}, indent=2) + "\n"
        (folder / CONFIG).write_text(text, encoding="utf-8")
    return Path(path)


def _write_tensors(tensors: dict[str, torch.Tensor], file: Path) -> dict[str, Any]:
    """Save ``tensors`` to ``file``; its checksum and tensor table for ``config.json``."""
    save_file(tensors, str(file))
    return {"sha256": artifacts.sha256_file(file), "tensors": artifacts.read_header(file)}


def check_json(config: Any, path: str = "", layer: str | None = None) -> None:
    """Refuse a config value that JSON cannot hold, naming where it is (layer and argument).

    Example:
        >>> layer = {"class_name": "LSTM", "config": {"name": "lstm", "kernel_regularizer": abs}}
        >>> try:
        ...     check_json({"model": {"layers": [layer]}})
        ... except ArtifactError as err:
        ...     print(str(err).split(" (")[0])
        cannot save layer 'lstm' argument kernel_regularizer
    """
    if isinstance(config, dict):
        inner = config.get("config")
        if isinstance(inner, dict) and isinstance(inner.get("name"), str) and "layers[" in path:
            layer = inner["name"]
        for key, value in config.items():
            check_json(value, f"{path}.{key}" if path else str(key), layer)
    elif isinstance(config, list | tuple):
        for index, value in enumerate(config):
            check_json(value, f"{path}[{index}]", layer)
    elif not (config is None or isinstance(config, str | int | float | bool)):
        kind = "a Python function" if callable(config) else f"a {type(config).__name__}"
        where = f"layer {layer!r} argument {path.rsplit('.', 1)[-1]} ({path})" if layer else path
        raise ArtifactError(
            f"cannot save {where}: it holds {kind} {config!r}, which cannot be written "
            "to config.json; use an rnncast object with get_config (for example "
            "rnncast.regularizers.L2) instead."
        )


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
    with artifact_lock(folder, shared=True):
        return model_from(folder, read_config(folder, kind="model"), compile)


def model_from(folder: Path, config: dict[str, Any], compile: bool) -> Sequential:
    """Rebuild the model of an artifact ``folder`` from its parsed ``config``.

    The weights file's checksum, dtypes and shapes are checked against
    ``config`` (and the model's size against the limit) before the model is built.
    """
    from rnncast.models.sequential import Sequential

    weights = checked_tensors(folder, WEIGHTS, config)
    try:
        model = Sequential.from_config(config["model"])
    except (RnncastError, KeyError, TypeError, ValueError, IndexError, RecursionError) as err:
        where = _failing_layer(config["model"]["layers"])
        raise ArtifactError(
            f"{folder / CONFIG}: cannot rebuild the architecture: {where}{err}"
        ) from err
    load_model_tensors(model, weights, folder / WEIGHTS)
    model._training_seed = config.get("training", {}).get("seed")
    if compile and config.get("compile"):
        _restore_compile(model, config, folder)
    return model


def _failing_layer(layers: list[dict[str, Any]]) -> str:
    """``"model.layers[i].config.key: "`` of the first layer setting that cannot be built."""
    from rnncast.layers import deserialize

    for index, spec in enumerate(layers):
        try:
            deserialize(spec)
            continue
        except Exception:
            pass
        for key in spec["config"]:
            try:
                deserialize(
                    {**spec, "config": {k: v for k, v in spec["config"].items() if k != key}}
                )
            except Exception:
                continue
            return f"model.layers[{index}].config.{key}: "
        return f"model.layers[{index}] ({spec['class_name']}): "
    return ""


def verify(path: str | os.PathLike[str]) -> str:
    """Check an artifact without building its model; a one-line summary when it is sound.

    Checks the whole ``config.json`` against the schema, each weights file
    against its recorded SHA-256, dtypes and shapes, the model's size against
    its config, and that every weight is finite.

    Raises:
        ArtifactError: naming the file and the first problem found.

    Example:
        >>> import tempfile, rnncast as rc
        >>> from rnncast.layers import LSTM, Dense
        >>> model = rc.Sequential([LSTM(4, input_shape=(5, 1)), Dense(1)], seed=0)
        >>> folder = save_model(model, tempfile.mkdtemp() + "/m")
        >>> verify(folder).endswith("model artifact, 101 weights, checksums match.")
        True
    """
    folder = resolve_folder(Path(path))
    with artifact_lock(folder, shared=True):
        config = read_config(folder, kind=None)
        recorded = config.get("files") or {}
        names = [WEIGHTS] + [OPTIMIZER] * ((folder / OPTIMIZER).exists() or OPTIMIZER in recorded)
        weights = sum(
            tensor.numel()
            for name in names
            for tensor in checked_tensors(folder, name, config).values()
            if name == WEIGHTS
        )
    checked = "checksums match" if recorded else "no checksums recorded (older artifact)"
    return f"OK: {folder}: {config.get('kind')} artifact, {weights:,} weights, {checked}."


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
    try:
        with atomic_file(path) as temporary:
            save_file(model_tensors(model), str(temporary))
    except (OSError, SafetensorError) as err:
        if isinstance(err, ArtifactError):
            raise
        raise _write_error(Path(path), err) from err
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
    """Every weight and statistic keyed ``"<layer name>.<tensor name>"`` (contiguous CPU copies).

    Artifacts hold CPU tensors whatever device trained the model, so they load anywhere.
    """
    return {
        f"{layer.name}.{key}": value.detach().cpu().contiguous().clone()
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
        artifacts.check_header(file, artifacts.read_header(file), None)
        tensors = load_file(str(file), device="cpu")  # then copied onto the model's device
    except (SafetensorError, ValueError) as err:
        raise ArtifactError(
            f"{file}: cannot read the weights (truncated or corrupted file?): {err}"
        ) from err
    except OSError as err:
        if isinstance(err, ArtifactError):
            raise
        raise ArtifactError(f"{file}: cannot read the weights: {err}") from err
    for name, tensor in tensors.items():
        if not torch.isfinite(tensor).all():
            raise ArtifactError(
                f"{file}: tensor {name!r} holds NaN or infinite values; refusing to load "
                "broken weights (retrain, or restore the artifact from a backup)."
            )
    return tensors


def checked_tensors(folder: Path, name: str, config: dict[str, Any]) -> dict[str, torch.Tensor]:
    """The tensors of ``folder / name`` once its checksum, header and size match ``config``.

    Artifacts written before checksums were recorded (no ``"files"`` entry)
    skip the checksum and shape records; the dtype and finiteness checks apply to all.
    """
    file = folder / name
    if not file.is_file():
        raise ArtifactError(f"{file}: file not found; the artifact is incomplete.")
    recorded = config.get("files", {}).get(name)
    try:
        if recorded and artifacts.sha256_file(file) != recorded["sha256"]:
            raise ArtifactError(
                f"{file}: {name} does not match its checksum in config.json (bit rot, "
                "or the file was changed); restore the artifact from a backup."
            )
        header = artifacts.read_header(file)
    except ArtifactError:
        raise
    except OSError as err:
        raise ArtifactError(f"{file}: cannot read the weights: {err}") from err
    artifacts.check_header(file, header, recorded.get("tensors") if recorded else None)
    if name == WEIGHTS:
        artifacts.check_size(config, header, file)
    return read_tensors(file)


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
    except RecursionError as err:
        raise ArtifactError(f"{file}: JSON nested too deeply to be an rnncast config.") from err
    except OSError as err:
        raise ArtifactError(f"{file}: cannot read it: {err}") from err
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
    try:
        artifacts.check_config(config, kind)
        _check_optimizer(config.get("compile"))
    except ArtifactError as err:
        raise ArtifactError(f"{folder}{os.sep}{err}") from None
    return config


def _check_optimizer(settings: dict[str, Any] | None) -> None:
    """Refuse an unknown optimizer class or argument by its JSON path (nothing is built)."""
    if not settings:
        return
    spec = settings["optimizer"]
    classes = {cls.__name__: cls for cls in optimizers.OPTIMIZERS.values()}
    cls = classes.get(spec["class_name"])
    if cls is None:
        raise ArtifactError(
            f"config.json: compile.optimizer.class_name: unknown optimizer "
            f"{spec['class_name']!r}; expected one of {', '.join(sorted(classes))}."
        )
    accepted = {
        name
        for klass in cls.__mro__
        if "__init__" in vars(klass) and klass is not object
        for name in inspect.signature(klass.__init__).parameters
    }
    for key in spec.get("config", {}):
        if key not in accepted:
            raise ArtifactError(
                f"config.json: compile.optimizer.config.{key}: {cls.__name__} has no "
                f"argument {key!r}."
            )


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
    return {
        k: v.detach().cpu().contiguous().clone() for k, v in model.optimizer.state_tensors().items()
    }


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
        model.compile(optimizer=optimizer, loss=loss, metrics=settings.get("metrics"))
    except (RnncastError, TypeError, ValueError, KeyError) as err:
        raise ArtifactError(
            f"{folder / CONFIG}: bad compile settings (compile.optimizer, compile.loss): {err}"
        ) from err
    iterations = config.get("training", {}).get("iterations", 0)
    if not (folder / OPTIMIZER).is_file():
        if _optimizer_state_expected(model, config, iterations):
            warnings.warn(
                f"{folder / OPTIMIZER} is missing, but the optimizer had taken {iterations} "
                "steps: resuming training starts the optimizer fresh (zero moments).",
                stacklevel=3,
            )
        return
    model._build_optimizer()
    state = checked_tensors(folder, OPTIMIZER, config)
    try:
        optimizer.load_state_tensors(state, iterations)
    except RnncastError as err:
        raise ArtifactError(f"{folder / OPTIMIZER}: {err}") from err


def _optimizer_state_expected(model: Sequential, config: dict[str, Any], iterations: int) -> bool:
    """Whether the save wrote optimizer slots ("files" says; older artifacts: stepped + slots)."""
    files = config.get("files")
    if files is not None:
        return OPTIMIZER in files
    if iterations <= 0:
        return False
    model._build_optimizer()
    return bool(model.optimizer.state_tensors())


# ------------------------------------------------------------------ atomic folders
#: Staging folders of dead processes (same host) older than this are removed by later saves.
STALE_SECONDS = 3600.0


@contextmanager
def atomic_folder(path: str | os.PathLike[str]) -> Iterator[Path]:
    """Yield a staging folder to fill; on success it takes the place of ``path``.

    The new folder is complete and synced before ``path`` is touched. The
    staging folder's name carries its owner (``.<name>.tmp-<token>-<pid>@<host>``)
    so that no save ever removes a live process's folder. The swap (old aside,
    new in place) runs under an exclusive lock on ``.<name>.lock`` next to
    ``path``, so concurrent saves to one path serialize and the last one wins
    whole; if the process dies between the two renames, :func:`resolve_folder`
    completes the swap on the next load. An exception (or Ctrl-C) while filling
    removes the staging folder and leaves ``path`` as it was; a write failure
    (disk full, read-only folder) becomes an :class:`ArtifactError` naming
    ``path`` and the cause. An existing ``path`` is only replaced if it is an
    rnncast artifact.
    """
    path = Path(path)
    path = path.resolve() if path.exists() else path.absolute()
    token = uuid.uuid4().hex
    staging = path.with_name(f".{path.name}.tmp-{token}-{owner_tag()}")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        staging.mkdir()
    except OSError as err:
        raise _write_error(path, err) from err
    try:
        yield staging
        for file in staging.iterdir():
            fsync(file)
        fsync(staging)
        with file_lock(_lock_file(path)):
            _clean_leftovers(path)
            _swap(staging, path, token)
    except BaseException as err:
        shutil.rmtree(staging, ignore_errors=True)
        if isinstance(err, OSError | SafetensorError) and not isinstance(err, ArtifactError):
            raise _write_error(path, err) from err
        raise
    fsync(path.parent)


@contextmanager
def artifact_lock(path: Path, shared: bool = False) -> Iterator[None]:
    """Hold the artifact's lock (shared while reading); no lock where it cannot be created."""
    lock = file_lock(_lock_file(path.absolute()), shared=shared)
    try:
        lock.__enter__()
        locked = True
    except OSError:  # a read-only folder: nobody can save there either
        locked = False
    try:
        yield
    finally:
        if locked:
            lock.__exit__(None, None, None)


def _lock_file(path: Path) -> Path:
    return path.with_name(f".{path.name}.lock")


def _write_error(path: Path, err: BaseException) -> ArtifactError:
    number = getattr(err, "errno", None)
    hints = {
        errno.ENOSPC: "the disk is full",
        errno.EDQUOT: "the disk quota is exceeded",
        errno.EROFS: "the folder is on a read-only file system",
        errno.EACCES: "no permission to write there",
        errno.EPERM: "no permission to write there",
    }
    full = re.search(r"os error 28|code: 28\b|StorageFull", str(err))
    cause = hints.get(number) or ("the disk is full" if full else None)
    detail = f"{cause} ({err})" if cause else str(err)
    return ArtifactError(
        f"cannot write the artifact {path}: {detail}. Nothing was changed: the previous "
        "artifact there (if any) is intact."
    )


def _swap(staging: Path, path: Path, token: str) -> None:
    """Put ``staging`` in the place of ``path`` (call with the lock held)."""
    if path.exists() and (not path.is_dir() or not (path / CONFIG).exists()):
        raise ArtifactError(
            f"{path} exists and is not an rnncast artifact; refusing to "
            "replace it. Choose another path or remove it."
        )
    if not path.exists():
        os.rename(staging, path)
        return
    retired = path.with_name(f".{path.name}.old-{token}")
    os.rename(path, retired)
    try:
        os.rename(staging, path)
    except BaseException:
        os.rename(retired, path)
        raise
    shutil.rmtree(retired, ignore_errors=True)


def resolve_folder(path: Path) -> Path:
    """The artifact folder at ``path``, finishing a swap that a killed save left half done."""
    if path.is_dir():
        return path
    if path.exists():
        raise ArtifactError(f"{path}: an artifact is a folder, this is a file.")
    if path.parent.is_dir() and any(path.parent.glob(f".{path.name}.old-*")):
        with artifact_lock(path):  # a live save may be between its two renames
            if not path.exists():
                _finish_swap(path)
    if path.is_dir():
        return path
    raise ArtifactError(f"{path}: no such artifact (file not found).")


def _finish_swap(path: Path) -> None:
    for old in sorted(path.parent.glob(f".{path.name}.old-*")):
        token = old.name.rsplit("-", 1)[-1]
        staged = [p for p in path.parent.glob(f".{path.name}.tmp-{token}*") if p.is_dir()]
        os.rename(staged[0] if staged else old, path)  # the new one was complete
        return


def _clean_leftovers(path: Path) -> None:
    """Finish a killed swap; remove retired folders and abandoned staging folders (lock held)."""
    if not path.exists() and any(path.parent.glob(f".{path.name}.old-*")):
        _finish_swap(path)
    for stale in path.parent.glob(f".{path.name}.tmp-*"):
        if _abandoned(stale):
            shutil.rmtree(stale, ignore_errors=True)
    for stale in path.parent.glob(f".{path.name}.old-*"):
        shutil.rmtree(stale, ignore_errors=True)  # live saves remove theirs under the lock


def _abandoned(staging: Path) -> bool:
    """Older than :data:`STALE_SECONDS` and its owner process is gone (same host only)."""
    try:
        age = time.time() - staging.stat().st_mtime
    except OSError:
        return False
    if age < STALE_SECONDS:
        return False
    owner = staging.name.rsplit(".tmp-", 1)[-1].partition("-")[2]
    return not owner or not owner_alive(owner)  # no owner: written by rnncast < 0.2

"""Checks of an artifact that need no model: config schema, safetensors headers, checksums, size.

Everything here reads JSON and file bytes only; nothing allocates a model.
``check_config`` validates the whole ``config.json`` document against one
schema and names the JSON path of the first problem.

Example:
    >>> try:
    ...     check_config({"format_version": 1, "kind": "model", "model": {"layers": "x"}})
    ... except Exception as err:
    ...     print(err)
    config.json: model.layers: expected a list, got "x"
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import struct
from collections.abc import Callable
from pathlib import Path
from typing import Any

from rnncast.exceptions import ArtifactError

#: Largest model (in parameters, estimated from config.json) that loading will build.
MAX_PARAMETERS = 100_000_000
#: Memory per parameter when loading and training: weights, gradients, two optimizer slots.
BYTES_PER_PARAMETER = 16
#: A safetensors header larger than this is refused without reading it.
MAX_HEADER_BYTES = 100_000_000
#: The only tensor dtype an rnncast weights file holds.
WEIGHT_DTYPE = "F32"

Check = Callable[[Any, str], None]


# ------------------------------------------------------------------ schema
def _show(value: Any) -> str:
    try:
        text = json.dumps(value)
    except (TypeError, ValueError, RecursionError):
        text = type(value).__name__
    return text if len(text) <= 60 else text[:57] + "..."


def _fail(path: str, expected: str, value: Any) -> ArtifactError:
    return ArtifactError(
        f"config.json: {path or '(document)'}: expected {expected}, got {_show(value)}"
    )


def _join(path: str, key: str | int) -> str:
    if isinstance(key, int):
        return f"{path}[{key}]"
    return f"{path}.{key}" if path else key


def scalar(kind: str) -> Check:
    """A check for one JSON scalar kind: integer, number, string, boolean or null."""
    tests: dict[str, Callable[[Any], bool]] = {
        "an integer": lambda v: isinstance(v, int) and not isinstance(v, bool),
        "a number": lambda v: (
            isinstance(v, int | float) and not isinstance(v, bool) and math.isfinite(v)
        ),
        "a string": lambda v: isinstance(v, str),
        "a boolean": lambda v: isinstance(v, bool),
        "null": lambda v: v is None,
    }
    test = tests[kind]

    def check(value: Any, path: str) -> None:
        if not test(value):
            raise _fail(path, kind, value)

    check.expected = kind  # type: ignore[attr-defined]
    return check


INT, NUM, STR, BOOL, NULL = (
    scalar(k) for k in ("an integer", "a number", "a string", "a boolean", "null")
)


def one_of(*checks: Check) -> Check:
    """Any one of ``checks`` (scalars only, so the message can list them)."""
    expected = " or ".join(getattr(c, "expected", "a valid value") for c in checks)

    def check(value: Any, path: str) -> None:
        for candidate in checks:
            try:
                candidate(value, path)
                return
            except ArtifactError:
                continue
        raise _fail(path, expected, value)

    check.expected = expected  # type: ignore[attr-defined]
    return check


def optional(inner: Check) -> Check:
    """``inner`` or null."""

    def check(value: Any, path: str) -> None:
        if value is not None:
            inner(value, path)

    return check


def list_of(item: Check) -> Check:
    """A JSON list whose every item passes ``item``."""

    def check(value: Any, path: str) -> None:
        if not isinstance(value, list):
            raise _fail(path, "a list", value)
        for index, element in enumerate(value):
            item(element, _join(path, index))

    check.expected = "a list"  # type: ignore[attr-defined]
    return check


def obj(
    fields: dict[str, Check] | None = None,
    required: tuple[str, ...] = (),
    values: Check | None = None,
) -> Check:
    """A JSON object: known ``fields``, ``required`` keys, and ``values`` for every other key."""
    fields = fields or {}

    def check(value: Any, path: str) -> None:
        if not isinstance(value, dict):
            raise _fail(path, "an object", value)
        for key in required:
            if key not in value:
                raise ArtifactError(f"config.json: {_join(path, key)}: missing (required).")
        for key, element in value.items():
            rule = fields.get(key, values)
            if rule is not None:
                rule(element, _join(path, key))

    check.expected = "an object"  # type: ignore[attr-defined]
    return check


def _unknown(value: Any, path: str) -> None:
    raise ArtifactError(f"config.json: {path}: unknown setting.")


def _positive(value: Any, path: str) -> None:
    INT(value, path)
    if value < 1:
        raise _fail(path, "a positive integer", value)


def _count(value: Any, path: str) -> None:
    INT(value, path)
    if value < 0:
        raise _fail(path, "an integer >= 0", value)


_NUMBERS = list_of(one_of(NUM, list_of(NUM)))  # a vector or a matrix of numbers
_SERIALIZED = obj({"class_name": STR, "config": obj()}, required=("class_name",))
_LAYER = obj({"class_name": STR, "config": obj({"name": STR})}, required=("class_name", "config"))
_TENSORS = obj(values=obj({"dtype": STR, "shape": list_of(_count)}, required=("dtype", "shape")))
_FILES = obj(values=obj({"sha256": STR, "tensors": _TENSORS}, required=("sha256",)))
_SCALER = optional(obj({"method": STR, "center": list_of(NUM), "scale": list_of(NUM)}))
_NAMES = one_of(STR, NULL)
_LOSS = one_of(STR, _SERIALIZED)

MODEL_SCHEMA = obj(
    {
        "format_version": INT,
        "kind": STR,
        "rnncast_version": optional(STR),
        "model": obj(
            {
                "name": STR,
                "seed": optional(INT),
                "build_input_shape": optional(list_of(optional(_positive))),
                "layers": list_of(_LAYER),
            },
            required=("layers",),
        ),
        "compile": optional(
            obj(
                {
                    "optimizer": _SERIALIZED,
                    "loss": _LOSS,
                    "metrics": optional(list_of(_LOSS)),
                },
                required=("optimizer", "loss"),
            )
        ),
        "training": obj({"seed": optional(INT), "iterations": _count, "epochs": _count}),
        "files": _FILES,
    },
    required=("format_version", "model"),
)


def _calibration_scores(value: Any, path: str) -> None:
    """A matrix of scores, or (a universe forecaster) one matrix per ticker."""
    if isinstance(value, dict):
        obj(values=_scores)(value, path)
    else:
        _scores(value, path)


FORECASTER_SCHEMA = obj(
    {
        "forecaster": obj(
            {
                "lookback": _positive,
                "horizon": _positive,
                "features": optional(one_of(STR, list_of(STR))),
                "target": STR,
                "target_transform": _NAMES,
                "scaler": _NAMES,
                "strategy": STR,
                "calendar": _NAMES,
                "seed": optional(INT),
            },
            required=("lookback", "horizon"),
            values=_unknown,
        ),
        "windowizer": obj(
            {
                "params": obj(),
                "tickers": optional(list_of(STR)),
                "scalers": obj(values=_SCALER),
                "target_scalers": obj(values=_SCALER),
            },
            required=("params", "scalers", "target_scalers"),
        ),
        "train": obj({"start": STR, "end": STR, "rows": _count, "sha256": STR}),
        "train_scale": optional(NUM),
        "learned_nothing": BOOL,
        "calibration_scores": optional(_calibration_scores),
        "residuals": optional(_NUMBERS),  # rnncast 0.1
        "universe": optional(
            obj(
                {
                    "tickers": list_of(STR),
                    "skipped": list_of(STR),
                    "train_ranges": obj(values=list_of(NUM)),
                },
                required=("tickers",),
            )
        ),
    },
    required=("forecaster", "windowizer", "train", "train_scale"),
)


def check_config(config: Any, kind: str | None = None) -> None:
    """Validate a whole ``config.json`` document (model or forecaster) before anything is built.

    Raises:
        ArtifactError: ``config.json: <json path>: expected ..., got ...``.
    """
    MODEL_SCHEMA(config, "")
    if (kind or config.get("kind")) == "forecaster":
        FORECASTER_SCHEMA(config, "")
        _consistent(config)


def _scores(value: Any, path: str) -> None:
    """Calibration scores: a matrix (rows of equal length) of finite numbers >= 0."""
    _NUMBERS(value, path)
    rows = [row if isinstance(row, list) else [row] for row in value]
    if any(isinstance(row, list) for row in value) and not all(
        isinstance(row, list) for row in value
    ):
        raise _fail(path, "rows that are all lists (one score per step)", value[:3])
    for i, row in enumerate(rows):
        if len(row) != len(rows[0]):
            raise _fail(_join(path, i), f"a row of {len(rows[0])} scores", row)
        for number in row:
            if not 0 <= number < math.inf:
                raise _fail(_join(path, i), "scores >= 0 (absolute log errors)", row)


def _consistent(config: dict[str, Any]) -> None:
    """The forecaster's settings agree with its windowizer and its model's input shape."""
    settings, params = config["forecaster"], config["windowizer"]["params"]
    for key in ("lookback", "features", "target", "scaler", "target_transform"):
        mine, theirs = settings.get(key), params.get(key)
        if key == "features":
            mine, theirs = ([v] if isinstance(v, str) else v for v in (mine, theirs))
        if key in settings and key in params and mine != theirs:
            raise ArtifactError(
                f"config.json: forecaster.{key}: {_show(settings[key])} does not match "
                f"windowizer.params.{key} {_show(params[key])}; the file was altered."
            )
    shape = config["model"].get("build_input_shape") or []
    if len(shape) == 3 and shape[1] is not None and shape[1] != settings["lookback"]:
        raise ArtifactError(
            f"config.json: forecaster.lookback: {settings['lookback']} does not match "
            f"model.build_input_shape {_show(shape)}; the file was altered."
        )


# ------------------------------------------------------------------ weights files
def sha256_file(file: Path) -> str:
    """Hex SHA-256 of a file's bytes, read in 1 MiB blocks."""
    digest = hashlib.sha256()
    with open(file, "rb") as stream:
        for block in iter(lambda: stream.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def read_header(file: Path) -> dict[str, dict[str, Any]]:
    """``{tensor name: {"dtype", "shape"}}`` from a safetensors header, reading no tensor data.

    Raises:
        ArtifactError: naming the file when the header is missing, too large or not JSON.
    """
    size = file.stat().st_size
    with open(file, "rb") as stream:
        prefix = stream.read(8)
        if len(prefix) < 8:
            raise ArtifactError(f"{file}: truncated safetensors file (no header).")
        (length,) = struct.unpack("<Q", prefix)
        if length > min(MAX_HEADER_BYTES, size - 8):
            raise ArtifactError(f"{file}: corrupted safetensors header (length {length}).")
        raw = stream.read(length)
    try:
        header = json.loads(raw)
    except (ValueError, RecursionError) as err:
        raise ArtifactError(f"{file}: corrupted safetensors header ({err}).") from err
    if not isinstance(header, dict):
        raise ArtifactError(f"{file}: corrupted safetensors header (not an object).")
    tensors = {}
    for name, entry in header.items():
        if name == "__metadata__":
            continue
        shape = entry.get("shape") if isinstance(entry, dict) else None
        if not isinstance(shape, list) or not all(isinstance(n, int) and n >= 0 for n in shape):
            raise ArtifactError(f"{file}: corrupted safetensors header entry {name!r}.")
        tensors[name] = {"dtype": entry.get("dtype"), "shape": shape}
    return tensors


def check_header(file: Path, header: dict[str, dict[str, Any]], recorded: Any) -> None:
    """Refuse tensors that are not float32 and (when ``recorded``) dtypes/shapes that differ."""
    for name, entry in header.items():
        if entry["dtype"] != WEIGHT_DTYPE:
            raise ArtifactError(
                f"{file}: tensor {name!r} has dtype {entry['dtype']}; rnncast weights are "
                "float32 (F32). The file was not written by rnncast or was altered."
            )
    if not recorded:
        return
    if set(recorded) != set(header):
        missing, extra = sorted(set(recorded) - set(header)), sorted(set(header) - set(recorded))
        raise ArtifactError(
            f"{file}: holds other tensors than config.json records "
            f"(missing {missing[:5]}, unexpected {extra[:5]})."
        )
    for name, entry in header.items():
        if list(recorded[name]["shape"]) != entry["shape"]:
            raise ArtifactError(
                f"{file}: tensor {name!r} has shape {tuple(entry['shape'])}, config.json "
                f"records {tuple(recorded[name]['shape'])}."
            )


# ------------------------------------------------------------------ size
_RECURRENT = {"LSTM": 4, "GRU": 3, "SimpleRNN": 1}


def _layer_sizes(layer: dict[str, Any], width: int, path: str) -> tuple[int, int, int]:
    """``(upper estimate, lower bound, output width)`` of one layer config's parameters."""
    name, config = layer["class_name"], layer["config"]
    inner = config.get("layer")
    if isinstance(inner, dict) and isinstance(inner.get("config"), dict):
        high, low, out = _layer_sizes(inner, width, _join(path, "config.layer"))
        copies = 2 if name == "Bidirectional" else 1
        return copies * high, copies * low, copies * out if name == "Bidirectional" else out
    for key in ("units", "filters"):
        if key in config:
            _positive(config[key], _join(path, f"config.{key}"))
    units = config.get("units", config.get("filters"))
    if units is None:
        return 4 * width + 4, 0, width  # normalization and shape layers
    kernel = config.get("kernel_size", 1)
    kernel = kernel[0] if isinstance(kernel, list) and kernel else kernel
    _positive(kernel, _join(path, "config.kernel_size"))
    gates = _RECURRENT.get(name, 1)
    recurrent = units if name in _RECURRENT else 0
    high = gates * units * (kernel * width + recurrent + 2)
    low = units * recurrent if recurrent else units
    return high, low, units


def check_size(config: dict[str, Any], header: dict[str, dict[str, Any]], file: Path) -> None:
    """Refuse a model whose config is too large, or does not match the weights' shapes.

    Uses only ``config.json`` and the safetensors header, so an artifact that
    claims ``units = 1000000`` is refused before any memory is allocated.
    """
    model = config["model"]
    shape = [n for n in (model.get("build_input_shape") or [])[1:] if n]
    width = math.prod(shape) if shape else 1
    found: dict[str, int] = {}
    for name, entry in header.items():
        layer_name = name.split(".", 1)[0]
        found[layer_name] = found.get(layer_name, 0) + math.prod(entry["shape"])
    total, mismatch = 0, None
    for index, layer in enumerate(model["layers"]):
        path = f"model.layers[{index}]"
        high, low, out = _layer_sizes(layer, width, path)
        total += high
        layer_name = layer["config"].get("name")
        if mismatch is None and low and found.get(layer_name, low) < low:
            mismatch = ArtifactError(
                f"config.json: {path}: layer {layer_name!r} (units="
                f"{layer['config'].get('units', layer['config'].get('filters'))}) needs at "
                f"least {low:,} weights "
                f"but {file.name} holds {found[layer_name]:,}; the config does not match "
                "the weights."
            )
        width = max(width, out)
    if total > MAX_PARAMETERS:
        raise ArtifactError(
            f"config.json: model: about {total:,} parameters, over the limit of "
            f"{MAX_PARAMETERS:,} (rnncast._internal.artifacts.MAX_PARAMETERS); refusing to "
            "build it."
        )
    available = _available_memory()
    if available is not None and total * BYTES_PER_PARAMETER > available:
        raise ArtifactError(
            f"config.json: model: about {total:,} parameters need about "
            f"{total * BYTES_PER_PARAMETER / 2**30:.1f} GiB to load and train, more than the "
            f"{available / 2**30:.1f} GiB of memory available; refusing to build it."
        )
    if mismatch is not None:
        raise mismatch


def _available_memory() -> int | None:
    """Bytes of physical memory available now (None where the OS does not say)."""
    try:
        return os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (AttributeError, ValueError, OSError):
        return None


def check_build_size(layer: Any, features: int) -> None:
    """Refuse to build a layer whose weights alone cannot fit in memory.

    The estimate comes from the layer's config, before torch allocates
    anything, so ``LSTM(1000000)`` is a ``ConfigError`` instead of an
    allocator crash (or the kernel's out-of-memory killer).

    Example:
        >>> from rnncast.layers import LSTM
        >>> check_build_size(LSTM(8), features=1)  # 320 parameters: fine
    """
    from rnncast.exceptions import ConfigError

    try:
        spec = {"class_name": type(layer).__name__, "config": layer.get_config()}
        high, _, _ = _layer_sizes(spec, max(int(features), 1), "layer")
    except (ArtifactError, KeyError, TypeError, ValueError, AttributeError, NotImplementedError):
        return  # odd or unsized layers check their own arguments
    available = _available_memory()
    if available is not None and high * 4 > available:  # 4 bytes per float32 weight
        units = spec["config"].get("units", spec["config"].get("filters"))
        raise ConfigError(
            f"layer {getattr(layer, 'name', spec['class_name'])!r} ({spec['class_name']} with "
            f"units={units!r} on {features:,} input features) needs about {high:,} parameters "
            f"({high * 4 / 2**30:,.1f} GiB), more than the {available / 2**30:.1f} GiB of memory "
            "available; use fewer units."
        )

"""A fitted Forecaster for callers without Python: ``model.onnx`` plus ``preprocess.json``.

``model.onnx`` maps scaled windows ``(batch, lookback, features)`` float32
to scaled targets ``(batch, model_horizon)``; ``preprocess.json`` holds
everything around it: the features (column and transform), the scalers'
``center`` and ``scale``, the target's transform and scaler, the lookback,
the horizon, the strategy, the calendar and the recipe in words. With
onnxruntime and numpy alone a caller reproduces
``Forecaster.predict_next`` (docs/export.md has the 30-line program).

Example:
    >>> import tempfile, rnncast as rc
    >>> from rnncast.layers import LSTM, Dense
    >>> train = rc.datasets.load_sample("MSFT").iloc[:300]
    >>> fc = rc.Forecaster([LSTM(4), Dense(1)], lookback=10, seed=0).fit(train, epochs=1, verbose=0)
    >>> folder = fc.export_onnx(tempfile.mkdtemp() + "/msft")
    >>> sorted(p.name for p in folder.iterdir())
    ['model.onnx', 'preprocess.json']
    >>> spec = read_preprocess(folder)
    >>> spec["lookback"], spec["features"][0]["transform"], spec["model"]["input"]["shape"]
    (10, 'log_return', ['batch', 10, 1])
"""

from __future__ import annotations

import hashlib
import json
import math
import os
from pathlib import Path
from typing import Any

from rnncast._internal.files import atomic_file
from rnncast._internal.version import __version__
from rnncast.data.features import FEATURE_TRANSFORMS, parse_features
from rnncast.data.scalers import Scaler
from rnncast.data.targets import TARGET_TRANSFORMS
from rnncast.exceptions import ArtifactError, ConfigError
from rnncast.interop.onnx import DEFAULT_OPSET, INPUT_NAME, OUTPUT_NAME, export_model

FORMAT = "rnncast-preprocess"
VERSION = 1
PREPROCESS_FILE = "preprocess.json"
MODEL_FILES = {"onnx": "model.onnx", "torch": "model.pt2"}
FEATURE_FORMULAS = {
    "level": "x[t]",
    "log": "log(x[t])",
    "return": "x[t] / x[t-1] - 1",
    "log_return": "log(x[t] / x[t-1])",
    "diff": "x[t] - x[t-1]",
}
TARGET_INVERSE = {
    "price": "y",
    "return": "p * (1 + y)",
    "log_return": "p * exp(y)",
    "diff": "p + y",
}
RECIPE = [
    "1. Sort the price rows by date, oldest first, and take the last rows_needed rows "
    "(lookback, plus 1 when a feature needs the previous row).",
    "2. For every feature, compute its transform (feature_transforms) from its column on each "
    "row; x[t-1] is the row before. Drop the first row when it only served as x[t-1]: "
    "lookback rows remain.",
    "3. Scale every feature: (value - scaler.center) / scaler.scale, in float64.",
    "4. Stack the rows into a float32 array (1, lookback, features), oldest row first; "
    "several windows can be stacked along the batch axis.",
    "5. Run model.file with that array as model.input.name; model.output.name is "
    "(batch, model_horizon) in the scaled target space.",
    "6. Unscale: y = output * target.scaler.scale + target.scaler.center.",
    "7. Invert the target transform (target_inverse) from p, the target column on the last "
    "row: column k is the forecast of the k-th session after the last date.",
    "8. strategy 'recursive': append the forecast as a new row (each feature's transform of "
    "the forecast price, scaled), drop the oldest row, and repeat for the next session.",
    "The sessions follow the exchange calendar named in calendar (weekends and holidays skipped).",
]
_SCALER_KINDS = ("minmax", "standard", "robust", "none")


def export_forecaster(
    forecaster: Any,
    path: str | os.PathLike[str],
    format: str = "onnx",
    opset_version: int | None = None,
) -> Path:
    """Write a fitted forecaster's network and its preprocessing into the folder ``path``.

    Args:
        forecaster: A fitted :class:`~rnncast.Forecaster`.
        path: Folder that receives ``model.onnx`` (``model.pt2`` for
            ``format="torch"``) and ``preprocess.json``; created if missing.
        format: ``"onnx"`` or ``"torch"``.
        opset_version: ONNX opset (default 17).

    Returns:
        The folder.

    Raises:
        ConfigError: an unknown format, a path that is a file, a multi-ticker
            forecaster, or the onnx package missing.
    """
    forecaster._check_fitted()
    if format not in MODEL_FILES:
        raise ConfigError(f"format={format!r} is not supported; use one of {tuple(MODEL_FILES)}.")
    folder = Path(path)
    if folder.exists() and not folder.is_dir():
        raise ConfigError(
            f"{folder} is a file; the export is a folder that receives {MODEL_FILES[format]} and "
            f"{PREPROCESS_FILE}, e.g. {folder.with_suffix('')}/."
        )
    _check_single_series(forecaster.windowizer_)
    model_file = folder / MODEL_FILES[format]
    export_model(forecaster.model_, model_file, format, False, None, opset_version)
    spec = preprocess_spec(forecaster, model_file, opset_version)
    with atomic_file(folder / PREPROCESS_FILE) as temporary:
        temporary.write_text(json.dumps(spec, indent=2) + "\n", encoding="utf-8")
    return folder


def preprocess_spec(
    forecaster: Any, model_file: Path, opset_version: int | None = None
) -> dict[str, Any]:
    """The content of ``preprocess.json`` for a fitted forecaster and its exported model."""
    win = forecaster.windowizer_
    _check_single_series(win)
    specs = parse_features(win.feature_list)
    scaler, target_scaler = win.scalers_[None], win.target_scalers_[None]
    features = [
        {
            "spec": name,
            "column": feature.column,
            "transform": feature.transform,
            "needs_previous_row": bool(feature.lag),
            "scaler": _scaler(scaler, j),
        }
        for j, (name, feature) in enumerate(zip(win.feature_list, specs, strict=True))
    ]
    model_horizon = int(forecaster.model_.output_shape[-1])
    return {
        "format": FORMAT,
        "version": VERSION,
        "rnncast_version": __version__,
        "model": {
            "file": model_file.name,
            "sha256": _sha256(model_file),
            "opset": _opset(model_file, opset_version),
            "input": {
                "name": INPUT_NAME,
                "shape": ["batch", win.lookback, len(features)],
                "dtype": "float32",
            },
            "output": {"name": OUTPUT_NAME, "shape": ["batch", model_horizon], "dtype": "float32"},
        },
        "lookback": win.lookback,
        "horizon": forecaster.horizon,
        "model_horizon": model_horizon,
        "strategy": forecaster.strategy,
        "calendar": forecaster.calendar,
        "rows_needed": win.lookback + max(f.lag for f in specs),
        "features": features,
        "target": {
            "column": win.target,
            "transform": win.target_transform,
            "scaler": _scaler(target_scaler, 0),
        },
        "feature_transforms": {name: FEATURE_FORMULAS[name] for name in FEATURE_TRANSFORMS},
        "target_inverse": {name: TARGET_INVERSE[name] for name in TARGET_TRANSFORMS},
        "recipe": RECIPE,
        "trained_on": dict(forecaster.train_info_),
    }


def read_preprocess(path: str | os.PathLike[str]) -> dict[str, Any]:
    """Read and check ``preprocess.json`` (a file, or the export folder holding it).

    Checks the format and version, every field the recipe needs, the
    scalers (finite centers, positive scales) and, when ``model.onnx`` lies
    beside it, that it is the file that was exported with it (SHA-256).

    Raises:
        ArtifactError: naming the file, the field and what is wrong.
    """
    file = Path(path)
    file = file / PREPROCESS_FILE if file.is_dir() else file
    try:
        spec = json.loads(file.read_text(encoding="utf-8"))
    except (OSError, ValueError) as err:
        raise ArtifactError(f"{file}: cannot read the preprocessing spec: {err}") from err
    _Checker(file).check(spec)
    return spec


class _Checker:
    """Checks of a preprocess.json, each error naming the file and the JSON path."""

    def __init__(self, file: Path) -> None:
        self.file = file

    def fail(self, where: str, problem: str) -> None:
        raise ArtifactError(f"{self.file}: {where} {problem}.")

    def field(self, data: Any, key: str, kind: type | tuple[type, ...], where: str) -> Any:
        if not isinstance(data, dict) or key not in data:
            self.fail(f"{where}.{key}", "is missing")
        value = data[key]
        if (isinstance(value, bool) and kind is not bool) or not isinstance(value, kind):
            self.fail(f"{where}.{key}", f"is {value!r}, not of type {kind}")
        return value

    def check(self, spec: Any) -> None:
        if not isinstance(spec, dict) or spec.get("format") != FORMAT:
            self.fail("format", f"is not {FORMAT!r}: this is not an rnncast preprocessing spec")
        version = self.field(spec, "version", int, "$")
        if version > VERSION:
            self.fail("version", f"is {version}, newer than this rnncast reads ({VERSION})")
        lookback = self.field(spec, "lookback", int, "$")
        for key in ("horizon", "model_horizon", "rows_needed"):
            if self.field(spec, key, int, "$") < 1:
                self.fail(f"$.{key}", "must be at least 1")
        if self.field(spec, "strategy", str, "$") not in ("direct", "recursive"):
            self.fail("$.strategy", f"is {spec.get('strategy')!r}, not 'direct' or 'recursive'")
        self.field(spec, "calendar", str, "$")
        features = self.field(spec, "features", list, "$")
        if not features:
            self.fail("$.features", "is empty")
        for j, feature in enumerate(features):
            self.field(feature, "column", str, f"$.features[{j}]")
            if self.field(feature, "transform", str, f"$.features[{j}]") not in FEATURE_TRANSFORMS:
                self.fail(f"$.features[{j}].transform", f"is not one of {FEATURE_TRANSFORMS}")
            self.scaler(feature, f"$.features[{j}]")
        target = self.field(spec, "target", dict, "$")
        self.field(target, "column", str, "$.target")
        if self.field(target, "transform", str, "$.target") not in TARGET_TRANSFORMS:
            self.fail("$.target.transform", f"is not one of {TARGET_TRANSFORMS}")
        self.scaler(target, "$.target")
        self.model(spec, lookback, len(features))

    def scaler(self, owner: dict, where: str) -> None:
        scaler = self.field(owner, "scaler", dict, where)
        if scaler.get("kind") not in _SCALER_KINDS:
            self.fail(f"{where}.scaler.kind", f"is {scaler.get('kind')!r}, not in {_SCALER_KINDS}")
        center = self.field(scaler, "center", (int, float), f"{where}.scaler")
        scale = self.field(scaler, "scale", (int, float), f"{where}.scaler")
        if not (math.isfinite(center) and math.isfinite(scale) and scale > 0):
            self.fail(f"{where}.scaler", f"has center={center}, scale={scale}: need finite, > 0")

    def model(self, spec: dict, lookback: int, n_features: int) -> None:
        model = self.field(spec, "model", dict, "$")
        name = self.field(model, "file", str, "$.model")
        shape = self.field(self.field(model, "input", dict, "$.model"), "shape", list, "$.input")
        self.field(model["input"], "name", str, "$.model.input")
        self.field(self.field(model, "output", dict, "$.model"), "name", str, "$.model.output")
        if shape[1:] != [lookback, n_features]:
            self.fail(
                "$.model.input.shape",
                f"is {shape}, but lookback={lookback} and {n_features} features need "
                f"['batch', {lookback}, {n_features}]",
            )
        beside = self.file.parent / name
        if beside.is_file() and model.get("sha256") != _sha256(beside):
            self.fail(
                "$.model.sha256",
                f"does not match {beside.name}: the model file was replaced after the export; "
                "export again",
            )


def _check_single_series(win: Any) -> None:
    if win.tickers_ is not None or set(win.scalers_) != {None}:
        raise ConfigError(
            "export covers single-series forecasters; this one was fitted on several tickers "
            f"({win.tickers_}); fit one Forecaster per ticker to export it."
        )


def _scaler(scaler: Scaler, column: int) -> dict[str, Any]:
    return {
        "kind": scaler.method or "none",
        "center": float(scaler.center_[column]),
        "scale": float(scaler.scale_[column]),
    }


def _opset(model_file: Path, opset_version: int | None) -> int | None:
    if model_file.suffix != ".onnx":
        return None  # a torch.export program has no opset
    return DEFAULT_OPSET if opset_version is None else int(opset_version)


def _sha256(file: Path) -> str:
    return hashlib.sha256(file.read_bytes()).hexdigest()

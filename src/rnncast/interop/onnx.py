"""Models that leave Python: ``model.export(path, format="onnx")`` as in Keras 3.

The exported graph is the model's inference pass (Dropout off,
BatchNormalization on its moving statistics), with one input
``inputs`` ``(batch, timesteps, features)`` float32 and one output
``outputs`` ``(batch, ...)``; the batch axis is dynamic, every other axis
is fixed by the model's input shape.

ONNX uses torch's TorchScript-based exporter (``torch.onnx.export(...,
dynamo=False)``): it needs only the ``onnx`` package (the dynamo exporter
also needs ``onnxscript``), and Keras 3 makes the same choice on its torch
backend for a dynamic batch axis. ``format="torch"`` writes a
``torch.export`` ExportedProgram (``.pt2``), Keras's ``format="torch"``.

Example:
    >>> import tempfile, numpy as np, onnxruntime as ort
    >>> from rnncast import Sequential
    >>> from rnncast.layers import LSTM, Dense
    >>> model = Sequential([LSTM(4, input_shape=(10, 2)), Dense(1)], seed=0)
    >>> path = model.export(tempfile.mkdtemp() + "/model.onnx", verbose=False)
    >>> session = ort.InferenceSession(path, providers=["CPUExecutionProvider"])
    >>> x = np.ones((3, 10, 2), dtype=np.float32)
    >>> bool(np.allclose(session.run(None, {"inputs": x})[0], model.predict(x), atol=1e-5))
    True
"""

from __future__ import annotations

import contextlib
import os
import warnings
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import torch

from rnncast._internal import output
from rnncast._internal.files import atomic_file
from rnncast._internal.version import __version__
from rnncast.exceptions import ConfigError, ShapeError

INPUT_NAME, OUTPUT_NAME = "inputs", "outputs"
DEFAULT_OPSET = 17  # LayerNormalization is one node from 17 on; onnxruntime >= 1.11 runs it
FORMATS = ("onnx", "torch")
INSTALL_HINT = 'pip install "rnncast[onnx]"'


def export_model(
    model: Any,
    filepath: str | os.PathLike[str],
    format: str = "onnx",
    verbose: bool | None = None,
    input_signature: Sequence[int | None] | None = None,
    opset_version: int | None = None,
) -> Path:
    """Write ``model`` for inference outside rnncast (what ``Sequential.export`` calls).

    Args:
        model: A built :class:`~rnncast.Sequential`.
        filepath: The file to write (``.onnx`` or ``.pt2``), atomically.
        format: ``"onnx"`` or ``"torch"`` (a ``torch.export`` ExportedProgram).
        verbose: Print where the file went (Keras's default ``None`` prints).
        input_signature: ``(None, timesteps, features)``, only needed for a
            model that is not built yet; the batch axis is always dynamic.
        opset_version: ONNX opset (default 17).

    Returns:
        The path written.

    Raises:
        ConfigError: an unknown format, a stateful model, or the ``onnx``
            package missing.
        ShapeError: an unbuilt model without ``input_signature``.
    """
    if format not in FORMATS:
        raise ConfigError(
            f"format={format!r} is not supported; use one of {FORMATS} (rnncast runs on "
            "torch, so Keras's 'tf_saved_model', 'openvino' and 'litert' are not available)."
        )
    path = Path(filepath)
    shape = _input_shape(model, input_signature)
    _check_exportable(model)
    if format == "onnx":
        _write_onnx(model, path, shape, opset_version)
    else:
        _write_torch(model, path, shape)
    if verbose is None or verbose:
        output.write(f"Saved artifact at '{path}'.")
    return path


def export_onnx(
    model: Any,
    filepath: str | os.PathLike[str],
    verbose: bool | None = None,
    input_signature: Sequence[int | None] | None = None,
    opset_version: int | None = None,
) -> Path:
    """Keras 3's ``export_onnx(model, filepath, ...)``: :func:`export_model` with ``format="onnx"``.

    Example:
        >>> import tempfile
        >>> from rnncast import Sequential
        >>> from rnncast.layers import LSTM, Dense
        >>> model = Sequential([LSTM(3, input_shape=(5, 2)), Dense(1)], seed=0)
        >>> export_onnx(model, tempfile.mkdtemp() + "/m.onnx", verbose=False).suffix
        '.onnx'
    """
    return export_model(model, filepath, "onnx", verbose, input_signature, opset_version)


def _write_onnx(
    model: Any, path: Path, shape: tuple[int, ...], opset_version: int | None = None
) -> None:
    """Trace ``model`` into an ONNX file with a dynamic batch axis."""
    onnx = require_onnx()
    sample = _sample(model, shape)  # (2, timesteps, features): nothing specialises on batch 1
    opset = DEFAULT_OPSET if opset_version is None else int(opset_version)
    with _inference(model), _quiet(), atomic_file(path) as temporary:
        torch.onnx.export(
            model,
            (sample,),
            str(temporary),
            dynamo=False,
            input_names=[INPUT_NAME],
            output_names=[OUTPUT_NAME],
            dynamic_axes={INPUT_NAME: {0: "batch"}, OUTPUT_NAME: {0: "batch"}},
            opset_version=opset,
            do_constant_folding=True,
        )
        proto = onnx.load(str(temporary))
        proto.doc_string = f"rnncast {__version__} Sequential {getattr(model, 'name', '')}"
        layers = ",".join(type(layer).__name__ for layer in model.layers)
        onnx.helper.set_model_props(proto, {"rnncast_version": __version__, "layers": layers})
        onnx.checker.check_model(proto, full_check=True)
        onnx.save(proto, str(temporary))


def _write_torch(model: Any, path: Path, shape: tuple[int, ...]) -> None:
    """Write a ``torch.export`` ExportedProgram with a dynamic batch axis (``.pt2``)."""
    sample = _sample(model, shape)  # (2, timesteps, features)
    batch = torch.export.Dim("batch", min=1)
    with _inference(model), _quiet():
        program = torch.export.export(model, (sample,), dynamic_shapes={"x": {0: batch}})
        with atomic_file(path) as temporary, open(temporary, "wb") as handle:
            torch.export.save(program, handle)


def require_onnx() -> Any:
    """The ``onnx`` module, or a ``ConfigError`` that says what to install."""
    try:
        import onnx
    except ImportError as err:
        raise ConfigError(
            f"ONNX export needs the onnx package (and onnxruntime to run the model): "
            f"{INSTALL_HINT}."
        ) from err
    return onnx


def _input_shape(model: Any, signature: Sequence[int | None] | None) -> tuple[int, ...]:
    """``(timesteps, features)`` of the model's input, building it from ``signature``."""
    if signature is not None:
        shape = tuple(signature)
        if len(shape) < 2 or not all(isinstance(n, int) and n > 0 for n in shape[1:]):
            raise ShapeError(
                f"input_signature={signature!r} must be (None, timesteps, features) with "
                "known sizes after the batch axis; the batch axis is always dynamic."
            )
        model._check_input((1, *shape[1:]))  # builds an unbuilt model; checks a built one
    if not model.built:
        raise ShapeError(
            "the model is not built, so its input shape is unknown: give the first layer "
            "input_shape=(timesteps, features), call model.build((None, timesteps, features)) "
            "or pass input_signature=(None, timesteps, features)."
        )
    shape = tuple(model.built_input_shape)
    if any(n is None for n in shape):
        raise ShapeError(
            f"the model's input shape {(None, *shape)} has an unknown size after the batch "
            "axis; pass input_signature=(None, timesteps, features) with every size known."
        )
    return shape


def _check_exportable(model: Any) -> None:
    stateful = [m.name for m in model.modules() if getattr(m, "stateful", False)]
    if stateful:
        raise ConfigError(
            f"layer(s) {stateful} are stateful: their state carries over from one batch to "
            "the next, which an exported graph cannot do. Rebuild the model with "
            "stateful=False, copy the weights (set_weights) and export that."
        )


def _sample(model: Any, shape: tuple[int, ...]) -> torch.Tensor:
    weight = next(model.parameters(), None)
    device = weight.device if weight is not None else torch.device("cpu")
    return torch.zeros((2, *shape), device=device)  # (batch, timesteps, features)


@contextlib.contextmanager
def _inference(model: Any) -> Iterator[None]:
    """Inference mode for the export; the model's own mode is restored after."""
    was_training = model.training
    model.eval()
    try:
        with torch.no_grad():
            yield
    finally:
        model.train(was_training)


@contextlib.contextmanager
def _quiet() -> Iterator[None]:
    """Hide the exporters' notes on fixed time and feature axes (the batch axis stays dynamic)."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", category=torch.jit.TracerWarning)
        warnings.filterwarnings("ignore", message=".*legacy TorchScript-based ONNX export.*")
        warnings.filterwarnings("ignore", message=".*feature will be removed.*")
        warnings.filterwarnings("ignore", message=".*were assigned during export.*")
        warnings.filterwarnings("ignore", message=".*batch_size other than 1.*")  # packed only
        warnings.filterwarnings("ignore", message="Constant folding - Only steps=1.*")
        yield

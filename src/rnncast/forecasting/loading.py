"""``rnncast.load``: open any rnncast artifact by the kind recorded in its ``config.json``."""

from __future__ import annotations

import os
from pathlib import Path

from rnncast import saving
from rnncast.forecasting.forecaster import Forecaster
from rnncast.models.devices import place
from rnncast.models.sequential import Sequential


def load(path: str | os.PathLike[str], device: str | None = None) -> Sequential | Forecaster:
    """Load a saved :class:`~rnncast.Forecaster` or ``Sequential`` model, whichever it holds.

    Args:
        path: The artifact folder written by ``save``, or a Keras ``.keras``
            file (read with :func:`rnncast.saving.load_model`).
        device: Where the loaded model runs (``"cpu"``, ``"cuda"``, ...);
            ``None``: ``"auto"``. Weights are read to the CPU first, and the
            artifact records no device, so it loads on any machine.

    Returns:
        A :class:`Forecaster` for a forecaster artifact, else a compiled
        :class:`Sequential`.

    Raises:
        ArtifactError: The folder is missing, damaged or not an rnncast artifact.

    Example:
        >>> import tempfile, rnncast as rc
        >>> from rnncast.layers import LSTM, Dense
        >>> model = rc.Sequential([LSTM(4, input_shape=(5, 1)), Dense(1)], seed=0)
        >>> folder = tempfile.mkdtemp() + "/m"
        >>> model.save(folder)
        >>> type(rc.load(folder)).__name__
        'Sequential'
    """
    if str(path).endswith(".keras"):
        model = saving.load_model(path)
    else:
        folder = saving.resolve_folder(Path(path))
        if saving.read_config(folder, kind=None).get("kind") == "forecaster":
            return Forecaster.load(folder, device=device)
        model = saving.load_model(folder)
    if device is not None:
        place(model, device)
    return model

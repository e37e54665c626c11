"""``rnncast.load``: open any rnncast artifact by the kind recorded in its ``config.json``."""

from __future__ import annotations

import os
from pathlib import Path

from rnncast import saving
from rnncast.forecasting.forecaster import Forecaster
from rnncast.models.sequential import Sequential


def load(path: str | os.PathLike[str]) -> Sequential | Forecaster:
    """Load a saved :class:`~rnncast.Forecaster` or ``Sequential`` model, whichever it holds.

    Args:
        path: The artifact folder written by ``save``, or a Keras ``.keras``
            file (read with :func:`rnncast.saving.load_model`).

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
        return saving.load_model(path)
    folder = saving.resolve_folder(Path(path))
    kind = saving.read_config(folder, kind=None).get("kind")
    return Forecaster.load(folder) if kind == "forecaster" else saving.load_model(folder)

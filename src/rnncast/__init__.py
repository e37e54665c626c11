"""rnncast: Keras-style recurrent forecasting on PyTorch, without the usual traps.

Example:
    >>> import rnncast as rc
    >>> frame = rc.datasets.load_sample("MSFT")
    >>> train, val, test = rc.data.chronological_split(frame)
"""

from rnncast import (
    backend,
    callbacks,
    constraints,
    data,
    datasets,
    evaluate,
    forecasting,
    interop,
    layers,
    losses,
    metrics,
    mixed_precision,
    models,
    optimizers,
    regularizers,
    saving,
    utils,
)
from rnncast._internal.version import __version__
from rnncast.exceptions import (
    ArtifactError,
    ConfigError,
    DataError,
    DownloadError,
    FitError,
    NotFittedError,
    RnncastError,
    ShapeError,
    TrainingDivergedError,
)
from rnncast.forecasting import backtest, baselines
from rnncast.forecasting.forecaster import Forecaster
from rnncast.forecasting.loading import load
from rnncast.interop import load_keras
from rnncast.layers import Input
from rnncast.models import Sequential
from rnncast.saving import load_model

__all__ = [
    "ArtifactError",
    "ConfigError",
    "DataError",
    "DownloadError",
    "FitError",
    "Forecaster",
    "Input",
    "NotFittedError",
    "RnncastError",
    "Sequential",
    "ShapeError",
    "TrainingDivergedError",
    "__version__",
    "backend",
    "backtest",
    "baselines",
    "callbacks",
    "constraints",
    "data",
    "datasets",
    "evaluate",
    "forecasting",
    "interop",
    "layers",
    "load",
    "load_keras",
    "load_model",
    "losses",
    "metrics",
    "mixed_precision",
    "models",
    "optimizers",
    "regularizers",
    "saving",
    "utils",
]

"""rnncast: Keras-style recurrent forecasting on PyTorch, without the usual traps.

Example:
    >>> import rnncast as rc
    >>> frame = rc.datasets.load_sample("MSFT")
    >>> train, val, test = rc.data.chronological_split(frame)
"""

from importlib.metadata import PackageNotFoundError, version

from rnncast import (
    backtest,
    baselines,
    callbacks,
    data,
    datasets,
    evaluate,
    forecast,
    interop,
    io,
    layers,
    losses,
    metrics,
    optimizers,
    schedules,
    trading,
    utils,
)
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
from rnncast.forecast import Forecaster
from rnncast.interop import load_keras
from rnncast.io import load, load_model
from rnncast.model import Sequential

try:
    __version__ = version("rnncast")
except PackageNotFoundError:  # running from a source tree that is not installed
    __version__ = "0.0.0"

__all__ = [
    "ArtifactError",
    "ConfigError",
    "DataError",
    "DownloadError",
    "FitError",
    "Forecaster",
    "NotFittedError",
    "RnncastError",
    "Sequential",
    "ShapeError",
    "TrainingDivergedError",
    "__version__",
    "backtest",
    "baselines",
    "callbacks",
    "data",
    "datasets",
    "evaluate",
    "forecast",
    "interop",
    "io",
    "layers",
    "load",
    "load_keras",
    "load_model",
    "losses",
    "metrics",
    "optimizers",
    "schedules",
    "trading",
    "utils",
]

"""rnncast: Keras-style recurrent forecasting on PyTorch, without the usual traps.

Example:
    >>> import rnncast as rc
    >>> frame = rc.datasets.load_sample("MSFT")
    >>> train, val, test = rc.data.chronological_split(frame)
"""

from importlib.metadata import PackageNotFoundError, version

from rnncast import data, datasets, layers, utils
from rnncast.exceptions import (
    ArtifactError,
    ConfigError,
    DataError,
    DownloadError,
    FitError,
    NotFittedError,
    RnncastError,
    ShapeError,
)
from rnncast.interop import load_keras
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
    "NotFittedError",
    "RnncastError",
    "Sequential",
    "ShapeError",
    "__version__",
    "data",
    "datasets",
    "interop",
    "layers",
    "load_keras",
    "utils",
]

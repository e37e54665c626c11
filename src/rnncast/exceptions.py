"""Exceptions raised by rnncast.

Every error that bad input can cause is an :class:`RnncastError` subclass whose
message names the problem, the offending value or column, and the fix. The
subclasses also derive from the built-in exception a Python user would expect
(``ValueError`` for bad data, ``AttributeError`` for unfitted state, ...), so
existing ``except ValueError`` code keeps working.

Example:
    >>> import rnncast as rc
    >>> try:
    ...     rc.datasets.load_sample("TSLA")
    ... except rc.RnncastError as err:
    ...     print(type(err).__name__)
    DataError
"""

from __future__ import annotations


class RnncastError(Exception):
    """Base class of every error rnncast raises on purpose."""


class DataError(RnncastError, ValueError):
    """Input data is malformed: missing columns, unsorted dates, NaN, bad prices."""


class ShapeError(RnncastError, ValueError):
    """Arrays do not have the shape a model or transform expects."""


class ConfigError(RnncastError, ValueError):
    """An argument or configuration value is invalid."""


class FitError(RnncastError, RuntimeError):
    """Training failed (for example a NaN loss)."""


class TrainingDivergedError(FitError):
    """The loss became NaN or infinite; ``history`` holds the epochs finished before."""

    def __init__(self, message: str, history: object = None) -> None:
        super().__init__(message)
        self.history = history


class ArtifactError(RnncastError, OSError):
    """A saved model or forecaster cannot be written or read."""


class DownloadError(RnncastError, ConnectionError):
    """Data could not be downloaded (no network, missing extra, unknown ticker)."""


class NotFittedError(RnncastError, ValueError, AttributeError):
    """A fitted attribute was used before ``fit``; mirrors scikit-learn's NotFittedError."""

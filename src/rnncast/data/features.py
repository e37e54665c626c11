"""Feature transforms: what the network sees, written ``"column:transform"``.

A feature is a column name, optionally followed by a transform of that column:

==================  ================================  ==================
spec                input on row ``t``                 needs row ``t-1``
==================  ================================  ==================
``close``           ``x[t]`` (the level)              no
``close:log``       ``log(x[t])``                     no
``close:return``    ``x[t] / x[t-1] - 1``             yes
``close:log_return`` ``log(x[t] / x[t-1])``           yes
``close:diff``      ``x[t] - x[t-1]``                 yes
==================  ================================  ==================

``close:level`` is the same as ``close``. Transforms that need the previous
row take it from the rows before (the context), never from later rows; the
very first row of a series without context has no input and is dropped.
Everything is computed in float64.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from rnncast.exceptions import ConfigError, DataError

FEATURE_TRANSFORMS = ("level", "log", "return", "log_return", "diff")
_NEEDS_PREVIOUS = ("return", "log_return", "diff")
_NEEDS_POSITIVE = ("log", "return", "log_return")


@dataclass(frozen=True)
class Feature:
    """One parsed feature spec: the ``column`` it reads and the ``transform`` applied."""

    column: str
    transform: str = "level"

    @property
    def lag(self) -> int:
        """Earlier rows the transform needs (0 or 1)."""
        return int(self.transform in _NEEDS_PREVIOUS)


def parse_feature(spec: str) -> Feature:
    """Parse ``"column"`` or ``"column:transform"``.

    Raises:
        ConfigError: Not a string, an empty column, or an unknown transform.

    Example:
        >>> parse_feature("close:log_return")
        Feature(column='close', transform='log_return')
        >>> parse_feature("volume")
        Feature(column='volume', transform='level')
    """
    if not isinstance(spec, str):
        raise ConfigError(
            f"feature {spec!r} is not a string; write 'column' or 'column:transform'."
        )
    column, _, transform = spec.rpartition(":") if ":" in spec else (spec, "", "level")
    if not column:
        raise ConfigError(f"feature {spec!r} names no column; write e.g. 'close:log_return'.")
    if transform not in FEATURE_TRANSFORMS:
        raise ConfigError(
            f"feature {spec!r} has an unknown transform {transform!r}; "
            f"use one of {FEATURE_TRANSFORMS} (e.g. '{column}:log_return')."
        )
    return Feature(column, transform)


def parse_features(specs: list[str]) -> list[Feature]:
    """Parse every spec of ``specs`` (see :func:`parse_feature`)."""
    return [parse_feature(spec) for spec in specs]


def feature_columns(specs: list[str]) -> list[str]:
    """The distinct columns the specs read, in order of first use.

    Example:
        >>> feature_columns(["close", "close:log_return", "volume:log"])
        ['close', 'volume']
    """
    return list(dict.fromkeys(f.column for f in parse_features(specs)))


def max_lag(features: list[Feature]) -> int:
    """Earlier rows needed by the most demanding feature (0 or 1)."""
    return max((f.lag for f in features), default=0)


def transform_column(values: np.ndarray, transform: str, lag: int) -> np.ndarray:
    """Apply ``transform`` along axis 0, dropping the first ``lag`` rows.

    Args:
        values: float64 ``(n_rows, ...)`` raw values.
        transform: One of :data:`FEATURE_TRANSFORMS`.
        lag: Leading rows that only serve as previous rows (``>=`` the
            transform's own need).

    Returns:
        float64 ``(n_rows - lag, ...)``: row ``i`` is the input of row ``i + lag``.

    Example:
        >>> transform_column(np.array([10.0, 11.0, 12.1]), "return", 1).round(6).tolist()
        [0.1, 0.1]
    """
    current = values[lag:]
    if transform == "level":
        return current
    if transform == "log":
        return np.log(current)
    previous = values[lag - 1 : len(values) - 1]  # row t-1 for every kept row t
    if transform == "return":
        return current / previous - 1.0
    if transform == "log_return":
        return np.log(current / previous)
    return current - previous


def feature_rows(
    raw: np.ndarray, columns: list[str], features: list[Feature], lag: int
) -> np.ndarray:
    """Transformed inputs ``(n_rows - lag, n_features)`` from raw columns ``(n_rows, n_columns)``.

    Example:
        >>> raw = np.array([[10.0, 5.0], [11.0, 6.0], [12.1, 7.0]])
        >>> feats = parse_features(["close:log_return", "volume"])
        >>> feature_rows(raw, ["close", "volume"], feats, 1).round(4).tolist()
        [[0.0953, 6.0], [0.0953, 7.0]]
    """
    out = np.empty((len(raw) - lag, len(features)))  # (n_rows - lag, n_features)
    for j, feature in enumerate(features):
        out[:, j] = transform_column(raw[:, columns.index(feature.column)], feature.transform, lag)
    return out


def next_row(price: np.ndarray, previous: np.ndarray, features: list[Feature]) -> np.ndarray:
    """Unscaled inputs ``(n, n_features)`` of a new row whose (only) column value is ``price``.

    For feeding forecasts back (the recursive strategy): every feature must
    read the forecast column; ``previous`` is that column on the row before.

    Example:
        >>> feats = parse_features(["close", "close:log_return"])
        >>> next_row(np.array([11.0]), np.array([10.0]), feats).round(4).tolist()
        [[11.0, 0.0953]]
    """
    pair = np.stack([previous, price]).astype(np.float64)  # (2, n): row t-1, row t
    return np.stack([transform_column(pair, f.transform, 1)[0] for f in features], axis=1)


def check_positive(raw: np.ndarray, columns: list[str], features: list[Feature], dates) -> None:
    """Raise ``DataError`` if a log or return feature reads a value <= 0."""
    for feature in features:
        if feature.transform not in _NEEDS_POSITIVE:
            continue
        bad = np.flatnonzero(raw[:, columns.index(feature.column)] <= 0)
        if len(bad):
            raise DataError(
                f"feature '{feature.column}:{feature.transform}' needs positive values but "
                f"{feature.column!r} is {raw[bad[0], columns.index(feature.column)]} on "
                f"{dates[bad[0]].date()}; use '{feature.column}:diff' or the level "
                f"'{feature.column}', or clean the data."
            )

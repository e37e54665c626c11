"""Checks and alignment of forecast frames for :func:`rnncast.evaluate.evaluate_forecasts`.

A forecast frame is indexed by the date of step 1 and has float columns
``step_1 .. step_H``; step ``k`` targets the price ``k - 1`` rows after the
index date in the actual series.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike

from rnncast.evaluate.conventions import NAIVE
from rnncast.exceptions import DataError, ShapeError


def as_1d(values: ArrayLike, name: str) -> np.ndarray:
    """Non-empty, finite, 1-D float64 array."""
    array = np.asarray(values, dtype=np.float64)
    if array.ndim != 1 or array.size == 0:
        raise ShapeError(f"{name} must be a non-empty 1-D array, got shape {array.shape}.")
    if not np.isfinite(array).all():
        raise DataError(
            f"{name} contains NaN or infinite values at position "
            f"{int(np.flatnonzero(~np.isfinite(array))[0])}."
        )
    return array


def as_1d_arrays(**named: ArrayLike) -> list[np.ndarray]:
    """Named 1-D float64 arrays, all of the same length."""
    arrays = [as_1d(values, name) for name, values in named.items()]
    lengths = {name: len(a) for name, a in zip(named, arrays, strict=True)}
    if len(set(lengths.values())) > 1:
        raise ShapeError(f"arrays must have the same length, got {lengths}.")
    return arrays


def forecast_values(name: str, frame: pd.DataFrame, allow_infinite: bool = False) -> np.ndarray:
    """float64 ``(n_rows, H)`` of a forecast frame, after checking its format.

    ``allow_infinite`` admits +-inf (an unbounded interval); NaN is never admitted.
    """
    if not isinstance(frame, pd.DataFrame) or not isinstance(frame.index, pd.DatetimeIndex):
        raise ShapeError(
            f"forecast {name!r} must be a DataFrame with a DatetimeIndex, "
            f"got {type(frame).__name__}."
        )
    expected = [f"step_{k}" for k in range(1, frame.shape[1] + 1)]
    if frame.shape[1] == 0 or list(frame.columns) != expected:
        raise ShapeError(
            f"forecast {name!r} has columns {list(frame.columns)}; expected "
            "step_1 .. step_H in order."
        )
    if len(frame) == 0:
        raise ShapeError(f"forecast {name!r} has no rows.")
    try:
        values = frame.to_numpy(dtype=np.float64, na_value=np.nan)
    except (TypeError, ValueError) as err:
        raise DataError(f"forecast {name!r} is not numeric: {err}") from err
    bad = np.isnan(values) if allow_infinite else ~np.isfinite(values)
    if bad.any():
        row, col = np.argwhere(bad)[0]
        raise DataError(
            f"forecast {name!r} is NaN or infinite in {expected[col]} on {frame.index[row].date()}."
        )
    return values


def check_same_index(ref_name: str, ref: pd.Index, name: str, other: pd.Index) -> None:
    """Raise a ShapeError naming both forecasts unless their indexes are equal."""
    if ref.equals(other):
        return
    n = min(len(ref), len(other))
    differs = np.flatnonzero(np.asarray(ref[:n]) != np.asarray(other[:n]))
    if len(differs):
        pos = differs[0]
        where = f"row {pos}: {ref[pos].date()} in {ref_name!r} vs {other[pos].date()} in {name!r}"
    else:
        longer, label = (ref, ref_name) if len(ref) > n else (other, name)
        where = f"row {n}: {longer[n].date()} only in {label!r}"
    raise ShapeError(
        f"forecasts {ref_name!r} and {name!r} have different indexes "
        f"({len(ref)} vs {len(other)} rows); first difference at {where}."
    )


def check_horizon(name: str, steps: int, horizon: int) -> None:
    """Raise a ShapeError unless forecast ``name`` has ``horizon`` steps."""
    if steps != horizon:
        raise ShapeError(
            f"forecast {name!r} has {steps} steps but {NAIVE!r} has {horizon}; "
            "all forecasts need the same step_1 .. step_H columns."
        )


def targets_by_step(actual: pd.Series, index: pd.DatetimeIndex, horizon: int) -> np.ndarray:
    """Actual price of every row and step: ``(n_rows, H)``, step ``k`` is ``k - 1`` rows later."""
    if not isinstance(actual, pd.Series) or not isinstance(actual.index, pd.DatetimeIndex):
        raise DataError("actual must be a pandas Series indexed by date.")
    if not (actual.index.is_monotonic_increasing and actual.index.is_unique):
        raise DataError(
            "actual's dates must be unique and ascending (one series; evaluate "
            "multi-ticker frames ticker by ticker)."
        )
    prices = as_1d(actual, "actual")
    positions = actual.index.get_indexer(index)
    if (positions < 0).any():
        missing = index[np.flatnonzero(positions < 0)[0]]
        raise DataError(
            f"forecast date {missing.date()} is not in actual; actual must cover "
            "every forecast date."
        )
    rows = positions[:, None] + np.arange(horizon)
    beyond = rows >= len(prices)
    if beyond.any():
        row, col = np.argwhere(beyond)[0]
        raise DataError(
            f"step_{col + 1} of the forecast dated {index[row].date()} targets a "
            f"session after actual ends ({actual.index[-1].date()}); drop such rows."
        )
    return prices[rows]


def base_values(base: pd.Series | ArrayLike, index: pd.DatetimeIndex) -> np.ndarray:
    """The last observed price of every forecast row as float64, checked against ``index``."""
    if isinstance(base, pd.Series) and not base.index.equals(index):
        raise ShapeError("base must have the same index as the forecast frames.")
    values = as_1d(base, "base")
    if len(values) != len(index):
        raise ShapeError(f"base has {len(values)} values but the forecasts have {len(index)} rows.")
    return values


def interval_hits(
    intervals: Mapping[str, Mapping[str, pd.DataFrame]],
    index: pd.DatetimeIndex,
    horizon: int,
    targets: np.ndarray,
) -> dict[str, np.ndarray]:
    """Whether each target lies inside ``[lower, upper]``: bool ``(n_rows, H)`` per name.

    Bounds may be infinite (an unbounded conformal interval always covers).
    """
    hits = {}
    for name, bounds in intervals.items():
        if set(bounds) != {"lower", "upper"}:
            raise DataError(
                f"intervals[{name!r}] must have keys 'lower' and 'upper', got {sorted(bounds)}."
            )
        label = f"{name} interval"
        lower = forecast_values(f"{label} lower", bounds["lower"], allow_infinite=True)
        upper = forecast_values(f"{label} upper", bounds["upper"], allow_infinite=True)
        for side in ("lower", "upper"):
            check_same_index(NAIVE, index, f"{label} {side}", bounds[side].index)
            check_horizon(f"{label} {side}", bounds[side].shape[1], horizon)
        if (lower > upper).any():
            raise DataError(f"intervals[{name!r}] has lower > upper on some rows.")
        hits[name] = (lower <= targets) & (targets <= upper)  # (n, H)
    return hits

"""Target transforms: what the network learns to predict, and the way back to prices.

Every horizon step is measured from the same *base price*: the target value on
the last row of the input window (the last price the model sees). With ``p``
the target column, ``t`` that last row and ``k = 1..horizon``:

=============  ==============================  ==============================
transform      target ``y[k]``                 back to price
=============  ==============================  ==============================
``price``      ``p[t+k]``                      ``y[k]``
``return``     ``p[t+k] / p[t] - 1``           ``p[t] * (1 + y[k])``
``log_return`` ``log(p[t+k] / p[t])``          ``p[t] * exp(y[k])``
``diff``       ``p[t+k] - p[t]``               ``p[t] + y[k]``
=============  ==============================  ==============================

All of it is computed in float64.
"""

from __future__ import annotations

import numpy as np

from rnncast.exceptions import ConfigError, ShapeError

TARGET_TRANSFORMS = ("price", "return", "log_return", "diff")


def check_transform(name: str) -> str:
    """Return ``name`` if it is a known target transform, else raise ``ConfigError``."""
    if name not in TARGET_TRANSFORMS:
        raise ConfigError(
            f"target_transform={name!r} is not supported; use one of {TARGET_TRANSFORMS}."
        )
    return name


def make_targets(
    prices: np.ndarray, first_target: np.ndarray, horizon: int, transform: str
) -> np.ndarray:
    """Targets for windows whose first forecast row is ``first_target``.

    Args:
        prices: float64 ``(n_rows,)`` target column.
        first_target: int ``(n_windows,)`` row index of each window's first
            target; the base price is the row before it.
        horizon: Number of steps ahead.
        transform: One of :data:`TARGET_TRANSFORMS`.

    Returns:
        float64 ``(n_windows, horizon)``.

    Example:
        >>> import numpy as np
        >>> make_targets(np.array([10.0, 11.0, 12.1]), np.array([1, 2]), 1, "return").round(6)
        array([[0.1],
               [0.1]])
    """
    rows = first_target[:, None] + np.arange(horizon)  # (n_windows, horizon)
    future = prices[rows]
    if transform == "price":
        return future
    base = prices[first_target - 1][:, None]  # (n_windows, 1)
    return to_target(future, base, transform)


def to_target(future: np.ndarray, base: np.ndarray, transform: str) -> np.ndarray:
    """Apply ``transform`` to future prices given base prices (broadcasting)."""
    if transform == "price":
        return np.asarray(future, dtype=np.float64)
    if transform == "return":
        return future / base - 1.0
    if transform == "log_return":
        return np.log(future / base)
    return future - base


def to_price(values: np.ndarray, base: np.ndarray | None, transform: str) -> np.ndarray:
    """Invert :func:`to_target`: float64 prices of the same shape as ``values``.

    Args:
        values: Unscaled targets ``(n_windows, horizon)``.
        base: Base prices ``(n_windows,)``; required unless ``transform="price"``.
        transform: One of :data:`TARGET_TRANSFORMS`.
    """
    values = np.asarray(values, dtype=np.float64)
    if transform == "price":
        return values
    if base is None:
        raise ConfigError(
            f"target_transform={transform!r} needs the base price of every window to get back "
            "to prices: pass base=win.base_prices(part, context=...) with the same part and "
            "context the windows were cut from."
        )
    base = np.asarray(base, dtype=np.float64).reshape(-1, 1)  # (n_windows, 1)
    if len(base) != len(values):
        raise ShapeError(
            f"base has {len(base)} prices but there are {len(values)} windows; "
            "pass the base prices of exactly these windows."
        )
    if transform == "return":
        return base * (1.0 + values)
    if transform == "log_return":
        return base * np.exp(values)
    return base + values

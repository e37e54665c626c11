"""Column scalers fitted on training rows only (min-max, standard, robust, none).

All scalers share one form, ``scaled = (x - center_) / scale_``, so they are
easy to save (two float64 vectors) and to invert exactly. The numbers match
scikit-learn's ``MinMaxScaler``, ``StandardScaler`` and ``RobustScaler``.
"""

from __future__ import annotations

import numpy as np

from rnncast.exceptions import ConfigError, DataError, NotFittedError

SCALERS = ("minmax", "standard", "robust", None)


class Scaler:
    """Per-column affine scaler, scikit-learn style.

    Args:
        method: ``"minmax"`` maps the training range to [0, 1] (values outside
            the training range, e.g. later, higher prices, fall outside [0, 1]
            on purpose: nothing is clipped); ``"standard"`` subtracts the mean
            and divides by the standard deviation (ddof=0); ``"robust"``
            subtracts the median and divides by the inter-quartile range;
            ``None`` leaves values unchanged. A constant column gets scale 1,
            as in scikit-learn.

    Attributes:
        center_: float64 array ``(n_features,)``, set by :meth:`fit`.
        scale_: float64 array ``(n_features,)``, set by :meth:`fit`.

    Example:
        >>> import numpy as np
        >>> scaler = Scaler("minmax").fit(np.array([[1.0], [3.0]]))
        >>> scaler.transform(np.array([[2.0], [5.0]])).ravel().tolist()
        [0.5, 2.0]
    """

    def __init__(self, method: str | None = "minmax") -> None:
        if method not in SCALERS:
            raise ConfigError(f"scaler={method!r} is not supported; use one of {SCALERS}.")
        self.method = method

    def fit(self, values: np.ndarray) -> Scaler:
        """Learn ``center_`` and ``scale_`` from ``values`` of shape ``(n_rows, n_features)``."""
        values = np.asarray(values, dtype=np.float64)
        if values.ndim != 2 or len(values) == 0:
            raise DataError(f"a scaler needs a non-empty 2-D array, got shape {values.shape}.")
        center, scale = _statistics(self.method, values)
        self.center_ = center
        self.scale_ = np.where(scale > 0, scale, 1.0)
        return self

    def transform(self, values: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
        """Return ``(values - center_) / scale_``, computed in float64.

        ``out`` (e.g. a float32 array) receives the result without a float64
        copy of the whole input staying alive.
        """
        self._check_fitted()
        scaled = (np.asarray(values, dtype=np.float64) - self.center_) / self.scale_
        if out is None:
            return scaled
        out[...] = scaled
        return out

    def inverse_transform(self, values: np.ndarray) -> np.ndarray:
        """Map scaled values back to the original units (float64)."""
        self._check_fitted()
        return np.asarray(values, dtype=np.float64) * self.scale_ + self.center_

    def to_dict(self) -> dict:
        """Plain-data form for saving (JSON-friendly lists)."""
        self._check_fitted()
        return {
            "method": self.method,
            "center": self.center_.tolist(),
            "scale": self.scale_.tolist(),
        }

    @classmethod
    def from_dict(cls, state: dict) -> Scaler:
        """Rebuild a fitted scaler from :meth:`to_dict` output."""
        scaler = cls(state["method"])
        scaler.center_ = np.asarray(state["center"], dtype=np.float64)
        scaler.scale_ = np.asarray(state["scale"], dtype=np.float64)
        return scaler

    def __repr__(self) -> str:
        return f"Scaler(method={self.method!r})"

    def _check_fitted(self) -> None:
        if not hasattr(self, "center_"):
            raise NotFittedError("this Scaler is not fitted yet; call fit(train_values) first.")


def _statistics(method: str | None, values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    if method == "minmax":
        low = values.min(axis=0)
        return low, values.max(axis=0) - low
    if method == "standard":
        return values.mean(axis=0), values.std(axis=0)
    if method == "robust":
        q25, median, q75 = np.percentile(values, [25, 50, 75], axis=0)
        return median, q75 - q25
    width = values.shape[1]
    return np.zeros(width), np.ones(width)

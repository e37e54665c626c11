"""Prediction intervals of a Forecaster: split conformal and MC dropout, both on the log scale.

Both methods are calibrated on the Forecaster's **calibration rows**: the last
part of the validation rows (``calibration=0.3`` of them by default), which
early stopping never sees. Calibrating on the rows that chose the stopping
epoch would make the residuals look smaller than they are on new data.

* ``"conformal"`` (default): split conformal prediction on scale-free scores
  ``|log(actual / forecast)|``, so a band's width is a share of the price
  level, not a fixed number of dollars (Vovk et al. 2005; Angelopoulos &
  Bates 2021). The band is ``forecast * exp(+-q)`` with ``q`` the conformal
  quantile of the calibration scores, per step. Too few calibration rows for
  the coverage asked make ``q`` infinite: the honest interval is unbounded.
* ``"mc_dropout"``: dropout kept on at inference gives the spread of the
  network's own forecasts, i.e. parameter uncertainty only (Gal & Ghahramani
  2016), which alone covers far less than promised. The band adds the noise
  variance estimated from the calibration residuals (Zhu & Laptev 2017):
  ``sd = sqrt(var_dropout + mean(log_residual**2))`` on the log scale, and
  ``forecast * exp(+-z * sd)`` with ``z`` the normal quantile.

Example:
    >>> import numpy as np
    >>> scores = np.abs(np.random.default_rng(0).normal(0, 0.01, (199, 1)))  # (n, steps)
    >>> lower, upper = conformal_band(np.array([[100.0]]), scores, 0.9)
    >>> bool(lower[0, 0] < 100.0 < upper[0, 0])
    True
"""

from __future__ import annotations

import functools
import math
import warnings

import numpy as np
import pandas as pd

from rnncast._internal.checks import positive_int
from rnncast.exceptions import ConfigError, DataError, NotFittedError
from rnncast.forecasting.conformal import (
    check_coverage,
    conformal_quantile,
    log_band,
    log_scores,
    min_calibration_size,
)

INTERVAL_METHODS = ("conformal", "mc_dropout")
RECURSIVE_CALIBRATION_STEPS = 10  # steps calibrated for a recursive forecaster


def check_method(method: str) -> str:
    """``method`` if it is one of :data:`INTERVAL_METHODS`, else a ConfigError."""
    if method not in INTERVAL_METHODS:
        raise ConfigError(f"interval_method={method!r}; use one of {INTERVAL_METHODS}.")
    return method


def split_calibration(
    validation: pd.DataFrame, calibration: float, lookback: int
) -> tuple[pd.DataFrame, pd.DataFrame | None]:
    """Cut the validation rows into (early-stopping rows, calibration rows).

    Args:
        validation: The rows after the training rows.
        calibration: Share of the validation rows (its last part) kept for
            calibrating intervals, in [0, 1); 0 keeps none.
        lookback: Rows per input window (the calibration part needs more).

    Returns:
        ``(early_stopping_rows, calibration_rows or None)``.

    Example:
        >>> import pandas as pd
        >>> rows = pd.DataFrame({"close": range(100)})
        >>> early, calib = split_calibration(rows, 0.3, lookback=5)
        >>> len(early), len(calib)
        (70, 30)
    """
    if not 0 <= calibration < 1:
        raise ConfigError(
            f"calibration={calibration!r} must be a share of the validation rows in [0, 1), "
            "e.g. 0.3 (0 turns intervals off)."
        )
    n_calibration = math.floor(len(validation) * calibration)
    if n_calibration <= lookback or len(validation) - n_calibration < 1:
        return validation, None
    cut = len(validation) - n_calibration
    return validation.iloc[:cut], validation.iloc[cut:]


def calibration_scores(forecasts: pd.DataFrame, actual: pd.Series) -> np.ndarray:
    """Log scores ``|log(actual / forecast)|`` ``(n, steps)`` of date-indexed step forecasts.

    Args:
        forecasts: Frame indexed by the date of step 1, columns ``step_1 .. step_S``.
        actual: The actual prices covering every targeted session.
    """
    start = actual.index.get_indexer(forecasts.index)  # (n,)
    rows = start[:, None] + np.arange(forecasts.shape[1])  # (n, steps)
    targets, values = actual.to_numpy()[rows], forecasts.to_numpy()  # (n, steps) each
    return np.stack([log_scores(targets[:, k], values[:, k]) for k in range(values.shape[1])], 1)


def conformal_band(
    forecast: np.ndarray, scores: np.ndarray, coverage: float
) -> tuple[np.ndarray, np.ndarray]:
    """Split-conformal ``(lower, upper)`` around ``forecast (n, steps)`` from ``scores (m, S)``.

    Warns (and returns infinite bounds) when ``m`` calibration rows are too
    few for ``coverage``.
    """
    steps = forecast.shape[1]
    q = [conformal_quantile(scores[:, k], coverage) for k in range(steps)]  # one per step
    if np.isinf(q).any():
        warnings.warn(
            f"the {coverage:.0%} conformal interval is unbounded: {len(scores)} calibration "
            f"rows are too few (at least {min_calibration_size(coverage)} are needed); "
            "lengthen the validation part or lower the coverage.",
            stacklevel=3,
        )
    bands = [log_band(forecast[:, k], q[k]) for k in range(steps)]
    return np.stack([b[0] for b in bands], 1), np.stack([b[1] for b in bands], 1)


def mc_dropout_band(
    forecast: np.ndarray, draws: np.ndarray, scores: np.ndarray, coverage: float
) -> tuple[np.ndarray, np.ndarray]:
    """MC-dropout band with the calibration noise term, on the log scale.

    Args:
        forecast: Point forecasts ``(n, steps)`` (dropout off).
        draws: Forecasts with dropout on, ``(n, samples, steps)``.
        scores: Calibration log scores ``(m, S)`` with ``S >= steps``.
        coverage: Nominal coverage in (0, 1).

    Returns:
        ``(lower, upper)``, each ``(n, steps)``.
    """
    steps = forecast.shape[1]
    model_variance = np.log(draws).var(axis=1)  # (n, steps)
    noise_variance = np.mean(scores[:, :steps] ** 2, axis=0)  # (steps,)
    sd = np.sqrt(model_variance + noise_variance[None, :])  # (n, steps)
    from scipy.stats import norm  # imported on use: scipy.stats is slow to import

    z = norm.ppf(1 - (1 - check_coverage(coverage)) / 2)
    return forecast * np.exp(-z * sd), forecast * np.exp(z * sd)


class IntervalMethods:
    """The Forecaster's interval methods (mixed into :class:`~rnncast.Forecaster`).

    They read the fitted Forecaster's ``model_``, ``windowizer_`` and
    ``calibration_scores_`` and its forecasting helpers.
    """

    def _calibration_scores(self, rows: pd.DataFrame, context: pd.DataFrame) -> np.ndarray | None:
        """Log scores ``(n, steps)`` of the forecasts of the calibration ``rows``."""
        steps = (
            self.horizon
            if self.strategy == "direct"
            else max(self.horizon, RECURSIVE_CALIBRATION_STEPS)
        )
        try:
            forecasts = self._forecast_windows(rows, context, steps)
        except DataError:
            return None
        return calibration_scores(forecasts, rows[self.target])

    def conformal_quantiles(self, coverage: float, steps: int) -> np.ndarray:
        """Log-scale half-widths ``q (steps,)``: the band is ``forecast * exp(+-q)``.

        ``q`` is infinite when the calibration rows are too few for ``coverage``.
        """
        scores = self._calibrated(steps)
        check_coverage(coverage)
        return np.array([conformal_quantile(scores[:, k], coverage) for k in range(steps)])

    def _calibrated(self, steps: int) -> np.ndarray:
        """The calibration scores of the first ``steps`` steps, ``(n, steps)``."""
        if self.calibration_scores_ is None:
            raise NotFittedError(
                "prediction intervals need calibration rows: pass validation= to fit, long "
                "enough that its last `calibration` share (default 30 %) holds more than "
                f"lookback={self.lookback} rows."
            )
        if steps > self.calibration_scores_.shape[1]:
            raise ConfigError(
                f"intervals are calibrated for {self.calibration_scores_.shape[1]} steps, "
                f"not {steps}."
            )
        return self.calibration_scores_[:, :steps]

    def interval_bounds(
        self,
        X: np.ndarray,
        base: np.ndarray,
        forecast: np.ndarray,
        coverage: float,
        method: str = "conformal",
        samples: int = 100,
    ) -> tuple[np.ndarray, np.ndarray]:
        """``(lower, upper)`` ``(n, steps)`` around price forecasts ``(n, steps)`` of windows ``X``.

        See :mod:`rnncast.forecasting.intervals` for the two methods.
        """
        check_coverage(coverage)
        scores = self._calibrated(forecast.shape[1])
        if check_method(method) == "conformal":
            return conformal_band(forecast, scores, coverage)
        draws = self._mc_dropout(X, base, forecast.shape[1], samples)  # (n, samples, steps)
        return mc_dropout_band(forecast, draws, scores, coverage)

    def _mc_dropout(
        self,
        X: np.ndarray,
        base: np.ndarray,
        steps: int,
        samples: int,
        tickers: np.ndarray | None = None,
    ) -> np.ndarray:
        """``samples`` price forecasts per window with dropout active, ``(n, samples, steps)``."""
        if not self.model_.dropout_layers():
            raise ConfigError(
                "interval_method='mc_dropout' needs dropout in the model "
                "(a Dropout layer or LSTM(dropout=...)); use 'conformal'."
            )
        samples = positive_int(samples, "mc_samples")
        repeated = np.repeat(X, samples, axis=0)  # (n * samples, lookback, F)
        prices = self._forecast(
            repeated,
            np.repeat(base, samples),
            steps,
            predict=functools.partial(self.model_.predict, dropout=True),
            tickers=None if tickers is None else np.repeat(tickers, samples),
        )  # (n * samples, steps)
        return prices.reshape(len(X), samples, steps)

    def _test_intervals(
        self, test: pd.DataFrame, context: pd.DataFrame | None, model: pd.DataFrame, level: float
    ) -> dict[str, dict[str, pd.DataFrame]]:
        """Every available interval method's band around the model's test forecasts."""
        bands = {"model": conformal_band(model.to_numpy(), self._calibrated(model.shape[1]), level)}
        if self.model_.dropout_layers():
            X, _ = self.windowizer_.transform(test, context=context)
            base = self._base(test, context).to_numpy()
            usable = np.asarray(X[: len(model)])
            bands["model mc_dropout"] = self.interval_bounds(
                usable, base, model.to_numpy(), level, "mc_dropout"
            )
        return {
            name: {
                "lower": pd.DataFrame(lower, index=model.index, columns=model.columns),
                "upper": pd.DataFrame(upper, index=model.index, columns=model.columns),
            }
            for name, (lower, upper) in bands.items()
        }

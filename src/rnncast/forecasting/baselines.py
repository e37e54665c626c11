"""Simple forecasting baselines, fitted on training rows only, in rnncast's forecast format.

Every baseline cuts its windows with the same
:class:`~rnncast.data.Windowizer` alignment as the neural forecaster
(``features=[target]``, ``scaler=None``), so both forecast exactly the same
targets. ``predict(frame, context=None)`` returns a DataFrame indexed by the
date of forecast step 1 of each window (named ``date``), with float64 price
columns ``step_1 .. step_H``; step ``k`` forecasts the price ``k - 1`` rows
after that date. ``context`` is the part before ``frame`` (e.g. ``train`` for
``val``); its last ``lookback`` rows are the inputs of the first windows.

Baselines: :class:`Naive`, :class:`Drift`, :class:`MovingAverage`,
:class:`LinearAR` and :class:`ARIMA`; :func:`all_baselines` makes one of each.

Example:
    >>> import rnncast as rc
    >>> from rnncast.forecasting.baselines import Naive
    >>> train, val, test = rc.data.chronological_split(rc.datasets.load_sample("AAPL"))
    >>> naive = Naive(lookback=60, horizon=2).fit(train)
    >>> forecast = naive.predict(test, context=val)
    >>> list(forecast.columns), forecast.index[0] == test.index[0]
    (['step_1', 'step_2'], True)
"""

from __future__ import annotations

import warnings
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np
import pandas as pd
from numpy.lib.stride_tricks import sliding_window_view

from rnncast._internal.checks import positive_int
from rnncast.data.validation import TICKER_COLUMN, check_index
from rnncast.data.windowizer import Windowizer
from rnncast.exceptions import ConfigError, DataError, FitError, NotFittedError

Order = tuple[int, int, int]
DEFAULT_ARIMA_GRID: tuple[Order, ...] = (
    (0, 1, 0),
    (1, 1, 0),
    (0, 1, 1),
    (1, 1, 1),
    (2, 1, 0),
    (0, 1, 2),
    (2, 1, 2),
)


@dataclass(frozen=True)
class _Cut:
    """The windows of one ``(frame, context)`` pair, in float64 prices.

    ``prices`` are the target prices of the context rows the Windowizer uses
    (at most ``lookback``) followed by the frame's. Window ``i`` has inputs
    ``prices[i : i + lookback]``, its origin (last observed row) at
    ``origins[i] = i + lookback - 1`` and its targets right after it.
    """

    prices: np.ndarray  # (n_rows,)
    inputs: np.ndarray  # (n_windows, lookback), read-only view of prices
    targets: np.ndarray  # (n_windows, horizon), read-only view of prices
    base: np.ndarray  # (n_windows,) last observed price of each window
    origins: np.ndarray  # (n_windows,) row of each window's last input in prices
    dates: pd.DatetimeIndex  # (n_windows,) date of forecast step 1


class Baseline:
    """Base class: a forecaster with the Forecaster's ``fit``/``predict`` API.

    Subclasses implement ``_fit(train, cut)`` (``cut`` holds the training
    windows) and ``_predict(cut)`` returning float64 ``(n_windows, horizon)``
    prices.

    Args:
        lookback: Rows of input per window (as for the neural forecaster).
        horizon: Steps ahead forecast by each window.
        target: Price column to forecast.

    Attributes:
        windowizer_: The fitted (unscaled) Windowizer that aligns windows.
    """

    name: ClassVar[str] = "baseline"

    def __init__(self, lookback: int = 60, horizon: int = 1, target: str = "close") -> None:
        if not isinstance(target, str):
            raise ConfigError(f"target must be a column name (str), got {target!r}.")
        self._make_windowizer(lookback, horizon, target)  # validates lookback and horizon
        self.lookback = int(lookback)
        self.horizon = int(horizon)
        self.target = target

    def fit(
        self, train: pd.DataFrame, validation: pd.DataFrame | None = None, **ignored: Any
    ) -> Baseline:
        """Fit on the training rows only.

        Args:
            train: Training part (single series indexed by date).
            validation: Accepted for the same API as the Forecaster; ignored.
            **ignored: Other Forecaster ``fit`` arguments (epochs, ...); ignored.

        Returns:
            ``self``.
        """
        _check_single_series(train, "train")
        windowizer = self._make_windowizer(self.lookback, self.horizon, self.target).fit(train)
        self._fit(train, _cut(windowizer, train, None))
        self.windowizer_ = windowizer
        return self

    def predict(self, frame: pd.DataFrame, context: pd.DataFrame | None = None) -> pd.DataFrame:
        """Forecast every window of ``frame``.

        Args:
            frame: The part to forecast (e.g. ``test``).
            context: The rows before ``frame`` (e.g. ``val``); its last
                ``lookback`` rows are inputs of the first windows.

        Returns:
            Float64 prices ``step_1 .. step_H`` indexed by the date of step 1
            (``Windowizer.target_dates(frame, context)``), index named ``date``.
        """
        self._check_fitted()
        _check_single_series(frame, "frame")
        if context is not None:
            _check_single_series(context, "context")
        cut = _cut(self.windowizer_, frame, context)
        values = self._predict(cut)  # (n_windows, horizon)
        columns = [f"step_{k}" for k in range(1, self.horizon + 1)]
        index = pd.DatetimeIndex(cut.dates).rename("date")
        return pd.DataFrame(np.asarray(values, dtype=np.float64), index=index, columns=columns)

    def get_config(self) -> dict[str, Any]:
        """Constructor arguments: ``type(self)(**self.get_config())`` makes an unfitted copy."""
        return {"lookback": self.lookback, "horizon": self.horizon, "target": self.target}

    def __repr__(self) -> str:
        arguments = ", ".join(f"{key}={value!r}" for key, value in self.get_config().items())
        return f"{type(self).__name__}({arguments})"

    # ----------------------------------------------------------- subclasses
    def _fit(self, train: pd.DataFrame, cut: _Cut) -> None:
        """Learn from the training rows (default: nothing to learn)."""

    def _predict(self, cut: _Cut) -> np.ndarray:
        raise NotImplementedError

    # -------------------------------------------------------------- helpers
    @staticmethod
    def _make_windowizer(lookback: int, horizon: int, target: str) -> Windowizer:
        return Windowizer(lookback, horizon, features=[target], target=target, scaler=None)

    def _check_fitted(self) -> None:
        if not hasattr(self, "windowizer_"):
            raise NotFittedError(
                f"this {type(self).__name__} baseline is not fitted yet; call fit(train) first."
            )


class Naive(Baseline):
    """Every step is the last observed price (a random walk's forecast).

    Example:
        >>> import rnncast as rc
        >>> train, val, test = rc.data.chronological_split(rc.datasets.load_sample("MSFT"))
        >>> forecast = Naive(lookback=10).fit(train).predict(test, context=val)
        >>> bool(forecast["step_1"].iloc[0] == val["close"].iloc[-1])
        True
    """

    name = "naive"

    def _predict(self, cut: _Cut) -> np.ndarray:
        return np.repeat(cut.base[:, None], self.horizon, axis=1)  # (n_windows, horizon)


class Drift(Baseline):
    """Last price plus ``k`` times the mean daily change of the training prices.

    Step ``k`` forecasts ``base + k * drift_`` with
    ``drift_ = (last - first) / (n - 1)`` over the ``n`` training prices.

    Attributes:
        drift_: Mean daily price change of the training rows.

    Example:
        >>> import rnncast as rc
        >>> train, val, test = rc.data.chronological_split(rc.datasets.load_sample("MSFT"))
        >>> drift = Drift(lookback=10, horizon=3).fit(train)
        >>> forecast = drift.predict(test, context=val)
        >>> steps = forecast.iloc[0].to_numpy() - val["close"].iloc[-1]
        >>> bool(abs(steps[2] - 3 * drift.drift_) < 1e-9)
        True
    """

    name = "drift"

    def _fit(self, train: pd.DataFrame, cut: _Cut) -> None:
        prices = train[self.target].to_numpy(dtype=np.float64)  # (n_rows,)
        self.drift_ = float((prices[-1] - prices[0]) / (len(prices) - 1))

    def _predict(self, cut: _Cut) -> np.ndarray:
        steps = np.arange(1, self.horizon + 1, dtype=np.float64)  # (horizon,)
        return cut.base[:, None] + steps[None, :] * self.drift_  # (n_windows, horizon)


class MovingAverage(Baseline):
    """Every step is the mean of the last ``window`` prices of the window.

    Args:
        lookback: Rows of input per window.
        horizon: Steps ahead.
        target: Price column.
        window: Prices averaged, ``1 <= window <= lookback``.

    Example:
        >>> import rnncast as rc
        >>> train, val, test = rc.data.chronological_split(rc.datasets.load_sample("MSFT"))
        >>> forecast = MovingAverage(lookback=10, window=5).fit(train).predict(test, context=val)
        >>> bool(abs(forecast["step_1"].iloc[0] - val["close"].iloc[-5:].mean()) < 1e-9)
        True
    """

    name = "moving_average"

    def __init__(
        self, lookback: int = 60, horizon: int = 1, target: str = "close", window: int = 5
    ) -> None:
        super().__init__(lookback, horizon, target)
        window = positive_int(window, "window")
        if window > self.lookback:
            raise ConfigError(
                f"window={window} is longer than lookback={self.lookback}; "
                "the average can only use the window's own prices."
            )
        self.window = int(window)

    def get_config(self) -> dict[str, Any]:  # noqa: D102
        return {**super().get_config(), "window": self.window}

    def _predict(self, cut: _Cut) -> np.ndarray:
        means = cut.inputs[:, -self.window :].mean(axis=1)  # (n_windows,)
        return np.repeat(means[:, None], self.horizon, axis=1)  # (n_windows, horizon)


class LinearAR(Baseline):
    """Ordinary least squares from the ``lookback`` inputs to the ``horizon`` future prices.

    To keep the regression well-conditioned whatever the price level, inputs
    and targets are divided by the window's base price (its last input) and
    the forecasts multiplied back: ``y_k / base = intercept_k + sum_j
    coef_[j, k] * x_j / base``. The last input divided by the base is always
    1, so its coefficient is the intercept; ``coef_`` covers the other
    ``lookback - 1`` inputs (oldest first). One regression per step, fitted
    on the training windows only with :func:`numpy.linalg.lstsq`.

    Attributes:
        intercept_: float64 ``(horizon,)``.
        coef_: float64 ``(lookback - 1, horizon)``.

    Example:
        >>> import rnncast as rc
        >>> train, val, test = rc.data.chronological_split(rc.datasets.load_sample("MSFT"))
        >>> model = LinearAR(lookback=5, horizon=2).fit(train)
        >>> model.coef_.shape, model.predict(test, context=val).shape[1]
        ((4, 2), 2)
    """

    name = "linear_ar"

    def _fit(self, train: pd.DataFrame, cut: _Cut) -> None:
        design = _relative_design(cut, self.target)  # (n_windows, lookback)
        if len(design) < design.shape[1]:
            raise DataError(
                f"LinearAR has {design.shape[1]} coefficients per step but the "
                f"training part gives only {len(design)} windows; use a shorter "
                "lookback or more training rows."
            )
        relative = cut.targets / cut.base[:, None]  # (n_windows, horizon)
        solution, *_ = np.linalg.lstsq(design, relative, rcond=None)  # (lookback, horizon)
        self.intercept_ = solution[0].copy()
        self.coef_ = solution[1:].copy()

    def _predict(self, cut: _Cut) -> np.ndarray:
        design = _relative_design(cut, self.target)  # (n_windows, lookback)
        weights = np.vstack([self.intercept_[None, :], self.coef_])  # (lookback, horizon)
        return (design @ weights) * cut.base[:, None]  # (n_windows, horizon)


class ARIMA(Baseline):
    """ARIMA on log prices (statsmodels), parameters fitted on the training rows only.

    With ``order=None`` every order of ``grid`` is fitted to the training log
    prices and the one with the lowest AIC is kept (convergence warnings are
    silenced during these fits; other warnings are not). ``predict`` never
    refits: it runs the Kalman filter with the training parameters over the
    rows the Windowizer uses (the last ``lookback`` context rows, then
    ``frame``) and forecasts each window from its origin using only the rows
    up to that origin: step 1 is the one-step-ahead prediction, step ``k``
    the ``k``-step forecast (as ``results.forecast(k)`` on the data up to the
    origin would give). Forecasts are ``exp`` of the log forecast, i.e. the
    *median* of the predicted price, not its mean. With ``d = 0``
    statsmodels adds a constant; with ``d >= 1`` there is no drift term.

    Args:
        lookback: Rows of input per window (also the context the filter sees).
        horizon: Steps ahead.
        target: Price column (must be positive).
        order: ``(p, d, q)``; ``None`` chooses from ``grid`` by AIC.
        grid: Candidate orders when ``order`` is None.

    Attributes:
        order_: The fitted order.
        aic_: Its AIC on the training log prices.
        aics_: AIC of every candidate order (NaN when a fit failed).
        params_: float64 fitted parameters (statsmodels order).
        results_: statsmodels results of the chosen model.

    Example:
        >>> import rnncast as rc
        >>> train, val, test = rc.data.chronological_split(rc.datasets.load_sample("AAPL"))
        >>> arima = ARIMA(lookback=60, horizon=5).fit(train)  # doctest: +SKIP
        >>> arima.order_  # doctest: +SKIP
        (0, 1, 1)
        >>> arima.predict(test, context=val).shape  # doctest: +SKIP
        (486, 5)
    """

    name = "arima"

    def __init__(
        self,
        lookback: int = 60,
        horizon: int = 1,
        target: str = "close",
        order: Iterable[int] | None = None,
        grid: Iterable[Iterable[int]] = DEFAULT_ARIMA_GRID,
    ) -> None:
        super().__init__(lookback, horizon, target)
        self.order = None if order is None else _check_order(order)
        if isinstance(grid, str | bytes) or not isinstance(grid, Iterable):
            raise ConfigError(f"grid must be a sequence of (p, d, q) orders, got {grid!r}.")
        self.grid = tuple(_check_order(candidate) for candidate in grid)
        if not self.grid:
            raise ConfigError("grid is empty; give at least one (p, d, q) order.")

    def get_config(self) -> dict[str, Any]:  # noqa: D102
        return {**super().get_config(), "order": self.order, "grid": self.grid}

    def _fit(self, train: pd.DataFrame, cut: _Cut) -> None:
        log_prices = np.log(
            _positive(train[self.target].to_numpy(dtype=np.float64), self.target)
        )  # (n_rows,)
        candidates = self.grid if self.order is None else (self.order,)
        fitted, errors = {}, {}
        for order in candidates:
            try:
                fitted[order] = _fit_arima(log_prices, order)
            except (np.linalg.LinAlgError, ValueError) as error:
                errors[order] = error
        self.aics_ = {
            order: float(fitted[order].aic) if order in fitted else float("nan")
            for order in candidates
        }
        usable = [order for order in fitted if np.isfinite(self.aics_[order])]
        if not usable:
            raise FitError(
                f"no ARIMA order could be fitted to the training log prices: "
                f"{errors or 'all AICs are NaN'}."
            )
        self.order_ = min(usable, key=self.aics_.__getitem__)
        self.aic_ = self.aics_[self.order_]
        self.results_ = fitted[self.order_]
        self.params_ = np.asarray(self.results_.params, dtype=np.float64).copy()

    def _predict(self, cut: _Cut) -> np.ndarray:
        log_prices = np.log(_positive(cut.prices, self.target))  # (n_rows,)
        filtered = self.results_.apply(log_prices, refit=False).filter_results
        log_forecasts = _state_space_forecasts(filtered, cut.origins, self.horizon)
        return np.exp(log_forecasts)  # (n_windows, horizon), median prices


BASELINES: dict[str, type[Baseline]] = {
    cls.name: cls for cls in (Naive, Drift, MovingAverage, LinearAR, ARIMA)
}


def all_baselines(lookback: int, horizon: int, target: str = "close") -> list[Baseline]:
    """One unfitted baseline of each kind, ready to fit on the same training part.

    ``MovingAverage`` averages the last 5 prices (all of them when ``lookback < 5``).

    Args:
        lookback: Rows of input per window.
        horizon: Steps ahead.
        target: Price column.

    Returns:
        ``[Naive, Drift, MovingAverage, LinearAR, ARIMA]`` instances.

    Example:
        >>> [baseline.name for baseline in all_baselines(lookback=60, horizon=1)]
        ['naive', 'drift', 'moving_average', 'linear_ar', 'arima']
    """
    common = {"lookback": lookback, "horizon": horizon, "target": target}
    return [
        Naive(**common),
        Drift(**common),
        MovingAverage(**common, window=min(5, int(lookback))),
        LinearAR(**common),
        ARIMA(**common),
    ]


def with_naive(
    baselines: list[Baseline], lookback: int, horizon: int, target: str = "close"
) -> list[Baseline]:
    """``baselines`` plus a :class:`Naive` when none is there: skill is measured against it.

    Example:
        >>> [b.name for b in with_naive([Drift(lookback=10)], lookback=10, horizon=1)]
        ['drift', 'naive']
    """
    if any(b.name == "naive" for b in baselines):
        return list(baselines)
    return [*baselines, Naive(lookback=lookback, horizon=horizon, target=target)]


# ------------------------------------------------------------------ helpers
def _cut(windowizer: Windowizer, frame: pd.DataFrame, context: pd.DataFrame | None) -> _Cut:
    """Float64 windows aligned exactly as ``windowizer.transform(frame, context)``."""
    dates = windowizer.target_dates(frame, context)  # (n_windows,)
    base = windowizer.base_prices(frame, context)  # (n_windows,), also checks the values
    lookback, horizon, target = windowizer.lookback, windowizer.horizon, windowizer.target
    # window 0's first target is row `lookback` of (context tail + frame)
    n_context = lookback - frame.index.get_loc(dates[0])
    tail = context.iloc[len(context) - n_context :] if n_context else frame.iloc[:0]
    prices = np.concatenate(
        [tail[target].to_numpy(dtype=np.float64), frame[target].to_numpy(dtype=np.float64)]
    )  # (n_rows,)
    count = len(base)
    inputs = sliding_window_view(prices, lookback)[:count]  # (n_windows, lookback)
    targets = sliding_window_view(prices[lookback:], horizon)[:count]  # (n_windows, horizon)
    if len(prices) != count + lookback + horizon - 1 or not np.array_equal(inputs[:, -1], base):
        raise RuntimeError(
            "baseline windows are not aligned with the Windowizer's; please report this as a bug."
        )
    origins = np.arange(count) + lookback - 1
    return _Cut(prices, inputs, targets, base, origins, pd.DatetimeIndex(dates))


def _relative_design(cut: _Cut, column: str) -> np.ndarray:
    """``[1, x_1 / base, ..., x_{lookback-1} / base]`` per window, ``(n_windows, lookback)``."""
    relative = cut.inputs[:, :-1] / _positive(cut.base, column)[:, None]  # (n, lookback-1)
    return np.hstack([np.ones((len(relative), 1)), relative])


def _positive(values: np.ndarray, column: str) -> np.ndarray:
    if not (values > 0).all():
        raise DataError(
            f"column {column!r} has prices <= 0; this baseline works on relative "
            "or log prices, which need positive prices."
        )
    return values


def _check_single_series(frame: pd.DataFrame, what: str) -> None:
    check_index(frame)
    if TICKER_COLUMN in frame.columns:
        raise DataError(
            f"the {what} has a {TICKER_COLUMN!r} column; baselines forecast one "
            f"series: fit one per ticker, e.g. on frame[frame.ticker == 'AAPL']."
        )


def _check_order(order: object) -> Order:
    """``(p, d, q)`` as a tuple of three non-negative ints, else ``ConfigError``."""
    values = tuple(order) if isinstance(order, Iterable) and not isinstance(order, str) else ()
    valid = len(values) == 3 and all(
        isinstance(v, int | np.integer) and not isinstance(v, bool) and v >= 0 for v in values
    )
    if not valid:
        raise ConfigError(
            f"an ARIMA order must be (p, d, q) with non-negative integers, got {order!r}."
        )
    return tuple(int(v) for v in values)  # type: ignore[return-value]


def _fit_arima(log_prices: np.ndarray, order: Order) -> Any:
    """Fit a statsmodels ARIMA to ``log_prices`` with convergence warnings silenced."""
    from statsmodels.tools.sm_exceptions import ConvergenceWarning
    from statsmodels.tsa.arima.model import ARIMA as StatsmodelsARIMA

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return StatsmodelsARIMA(log_prices, order=order).fit()


def _state_space_forecasts(filtered: Any, origins: np.ndarray, horizon: int) -> np.ndarray:
    """``k``-step forecasts of ``y[o + k]`` from the data up to each origin ``o``.

    statsmodels' state space form is ``y_t = d_t + Z a_t``,
    ``a_{t+1} = c_t + T a_t``; ``predicted_state[:, o + 1]`` is the state at
    ``o + 1`` given ``y_0 .. y_o``, so iterating the transition gives every
    step. ARIMA without exogenous data has constant ``Z`` and ``T``; the
    intercepts may vary with time (a constant for ``d = 0``).

    Returns:
        float64 ``(n_windows, horizon)``.
    """
    design, transition = filtered.design, filtered.transition  # (1, k, 1), (k, k, 1)
    if design.shape[-1] != 1 or transition.shape[-1] != 1:
        raise FitError("time-varying state space matrices are not supported.")
    state = filtered.predicted_state[:, origins + 1]  # (k_states, n_windows)
    out = np.empty((len(origins), horizon))
    for step in range(1, horizon + 1):
        times = origins + step  # (n_windows,) row being forecast
        out[:, step - 1] = _at(filtered.obs_intercept, times)[0] + design[0, :, 0] @ state
        state = transition[:, :, 0] @ state + _at(filtered.state_intercept, times)
    return out


def _at(intercept: np.ndarray, times: np.ndarray) -> np.ndarray:
    """Columns ``times`` of a ``(m, 1)`` constant or ``(m, n_rows)`` time-varying intercept."""
    if intercept.shape[1] == 1:
        return np.repeat(intercept, len(times), axis=1)  # (m, n_windows)
    return intercept[:, times]

"""Walk-forward backtests: refit on the past, forecast the next block, move on.

Example:
    >>> import rnncast as rc
    >>> from rnncast.forecasting.baselines import Naive
    >>> frame = rc.datasets.load_sample("IBM")
    >>> result = rc.backtest.walk_forward(Naive(lookback=20), frame, initial_train=0.8,
    ...                                   max_folds=4, verbose=0)
    >>> len(result.folds)
    4
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from rnncast._internal import output
from rnncast._internal.jsonsafe import json_safe
from rnncast.data.validation import TICKER_COLUMN
from rnncast.exceptions import ConfigError, DataError
from rnncast.forecasting.trading import TradingResult, simulate_trading
from rnncast.forecasting.universe import is_universe, to_long

WINDOWS = ("expanding", "rolling")

__all__ = ["BacktestResult", "TradingResult", "simulate_trading", "walk_forward"]


@dataclass
class BacktestResult:
    """What :func:`walk_forward` returns.

    Attributes:
        folds: One row per fold: dates of its training rows and test block,
            sample count and step-1 metrics (rmse, mae, mape, naive_rmse,
            skill_vs_naive_pct, directional_accuracy).
        predictions: Date-indexed ``actual``, ``forecast`` (step 1), ``base``
            (the last price the forecast knew) and ``fold``; indexed by
            ``(ticker, date)`` for a universe.
        metrics: The same metrics over all out-of-sample forecasts; for a
            universe pooled over tickers on prices divided by each forecast's
            base price (see :func:`walk_forward`).
        forecasts: The full forecast frames (``step_1 .. step_H``) of all folds.
        per_ticker: For a universe, one row per ticker (index ``ticker``):
            ``n`` and the metrics of its out-of-sample forecasts; else ``None``.
    """

    folds: pd.DataFrame
    predictions: pd.DataFrame
    metrics: dict[str, float]
    forecasts: pd.DataFrame = field(repr=False)
    per_ticker: pd.DataFrame | None = field(default=None, repr=False)

    def to_dict(self) -> dict[str, Any]:
        """JSON-friendly summary (NaN becomes ``None``)."""
        summary = {"metrics": self.metrics, "folds": self.folds.to_dict(orient="records")}
        if self.per_ticker is not None:
            summary["per_ticker"] = self.per_ticker.reset_index().to_dict(orient="records")
        return json_safe(summary)

    def __str__(self) -> str:
        with pd.option_context("display.width", 120, "display.precision", 4):
            table = self.folds.to_string(index=False)
            if self.per_ticker is not None:
                table += "\n" + self.per_ticker.to_string()
        overall = ", ".join(f"{k} {v:.4g}" for k, v in self.metrics.items())
        label = "All folds, pooled over tickers" if self.per_ticker is not None else "All folds"
        return f"{table}\n{label}: {overall}"


def walk_forward(
    estimator: Any,
    frame: pd.DataFrame,
    initial_train: int | float = 0.6,
    step: int | None = None,
    refit_every: int = 1,
    window: str = "expanding",
    max_folds: int | None = None,
    warm_start: bool = False,
    validation: float = 0.0,
    fit_kwargs: dict[str, Any] | None = None,
    verbose: int = 1,
    interval: float | None = None,
    interval_gamma: float = 0.005,
) -> BacktestResult:
    """Walk-forward (rolling-origin) evaluation of a Forecaster or a baseline.

    Fold ``i`` trains on the rows before its cut-off (all of them with
    ``window="expanding"``, the last ``initial_train`` rows with
    ``"rolling"``), refits scalers and model on those rows only (from
    scratch, or continuing the previous fold's weights with
    ``warm_start=True``), and forecasts the next ``step`` rows with the
    training rows as context. Nothing after a fold's cut-off reaches its fit
    or its forecasts.

    Args:
        estimator: A :class:`rnncast.Forecaster` or a :mod:`rnncast.forecasting.baselines`
            object; it is cloned, never modified.
        frame: The whole price history: one series, or a long frame of many
            tickers (a ``ticker`` column or a ``(ticker, date)`` index). A
            universe needs a Forecaster: each fold refits one global model
            on every ticker's rows before the fold's cut-off date (folds cut
            all tickers at the same dates, counted in distinct dates), and
            the result adds ``per_ticker`` metrics; the pooled ``metrics``
            divide every price by the forecast's base price, so a ticker
            counts by its returns, not by its price level.
        initial_train: Rows of the first training part (int) or a fraction of
            the frame (float).
        step: Rows per test block; default: the rest of the frame split into
            ``max_folds`` blocks (or 21 sessions, about a month).
        refit_every: Refit every ``refit_every`` folds; in between, the last
            fitted estimator forecasts with the newer data as context.
        window: ``"expanding"`` or ``"rolling"`` training window.
        max_folds: At most this many folds (the first ones).
        warm_start: Continue training the previous fold's network instead of
            starting from fresh weights (Forecasters only).
        validation: Fraction of each training part held out (at its end) as
            validation data for the network (early stopping, intervals).
        fit_kwargs: Passed to ``fit`` (``epochs``, ``batch_size``, ``callbacks`` ...).
        verbose: 1 shows progress over the folds, 0 is silent.
        interval: Coverage of adaptive conformal intervals around the step-1
            forecasts, e.g. 0.9 (``None``: no intervals). Adaptive conformal
            inference (Gibbs & Candès 2021) walks the forecasts in time order:
            each band is ``forecast * exp(+-q_t)`` with ``q_t`` a quantile of
            the log scores ``|log(actual / forecast)|`` of the sessions
            *before* it, and the quantile level moves by ``interval_gamma``
            after every miss or hit, so coverage recovers when volatility
            changes. Adds ``lower``, ``upper`` and ``inside`` to
            ``predictions`` and ``interval_coverage`` (with its nominal level
            and binomial p-value) to ``metrics``.
        interval_gamma: ACI step size (the paper's 0.005).

    Returns:
        A :class:`BacktestResult`.
    """
    frame = to_long(frame)
    if is_universe(frame):
        return _walk_forward_universe(
            estimator,
            frame,
            initial_train,
            step,
            refit_every,
            window,
            max_folds,
            warm_start,
            validation,
            fit_kwargs,
            verbose,
            interval,
            interval_gamma,
        )
    _check_frame(frame)
    first = initial_rows(initial_train, len(frame))
    fit_kwargs = dict(fit_kwargs or {})
    if hasattr(estimator, "predict_next"):  # a Forecaster: quiet epochs inside folds
        fit_kwargs.setdefault("verbose", 0)
    step = _step(step, max_folds, len(frame) - first)
    cuts = list(range(first, len(frame), step))[:max_folds]
    if window not in WINDOWS:
        raise ConfigError(f"window={window!r} is not supported; use one of {WINDOWS}.")
    if refit_every < 1:
        raise ConfigError(f"refit_every must be >= 1, got {refit_every!r}.")
    progress = _FoldProgress(len(cuts), verbose)
    fitted, rows, parts = None, [], []
    for number, cut in enumerate(cuts):
        train = frame.iloc[cut - first if window == "rolling" else 0 : cut]
        test = frame.iloc[cut : cut + step]
        if fitted is None or number % refit_every == 0:
            fitted = _fit(estimator, fitted, train, warm_start, validation, fit_kwargs)
        forecast = _forecast_block(fitted, frame, cut, step, train)
        parts.append(forecast.assign(fold=number))
        rows.append(_fold_row(number, train, test, forecast, frame, fitted))
        progress.update(number + 1, rows[-1])
    forecasts = pd.concat(parts)
    predictions = _predictions(forecasts, frame, _target(estimator))
    metrics = _metrics(predictions)
    if interval is not None:
        predictions, coverage = _adaptive_band(predictions, interval, interval_gamma)
        metrics.update(coverage)
    return BacktestResult(pd.DataFrame(rows), predictions, metrics, forecasts)


def _adaptive_band(
    predictions: pd.DataFrame, coverage: float, gamma: float
) -> tuple[pd.DataFrame, dict[str, float]]:
    """ACI bands around the step-1 forecasts, in time order, and their measured coverage."""
    from rnncast.evaluate.coverage import coverage_test
    from rnncast.forecasting.conformal import adaptive_conformal, log_scores

    forecast = predictions["forecast"].to_numpy()  # (n,)
    scores = log_scores(predictions["actual"].to_numpy(), forecast)  # (n,)
    walk = adaptive_conformal(scores, coverage, gamma=gamma)
    q = np.maximum(walk.thresholds, 0.0)  # an empty band (-inf) shrinks to the point forecast
    band = predictions.assign(
        lower=forecast * np.exp(-q), upper=forecast * np.exp(q), inside=walk.hits
    )
    test = coverage_test(walk.hits, coverage)
    return band, {
        "interval_level": coverage,
        "interval_coverage": test.share,
        "interval_coverage_p_value": test.p_value,
    }


def _fit(
    estimator: Any,
    previous: Any,
    train: pd.DataFrame,
    warm_start: bool,
    validation: float,
    fit_kwargs: dict[str, Any],
) -> Any:
    """A fitted copy of ``estimator`` (or ``previous`` trained further when warm-starting)."""
    if warm_start and previous is not None and hasattr(previous, "model_"):
        model = previous
        model.model = previous.model_  # fit trains a copy of it
    else:
        model = (
            estimator.clone()
            if hasattr(estimator, "clone")
            else type(estimator)(**estimator.get_config())
        )
    if validation and TICKER_COLUMN in train.columns:  # a universe: the last dates
        dates = np.unique(train.index.to_numpy())
        start = dates[len(dates) - max(1, math.floor(len(dates) * validation))]
        later = train.index >= start
        return model.fit(train[~later], validation=train[later], **fit_kwargs)
    if validation:
        cut = len(train) - max(1, math.floor(len(train) * validation))
        return model.fit(train.iloc[:cut], validation=train.iloc[cut:], **fit_kwargs)
    return model.fit(train, **fit_kwargs)


def _forecast_block(
    fitted: Any, frame: pd.DataFrame, cut: int, step: int, train: pd.DataFrame
) -> pd.DataFrame:
    """Forecasts whose step 1 falls in the block ``frame[cut:cut+step]``.

    The block is lengthened by ``horizon - 1`` rows so that its last sessions
    get a step-1 forecast too; those extra rows are only targets, never
    inputs, so no forecast sees data from its own future.
    """
    horizon = int(getattr(fitted, "horizon", 1))
    block = frame.iloc[cut : min(cut + step + horizon - 1, len(frame))]
    forecast = fitted.predict(block, context=train)
    return forecast[forecast.index <= frame.index[min(cut + step, len(frame)) - 1]]


def _fold_row(
    number: int,
    train: pd.DataFrame,
    test: pd.DataFrame,
    forecast: pd.DataFrame,
    frame: pd.DataFrame,
    fitted: Any,
) -> dict[str, Any]:
    predictions = _predictions(forecast.assign(fold=number), frame, _target(fitted))
    return {
        "fold": number,
        "train_start": train.index[0].date(),
        "train_end": train.index[-1].date(),
        "test_start": test.index[0].date(),
        "test_end": test.index[-1].date(),
        "n": len(predictions),
        **_metrics(predictions),
    }


def _predictions(forecasts: pd.DataFrame, frame: pd.DataFrame, target: str) -> pd.DataFrame:
    """Step-1 forecasts next to the actual price and the base (previous session's price)."""
    prices = frame[target]
    position = prices.index.get_indexer(forecasts.index)  # (n,)
    return pd.DataFrame(
        {
            "actual": prices.to_numpy()[position],
            "forecast": forecasts["step_1"].to_numpy(),
            "base": prices.to_numpy()[position - 1],
            "fold": forecasts["fold"].to_numpy(),
        },
        index=forecasts.index,
    )


def _metrics(predictions: pd.DataFrame) -> dict[str, float]:
    from rnncast import evaluate as ev

    actual, forecast = predictions["actual"].to_numpy(), predictions["forecast"].to_numpy()
    naive = predictions["base"].to_numpy()
    accuracy = ev.direction_test(actual, forecast, naive).hit_rate if len(actual) else math.nan
    return {
        "rmse": ev.rmse(actual, forecast),
        "mae": ev.mae(actual, forecast),
        "mape": ev.mape(actual, forecast),
        "naive_rmse": ev.rmse(actual, naive),
        "skill_vs_naive_pct": ev.skill_vs_naive_pct(actual, forecast, naive),
        "directional_accuracy": accuracy,
    }


def _target(estimator: Any) -> str:
    return getattr(estimator, "target", "close")


def initial_rows(initial_train: int | float, rows: int) -> int:
    """Rows of the first training part: ``initial_train`` rows, or that fraction of ``rows``."""
    if isinstance(initial_train, float):
        if not 0 < initial_train < 1:
            raise ConfigError(f"initial_train={initial_train} as a fraction must be in (0, 1).")
        initial_train = math.floor(rows * initial_train)
    if not 0 < int(initial_train) < rows:
        raise ConfigError(
            f"initial_train={initial_train} must leave rows to test (the frame has {rows})."
        )
    return int(initial_train)


def _step(step: int | None, max_folds: int | None, remaining: int) -> int:
    if step is None:
        step = math.ceil(remaining / max_folds) if max_folds else 21
    if step < 1:
        raise ConfigError(f"step must be >= 1 row, got {step!r}.")
    if max_folds is not None and max_folds < 1:
        raise ConfigError(f"max_folds must be >= 1, got {max_folds!r}.")
    return int(step)


def _check_frame(frame: pd.DataFrame) -> None:
    if not isinstance(frame, pd.DataFrame) or not isinstance(frame.index, pd.DatetimeIndex):
        raise DataError("walk_forward takes a price frame indexed by date.")
    if "ticker" in frame.columns:
        raise DataError("walk_forward takes one series; select one ticker first.")


class _FoldProgress:
    """One line per fold (folds take long enough that a line each is readable)."""

    def __init__(self, folds: int, verbose: int) -> None:
        self.folds, self.verbose, self.started = folds, verbose, time.perf_counter()

    def update(self, done: int, row: dict[str, Any]) -> None:
        if not self.verbose:
            return
        elapsed = time.perf_counter() - self.started
        eta = elapsed / done * (self.folds - done)
        output.write(
            f"fold {done}/{self.folds} [{row['test_start']} .. {row['test_end']}] "
            f"rmse {row['rmse']:.4g}, naive {row['naive_rmse']:.4g} - {elapsed:.0f}s, "
            f"ETA {eta:.0f}s"
        )


# ------------------------------------------------------------------- universe
def _walk_forward_universe(
    estimator: Any,
    frame: pd.DataFrame,
    initial_train: int | float,
    step: int | None,
    refit_every: int,
    window: str,
    max_folds: int | None,
    warm_start: bool,
    validation: float,
    fit_kwargs: dict[str, Any] | None,
    verbose: int,
    interval: float | None,
    interval_gamma: float,
) -> BacktestResult:
    """:func:`walk_forward` on a long frame: folds in distinct dates, one global model each."""
    if not hasattr(estimator, "predict_next"):
        raise ConfigError(
            f"walk_forward on a frame of many tickers takes a Forecaster (one global model), "
            f"not {type(estimator).__name__}; walk a baseline forward ticker by ticker, "
            "e.g. frame[frame.ticker == 'AAPL']."
        )
    dates = np.unique(frame.index.to_numpy())  # every ticker is cut at the same dates
    first = initial_rows(initial_train, len(dates))
    fit_kwargs = {"verbose": 0, **(fit_kwargs or {})}
    step = _step(step, max_folds, len(dates) - first)
    cuts = list(range(first, len(dates), step))[:max_folds]
    if window not in WINDOWS:
        raise ConfigError(f"window={window!r} is not supported; use one of {WINDOWS}.")
    if refit_every < 1:
        raise ConfigError(f"refit_every must be >= 1, got {refit_every!r}.")
    prices = _long_prices(frame, _target(estimator))
    horizon = int(getattr(estimator, "horizon", 1))
    progress = _FoldProgress(len(cuts), verbose)
    fitted, rows, parts = None, [], []
    for number, cut in enumerate(cuts):
        start = dates[cut - first] if window == "rolling" else dates[0]
        train = frame[(frame.index >= start) & (frame.index < dates[cut])]
        last = dates[min(cut + step, len(dates)) - 1]  # the block's last date
        reach = dates[min(cut + step + horizon - 1, len(dates)) - 1]  # + targets only
        block = frame[(frame.index >= dates[cut]) & (frame.index <= reach)]
        if fitted is None or number % refit_every == 0:
            fitted = _fit(estimator, fitted, train, warm_start, validation, fit_kwargs)
        forecast = fitted.predict(block, context=train)
        forecast = forecast[forecast.index.get_level_values("date") <= last].assign(fold=number)
        parts.append(forecast)
        fold = _universe_predictions(forecast, prices)
        rows.append(
            {
                "fold": number,
                "train_start": pd.Timestamp(start).date(),
                "train_end": train.index.max().date(),
                "test_start": pd.Timestamp(dates[cut]).date(),
                "test_end": pd.Timestamp(last).date(),
                "tickers": fold.index.get_level_values(0).nunique(),
                "n": len(fold),
                **_metrics(_relative(fold)),
            }
        )
        progress.update(number + 1, rows[-1])
    forecasts = pd.concat(parts)
    predictions = _universe_predictions(forecasts, prices)
    metrics = _metrics(_relative(predictions))
    if interval is not None:
        predictions, coverage = _universe_band(predictions, interval, interval_gamma)
        metrics.update(coverage)
    per_ticker = _per_ticker(predictions)
    return BacktestResult(pd.DataFrame(rows), predictions, metrics, forecasts, per_ticker)


def _long_prices(frame: pd.DataFrame, target: str) -> pd.DataFrame:
    """``price`` and ``previous`` (the row before, per ticker) indexed by ``(ticker, date)``."""
    tickers = frame[TICKER_COLUMN].astype(str).to_numpy()
    index = pd.MultiIndex.from_arrays([tickers, frame.index], names=["ticker", "date"])
    price = pd.Series(frame[target].to_numpy(np.float64), index=index)
    return pd.DataFrame({"price": price, "previous": price.groupby(level=0, sort=False).shift(1)})


def _universe_predictions(forecasts: pd.DataFrame, prices: pd.DataFrame) -> pd.DataFrame:
    """Step-1 forecasts next to the actual price and the base, indexed by ``(ticker, date)``."""
    known = prices.reindex(forecasts.index)
    return pd.DataFrame(
        {
            "actual": known["price"].to_numpy(),
            "forecast": forecasts["step_1"].to_numpy(),
            "base": known["previous"].to_numpy(),
            "fold": forecasts["fold"].to_numpy(),
        },
        index=forecasts.index,
    )


def _relative(predictions: pd.DataFrame) -> pd.DataFrame:
    """Prices divided by each forecast's base: pooled metrics weigh tickers by returns."""
    base = predictions["base"].to_numpy()
    return predictions.assign(
        actual=predictions["actual"] / base, forecast=predictions["forecast"] / base, base=1.0
    )


def _per_ticker(predictions: pd.DataFrame) -> pd.DataFrame:
    """One row of metrics per ticker, in price units."""
    rows = {
        ticker: {"n": len(part), **_metrics(part)}
        for ticker, part in predictions.groupby(level=0, sort=False)
    }
    if "inside" in predictions.columns:
        for ticker, part in predictions.groupby(level=0, sort=False):
            rows[ticker]["interval_coverage"] = float(part["inside"].mean())
    return pd.DataFrame.from_dict(rows, orient="index").rename_axis("ticker")


def _universe_band(
    predictions: pd.DataFrame, coverage: float, gamma: float
) -> tuple[pd.DataFrame, dict[str, float]]:
    """Adaptive conformal bands walked ticker by ticker; coverage pooled over all of them."""
    from rnncast.evaluate.coverage import coverage_test

    parts = [
        _adaptive_band(part, coverage, gamma)[0]
        for _, part in predictions.groupby(level=0, sort=False)
    ]
    band = pd.concat(parts)
    test = coverage_test(band["inside"].to_numpy(), coverage)
    return band, {
        "interval_level": coverage,
        "interval_coverage": test.share,
        "interval_coverage_p_value": test.p_value,
    }

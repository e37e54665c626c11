"""Forecasting: the high-level Forecaster, baselines, walk-forward backtests and trading.

Example:
    >>> from rnncast.forecasting import Forecaster, Naive, walk_forward
"""

from rnncast.forecasting import backtest, baselines, trading
from rnncast.forecasting.backtest import BacktestResult, walk_forward
from rnncast.forecasting.baselines import (
    ARIMA,
    Baseline,
    Drift,
    LinearAR,
    MovingAverage,
    Naive,
    all_baselines,
    with_naive,
)
from rnncast.forecasting.forecaster import Forecaster
from rnncast.forecasting.trading import TradingResult, simulate_trading
from rnncast.forecasting.universe import to_long

__all__ = [
    "ARIMA",
    "BacktestResult",
    "Baseline",
    "Drift",
    "Forecaster",
    "LinearAR",
    "MovingAverage",
    "Naive",
    "TradingResult",
    "all_baselines",
    "backtest",
    "baselines",
    "simulate_trading",
    "to_long",
    "trading",
    "walk_forward",
    "with_naive",
]

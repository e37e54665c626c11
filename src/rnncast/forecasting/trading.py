"""Trade one-step price forecasts with a simple rule, costs, and comparable statistics.

Research simulation, not investment advice: past, simulated returns with simple
costs do not predict future results.

Timing (no look-ahead): the forecast for session ``t`` is made at the close of
the previous session ``t-1``. Its predicted return ``f_t / close[t-1] - 1`` uses
nothing later than ``close[t-1]``; the position it implies is entered at the
close of ``t-1`` and earns the bar's return ``close[t] / close[t-1] - 1``.

Example:
    >>> import pandas as pd
    >>> dates = pd.bdate_range("2024-01-01", periods=3, name="date")
    >>> prices = pd.Series([100.0, 110.0, 99.0], index=dates)
    >>> result = simulate_trading(prices, pd.Series([105.0, 108.0], index=dates[1:]))
    >>> result.positions.tolist()
    [1, 0]
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from rnncast._internal.jsonsafe import json_safe
from rnncast.evaluate.sharpe import MIN_DAYS, sharpe_difference_test
from rnncast.exceptions import ConfigError, DataError

DISCLAIMER = (
    "Research simulation, not investment advice: past, simulated returns with simple costs "
    "do not predict future results."
)
RULES = ("long_flat", "long_short")
STATS = (
    "total_return",
    "cagr",
    "volatility",
    "sharpe",
    "sharpe_p_value",
    "sortino",
    "max_drawdown",
    "hit_rate",
    "turnover",
    "exposure",
    "n_trades",
)
STRATEGY = "strategy"
BUY_AND_HOLD = "buy_and_hold"
FORECAST_COLUMN = "step_1"


@dataclass(repr=False)
class TradingResult:
    """The outcome of :func:`simulate_trading`.

    Attributes:
        equity: Growth of 1.0, indexed by the session before the first bar (1.0)
            and then by every bar's date.
        returns: Strategy return per bar after costs.
        positions: Position held over each bar (-1, 0 or 1).
        signals: Predicted return ``forecast_t / close[t-1] - 1`` per bar.
        trades: One row per position change: ``date``, ``from``, ``to``, ``cost``
            (the return deducted on that bar).
        stats: Statistics of the strategy (see :func:`simulate_trading`).
        comparison: One row per strategy (``strategy``, ``buy_and_hold``, each
            benchmark), one column per statistic.
        rule: The trading rule.
        threshold: The signal threshold.
        cost_bps: Commission in basis points per unit of position traded.
        slippage_bps: Slippage in basis points per unit of position traded.
        periods_per_year: Bars per year used to annualise.
    """

    equity: pd.Series
    returns: pd.Series
    positions: pd.Series
    signals: pd.Series
    trades: pd.DataFrame
    stats: dict[str, float]
    comparison: pd.DataFrame
    rule: str
    threshold: float
    cost_bps: float
    slippage_bps: float
    periods_per_year: float

    def to_dict(self) -> dict[str, Any]:
        """A JSON-serialisable summary: settings, statistics, series and trades.

        Undefined statistics (NaN, e.g. a Sharpe ratio without volatility) become ``None``.

        Example:
            >>> import json
            >>> import pandas as pd
            >>> dates = pd.bdate_range("2024-01-01", periods=3, name="date")
            >>> prices = pd.Series([100.0, 110.0, 99.0], index=dates)
            >>> result = simulate_trading(prices, pd.Series([105.0, 98.0], index=dates[1:]))
            >>> json.loads(json.dumps(result.to_dict()))["positions"]
            {'2024-01-02': 1, '2024-01-03': 0}
        """
        return {
            "disclaimer": DISCLAIMER,
            "settings": {
                "rule": self.rule,
                "threshold": float(self.threshold),
                "cost_bps": float(self.cost_bps),
                "slippage_bps": float(self.slippage_bps),
                "periods_per_year": float(self.periods_per_year),
            },
            **json_safe(
                {
                    "stats": self.stats,
                    "comparison": self.comparison.to_dict(orient="index"),
                    "equity": self.equity,
                    "returns": self.returns,
                    "positions": self.positions,
                    "signals": self.signals,
                    "trades": self.trades.to_dict(orient="records"),
                }
            ),
        }

    def __str__(self) -> str:
        dates = self.returns.index
        header = (
            f"Trading simulation: rule={self.rule}, threshold={self.threshold:g}, "
            f"costs {self.cost_bps:g} bps + slippage {self.slippage_bps:g} bps per unit traded, "
            f"{len(dates)} bars {_iso(dates[0])} to {_iso(dates[-1])}"
        )
        table = self.comparison.to_string(float_format=lambda x: f"{x:.4f}")
        return "\n".join([header, table, DISCLAIMER])

    def __repr__(self) -> str:
        return (
            f"TradingResult(rule={self.rule!r}, bars={len(self.returns)}, "
            f"total_return={self.stats['total_return']:.4f})"
        )


def simulate_trading(
    prices: pd.Series,
    forecasts: pd.Series | pd.DataFrame,
    rule: str = "long_flat",
    threshold: float = 0.0,
    cost_bps: float = 0.0,
    slippage_bps: float = 0.0,
    benchmarks: dict[str, pd.Series | pd.DataFrame] | None = None,
    periods_per_year: float = 252,
) -> TradingResult:
    """Trade one-step price forecasts with a simple rule and report honest statistics.

    Research simulation, not investment advice: past, simulated returns with
    simple costs do not predict future results.

    Timing, chosen so that no position earns a return known when it was decided:

    * A bar is one forecast date ``t``; it runs from ``close[t-1]`` (the previous
      session in ``prices``) to ``close[t]``.
    * The forecast for ``t`` was made at the close of ``t-1``. The signal is
      ``s_t = forecast_t / close[t-1] - 1``, which uses no price after ``t-1``.
    * The position ``p_t`` follows from ``s_t``, is executed at ``close[t-1]``
      (the earliest moment the signal exists) and earns
      ``r_t = close[t] / close[t-1] - 1``.
    * Rules: ``long_flat``: ``p_t = 1`` if ``s_t > threshold`` else 0.
      ``long_short``: ``1`` if ``s_t > threshold``, ``-1`` if ``s_t < -threshold``,
      else 0.
    * Costs: ``(cost_bps + slippage_bps) / 1e4 * |p_t - p_{t-1}|`` is deducted
      from bar ``t``'s return; the position before the first bar is flat (entering
      costs 1 unit, long to short 2 units) and the last position is not closed.
    * Bar return ``p_t * r_t - cost_t``; the equity compounds from 1.0.

    Statistics (``n`` bars, ``P = periods_per_year``): ``total_return``;
    ``cagr = equity_end ** (P / n) - 1``; ``volatility`` = sample std (ddof=1)
    times ``sqrt(P)``; ``sharpe = mean / std * sqrt(P)`` (risk-free 0);
    ``sortino = mean / sqrt(mean(min(r, 0)**2)) * sqrt(P)``; ``max_drawdown``
    (<= 0, from the equity curve including the starting 1.0); ``hit_rate`` =
    share of bars with a nonzero position whose return after costs is > 0;
    ``turnover`` = mean ``|p_t - p_{t-1}|``; ``exposure`` = share of bars with a
    nonzero position; ``n_trades`` = number of position changes. Ratios with a
    zero denominator are NaN. ``sharpe_p_value`` tests whether the Sharpe
    ratio differs from buy-and-hold's on the same bars (two-sided,
    Ledoit & Wolf 2008 HAC test, :func:`rnncast.evaluate.sharpe_difference_test`);
    a higher Sharpe ratio with a large p-value is no evidence of a better strategy.

    Buy-and-hold is long on every bar (paying the entry cost once). Each
    benchmark's forecasts are traded with the same rule, threshold and costs
    on the same bars.

    Args:
        prices: Closes indexed by session date (strictly increasing, positive).
        forecasts: Forecasts indexed by the date they are for: a DataFrame with a
            ``step_1`` column (as ``Forecaster.predict`` returns) or a Series of
            step-1 forecasts. One forecast per consecutive session, each with a
            previous session in ``prices``.
        rule: ``"long_flat"`` or ``"long_short"``.
        threshold: Minimum predicted return (absolute, for shorts) to hold a
            position; must be >= 0 for ``long_short``.
        cost_bps: Commission per unit of position traded, in basis points.
        slippage_bps: Slippage per unit of position traded, in basis points.
        benchmarks: Named forecasts of other models (e.g. naive, AR) covering at
            least the same dates.
        periods_per_year: Bars per year for annualising (252 for daily bars).

    Returns:
        A :class:`TradingResult`; ``print(result)`` shows the comparison table.

    Raises:
        DataError: Bad prices or forecasts: NaN, a forecast date missing from
            ``prices`` or without a previous session, gaps, unsorted dates.
        ConfigError: Unknown rule, negative costs or invalid settings.

    Example:
        >>> import pandas as pd
        >>> dates = pd.bdate_range("2024-01-01", periods=4, name="date")
        >>> prices = pd.Series([100.0, 110.0, 99.0, 108.9], index=dates)
        >>> forecasts = pd.Series([105.0, 108.0, 100.0], index=dates[1:])
        >>> result = simulate_trading(prices, forecasts, cost_bps=10)
        >>> result.positions.tolist()
        [1, 0, 1]
        >>> [round(r, 4) for r in result.returns]
        [0.099, -0.001, 0.099]
        >>> "not investment advice" in str(result)
        True
    """
    _check_settings(rule, threshold, cost_bps, slippage_bps, periods_per_year)
    closes = _check_prices(prices)
    predicted = _step_one(forecasts, "forecasts")
    rows = _bar_rows(predicted.index, closes.index)
    base = closes.to_numpy()[rows - 1]
    market = closes.to_numpy()[rows] / base - 1.0
    rate = (cost_bps + slippage_bps) / 1e4

    signal = predicted.to_numpy() / base - 1.0
    positions = _positions(signal, rule, threshold)
    runs = {STRATEGY: positions, BUY_AND_HOLD: np.ones(len(rows), dtype=np.int64)}
    for name, bench in (benchmarks or {}).items():
        runs[_check_name(name)] = _positions(
            _aligned(bench, predicted.index, name) / base - 1.0, rule, threshold
        )

    table = {name: _stats(pos, market, rate, periods_per_year) for name, pos in runs.items()}
    _add_sharpe_tests(table, runs, market, rate)
    returns, costs, change = _bar_returns(positions, market, rate)
    dates = pd.DatetimeIndex(predicted.index, name="date")
    start = pd.DatetimeIndex([closes.index[rows[0] - 1]])
    equity = np.cumprod(np.concatenate(([1.0], 1.0 + returns)))
    return TradingResult(
        equity=pd.Series(equity, index=start.append(dates).rename("date"), name="equity"),
        returns=pd.Series(returns, index=dates, name="return"),
        positions=pd.Series(positions, index=dates, name="position"),
        signals=pd.Series(signal, index=dates, name="signal"),
        trades=_trades(dates, positions, costs, change),
        stats=table[STRATEGY],
        comparison=pd.DataFrame.from_dict(table, orient="index")[list(STATS)],
        rule=rule,
        threshold=float(threshold),
        cost_bps=float(cost_bps),
        slippage_bps=float(slippage_bps),
        periods_per_year=float(periods_per_year),
    )


# ------------------------------------------------------------------ checks
def _check_settings(
    rule: str, threshold: float, cost_bps: float, slippage_bps: float, periods_per_year: float
) -> None:
    if rule not in RULES:
        raise ConfigError(f"unknown rule {rule!r}; use one of {', '.join(RULES)}.")
    for name, value in (("cost_bps", cost_bps), ("slippage_bps", slippage_bps)):
        if not math.isfinite(value) or value < 0:
            raise ConfigError(f"{name}={value!r} must be a finite number >= 0 (basis points).")
    if not math.isfinite(threshold):
        raise ConfigError(f"threshold={threshold!r} must be a finite number.")
    if rule == "long_short" and threshold < 0:
        raise ConfigError(
            f"threshold={threshold!r} must be >= 0 for rule='long_short' "
            "(it is the band |signal| <= threshold that stays flat)."
        )
    if not math.isfinite(periods_per_year) or periods_per_year <= 0:
        raise ConfigError(f"periods_per_year={periods_per_year!r} must be > 0 (252 for days).")


def _check_prices(prices: pd.Series) -> pd.Series:
    if not isinstance(prices, pd.Series):
        raise DataError(
            f"prices must be a pd.Series of closes, got {type(prices).__name__}; "
            "pass frame['close']."
        )
    if not isinstance(prices.index, pd.DatetimeIndex):
        raise DataError("prices must be indexed by a DatetimeIndex of session dates.")
    if not prices.index.is_unique or not prices.index.is_monotonic_increasing:
        raise DataError(
            "prices dates must be unique and increasing; use sort_index() and "
            "drop duplicated dates."
        )
    closes = prices.astype(np.float64)
    _raise_first(closes.index, ~np.isfinite(closes.to_numpy()), "prices", "is NaN or infinite")
    _raise_first(closes.index, closes.to_numpy() <= 0, "prices", "is <= 0")
    return closes


def _step_one(forecasts: pd.Series | pd.DataFrame, what: str) -> pd.Series:
    """The step-1 forecasts as a float Series, checked for dates and NaN."""
    if isinstance(forecasts, pd.DataFrame):
        if FORECAST_COLUMN not in forecasts.columns:
            raise DataError(
                f"{what} has no {FORECAST_COLUMN!r} column (columns: "
                f"{list(forecasts.columns)}); pass Forecaster.predict output "
                "or a Series of step-1 forecasts."
            )
        forecasts = forecasts[FORECAST_COLUMN]
    if not isinstance(forecasts, pd.Series):
        raise DataError(
            f"{what} must be a pd.Series or pd.DataFrame, got {type(forecasts).__name__}."
        )
    if not isinstance(forecasts.index, pd.DatetimeIndex) or len(forecasts) == 0:
        raise DataError(
            f"{what} must be non-empty and indexed by a DatetimeIndex of the dates forecast."
        )
    if not forecasts.index.is_unique or not forecasts.index.is_monotonic_increasing:
        raise DataError(f"{what} dates must be unique and increasing; use sort_index().")
    values = forecasts.astype(np.float64)
    _raise_first(values.index, ~np.isfinite(values.to_numpy()), what, "is NaN or infinite")
    return values


def _bar_rows(dates: pd.DatetimeIndex, sessions: pd.DatetimeIndex) -> np.ndarray:
    """Row of each forecast date in ``sessions``; every one needs the session before."""
    rows = sessions.get_indexer(dates)
    _raise_first(dates, rows < 0, "forecasts", "is not a date in prices")
    _raise_first(
        dates,
        rows == 0,
        "forecasts",
        "has no previous session in prices (the forecast's base close)",
    )
    gaps = np.flatnonzero(np.diff(rows) != 1)
    if len(gaps):
        i = gaps[0]
        raise DataError(
            f"forecasts skip session {_iso(sessions[rows[i] + 1])} (between {_iso(dates[i])} "
            f"and {_iso(dates[i + 1])}); the simulation needs one forecast per consecutive "
            "session so that every held bar is counted."
        )
    return rows


def _aligned(forecasts: pd.Series | pd.DataFrame, dates: pd.DatetimeIndex, name: str) -> np.ndarray:
    """A benchmark's step-1 forecasts on exactly the strategy's dates."""
    what = f"benchmarks[{name!r}]"
    values = _step_one(forecasts, what)
    _raise_first(dates, ~dates.isin(values.index), what, "is missing (a strategy date)")
    return values.reindex(dates).to_numpy()


def _check_name(name: str) -> str:
    if name in (STRATEGY, BUY_AND_HOLD):
        raise ConfigError(f"benchmark name {name!r} is reserved; choose another name.")
    return name


def _raise_first(dates: pd.Index, bad: np.ndarray, what: str, problem: str) -> None:
    if bad.any():
        first = dates[int(np.argmax(bad))]
        raise DataError(f"{what}: {_iso(first)} {problem} ({int(bad.sum())} bad date(s)).")


# ------------------------------------------------------------- simulation
def _positions(signal: np.ndarray, rule: str, threshold: float) -> np.ndarray:
    """Position per bar from the predicted returns."""
    long = (signal > threshold).astype(np.int64)
    if rule == "long_flat":
        return long
    return long - (signal < -threshold).astype(np.int64)


def _add_sharpe_tests(
    table: dict[str, dict[str, float]],
    runs: dict[str, np.ndarray],
    market: np.ndarray,
    rate: float,
) -> None:
    """``sharpe_p_value``: each run's Sharpe ratio against buy-and-hold's (Ledoit-Wolf HAC)."""
    hold = _bar_returns(runs[BUY_AND_HOLD], market, rate)[0]
    for name, positions in runs.items():
        p = math.nan
        if name != BUY_AND_HOLD and len(market) >= MIN_DAYS:
            returns = _bar_returns(positions, market, rate)[0]
            p = sharpe_difference_test(returns, hold).p_value
        table[name]["sharpe_p_value"] = p


def _bar_returns(
    positions: np.ndarray, market: np.ndarray, rate: float
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Returns after costs, costs and ``|position change|`` per bar (flat before bar 0)."""
    change = np.abs(np.diff(positions, prepend=0)).astype(np.float64)
    costs = rate * change
    return positions * market - costs, costs, change


def _stats(
    positions: np.ndarray, market: np.ndarray, rate: float, periods_per_year: float
) -> dict[str, float]:
    """The statistics listed in :func:`simulate_trading` for one position path."""
    returns, _, change = _bar_returns(positions, market, rate)
    n = len(returns)
    equity = np.cumprod(np.concatenate(([1.0], 1.0 + returns)))
    final = float(equity[-1])
    std = float(np.std(returns, ddof=1)) if n > 1 else math.nan
    downside = float(np.sqrt(np.mean(np.minimum(returns, 0.0) ** 2)))
    mean = float(np.mean(returns))
    held = positions != 0
    root = math.sqrt(periods_per_year)
    return {
        "total_return": final - 1.0,
        "cagr": final ** (periods_per_year / n) - 1.0 if final > 0 else -1.0,
        "volatility": std * root,
        "sharpe": _ratio(mean, std) * root,
        "sortino": _ratio(mean, downside) * root,
        "max_drawdown": float(np.min(equity / np.maximum.accumulate(equity) - 1.0)),
        "hit_rate": float(np.mean(returns[held] > 0)) if held.any() else math.nan,
        "turnover": float(np.mean(change)),
        "exposure": float(np.mean(held)),
        "n_trades": int(np.count_nonzero(change)),
    }


def _ratio(numerator: float, denominator: float) -> float:
    if not denominator > 0:  # zero or NaN
        return math.nan
    return numerator / denominator


def _trades(
    dates: pd.DatetimeIndex, positions: np.ndarray, costs: np.ndarray, change: np.ndarray
) -> pd.DataFrame:
    before = np.concatenate(([0], positions[:-1]))
    traded = change != 0
    return pd.DataFrame(
        {
            "date": dates[traded],
            "from": before[traded],
            "to": positions[traded],
            "cost": costs[traded],
        }
    )


# ------------------------------------------------------------------ output
def _iso(date: pd.Timestamp) -> str:
    return pd.Timestamp(date).date().isoformat()

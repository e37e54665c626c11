"""Trading simulation: hand-computed examples, no look-ahead, statistics, errors."""

from __future__ import annotations

import json
import math

import numpy as np
import pandas as pd
import pytest

from rnncast.evaluate.sharpe import sharpe_difference_test
from rnncast.exceptions import ConfigError, DataError
from rnncast.forecasting.trading import DISCLAIMER, STATS, simulate_trading

# ---------------------------------------------------------------- fixtures
DATES = pd.bdate_range("2024-01-01", periods=6, name="date")
# bar returns close[t]/close[t-1]-1:      +10%   -10%   +10%     0%     -5%
PRICES = pd.Series([100.0, 110.0, 99.0, 108.9, 108.9, 103.455], index=DATES)
# signals f_t/close[t-1]-1:               +2%    -2%    +1%    +0.1%   +1%
FORECASTS = pd.Series([102.0, 107.8, 99.99, 109.0089, 109.989], index=DATES[1:])
HAND = {"threshold": 0.005, "cost_bps": 10.0, "slippage_bps": 5.0}  # 15 bps per unit traded
ROOT = math.sqrt(252)


def random_walk(n: int = 120, seed: int = 0) -> pd.Series:
    rng = np.random.default_rng(seed)
    close = 100 * np.exp(np.cumsum(rng.normal(0, 0.02, n)))
    return pd.Series(close, index=pd.bdate_range("2021-01-01", periods=n, name="date"))


def bar_returns(prices: pd.Series) -> np.ndarray:
    close = prices.to_numpy()
    return close[1:] / close[:-1] - 1


def momentum(prices: pd.Series) -> pd.Series:
    """A causal forecast for t from close[t-2] and close[t-1] only."""
    last, before = prices.shift(1), prices.shift(2)
    return (last * (last / before)).iloc[2:]


def close_stats(actual: dict, expected: dict) -> None:
    assert set(actual) == set(STATS)
    for key, value in expected.items():
        assert actual[key] == pytest.approx(value, rel=1e-9, abs=1e-12, nan_ok=True), key


# ------------------------------------------------------ hand-computed cases
def test_long_flat_by_hand():
    result = simulate_trading(PRICES, FORECASTS, rule="long_flat", **HAND)
    # signal > 0.005 -> long: +2% yes, -2% no, +1% yes, +0.1% no, +1% yes
    assert result.positions.tolist() == [1, 0, 1, 0, 1]
    # every bar changes the position by 1 unit -> cost 0.0015 each
    # returns: 0.10-0.0015, 0-0.0015, 0.10-0.0015, 0-0.0015, -0.05-0.0015
    assert result.returns.to_numpy() == pytest.approx([0.0985, -0.0015, 0.0985, -0.0015, -0.0515])
    equity = [
        1.0,
        1.0985,
        1.0985 * 0.9985,
        1.0985**2 * 0.9985,
        1.0985**2 * 0.9985**2,
        1.0985**2 * 0.9985**2 * 0.9485,
    ]
    assert result.equity.to_numpy() == pytest.approx(equity, rel=1e-12)
    assert result.equity.index[0] == DATES[0] and list(result.equity.index[1:]) == list(DATES[1:])
    trades = result.trades
    assert list(trades.columns) == ["date", "from", "to", "cost"]
    assert list(trades["date"]) == list(DATES[1:])
    assert trades["from"].tolist() == [0, 1, 0, 1, 0]
    assert trades["to"].tolist() == [1, 0, 1, 0, 1]
    assert trades["cost"].to_numpy() == pytest.approx([0.0015] * 5)
    # mean = (0.0985-0.0015+0.0985-0.0015-0.0515)/5 = 0.0285
    # deviations 0.07,-0.03,0.07,-0.03,-0.08 -> squares sum 0.018 -> sample var 0.0045
    # downside: (0.0015**2 + 0.0015**2 + 0.0515**2)/5 = 0.00053135
    final = 1.0985**2 * 0.9985**2 * 0.9485
    close_stats(
        result.stats,
        {
            "total_return": final - 1,
            "cagr": final ** (252 / 5) - 1,
            "volatility": math.sqrt(0.0045) * ROOT,
            "sharpe": 0.0285 / math.sqrt(0.0045) * ROOT,
            "sortino": 0.0285 / math.sqrt(0.00053135) * ROOT,
            "max_drawdown": 0.9985 * 0.9485 - 1,  # peak after bar 3, then -0.15% and -5.15%
            "hit_rate": 2 / 3,  # held bars 1, 3, 5; bar 5 lost
            "turnover": 5 / 5,
            "exposure": 3 / 5,
            "n_trades": 5,
        },
    )


def test_long_short_by_hand():
    result = simulate_trading(PRICES, FORECASTS, rule="long_short", **HAND)
    # +2% long, -2% short, +1% long, |0.1%| <= 0.5% flat, +1% long
    assert result.positions.tolist() == [1, -1, 1, 0, 1]
    # |change| 1, 2, 2, 1, 1 -> costs 0.0015, 0.003, 0.003, 0.0015, 0.0015
    assert result.trades["cost"].to_numpy() == pytest.approx([0.0015, 0.003, 0.003, 0.0015, 0.0015])
    assert result.trades["from"].tolist() == [0, 1, -1, 1, 0]
    assert result.trades["to"].tolist() == [1, -1, 1, 0, 1]
    # returns: 0.10-0.0015, (-1)(-0.10)-0.003, 0.10-0.003, 0-0.0015, -0.05-0.0015
    assert result.returns.to_numpy() == pytest.approx([0.0985, 0.097, 0.097, -0.0015, -0.0515])
    final = 1.0985 * 1.097**2 * 0.9985 * 0.9485
    assert result.equity.iloc[-1] == pytest.approx(final, rel=1e-12)
    # mean = (0.0985+0.097+0.097-0.0015-0.0515)/5 = 0.0479
    # deviations 0.0506,0.0491,0.0491,-0.0494,-0.0994 -> squares sum 0.0197027 -> var 0.004925675
    # downside: (0.0015**2 + 0.0515**2)/5 = 0.0005309
    close_stats(
        result.stats,
        {
            "total_return": final - 1,
            "cagr": final ** (252 / 5) - 1,
            "volatility": math.sqrt(0.004925675) * ROOT,
            "sharpe": 0.0479 / math.sqrt(0.004925675) * ROOT,
            "sortino": 0.0479 / math.sqrt(0.0005309) * ROOT,
            "max_drawdown": 0.9985 * 0.9485 - 1,
            "hit_rate": 3 / 4,  # held bars 1, 2, 3, 5; bar 5 lost
            "turnover": 7 / 5,
            "exposure": 4 / 5,
            "n_trades": 5,
        },
    )


def test_buy_and_hold_row_by_hand():
    result = simulate_trading(PRICES, FORECASTS, **HAND)
    row = result.comparison.loc["buy_and_hold"]
    # long every bar, entry cost 0.0015 on bar 1 only: 0.0985, -0.1, 0.1, 0, -0.05
    final = 1.0985 * 0.9 * 1.1 * 1.0 * 0.95
    assert row["total_return"] == pytest.approx(final - 1)
    # peak after bar 1, trough after bar 2 (0.9); later 0.9*1.1*0.95 = 0.9405 is shallower
    assert row["max_drawdown"] == pytest.approx(0.9 - 1)
    assert row["n_trades"] == 1 and row["exposure"] == 1.0 and row["turnover"] == 0.2
    assert row["hit_rate"] == pytest.approx(2 / 5)


# ----------------------------------------------------------- no look-ahead
def test_perfect_foresight_earns_exactly_the_positive_bar_returns():
    prices = random_walk()
    r = bar_returns(prices)
    perfect = prices.iloc[1:]  # forecast_t = close_t
    flat = simulate_trading(prices, perfect, rule="long_flat")
    assert flat.positions.to_numpy().tolist() == (r > 0).astype(int).tolist()
    assert flat.returns.to_numpy() == pytest.approx(np.where(r > 0, r, 0.0), abs=1e-15)
    assert flat.returns.sum() == pytest.approx(r[r > 0].sum(), rel=1e-12)
    assert flat.stats["total_return"] == pytest.approx(np.prod(1 + r[r > 0]) - 1, rel=1e-12)
    short = simulate_trading(prices, perfect, rule="long_short")
    assert short.returns.to_numpy() == pytest.approx(np.abs(r), abs=1e-15)


def test_knowing_the_next_bar_is_not_rewarded():
    """The forecast for t "knows" bar t+1's return; only bar t's return may be paid.

    An engine that executed one bar late would turn this into perfect foresight.
    """
    prices = random_walk()
    r = bar_returns(prices)
    dates = prices.index[1:-1]
    cheat = pd.Series(prices.to_numpy()[:-2] * (1 + r[1:]), index=dates)  # signal_t = r_{t+1}
    result = simulate_trading(prices, cheat)
    expected = np.where(r[1:] > 0, r[:-1], 0.0)
    assert result.returns.to_numpy() == pytest.approx(expected, abs=1e-15)
    late = np.prod(1 + np.where(r[1:] > 0, r[1:], 0.0)) - 1
    assert result.stats["total_return"] < late / 4


def test_naive_forecast_is_always_flat():
    prices = random_walk()
    naive = prices.shift(1).iloc[1:]  # forecast_t = close_{t-1}
    for rule in ("long_flat", "long_short"):
        result = simulate_trading(prices, naive, rule=rule, cost_bps=5)
        assert (result.signals == 0).all()
        assert result.stats["exposure"] == 0 and result.stats["n_trades"] == 0
        assert result.stats["total_return"] == 0 and (result.equity == 1.0).all()


@pytest.mark.parametrize("first_changed", [40, 41])  # from D on, or strictly after D
def test_changing_later_prices_changes_nothing_decided_before(first_changed):
    prices = random_walk()
    changed = prices.copy()
    factors = np.random.default_rng(1).uniform(0.8, 1.2, len(prices) - first_changed)
    changed.iloc[first_changed:] *= factors
    day = prices.index[40]  # D
    kwargs = {"rule": "long_short", "cost_bps": 3, "slippage_bps": 2}
    base = simulate_trading(prices, momentum(prices), **kwargs)
    other = simulate_trading(changed, momentum(changed), **kwargs)
    # positions (and signals) on D were decided at the close before D
    pd.testing.assert_series_equal(base.positions[:day], other.positions[:day])
    pd.testing.assert_series_equal(base.signals[:day], other.signals[:day])
    realised = day if first_changed > 40 else prices.index[39]
    pd.testing.assert_series_equal(base.returns[:realised], other.returns[:realised])
    pd.testing.assert_series_equal(base.equity[:realised], other.equity[:realised])
    assert not base.positions.equals(other.positions)  # the change does reach later bars


# ------------------------------------------------------------ statistics
def numpy_stats(returns: np.ndarray, positions: np.ndarray, periods: float = 252) -> dict:
    equity = np.cumprod(np.r_[1.0, 1 + returns])
    change = np.abs(np.diff(np.r_[0, positions]))
    return {
        "total_return": equity[-1] - 1,
        "cagr": equity[-1] ** (periods / len(returns)) - 1,
        "volatility": returns.std(ddof=1) * np.sqrt(periods),
        "sharpe": returns.mean() / returns.std(ddof=1) * np.sqrt(periods),
        "sortino": returns.mean()
        / np.sqrt(np.mean(np.minimum(returns, 0) ** 2))
        * np.sqrt(periods),
        "max_drawdown": (equity / np.maximum.accumulate(equity) - 1).min(),
        "hit_rate": (returns[positions != 0] > 0).mean(),
        "turnover": change.mean(),
        "exposure": (positions != 0).mean(),
        "n_trades": int((change != 0).sum()),
    }


def test_buy_and_hold_matches_a_direct_computation():
    prices = random_walk(300, seed=3)
    result = simulate_trading(prices, momentum(prices), cost_bps=10)
    r = bar_returns(prices)[1:]  # momentum forecasts start at the third session
    held = r.copy()
    held[0] -= 0.001  # entry cost, once
    expected = numpy_stats(held, np.ones(len(held), dtype=int))
    close_stats(result.comparison.loc["buy_and_hold"].to_dict(), expected)


def test_strategy_sharpe_and_sortino_match_numpy():
    prices = random_walk(300, seed=4)
    result = simulate_trading(
        prices, momentum(prices), rule="long_short", cost_bps=2, slippage_bps=1
    )
    expected = numpy_stats(result.returns.to_numpy(), result.positions.to_numpy())
    close_stats(result.stats, expected)
    r = bar_returns(prices)[1:]
    pos = result.positions.to_numpy()
    manual = pos * r - 3e-4 * np.abs(np.diff(np.r_[0, pos]))
    assert result.returns.to_numpy() == pytest.approx(manual, abs=1e-15)


def test_sharpe_p_value_tests_the_strategy_against_buy_and_hold():
    prices = random_walk(300, seed=5)
    result = simulate_trading(prices, momentum(prices), rule="long_short", cost_bps=2)
    held = bar_returns(prices)[1:].copy()
    held[0] -= 2e-4  # buy-and-hold's entry cost
    expected = sharpe_difference_test(result.returns.to_numpy(), held)
    assert result.comparison.at["strategy", "sharpe_p_value"] == pytest.approx(expected.p_value)
    assert result.stats["sharpe_p_value"] == pytest.approx(expected.p_value)
    assert math.isnan(result.comparison.at["buy_and_hold", "sharpe_p_value"])
    # a strategy that knows tomorrow's sign is significantly better than buy-and-hold
    oracle = simulate_trading(prices, prices.iloc[2:] * 1.0 + 0.0, rule="long_short")
    assert oracle.stats["sharpe"] > oracle.comparison.at["buy_and_hold", "sharpe"]
    assert oracle.stats["sharpe_p_value"] < 0.01


def test_max_drawdown_on_a_known_equity_path():
    dates = pd.bdate_range("2024-01-01", periods=5, name="date")
    prices = pd.Series([100.0, 120.0, 90.0, 135.0, 81.0], index=dates)
    result = simulate_trading(prices, prices.shift(1).iloc[1:])  # flat strategy
    hold = result.comparison.loc["buy_and_hold"]
    assert hold["total_return"] == pytest.approx(-0.19)  # equity = close / 100
    assert hold["max_drawdown"] == pytest.approx(81 / 135 - 1)  # -0.4, deeper than 90/120-1
    assert result.stats["max_drawdown"] == 0.0


@pytest.mark.parametrize(
    ("periods", "bars", "growth", "cagr"),
    [(4, 8, 1.21, 0.1), (252, 252, 2.0, 1.0), (252, 504, 0.81, -0.1)],
)
def test_cagr_with_a_known_number_of_bars(periods, bars, growth, cagr):
    dates = pd.bdate_range("2020-01-01", periods=bars + 1, name="date")
    prices = pd.Series(100 * growth ** (np.arange(bars + 1) / bars), index=dates)
    result = simulate_trading(prices, prices.iloc[1:] * 2, periods_per_year=periods)
    assert result.stats["exposure"] == 1.0
    assert result.stats["total_return"] == pytest.approx(growth - 1)
    assert result.stats["cagr"] == pytest.approx(cagr)


# ------------------------------------------------------------- benchmarks
def test_benchmarks_use_the_same_rule_and_costs():
    prices = random_walk(200, seed=5)
    ours = momentum(prices)
    naive = prices.shift(1).iloc[1:]  # covers more dates than ours: aligned to ours
    ar = ours * (1 + 0.001 * np.sin(np.arange(len(ours))))
    kwargs = {"rule": "long_short", "threshold": 0.002, "cost_bps": 4, "slippage_bps": 1}
    result = simulate_trading(prices, ours, benchmarks={"naive": naive, "ar": ar}, **kwargs)
    assert list(result.comparison.index) == ["strategy", "buy_and_hold", "naive", "ar"]
    assert list(result.comparison.columns) == list(STATS)
    alone = simulate_trading(prices, ar, **kwargs)
    close_stats(result.comparison.loc["ar"].to_dict(), alone.stats)
    close_stats(result.comparison.loc["strategy"].to_dict(), result.stats)
    assert result.comparison.loc["naive", "exposure"] == 0.0
    assert math.isnan(result.comparison.loc["naive", "sharpe"])


def test_forecast_frame_uses_step_1():
    frame = pd.DataFrame({"step_1": FORECASTS, "step_2": np.nan}, index=FORECASTS.index)
    from_frame = simulate_trading(PRICES, frame, **HAND)
    from_series = simulate_trading(PRICES, FORECASTS, **HAND)
    pd.testing.assert_frame_equal(from_frame.comparison, from_series.comparison)


def test_to_dict_is_json_and_str_has_the_disclaimer():
    result = simulate_trading(PRICES, FORECASTS, benchmarks={"naive": PRICES.shift(1)[1:]}, **HAND)
    data = json.loads(json.dumps(result.to_dict(), allow_nan=False))
    assert data["disclaimer"] == DISCLAIMER
    assert data["stats"]["n_trades"] == 5
    assert data["comparison"]["naive"]["sharpe"] is None
    assert data["trades"][0] == {"date": "2024-01-02", "from": 0, "to": 1, "cost": 0.0015}
    assert data["equity"]["2024-01-01"] == 1.0
    text = str(result)
    assert DISCLAIMER in text and "buy_and_hold" in text and "naive" in text
    assert DISCLAIMER in " ".join(simulate_trading.__doc__.split())


# ----------------------------------------------------------------- errors
@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"rule": "momentum"}, "unknown rule"),
        ({"cost_bps": -1.0}, "cost_bps"),
        ({"slippage_bps": -0.5}, "slippage_bps"),
        ({"rule": "long_short", "threshold": -0.01}, "threshold"),
        ({"periods_per_year": 0}, "periods_per_year"),
        ({"benchmarks": {"buy_and_hold": FORECASTS}}, "reserved"),
    ],
)
def test_config_errors(kwargs, match):
    with pytest.raises(ConfigError, match=match):
        simulate_trading(PRICES, FORECASTS, **kwargs)


def test_forecast_date_not_in_prices():
    bad = FORECASTS.rename(index={DATES[3]: pd.Timestamp("2024-01-06")}).sort_index()
    with pytest.raises(DataError, match="2024-01-06 is not a date in prices"):
        simulate_trading(PRICES, bad)


def test_first_forecast_without_a_previous_session():
    with pytest.raises(DataError, match="2024-01-01 has no previous session"):
        simulate_trading(PRICES, PRICES * 1.01)


def test_gap_in_forecast_dates():
    with pytest.raises(DataError, match="skip session 2024-01-04"):
        simulate_trading(PRICES, FORECASTS.drop(DATES[3]))


def test_nan_forecast_or_price():
    with pytest.raises(DataError, match="2024-01-03 is NaN"):
        simulate_trading(PRICES, FORECASTS.where(FORECASTS.index != DATES[2]))
    with pytest.raises(DataError, match="prices: 2024-01-04 is NaN"):
        simulate_trading(PRICES.where(PRICES.index != DATES[3]), FORECASTS)
    with pytest.raises(DataError, match="2024-01-04 is missing"):
        simulate_trading(PRICES, FORECASTS, benchmarks={"ar": FORECASTS.drop(DATES[3])})


def test_frame_without_step_1():
    with pytest.raises(DataError, match="step_1"):
        simulate_trading(PRICES, FORECASTS.to_frame("close"))

"""Planted universes with a known answer: the universe verdict claims exactly what is true.

Tickers share a market factor (returns ``r_it = m_t + u_it``), so their
forecast errors are correlated across the cross-section as real stocks' are.
Cases, each over several seeds: no skill (naive + noise, or a market-momentum
model on random walks), real skill in every ticker, skill in 2 of 22 tickers
(the AR(1) case of issue 15), a copy of yesterday's price, and the size of
the panel tests against the naive pooled tests that treat every ticker-date
as independent. Everything is vectorized numpy; no model is trained.
"""

import numpy as np
import pandas as pd
import pytest

from rnncast.evaluate import (
    ALPHA,
    FDR_LEVEL,
    benjamini_hochberg,
    diebold_mariano,
    direction_test,
    evaluate_universe,
    panel_diebold_mariano,
    panel_direction_test,
)
from rnncast.evaluate.panel import one_sided_dm_p

TRAIN, DATES, VOL = 100, 250, 0.01


def market(seed, n, ar=None):
    """Prices ``(TRAIN + DATES + 1, n)`` and returns of tickers sharing a market factor.

    ``ar`` maps a column to an AR(1) coefficient: that ticker's returns are
    ``x_t = phi * x_{t-1} + r_t`` (predictable); the others are random walks.
    """
    rng = np.random.default_rng(seed)
    rows = TRAIN + DATES + 1
    common = rng.normal(0, VOL, (rows, 1))
    returns = common + rng.normal(0, VOL, (rows, n))  # (rows, n)
    for column, phi in (ar or {}).items():
        x = returns[:, column].copy()
        for t in range(1, rows):
            x[t] = phi * x[t - 1] + returns[t, column]
        returns[:, column] = x
    levels = np.exp(rng.uniform(np.log(5.0), np.log(3000.0), n))  # cents to thousands
    return levels * np.exp(np.cumsum(returns, axis=0)), returns, common


def inputs(prices, model):
    """The four mappings of ``evaluate_universe`` for one-step forecasts of the test rows."""
    dates = pd.bdate_range("2015-01-01", periods=len(prices), name="date")
    rows = dates[TRAIN + 1 :]
    base = prices[TRAIN:-1]  # (DATES, n): the last price of every window
    actual, forecasts, bases, train = {}, {}, {}, {}
    for i in range(prices.shape[1]):
        ticker = f"T{i:02d}"
        actual[ticker] = pd.Series(prices[TRAIN + 1 :, i], index=rows)
        bases[ticker] = pd.Series(base[:, i], index=rows)
        train[ticker] = pd.Series(prices[: TRAIN + 1, i], index=dates[: TRAIN + 1])
        forecasts[ticker] = {
            "model": pd.DataFrame({"step_1": model[:, i]}, index=rows),
            "naive": pd.DataFrame({"step_1": base[:, i]}, index=rows),
        }
    return actual, forecasts, bases, train


def last_prices(prices):
    return prices[TRAIN:-1]


def next_returns(returns):
    return returns[TRAIN + 1 :]


# ------------------------------------------------------------------ no skill
def no_skill_model(seed, prices, returns, common):
    """Even seeds: naive + noise. Odd seeds: bets on yesterday's market move (random walks)."""
    rng = np.random.default_rng(seed + 1000)
    base = last_prices(prices)
    if seed % 2 == 0:
        return base * np.exp(rng.normal(0, 0.1 * VOL, base.shape))
    yesterday = common[TRAIN:-1]  # (DATES, 1): known when forecasting, useless for tomorrow
    return base * np.exp(0.3 * yesterday + rng.normal(0, 0.02 * VOL, base.shape))


@pytest.mark.slow  # 20 universes of 20 tickers: about 6 s
def test_no_skill_is_never_claimed_over_20_seeds():
    outcomes, beats, small_p = [], 0, 0
    for seed in range(20):
        prices, returns, common = market(seed, 20)
        report = evaluate_universe(*inputs(prices, no_skill_model(seed, prices, returns, common)))
        verdict = report.verdict
        outcomes.append(verdict.outcome)
        beats += verdict.n_beats_fdr
        small_p += report.panel_dm.p_lower < ALPHA
        assert "skill across the universe as a whole" not in str(verdict)
    assert "beats" not in outcomes
    assert beats <= 2  # BH share near 0: at most 2 tickers in 400 ticker-evaluations
    assert small_p <= 2  # the one-sided panel p is small no more often than nominal


# ---------------------------------------------------------------- real skill
@pytest.mark.parametrize("seed", range(5))
def test_skill_in_every_ticker_is_claimed(seed):
    prices, returns, _ = market(seed, 20)
    model = last_prices(prices) * np.exp(0.1 * next_returns(returns))  # sees 10 % of the move
    report = evaluate_universe(*inputs(prices, model))
    verdict = report.verdict
    assert verdict.outcome == "beats" and verdict.badge()[0] == "green"
    assert report.panel_dm.p_value < 0.01 and report.panel_dm.statistic < 0
    assert report.pooled_skill_pct == pytest.approx(10.0, abs=1.0)
    assert verdict.n_beats_fdr >= 15
    assert "skill across the universe as a whole" in str(verdict)


# ----------------------------------------------------- skill in 2 of 22 tickers
def test_bh_finds_the_two_ar_tickers_and_no_random_walk():
    """Issue 15's planted universe: 20 random walks and 2 tickers with AR(1) returns."""
    found, false = 0, 0
    for seed in range(10):
        prices, returns, _ = market(seed, 22, ar={20: 0.5, 21: 0.5})
        base = last_prices(prices)
        rng = np.random.default_rng(seed)
        model = base * np.exp(rng.normal(0, 0.05 * VOL, base.shape))  # random walks: ~naive
        model[:, 20:] = base[:, 20:] * np.exp(0.5 * returns[TRAIN:-1, 20:])  # the AR forecast
        table = evaluate_universe(*inputs(prices, model)).to_frame()
        winners = set(table.index[table["beats_naive_after_fdr"]])
        found += len(winners & {"T20", "T21"})
        false += len(winners - {"T20", "T21"})
    assert false == 0
    assert found >= 15  # of 20 planted (ticker, seed) pairs


def test_bh_controls_the_false_discovery_rate_where_raw_p_values_do_not():
    """100 tickers, 10 with real skill, 90 exactly as good as naive; 40 seeds."""
    fdp, raw_false = [], []
    for seed in range(40):
        rng = np.random.default_rng(seed)
        n, m = 120, 100
        actual = np.zeros((n, m))
        naive = rng.normal(0, 1, (n, m))
        model = rng.normal(0, 1, (n, m))  # equal accuracy: exchangeable with naive
        model[:, :10] *= 0.7  # 10 tickers with skill
        p = np.array(
            [
                one_sided_dm_p(
                    diebold_mariano(actual[:, i], model[:, i], naive[:, i], power=1)[0], n
                )
                for i in range(m)
            ]
        )
        rejected = benjamini_hochberg(p) < FDR_LEVEL
        fdp.append(rejected[10:].sum() / max(rejected.sum(), 1))
        raw_false.append((p[10:] < FDR_LEVEL).sum())
    assert np.mean(fdp) <= 2 * FDR_LEVEL  # the FDR (mean FDP) stays near q (Monte Carlo slack)
    assert np.mean(raw_false) >= 1.0  # uncorrected, about 2.25 null tickers "win" per universe


# ------------------------------------------------------------ copy yesterday
@pytest.mark.parametrize("seed", range(3))
def test_copying_yesterdays_price_is_flagged_and_never_skill(seed):
    prices, _, _ = market(seed, 20)
    base = last_prices(prices)
    rng = np.random.default_rng(seed)
    for model in (
        base.astype(np.float32).astype(np.float64),  # naive through float32
        base * (1 + 1e-4 * rng.normal(size=base.shape)),  # hugs yesterday's price
    ):
        report = evaluate_universe(*inputs(prices, model))
        verdict = report.verdict
        assert report.summary["lag_flag_share"] >= 0.9
        assert verdict.outcome != "beats" and verdict.n_beats_fdr == 0
        assert "it mostly repeats yesterday's price" in str(verdict)
        assert verdict.badge()[0] == "amber"


# ------------------------------------------- cross-sectional correlation: size
def test_panel_dm_holds_its_size_where_the_naive_pooled_test_over_rejects():
    """Equal accuracy, errors sharing a date factor: 200 universes of 30 tickers x 250 dates."""
    from scipy.stats import t as student_t

    panel, pooled = 0, 0
    for seed in range(200):
        rng = np.random.default_rng(seed)
        shape = (250, 30)
        actual = np.zeros(shape)
        model = rng.normal(size=(250, 1)) + 0.5 * rng.normal(size=shape)  # a common bad day
        naive = rng.normal(size=(250, 1)) + 0.5 * rng.normal(size=shape)
        panel += panel_diebold_mariano(actual, model, naive, np.ones(30)).p_value < ALPHA
        d = (np.abs(model) - np.abs(naive)).ravel()  # every ticker-date independent: wrong
        t = d.mean() / d.std(ddof=1) * np.sqrt(d.size)
        pooled += 2 * student_t.sf(abs(t), d.size - 1) < ALPHA
    assert panel / 200 <= 0.09  # nominal 5 %, binomial slack
    assert pooled / 200 >= 0.3  # the naive pooled test rejects a true null far too often


def test_pooled_direction_test_holds_its_size_where_pooled_pt_over_rejects():
    """Random walks with a market factor; the model calls every ticker by yesterday's market."""
    panel, pooled = 0, 0
    for seed in range(100):
        rng = np.random.default_rng(seed)
        common = rng.normal(size=(251, 1))
        moves = common[1:] + rng.normal(size=(250, 30))  # (T, N)
        calls = np.repeat((common[:-1] > 0).astype(float), 30, axis=1)  # one guess for all
        moved_up = (moves > 0).astype(float)
        panel += panel_direction_test(calls, moved_up).p_upper < ALPHA
        flat = direction_test(moves.ravel(), np.where(calls.ravel() > 0, 1.0, -1.0), np.zeros(7500))
        pooled += flat.p_value < ALPHA
    assert panel / 100 <= 0.11
    assert pooled / 100 >= 0.15

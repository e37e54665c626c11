"""Planted cases with a known answer: the verdict must claim exactly what is true.

Each case builds forecasts whose skill is known by construction (none, real,
copy-yesterday) and checks the verdict's outcome and its direction, lag and
coverage claims, over several seeds or periods, on synthetic series and on the
bundled samples.
"""

import numpy as np
import pandas as pd
import pytest

import rnncast as rc
from rnncast.evaluate import evaluate_forecasts

SAMPLES = ("AAPL", "FB", "GOOG", "IBM", "MSFT")


def evaluate_model(prices: pd.Series, model: np.ndarray, train: pd.Series | None = None):
    """Evaluate one-step forecasts of ``prices[1:]`` next to naive."""
    base = prices.iloc[:-1].to_numpy()
    index = prices.index[1:]
    forecasts = {
        "model": pd.DataFrame({"step_1": model}, index=index),
        "naive": pd.DataFrame({"step_1": base}, index=index),
    }
    train = prices.iloc[:100] if train is None else train
    return evaluate_forecasts(prices, forecasts, pd.Series(base, index=index), train)


def drifting_walk(n: int, seed: int, drift: float = 0.0006, vol: float = 0.01) -> pd.Series:
    """Geometric random walk: about 52-55 % up days, no predictability."""
    rng = np.random.default_rng(seed)
    index = pd.bdate_range("2010-01-04", periods=n, name="date")
    return pd.Series(100 * np.exp(np.cumsum(rng.normal(drift, vol, n))), index=index)


def sample_periods(length: int = 250) -> list[pd.Series]:
    """Ten test periods of the bundled samples: two per ticker (its two halves for FB)."""
    periods = []
    for ticker in SAMPLES:
        close = rc.datasets.load_sample(ticker)["close"]
        size = min(length, len(close) // 2)
        periods += [close.iloc[len(close) // 4 :][:size], close.iloc[-size:]]
    return periods


# ---------------------------------------------------------------------- direction
def test_always_up_on_a_rising_series_claims_no_direction():
    prices = drifting_walk(500, seed=1, drift=0.002)  # strongly rising: ~58 % up days
    base = prices.iloc[:-1].to_numpy()
    verdict = evaluate_model(prices, base * 1.0001).verdict
    assert verdict.direction.informative is False
    assert "no directional information" in str(verdict)
    assert "significant directional skill" not in str(verdict)


@pytest.mark.parametrize("seed", range(20))
def test_random_walk_with_drift_always_up_and_drift_make_no_directional_claim(seed):
    prices = drifting_walk(600, seed=seed)
    base = prices.iloc[:-1].to_numpy()
    train = prices.iloc[:100]
    slope = (train.iloc[-1] - train.iloc[0]) / (len(train) - 1)
    for model in (base * 1.0001, base + slope):  # always up; drift
        verdict = evaluate_model(prices, model, train).verdict
        assert verdict.direction.significant is False
        assert "significant directional skill" not in str(verdict)
        assert verdict.outcome != "beats"


def test_sixty_percent_right_direction_calls_are_claimed():
    claimed = 0
    for seed in range(5):
        prices = drifting_walk(800, seed=100 + seed)
        base, target = prices.iloc[:-1].to_numpy(), prices.iloc[1:].to_numpy()
        rng = np.random.default_rng(seed)
        right = rng.random(len(base)) < 0.6
        sign = np.sign(target - base) * np.where(right, 1, -1)
        verdict = evaluate_model(prices, base * (1 + 0.001 * sign)).verdict
        claimed += verdict.direction.significant
        assert "significant directional skill" in str(verdict) or not verdict.direction.significant
    assert claimed >= 4


def test_a_biased_coin_on_a_rising_market_is_rarely_significant():
    # D1: calls "up" 90 % of the time at random; the old binomial-vs-50 % test said
    # "significant" in almost every case, the direction test must reject near alpha
    rejections = 0
    for seed in range(60):
        prices = drifting_walk(500, seed=200 + seed)
        base = prices.iloc[:-1].to_numpy()
        up = np.random.default_rng(seed).random(len(base)) < 0.9
        verdict = evaluate_model(prices, base * np.where(up, 1.001, 0.999)).verdict
        rejections += verdict.direction.significant
    assert rejections <= 8  # about 3 expected at alpha = 0.05


# -------------------------------------------------------------------- copy-yesterday
@pytest.mark.parametrize("period", range(10))
def test_copy_yesterday_through_float32_is_flagged_on_every_sample_period(period):
    # D2: a model whose output equals its last input, through float32
    prices = sample_periods()[period]
    copy = prices.iloc[:-1].to_numpy(np.float32).astype(np.float64)
    verdict = evaluate_model(prices, copy, train=prices.iloc[:50]).verdict
    assert verdict.repeats_last_price
    assert "it mostly repeats the last price" in str(verdict)
    assert verdict.outcome == "level"


def test_real_skill_is_claimed_and_not_flagged():
    wins = 0
    for seed in range(5):
        prices = drifting_walk(500, seed=300 + seed)
        base, target = prices.iloc[:-1].to_numpy(), prices.iloc[1:].to_numpy()
        verdict = evaluate_model(prices, base + 0.3 * (target - base)).verdict
        wins += verdict.outcome == "beats" and not verdict.repeats_last_price
    assert wins == 5


# ------------------------------------------------------------------------ coverage
def test_too_narrow_interval_is_said_in_the_verdict_and_console():
    prices = drifting_walk(400, seed=5)
    base = prices.iloc[:-1].to_numpy()
    index = prices.index[1:]
    naive = pd.DataFrame({"step_1": base}, index=index)
    band = {"lower": naive * 0.997, "upper": naive * 1.003}  # about 23 % of 1 % daily moves
    report = evaluate_forecasts(
        prices,
        {"model": naive * 1.0, "naive": naive},
        pd.Series(base, index=index),
        prices.iloc[:100],
        intervals={"model": band},
        interval_level=0.9,
    )
    verdict = report.verdict
    assert len(verdict.coverage_warnings) == 1
    assert "90% interval covered only" in str(verdict) and "too narrow" in str(verdict)
    assert "too narrow" in verdict.console_line()
    assert report.coverage_tests["model"].below_nominal


# ------------------------------------------------------- interval coverage, end to end
def ar1_frame(n: int, seed: int, phi: float = 0.3, drift: float = 0.0) -> pd.DataFrame:
    """Prices whose log returns are AR(1) (plus a drift that moves the price level)."""
    rng = np.random.default_rng(seed)
    r = np.zeros(n)
    for t in range(1, n):
        r[t] = phi * r[t - 1] + rng.normal(0, 0.01)
    index = pd.bdate_range("2000-01-03", periods=n, name="date")
    return pd.DataFrame({"close": 100 * np.exp(np.cumsum(r + drift))}, index=index)


@pytest.mark.parametrize("seed", range(3))
def test_conformal_and_mc_dropout_cover_within_five_points_on_stationary_ar1(seed):
    from rnncast.layers import LSTM, Dense, Dropout

    train, val, test = rc.data.chronological_split(ar1_frame(3000, seed), val=0.3, test=0.2)
    fc = rc.Forecaster([LSTM(16), Dropout(0.2), Dense(1)], lookback=20, seed=seed)
    report = fc.fit(train, validation=val, epochs=5, verbose=0).evaluate(
        test, context=val, baselines=[]
    )
    assert set(report.coverage) == {"model", "model mc_dropout"}  # every method is measured
    for name, shares in report.coverage.items():
        assert abs(shares["step_1"] - 0.9) <= 0.05, (name, shares)
    assert report.verdict.coverage_warnings == ()


def test_conformal_band_keeps_coverage_when_the_price_level_rises():
    # D4: the price rises by about a third from calibration to test; log scores scale with it
    from rnncast.layers import LSTM, Dense

    frame = ar1_frame(1500, seed=1, drift=0.0012)
    train, val, test = rc.data.chronological_split(frame, val=0.2, test=0.2)
    assert test["close"].iloc[-1] > 1.25 * val["close"].iloc[0]
    fc = rc.Forecaster([LSTM(16), Dense(1)], lookback=20, seed=0)
    report = fc.fit(train, validation=val, epochs=8, verbose=0).evaluate(
        test, context=val, baselines=[]
    )
    assert report.coverage["model"]["step_1"] >= 0.85  # price-unit residuals gave 0.66 here

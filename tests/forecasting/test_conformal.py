import math

import numpy as np
import pytest

from rnncast.exceptions import ConfigError, DataError, ShapeError
from rnncast.forecasting.conformal import (
    adaptive_conformal,
    conformal_quantile,
    log_band,
    log_scores,
    min_calibration_size,
)

SEEDS = range(5)


def _ar1(rng, n, phi=0.3, sigma=0.01):
    e = rng.normal(0.0, sigma, n)
    x = np.empty(n)
    x[0] = e[0] / math.sqrt(1 - phi**2)
    for t in range(1, n):
        x[t] = phi * x[t - 1] + e[t]
    return x


def _ar1_return_prices(rng, n=3000, phi=0.3):
    """Prices whose log returns are AR(1), and the true conditional median forecast."""
    r = _ar1(rng, n + 1, phi)
    prices = 100 * np.exp(np.cumsum(r))  # (n + 1,)
    return prices[1:], prices[:-1] * np.exp(phi * r[:-1])


def _doubling_prices(rng, n=3000, phi=0.3):
    """A trend that doubles every n/2 rows times exp(AR(1)); forecast = trend * exp(phi x)."""
    trend = 100 * 2.0 ** (np.arange(n + 1) / (n / 2))
    x = _ar1(rng, n + 1, phi)
    return trend[1:] * np.exp(x[1:]), trend[1:] * np.exp(phi * x[:-1])


def test_quantile_is_infinite_below_the_minimum_calibration_size():
    assert conformal_quantile([1.0, 2.0, 3.0, 4.0, 5.0], 0.9) == math.inf  # rank 6 > 5
    assert min_calibration_size(0.9) == 9
    assert conformal_quantile(np.arange(1.0, 9.0), 0.9) == math.inf  # n = 8
    assert conformal_quantile(np.arange(1.0, 10.0), 0.9) == 9.0  # n = 9: rank 9


def test_quantile_is_the_exact_order_statistic():
    scores = np.random.default_rng(0).permutation(np.arange(1.0, 100.0))  # n = 99
    assert conformal_quantile(scores, 0.9) == 90.0  # ceil(100 * 0.9) = 90th smallest
    assert conformal_quantile(np.arange(1.0, 10.0), 0.7) == 7.0  # ceil(10 * 0.7) = 7, not 8


def test_log_scores_and_band_round_trip():
    forecast = np.array([50.0, 100.0, 200.0])
    actual = np.array([55.0, 95.0, 200.0])
    scores = log_scores(actual, forecast)
    assert scores == pytest.approx([math.log(1.1), -math.log(0.95), 0.0])
    lower, upper = log_band(forecast, math.log(1.1))
    assert upper == pytest.approx(forecast * 1.1)
    assert lower == pytest.approx(forecast / 1.1)
    assert upper[2] - lower[2] == pytest.approx(4 * (upper[0] - lower[0]))  # width scales
    lower, upper = log_band(forecast, math.inf)
    assert (lower == 0).all() and np.isinf(upper).all()


@pytest.mark.parametrize("seed", SEEDS)
def test_log_band_covers_nominal_on_stationary_ar1_returns(seed):
    actual, forecast = _ar1_return_prices(np.random.default_rng(seed))
    half = len(actual) // 2
    lower, upper = log_band(
        forecast[half:], conformal_quantile(log_scores(actual, forecast)[:half], 0.9)
    )
    coverage = np.mean((lower <= actual[half:]) & (actual[half:] <= upper))
    assert abs(coverage - 0.9) <= 0.05  # seen over seeds 0..4: 0.873 .. 0.918


@pytest.mark.parametrize("seed", SEEDS)
def test_price_unit_scores_undercover_when_the_level_doubles(seed):
    actual, forecast = _doubling_prices(np.random.default_rng(seed))
    half = len(actual) // 2
    q_log = conformal_quantile(log_scores(actual, forecast)[:half], 0.9)
    log_cov = np.mean(log_scores(actual, forecast)[half:] <= q_log)
    abs_errors = np.abs(actual - forecast)
    abs_cov = np.mean(abs_errors[half:] <= conformal_quantile(abs_errors[:half], 0.9))
    # seen over seeds 0..4: log scores 0.873 .. 0.918, price units 0.570 .. 0.633
    assert abs(log_cov - 0.9) <= 0.05
    assert abs_cov < log_cov - 0.15


@pytest.mark.parametrize("seed", range(3))
def test_aci_holds_coverage_when_volatility_doubles(seed):
    sigma = np.where(np.arange(4000) < 2000, 0.01, 0.02)
    scores = np.abs(np.random.default_rng(seed).normal(0.0, sigma))  # (4000,)
    calibration, walked = scores[:1000], scores[1000:]
    split = np.mean(walked <= conformal_quantile(calibration, 0.9))
    aci = adaptive_conformal(walked, 0.9, calibration=calibration)
    # seen over seeds 0..2: split conformal 0.664 .. 0.695, ACI 0.896 .. 0.897
    assert abs(aci.coverage - 0.9) <= 0.02
    assert split < 0.8
    assert aci.thresholds[-1] > 1.5 * aci.thresholds[0]  # the band widened


def test_aci_update_by_hand():
    aci = adaptive_conformal([1.0, 2.0, 3.0, 4.0, 5.0], 0.5, gamma=0.1, calibration=[1, 2, 3, 4])
    # history sizes 4..8; threshold = ceil(m (1 - alpha_t))-th smallest seen score
    assert aci.alphas == pytest.approx([0.5, 0.55, 0.6, 0.55, 0.5])
    assert aci.thresholds.tolist() == [2.0, 2.0, 2.0, 2.0, 2.0]
    assert aci.hits.tolist() == [True, True, False, False, False]


def test_aci_alpha_below_zero_gives_unbounded_band():
    aci = adaptive_conformal([5.0, 5.0], 0.9, gamma=1.0, calibration=[1.0])
    # miss at step 0: alpha_1 = 0.1 + 1.0 * (0.1 - 1) = -0.8 <= 0 -> infinite threshold
    assert aci.thresholds.tolist() == [1.0, math.inf]
    assert aci.hits.tolist() == [False, True]
    assert aci.alphas == pytest.approx([0.1, -0.8])


def test_aci_without_history_starts_unbounded_and_window_forgets():
    aci = adaptive_conformal([1.0, 9.0, 2.0, 3.0], 0.5, gamma=0.01, window=1)
    assert aci.thresholds[0] == math.inf  # nothing seen yet
    assert aci.thresholds[1:].tolist() == [1.0, 9.0, 2.0]  # only the previous score


def test_bad_inputs_raise_named_errors():
    with pytest.raises(ConfigError, match="coverage"):
        conformal_quantile([1.0], 90)
    with pytest.raises(DataError, match="positive"):
        log_scores([1.0, -1.0], [1.0, 1.0])
    with pytest.raises(ShapeError, match="same length"):
        log_scores([1.0, 2.0], [1.0])
    with pytest.raises(ConfigError, match="gamma"):
        adaptive_conformal([1.0], 0.9, gamma=0)
    with pytest.raises(ConfigError, match="window"):
        adaptive_conformal([1.0], 0.9, window=0)

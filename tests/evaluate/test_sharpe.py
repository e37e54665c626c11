import math

import numpy as np
import pytest

from rnncast.evaluate.sharpe import sharpe_difference_test, sharpe_ratio
from rnncast.exceptions import ConfigError, ShapeError

A = np.array([0.02, -0.01, 0.03, 0.00, 0.01, -0.02])
B = np.array([0.01, 0.00, 0.02, -0.01, 0.01, 0.00])


def _f(v):
    """Sharpe difference as a function of (mu_a, mu_b, gamma_a, gamma_b)."""
    return v[0] / math.sqrt(v[2] - v[0] ** 2) - v[1] / math.sqrt(v[3] - v[1] ** 2)


def _ar1(rng, n, phi, mean, scale):
    e = rng.normal(0.0, scale, n)
    x = np.empty(n)
    x[0] = e[0] / math.sqrt(1 - phi**2)
    for t in range(1, n):
        x[t] = phi * x[t - 1] + e[t]
    return mean + x


def test_lag_zero_matches_hand_delta_method():
    n = len(A)
    v = np.array([A.mean(), B.mean(), np.mean(A**2), np.mean(B**2)])
    # gradient by central differences, independent of the analytic formula
    h = 1e-7
    grad = np.array([(_f(v + h * e) - _f(v - h * e)) / (2 * h) for e in np.eye(4)])
    y = np.column_stack([A - v[0], B - v[1], A**2 - v[2], B**2 - v[3]])
    psi = n / (n - 4) * sum(np.outer(row, row) for row in y) / n  # iid: lag-0 only
    se = math.sqrt(grad @ psi @ grad / n)
    test = sharpe_difference_test(A, B, lags=0)
    assert test.sharpe_a == pytest.approx(A.mean() / A.std(), rel=1e-12)
    assert test.sharpe_b == pytest.approx(B.mean() / B.std(), rel=1e-12)
    assert test.difference == pytest.approx(_f(v), rel=1e-12)
    assert test.standard_error == pytest.approx(se, rel=1e-6)
    assert test.p_value == pytest.approx(math.erfc(abs(test.difference / se) / math.sqrt(2)))
    assert test.lags == 0 and test.method == "ledoit-wolf-hac"


def test_one_lag_adds_half_the_first_autocovariance():
    n = len(A)
    v = np.array([A.mean(), B.mean(), np.mean(A**2), np.mean(B**2)])
    y = np.column_stack([A - v[0], B - v[1], A**2 - v[2], B**2 - v[3]])  # (6, 4)
    gamma0, gamma1 = y.T @ y / n, y[1:].T @ y[:-1] / n
    psi = n / (n - 4) * (gamma0 + 0.5 * (gamma1 + gamma1.T))  # Bartlett weight 1 - 1/2
    s = (v[2] - v[0] ** 2, v[3] - v[1] ** 2)
    grad = np.array(
        [
            v[2] / s[0] ** 1.5,
            -v[3] / s[1] ** 1.5,
            -v[0] / (2 * s[0] ** 1.5),
            v[1] / (2 * s[1] ** 1.5),
        ]
    )
    test = sharpe_difference_test(A, B, lags=1)
    assert test.standard_error == pytest.approx(math.sqrt(grad @ psi @ grad / n), rel=1e-12)


def test_identical_series_have_no_difference():
    test = sharpe_difference_test(A, A)
    assert (test.difference, test.statistic, test.p_value) == (0.0, 0.0, 1.0)


def test_constant_series_has_no_sharpe():
    test = sharpe_difference_test(A, np.zeros(6))
    assert test.method == "none" and math.isnan(test.sharpe_b) and math.isnan(test.p_value)
    assert sharpe_ratio([0.01] * 4) != sharpe_ratio([0.01] * 4)  # NaN


def test_planted_higher_sharpe_is_detected():
    rng = np.random.default_rng(7)
    market = rng.normal(0.0003, 0.01, 2000)
    strategy = 0.5 * market + rng.normal(0.0010, 0.006, 2000)  # Sharpe ~0.12 vs ~0.03
    test = sharpe_difference_test(strategy, market)
    assert test.difference > 0.05
    assert test.p_value < 0.05


def test_equal_sharpe_autocorrelated_series_keep_size():
    hac, iid = [], []
    for seed in range(100):
        rng = np.random.default_rng(seed)
        a = _ar1(rng, 2000, 0.2, 0.0005, 0.01)
        b = _ar1(rng, 2000, 0.2, 0.001, 0.02)  # same Sharpe, twice the scale
        hac.append(sharpe_difference_test(a, b).p_value < 0.05)
        iid.append(sharpe_difference_test(a, b, lags=0).p_value < 0.05)
    # seen: HAC rejects 7 %, the iid (lag 0) variance 15 %: autocorrelation inflates it
    assert 0.01 <= np.mean(hac) <= 0.11
    assert np.mean(iid) > np.mean(hac)


def test_bad_inputs_raise_named_errors():
    with pytest.raises(ShapeError, match="same days"):
        sharpe_difference_test(A, B[:5])
    with pytest.raises(ShapeError, match="at least 5"):
        sharpe_difference_test(A[:4], B[:4])
    with pytest.raises(ConfigError, match="lags"):
        sharpe_difference_test(A, B, lags=-1)

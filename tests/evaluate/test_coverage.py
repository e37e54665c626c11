import math

import numpy as np
import pytest

from rnncast.evaluate.coverage import coverage_test
from rnncast.exceptions import ConfigError, DataError, ShapeError


def test_p_value_is_the_binomial_lower_tail_by_hand():
    # 7 hits of 10 against 90 %: P(X <= 7), X ~ Binomial(10, 0.9)
    by_hand = sum(math.comb(10, k) * 0.9**k * 0.1 ** (10 - k) for k in range(8))
    assert by_hand == pytest.approx(0.0701908264, rel=1e-9)
    test = coverage_test([True] * 7 + [False] * 3, nominal=0.9)
    assert test.p_value == pytest.approx(by_hand, rel=1e-9)
    assert (test.share, test.n, test.nominal, test.below_nominal) == (0.7, 10, 0.9, False)


def test_clearly_below_nominal_is_flagged():
    test = coverage_test(np.arange(200) % 5 != 0, nominal=0.9)  # 80 % over 200 days
    assert test.share == 0.8 and test.below_nominal and test.p_value < 1e-4


def test_over_coverage_is_not_flagged():
    test = coverage_test(np.ones(50, dtype=bool), nominal=0.9)
    assert test.p_value == 1.0 and not test.below_nominal


def test_zero_one_integers_are_accepted():
    assert coverage_test([1, 0, 1, 1], 0.5) == coverage_test([True, False, True, True], 0.5)


def test_bad_inputs_raise_named_errors():
    with pytest.raises(ShapeError, match="non-empty"):
        coverage_test([], 0.9)
    with pytest.raises(DataError, match="booleans"):
        coverage_test([0.5, 1.0], 0.9)
    with pytest.raises(ConfigError, match="nominal"):
        coverage_test([True], 90)

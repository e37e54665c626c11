import numpy as np
import pytest
from sklearn.preprocessing import MinMaxScaler, RobustScaler, StandardScaler

from rnncast.data import Scaler
from rnncast.exceptions import ConfigError, DataError, NotFittedError

REFERENCES = {"minmax": MinMaxScaler, "standard": StandardScaler, "robust": RobustScaler}


@pytest.fixture
def values():
    rng = np.random.default_rng(3)
    return np.column_stack([rng.lognormal(3, 1, 500), rng.normal(0, 5, 500)])


@pytest.mark.parametrize("method", sorted(REFERENCES))
def test_matches_scikit_learn(method, values):
    train, later = values[:400], values[400:]
    ours = Scaler(method).fit(train)
    reference = REFERENCES[method]().fit(train)
    np.testing.assert_allclose(ours.transform(later), reference.transform(later), rtol=1e-12)
    np.testing.assert_allclose(ours.inverse_transform(ours.transform(later)), later, rtol=1e-12)


def test_none_is_identity(values):
    scaler = Scaler(None).fit(values)
    np.testing.assert_array_equal(scaler.transform(values), values)


def test_constant_column_gets_unit_scale():
    scaler = Scaler("minmax").fit(np.array([[5.0, 1.0], [5.0, 3.0]]))
    assert scaler.scale_.tolist() == [1.0, 2.0]
    assert scaler.transform(np.array([[6.0, 2.0]])).tolist() == [[1.0, 0.5]]


def test_minmax_does_not_clip_later_prices():
    scaler = Scaler("minmax").fit(np.array([[10.0], [20.0]]))
    assert scaler.transform(np.array([[30.0]])).item() == 2.0


def test_transform_into_float32_buffer(values):
    scaler = Scaler("standard").fit(values)
    out = np.empty(values.shape, dtype=np.float32)
    scaler.transform(values, out=out)
    np.testing.assert_allclose(out, scaler.transform(values), rtol=1e-6, atol=1e-6)


def test_round_trip_through_dict(values):
    scaler = Scaler("robust").fit(values)
    clone = Scaler.from_dict(scaler.to_dict())
    np.testing.assert_array_equal(clone.transform(values), scaler.transform(values))


def test_errors():
    with pytest.raises(ConfigError, match="scaler='zscore' is not supported"):
        Scaler("zscore")
    with pytest.raises(NotFittedError, match="not fitted"):
        Scaler().transform(np.zeros((2, 1)))
    with pytest.raises(DataError, match=r"non-empty 2-D array, got shape \(3,\)"):
        Scaler().fit(np.zeros(3))

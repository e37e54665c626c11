"""Transformed features ("close:log_return", "volume:log"): hand-built windows and errors."""

import numpy as np
import pandas as pd
import pytest

from conftest import make_long, make_prices
from rnncast.data import Windowizer
from rnncast.data.features import FEATURE_TRANSFORMS, parse_feature
from rnncast.exceptions import ConfigError, DataError


def ramp(n: int = 10, start: float = 10.0) -> pd.DataFrame:
    """close = 10, 11, 12, ... and volume = 100, 200, ... on business days."""
    index = pd.bdate_range("2021-01-04", periods=n, name="date")
    steps = np.arange(n, dtype=float)
    return pd.DataFrame({"close": start + steps, "volume": 100 * (steps + 1)}, index=index)


def hand_inputs(close: np.ndarray, transform: str) -> np.ndarray:
    """The input of row t (t >= 1) built the obvious way, one row at a time."""
    out = []
    for t in range(1, len(close)):
        now, before = close[t], close[t - 1]
        out.append(
            {
                "level": now,
                "log": np.log(now),
                "return": now / before - 1,
                "log_return": np.log(now / before),
                "diff": now - before,
            }[transform]
        )
    return np.array(out)  # input of rows 1 .. n-1


@pytest.mark.parametrize("transform", FEATURE_TRANSFORMS)
def test_every_transform_matches_a_hand_built_window(transform):
    frame = ramp(10)
    win = Windowizer(3, features=[f"close:{transform}", "close:return"], scaler=None)
    X, y = win.fit_transform(frame)
    inputs = hand_inputs(frame["close"].to_numpy(), transform)  # rows 1..9
    returns = hand_inputs(frame["close"].to_numpy(), "return")
    assert X.shape == (10 - 1 - 3, 3, 2)  # row 0 only serves as the previous row
    for i in range(len(X)):  # window i: inputs of rows i+1 .. i+3, target row i+4
        np.testing.assert_allclose(X[i, :, 0], inputs[i : i + 3], rtol=1e-6)
        np.testing.assert_allclose(X[i, :, 1], returns[i : i + 3], rtol=1e-6)
        assert y[i, 0] == frame["close"].iloc[i + 4]
    assert win.target_dates(frame)[0] == frame.index[4]
    np.testing.assert_array_equal(win.base_prices(frame), frame["close"].to_numpy()[3:9])


def test_the_previous_row_of_the_first_input_comes_from_the_context():
    frame = ramp(20)  # close[i] = 10 + i
    train, val = frame.iloc[:12], frame.iloc[12:]
    win = Windowizer(3, features=["close:log_return"], scaler=None).fit(train)
    X, y = win.transform(val, context=train)
    assert len(X) == len(val)  # one window per validation row, as with levels
    np.testing.assert_allclose(X[0, :, 0], np.log([19 / 18, 20 / 19, 21 / 20]), rtol=1e-6)
    assert y[0, 0] == 22.0 and win.target_dates(val, context=train)[0] == val.index[0]
    assert win.base_prices(val, context=train)[0] == 21.0
    # a context of exactly lookback rows leaves the first row without its previous row
    X_short, _ = win.transform(val, context=train.iloc[-3:])
    assert len(X_short) == len(val) - 1
    assert win.target_dates(val, context=train.iloc[-3:])[0] == val.index[1]
    np.testing.assert_array_equal(X_short[0], X[1])


def test_last_window_is_the_window_transform_cuts_over_the_same_rows():
    frame = make_prices(120, seed=3)
    win = Windowizer(20, features=["close:log_return", "volume:log", "close"], scaler="standard")
    win.fit(frame.iloc[:80])
    X, _ = win.transform(frame)  # the last window of X ends on the second-to-last row
    np.testing.assert_array_equal(win.last_window(frame.iloc[:-1])[0], X[-1])
    close = frame["close"].to_numpy()[-21:]  # lookback + 1 rows
    expected = (np.log(close[1:] / close[:-1]) - win.scalers_[None].center_[0]) / (
        win.scalers_[None].scale_[0]
    )
    np.testing.assert_allclose(win.last_window(frame)[0, :, 0], expected, rtol=1e-5)
    with pytest.raises(DataError, match="needs 21"):
        win.last_window(frame.iloc[-20:])


def test_scalers_are_fitted_on_the_transformed_training_rows():
    train = make_prices(200, seed=1)
    win = Windowizer(10, features=["close:log_return", "volume:log"], scaler="standard").fit(train)
    returns = np.diff(np.log(train["close"].to_numpy()))
    log_volume = np.log(train["volume"].to_numpy()[1:])  # the first row has no input
    np.testing.assert_allclose(win.scalers_[None].center_, [returns.mean(), log_volume.mean()])
    np.testing.assert_allclose(win.scalers_[None].scale_, [returns.std(), log_volume.std()])


def test_changing_a_row_changes_no_window_that_ends_before_it():
    frame = make_prices(100, seed=2)
    win = Windowizer(10, features=["close:log_return", "close:diff"]).fit(frame)
    X, _ = win.transform(frame)
    changed = frame.copy()
    changed.iloc[50, changed.columns.get_loc("close")] *= 1.5
    X2, _ = win.transform(changed)
    # window i holds the inputs of rows i+1 .. i+10; row 50 first enters window 40
    np.testing.assert_array_equal(X[:40], X2[:40])
    assert not np.array_equal(X[40], X2[40])


def test_multi_ticker_transforms_never_cross_tickers():
    frame = make_long(("AAA", "BBB"), n=60)
    win = Windowizer(5, features=["close:log_return"], scaler=None).fit(frame)
    X, y = win.fit_transform(frame)
    assert len(X) == 2 * (60 - 1 - 5)
    for name in ("AAA", "BBB"):
        close = frame.loc[frame["ticker"] == name, "close"].to_numpy()
        rows = np.flatnonzero(X.tickers == name)
        np.testing.assert_allclose(X[rows[0]][:, 0], np.diff(np.log(close))[:5], rtol=1e-5)
        np.testing.assert_allclose(y[rows, 0], close[6:], rtol=1e-6)
    dates = win.target_dates(frame)
    assert dates[0] == dates[54] == frame.index[6]


def test_saved_and_loaded_windowizer_cuts_the_same_windows():
    frame = make_prices(80)
    win = Windowizer(10, features=["close:log_return", "volume:log"]).fit(frame)
    again = Windowizer.from_dict(win.to_dict())
    assert np.array_equal(win.transform(frame)[0], again.transform(frame)[0])
    assert list(again.feature_names_in_) == ["close:log_return", "volume:log"]


@pytest.mark.parametrize("spec", ["close:logret", "close:", "close:Log"])
def test_a_bad_transform_names_the_spec_and_the_choices(spec):
    with pytest.raises(ConfigError, match="log_return") as err:
        Windowizer(10, features=[spec])
    assert repr(spec) in str(err.value)


def test_an_unknown_column_names_it():
    win = Windowizer(10, features=["vwap:log_return"])
    with pytest.raises(DataError, match=r"\['vwap'\].*close"):
        win.fit(make_prices())


def test_log_of_a_non_positive_value_is_a_data_error():
    frame = make_prices(50)
    frame.iloc[30, frame.columns.get_loc("volume")] = 0.0
    day = frame.index[30].date()
    with pytest.raises(DataError, match=rf"'volume:log'.*{day}.*volume:diff"):
        Windowizer(10, features=["close", "volume:log"]).fit(frame)
    Windowizer(10, features=["close", "volume:diff"]).fit(frame)  # the suggested fix works


def test_parse_feature():
    assert parse_feature("close").transform == "level"
    assert parse_feature("close:level") == parse_feature("close")
    assert parse_feature("volume:log").column == "volume"
    with pytest.raises(ConfigError):
        parse_feature(3)

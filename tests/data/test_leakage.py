"""Time order is sacred: nothing fitted on the past may see the future."""

import numpy as np
import pandas as pd
import pytest

import rnncast as rc
from rnncast.data import Windowizer


def scale_future(frame: pd.DataFrame, first_future: pd.Timestamp, factor: float = 10.0):
    """A copy whose rows from ``first_future`` on are multiplied by ``factor``."""
    changed = frame.copy()
    numeric = changed.select_dtypes("number").columns
    changed.loc[changed.index >= first_future, numeric] *= factor
    return changed


def fitted_state(win: Windowizer) -> dict:
    return {
        key: (s.center_.tobytes(), s.scale_.tobytes())
        for scalers in (win.scalers_, win.target_scalers_)
        for key, s in scalers.items()
    }


@pytest.mark.parametrize("transform", rc.data.TARGET_TRANSFORMS)
@pytest.mark.parametrize("scaler", ["minmax", "standard", "robust"])
def test_changing_future_rows_changes_nothing_fitted_on_train(aapl, transform, scaler):
    train, val, _ = rc.data.chronological_split(aapl)
    changed = scale_future(aapl, val.index[0])
    train2, val2, _test2 = rc.data.chronological_split(changed)
    assert (val2["close"].to_numpy() == 10 * val["close"].to_numpy()).all()

    kwargs = {
        "lookback": 60,
        "horizon": 3,
        "features": ["close", "volume"],
        "scaler": scaler,
        "target_transform": transform,
    }
    win, win2 = Windowizer(**kwargs), Windowizer(**kwargs)
    X, y = win.fit_transform(train)
    X2, y2 = win2.fit_transform(train2)
    assert fitted_state(win) == fitted_state(win2)
    assert X.tobytes() == X2.tobytes() and y.tobytes() == y2.tobytes()


def test_the_check_above_can_fail(aapl):
    """Fitting on a frame that includes the future does change the scalers."""
    train, val, _ = rc.data.chronological_split(aapl)
    leaky = Windowizer(60).fit(pd.concat([train, val]))
    leaky2 = Windowizer(60).fit(pd.concat([train, scale_future(val, val.index[0])]))
    assert fitted_state(leaky) != fitted_state(leaky2)


def test_multi_ticker_scalers_see_training_rows_only(long_frame):
    train, val, _ = rc.data.chronological_split(long_frame)
    changed = scale_future(long_frame, val.index[0], factor=3.0)
    train2, _, _ = rc.data.chronological_split(changed)
    for scope in ("per_ticker", "global"):
        win = Windowizer(20, scaler_scope=scope, target_transform="return")
        win2 = Windowizer(20, scaler_scope=scope, target_transform="return")
        X, y = win.fit_transform(train)
        X2, y2 = win2.fit_transform(train2)
        assert fitted_state(win) == fitted_state(win2)
        assert X.values.tobytes() == X2.values.tobytes() and y.tobytes() == y2.tobytes()


def test_first_validation_target_is_first_validation_row(aapl):
    train, val, _test = rc.data.chronological_split(aapl)
    win = Windowizer(60).fit(train)
    _, y_val = win.transform(val, context=train)
    first = win.inverse_transform_target(y_val[:1])[0, 0]
    assert first == pytest.approx(val["close"].iloc[0], rel=1e-6)
    assert win.target_dates(val, context=train)[0] == val.index[0]


@pytest.mark.parametrize("horizon", [1, 5])
def test_no_target_crosses_a_split_boundary(aapl, horizon):
    train, val, test = rc.data.chronological_split(aapl)
    win = Windowizer(60, horizon=horizon).fit(train)
    for part, context in ((train, None), (val, train), (test, val)):
        _, y = win.transform(part, context=context)
        first = win.target_dates(part, context=context)
        positions = part.index.get_indexer(first)
        assert (positions >= 0).all()  # every first step is a date of this part
        assert positions[-1] + horizon - 1 == len(part) - 1  # the last step is its last row
        prices = win.inverse_transform_target(y)
        np.testing.assert_allclose(prices[-1], part["close"].to_numpy()[-horizon:], rtol=1e-6)


def test_validation_windows_do_not_depend_on_test_rows(aapl):
    train, val, test = rc.data.chronological_split(aapl)
    win = Windowizer(60).fit(train)
    X, y = win.transform(val, context=train)
    changed = scale_future(aapl, test.index[0])
    train2, val2, _ = rc.data.chronological_split(changed)
    X2, y2 = win.transform(val2, context=train2)
    assert X.tobytes() == X2.tobytes() and y.tobytes() == y2.tobytes()


@pytest.mark.parametrize("transform", ["log_return", "return", "diff", "log"])
def test_transformed_features_fitted_on_train_ignore_every_later_row(aapl, transform):
    train, val, _ = rc.data.chronological_split(aapl)
    changed = scale_future(aapl, val.index[0])
    train2, _, _ = rc.data.chronological_split(changed)
    kwargs = {"features": [f"close:{transform}", "volume:log"], "scaler": "standard"}
    win, win2 = Windowizer(60, 3, **kwargs), Windowizer(60, 3, **kwargs)
    X, y = win.fit_transform(train)
    X2, y2 = win2.fit_transform(train2)
    assert fitted_state(win) == fitted_state(win2)
    assert X.tobytes() == X2.tobytes() and y.tobytes() == y2.tobytes()
    # the validation windows see the train rows as context, and nothing of the test part
    test_start = rc.data.chronological_split(aapl)[2].index[0]
    later = scale_future(aapl, test_start)
    _, val3, _ = rc.data.chronological_split(later)
    assert win.transform(val, train)[0].tobytes() == win.transform(val3, train)[0].tobytes()
    # the last input of the first validation window is the last train row's change
    X_val, _ = win.transform(val, context=train)
    first = X_val[0, -1, 0] * win.scalers_[None].scale_[0] + win.scalers_[None].center_[0]
    last, before = train["close"].iloc[-1], train["close"].iloc[-2]
    by_hand = {
        "log_return": np.log(last / before),
        "return": last / before - 1,
        "diff": last - before,
        "log": np.log(last),
    }[transform]
    assert first == pytest.approx(by_hand, rel=1e-5, abs=1e-6)

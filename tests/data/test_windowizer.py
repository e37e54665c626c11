import numpy as np
import pandas as pd
import pytest
import torch

import rnncast as rc
from conftest import make_long, make_prices
from rnncast.data import Windowizer, Windows
from rnncast.exceptions import ConfigError, DataError, NotFittedError, ShapeError


def ramp(n: int = 10, start: float = 10.0) -> pd.DataFrame:
    """close = 10, 11, 12, ... on business days: easy to check by hand."""
    index = pd.bdate_range("2021-01-04", periods=n, name="date")
    return pd.DataFrame({"close": start + np.arange(n, dtype=float)}, index=index)


def test_windows_by_hand():
    win = Windowizer(lookback=3, horizon=2)
    X, y = win.fit_transform(ramp(10))  # minmax: (p - 10) / 9
    assert X.shape == (6, 3, 1) and y.shape == (6, 2)
    assert X.dtype == np.float32 and y.dtype == np.float32
    np.testing.assert_allclose(X[0, :, 0], np.array([0, 1, 2]) / 9, rtol=1e-6)
    np.testing.assert_allclose(y[0], np.array([3, 4]) / 9, rtol=1e-6)
    np.testing.assert_allclose(X[5, :, 0], np.array([5, 6, 7]) / 9, rtol=1e-6)
    np.testing.assert_allclose(y[5], np.array([8, 9]) / 9, rtol=1e-6)


@pytest.mark.parametrize(
    ("transform", "expected"),
    [
        ("price", [13.0, 14.0]),
        ("return", [13 / 12 - 1, 14 / 12 - 1]),
        ("log_return", [np.log(13 / 12), np.log(14 / 12)]),
        ("diff", [1.0, 2.0]),
    ],
)
def test_target_transforms_by_hand(transform, expected):
    win = Windowizer(lookback=3, horizon=2, scaler=None, target_transform=transform)
    _, y = win.fit_transform(ramp(10))
    np.testing.assert_allclose(y[0], expected, rtol=1e-6)  # base = 12, the last input


def test_windows_are_read_only_views_not_copies(aapl):
    X, _ = Windowizer(lookback=60, features=["close", "volume"]).fit_transform(aapl)
    assert not X.flags.writeable
    base = X.base
    while getattr(base, "base", None) is not None:
        base = base.base
    assert np.shares_memory(X, base)
    assert base.nbytes == len(aapl) * 2 * 4  # one float32 copy of the rows, not 60 per window


def test_windows_feed_a_plain_torch_lstm(aapl):
    train, _val, _ = rc.data.chronological_split(aapl)
    win = Windowizer(lookback=60, features=["open", "close", "volume"])
    X_train, y_train = win.fit_transform(train)
    lstm = torch.nn.LSTM(input_size=3, hidden_size=8, batch_first=True)
    output, (hidden, _) = lstm(torch.tensor(X_train[:32]))
    assert output.shape == (32, 60, 8) and hidden.shape == (1, 32, 8)
    head = torch.nn.Linear(8, 1)
    loss = torch.nn.functional.mse_loss(head(hidden[-1]), torch.tensor(y_train[:32]))
    assert torch.isfinite(loss)


def test_context_makes_first_target_the_first_row():
    frame = ramp(20)
    train, val = frame.iloc[:12], frame.iloc[12:]
    win = Windowizer(lookback=3, scaler=None).fit(train)
    X, y = win.transform(val, context=train)
    assert len(X) == len(val)
    assert y[0, 0] == val["close"].iloc[0]
    np.testing.assert_array_equal(X[0, :, 0], train["close"].iloc[-3:])
    assert win.target_dates(val, context=train)[0] == val.index[0]
    X_alone, _ = win.transform(val)
    assert len(X_alone) == len(val) - 3  # without context the first rows are inputs only


def test_short_context_is_used_as_far_as_it_goes():
    frame = ramp(20)
    win = Windowizer(lookback=5, scaler=None).fit(frame.iloc[:10])
    X, _y = win.transform(frame.iloc[12:], context=frame.iloc[10:12])
    assert len(X) == 8 - 5 + 2
    np.testing.assert_array_equal(X[0, :, 0], [20, 21, 22, 23, 24])


def test_context_after_the_part_is_an_error():
    frame = ramp(20)
    win = Windowizer(lookback=3).fit(frame.iloc[:10])
    with pytest.raises(
        DataError,
        match=r"context ends on 2021-01-29.*context must be the rows "
        r"before the part",
    ):
        win.transform(frame.iloc[10:], context=frame)


@pytest.mark.parametrize("transform", rc.data.TARGET_TRANSFORMS)
@pytest.mark.parametrize("scaler", ["minmax", "standard", "robust", None])
def test_round_trip_to_prices_within_float32_precision(aapl, transform, scaler):
    train, val, test = rc.data.chronological_split(aapl)
    win = Windowizer(lookback=30, horizon=3, scaler=scaler, target_transform=transform).fit(train)
    _, y = win.transform(test, context=val)
    prices = win.inverse_transform_target(y, base=win.base_prices(test, context=val))
    close = test["close"].to_numpy()
    expected = np.column_stack([close[k : len(close) - 2 + k] for k in range(3)])
    np.testing.assert_allclose(prices, expected, rtol=1e-6)


def test_inverse_of_one_column_keeps_shape(aapl):
    win = Windowizer(lookback=10).fit(aapl)
    _, y = win.transform(aapl)
    assert win.inverse_transform_target(y[:, 0]).shape == (len(y),)
    with pytest.raises(ShapeError, match=r"y has 2 columns but horizon=1"):
        win.inverse_transform_target(np.zeros((4, 2)))


def test_return_targets_need_base_prices(aapl):
    win = Windowizer(lookback=10, target_transform="return").fit(aapl)
    _, y = win.transform(aapl)
    with pytest.raises(ConfigError, match=r"needs the base price.*base_prices\(part, context"):
        win.inverse_transform_target(y)
    with pytest.raises(ShapeError, match="base has 3 prices"):
        win.inverse_transform_target(y, base=np.ones(3))


def test_features_default_to_target_and_accept_a_string(prices):
    assert Windowizer(5).fit(prices).feature_names_in_.tolist() == ["close"]
    win = Windowizer(5, features="volume").fit(prices)
    assert win.n_features_in_ == 1 and win.feature_names_in_.tolist() == ["volume"]


def test_target_needs_no_other_column_to_invert(prices):
    win = Windowizer(10, features=["volume", "close"], target="close").fit(prices)
    _, y = win.transform(prices)
    np.testing.assert_allclose(
        win.inverse_transform_target(y)[:, 0], prices["close"].to_numpy()[10:], rtol=1e-6
    )


def test_not_fitted():
    win = Windowizer(5)
    assert not hasattr(win, "scalers_")
    for call in (
        lambda: win.transform(ramp()),
        lambda: win.inverse_transform_target(np.ones(2)),
        lambda: win.base_prices(ramp()),
    ):
        with pytest.raises(NotFittedError, match=r"not fitted yet; call fit\(train\)"):
            call()


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"lookback": 0}, "lookback must be a positive integer, got 0"),
        ({"lookback": 5, "horizon": 1.5}, "horizon must be a positive integer, got 1.5"),
        ({"lookback": 5, "scaler": "max"}, "scaler='max' is not supported"),
        ({"lookback": 5, "target_transform": "pct"}, "target_transform='pct' is not supported"),
        ({"lookback": 5, "scaler_scope": "each"}, "scaler_scope='each' is not supported"),
    ],
)
def test_bad_arguments(kwargs, message):
    with pytest.raises(ConfigError, match=message):
        Windowizer(**kwargs)


def test_missing_column_names_columns(prices):
    with pytest.raises(
        DataError,
        match=r"no column\(s\) \['adj_close'\]; its columns are "
        r"\['close', 'volume'\]",
    ):
        Windowizer(5, features=["adj_close"]).fit(prices)


def test_non_numeric_column(prices):
    frame = prices.assign(note="x")
    with pytest.raises(DataError, match=r"column 'note' is .*not numeric"):
        Windowizer(5, features=["note"]).fit(frame)


def test_not_enough_rows():
    with pytest.raises(
        DataError,
        match=r"not enough rows: 10 rows \(\+0 of context\) but one "
        r"window needs lookback \+ horizon = 11",
    ):
        Windowizer(10).fit(ramp(10))


def test_nan_in_part_names_column_and_date(prices):
    win = Windowizer(5).fit(prices)
    bad = prices.copy()
    bad.iloc[7, 0] = np.nan
    with pytest.raises(DataError, match=r"'close' is NaN or infinite on 2020-01-10.*validate"):
        win.transform(bad)


def test_unsorted_part(prices):
    win = Windowizer(5).fit(prices)
    with pytest.raises(DataError, match="sort"):
        win.transform(prices.iloc[::-1])


def test_empty_part(prices):
    with pytest.raises(DataError, match="has no rows"):
        Windowizer(5).fit(prices).transform(prices.iloc[:0])


# ---------------------------------------------------------------- multi-ticker
def test_multi_ticker_windows_never_cross_tickers(long_frame):
    win = Windowizer(lookback=20, horizon=2, features=["close", "volume"])
    X, y = win.fit_transform(long_frame)
    assert isinstance(X, Windows)
    assert X.shape == (3 * (200 - 21), 20, 2) and y.shape == (len(X), 2)
    for name, rows in long_frame.groupby("ticker"):
        single = Windowizer(lookback=20, horizon=2, features=["close", "volume"])
        X_one, y_one = single.fit_transform(rows.drop(columns="ticker"))
        mine = X.tickers == name
        np.testing.assert_array_equal(X[np.flatnonzero(mine)], X_one)
        np.testing.assert_array_equal(y[mine], y_one)


def test_windows_object_gathers_like_an_array(long_frame):
    X, _ = Windowizer(lookback=20, features=["close", "volume"]).fit_transform(long_frame)
    full = np.asarray(X)
    assert full.shape == X.shape
    np.testing.assert_array_equal(X[10], full[10])
    np.testing.assert_array_equal(X[3:9], full[3:9])
    assert X.nbytes < full.nbytes / 4
    assert "Windows(shape=" in repr(X)


def test_per_ticker_and_global_scalers(long_frame):
    per = Windowizer(lookback=5).fit(long_frame)
    assert sorted(per.scalers_) == ["AAA", "BBB", "CCC"]
    assert per.scalers_["AAA"].center_[0] == long_frame.query("ticker == 'AAA'")["close"].min()
    one = Windowizer(lookback=5, scaler_scope="global").fit(long_frame)
    assert list(one.scalers_) == [None]
    assert one.scalers_[None].center_[0] == long_frame["close"].min()


def test_multi_ticker_inverse_needs_tickers(long_frame):
    train, val, test = rc.data.chronological_split(long_frame)
    win = Windowizer(lookback=10).fit(train)
    X, y = win.transform(test, context=val)
    with pytest.raises(ConfigError, match=r"pass ticker=X\.tickers"):
        win.inverse_transform_target(y)
    prices = win.inverse_transform_target(y, ticker=X.tickers)
    np.testing.assert_allclose(prices[:, 0], test["close"].to_numpy(), rtol=1e-6)


def test_unseen_ticker_with_per_ticker_scalers(long_frame):
    win = Windowizer(lookback=5).fit(long_frame[long_frame["ticker"] != "CCC"])
    with pytest.raises(DataError, match=r"ticker\(s\) \['CCC'\] were not in the training data"):
        win.transform(long_frame)
    Windowizer(lookback=5, scaler_scope="global").fit(
        long_frame[long_frame["ticker"] != "CCC"]
    ).transform(long_frame)


def test_layout_must_match_fit(long_frame, prices):
    with pytest.raises(DataError, match="fitted on a single-series frame"):
        Windowizer(5).fit(prices).transform(long_frame)


def test_multi_ticker_not_enough_rows_names_ticker():
    frame = make_long(("AAA", "BBB"), n=50)
    frame = frame[(frame["ticker"] == "AAA") | (frame.index > frame.index[45])]
    with pytest.raises(DataError, match="not enough rows for ticker 'BBB'"):
        Windowizer(10).fit(frame)


def test_repr():
    assert repr(Windowizer(7)) == (
        "Windowizer(lookback=7, horizon=1, features=['close'], "
        "target='close', scaler='minmax', target_transform='price')"
    )


def test_make_prices_is_positive():
    assert (make_prices(1000)["close"] > 0).all()

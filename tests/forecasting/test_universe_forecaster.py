"""The Forecaster on a long multi-ticker frame: one global model, per-ticker scalers."""

import json
import warnings

import numpy as np
import pandas as pd
import pytest

import rnncast as rc
from rnncast.exceptions import ArtifactError, DataError
from rnncast.forecasting.baselines import Naive
from rnncast.layers import LSTM, Dense

LOOKBACK = 10


def walk(n, seed, start="2021-01-04", drift=0.0):
    """A random-walk price series of ``n`` business days."""
    rng = np.random.default_rng(seed)
    close = 50 * (seed + 1) * np.exp(np.cumsum(rng.normal(drift, 0.01 * (seed + 1), n)))
    index = pd.bdate_range(start, periods=n, name="date")
    return pd.DataFrame({"close": close}, index=index)


@pytest.fixture(scope="module")
def universe():
    """A and B span the whole period; C lists late; D is delisted early."""
    parts = [
        walk(300, 0).assign(ticker="A"),
        walk(300, 1).assign(ticker="B"),
        walk(300, 2).iloc[80:].assign(ticker="C"),
        walk(300, 3).iloc[:233].assign(ticker="D"),
    ]
    return pd.concat(parts)


def make(horizon=1, **kwargs):
    return rc.Forecaster([LSTM(4), Dense(horizon)], lookback=LOOKBACK, horizon=horizon, **kwargs)


@pytest.fixture(scope="module")
def fitted(universe):
    train, val, test = rc.data.chronological_split(universe)
    fc = make(horizon=2, seed=0).fit(train, validation=val, epochs=1, batch_size=128, verbose=0)
    return fc, train, val, test


def by_hand(fc, ticker, frame, context):
    """Step forecasts of ``ticker`` from its own windows, scalers and the global network."""
    rows = pd.concat([context[context.ticker == ticker].iloc[-(LOOKBACK + 1) :], frame])
    rows = rows[rows.ticker == ticker]["close"].to_numpy()
    x = np.diff(np.log(rows))  # the default close:log_return feature
    scaler, target = fc.windowizer_.scalers_[ticker], fc.windowizer_.target_scalers_[ticker]
    scaled = ((x - scaler.center_[0]) / scaler.scale_[0]).astype(np.float32)
    count = len(x) - LOOKBACK - fc.horizon + 1
    X = np.stack([scaled[i : i + LOOKBACK] for i in range(count)])[..., None]  # (n, lb, 1)
    y = fc.model_.predict(X) * target.scale_[0] + target.center_[0]  # (n, horizon) log returns
    base = rows[LOOKBACK : LOOKBACK + count]  # the last input row's price
    return base[:, None] * np.exp(y)


def test_the_global_model_forecasts_each_ticker_as_its_own_windows_would(fitted):
    fc, _train, val, test = fitted
    predicted = fc.predict(test, context=val)
    assert predicted.index.names == ["ticker", "date"]
    assert list(predicted.columns) == ["step_1", "step_2"]
    for ticker in ("A", "C"):
        own = predicted.xs(ticker, level="ticker")
        np.testing.assert_allclose(own.to_numpy(), by_hand(fc, ticker, test, val), rtol=1e-5)
        rows = test[test.ticker == ticker]
        assert own.index[0] == rows.index[0] and own.index[-1] == rows.index[-2]


def test_a_ticker_index_gives_the_same_forecasts(fitted):
    fc, _, val, test = fitted
    as_index = test.set_index("ticker", append=True).swaplevel()
    context = val.set_index("ticker", append=True).swaplevel()
    pd.testing.assert_frame_equal(
        fc.predict(as_index, context=context), fc.predict(test, context=val)
    )


def test_scalers_are_per_ticker_and_see_training_rows_only(fitted, universe):
    fc, train, _val, test = fitted
    for ticker in ("A", "C", "D"):
        returns = np.diff(np.log(train[train.ticker == ticker]["close"].to_numpy()))
        scaler = fc.windowizer_.scalers_[ticker]
        np.testing.assert_allclose(scaler.center_[0], returns.mean())
        np.testing.assert_allclose(scaler.scale_[0], returns.std())
    changed = universe.copy()
    later = changed.index >= test.index.min()
    changed.loc[later & (changed.ticker == "A"), "close"] *= 3.0
    train2, val2, _ = rc.data.chronological_split(changed)
    refit = make(horizon=2, seed=0).fit(
        train2, validation=val2, epochs=1, batch_size=128, verbose=0
    )
    for ticker in fc.tickers_:
        for old, new in (
            (fc.windowizer_.scalers_, refit.windowizer_.scalers_),
            (fc.windowizer_.target_scalers_, refit.windowizer_.target_scalers_),
        ):
            assert old[ticker].to_dict() == new[ticker].to_dict()


def test_late_listings_and_delistings_train_and_forecast(fitted):
    fc, train, val, test = fitted
    assert fc.tickers_ == ["A", "B", "C", "D"]
    assert "D" not in set(test.ticker)  # delisted before the test part
    assert set(fc.predict(test, context=val).index.get_level_values("ticker")) == {"A", "B", "C"}
    windows, _ = fc.windowizer_.transform(train)
    counts = pd.Series(windows.tickers).value_counts()
    for ticker, rows in train.groupby("ticker"):
        assert counts[ticker] == len(rows) - 1 - LOOKBACK - 2 + 1  # minus the return's lag


def test_a_short_ticker_is_skipped_with_a_warning_naming_it(universe):
    short = pd.concat([universe[universe.ticker == "A"], walk(11, 5).assign(ticker="TINY")])
    with pytest.warns(UserWarning, match=r"skipping ticker\(s\) 'TINY': fewer than 12"):
        fc = make(seed=0).fit(short, epochs=1, batch_size=256, verbose=0)
    assert "TINY" not in fc.tickers_ and fc.skipped_tickers_ == ["TINY"]
    with pytest.warns(UserWarning, match="'TINY': not in this Forecaster's training data"):
        forecast = fc.predict_next(short)
    assert "TINY" not in forecast.index.get_level_values("ticker")
    tiny = pd.concat([walk(8, 0).assign(ticker="X"), walk(9, 1).assign(ticker="Y")])
    with pytest.raises(DataError, match=r"each needs 12 \(lookback=10 \+ horizon=1"):
        make().fit(tiny, epochs=1, verbose=0)


def test_predict_next_follows_each_tickers_calendar_in_one_forward_pass(fitted, universe):
    fc, *_ = fitted
    calls = []
    original = fc.model_.predict
    fc.model_.predict = lambda *a, **k: calls.append(len(a[0])) or original(*a, **k)
    try:
        forecast = fc.predict_next(universe, days=2)
    finally:
        del fc.model_.predict
    assert calls == [4]  # every ticker's last window in one batch
    for ticker, rows in universe.groupby("ticker"):
        dates = forecast.xs(ticker, level="ticker").index
        expected = rc.data.next_trading_days(rows.index[-1], 2, "XNYS")
        assert list(dates) == list(expected)
    # D stops on Wednesday 2021-11-24: Thanksgiving is skipped, then Friday and Monday
    assert [str(d.date()) for d in forecast.xs("D").index] == ["2021-11-26", "2021-11-29"]
    one = fc.predict_next(universe, days=2, ticker="B")
    pd.testing.assert_frame_equal(one, forecast.loc[["B"]])


def test_predict_next_equals_the_last_window_forecast_by_hand(fitted, universe):
    fc, *_ = fitted
    rows = universe[universe.ticker == "C"]
    window, _ = fc.windowizer_.last_windows(rows)
    y = fc.model_.predict(window) * fc.windowizer_.target_scalers_["C"].scale_[0]
    y = y + fc.windowizer_.target_scalers_["C"].center_[0]
    expected = rows["close"].iloc[-1] * np.exp(y[0])
    got = fc.predict_next(universe, days=2).xs("C")["forecast"].to_numpy()
    np.testing.assert_allclose(got, expected, rtol=1e-6)


def test_intervals_are_conformal_per_ticker(fitted, universe):
    fc, *_ = fitted
    with pytest.warns(UserWarning, match=r"no calibration rows for ticker\(s\) \[.D.\]: their 80%"):
        forecast = fc.predict_next(universe, days=2, interval=0.8)
    assert (forecast.xs("D")["upper"] == np.inf).all()  # delisted before calibration
    for ticker in ("A", "B"):
        scores = fc.calibration_scores_[ticker]  # (n, steps) log scores of that ticker
        rank = int(np.ceil((len(scores) + 1) * 0.8))
        q = np.sort(scores, axis=0)[rank - 1]  # (steps,)
        own = forecast.xs(ticker)
        np.testing.assert_allclose(own["upper"], own["forecast"] * np.exp(q))
        np.testing.assert_allclose(own["lower"], own["forecast"] * np.exp(-q))


def test_save_and_load_round_trip(fitted, universe, tmp_path):
    fc, _, val, test = fitted
    folder = fc.save(tmp_path / "fc")
    loaded = rc.Forecaster.load(folder)
    assert loaded.tickers_ == fc.tickers_
    pd.testing.assert_frame_equal(loaded.predict(test, context=val), fc.predict(test, context=val))
    listed = universe[universe.ticker != "D"]  # D has no calibration rows
    pd.testing.assert_frame_equal(
        loaded.predict_next(listed, days=2, interval=0.8),
        fc.predict_next(listed, days=2, interval=0.8),
    )
    config = json.loads((folder / "config.json").read_text())
    config["universe"]["tickers"] = ["A", "B"]
    (folder / "config.json").write_text(json.dumps(config))
    with pytest.raises(ArtifactError, match="do not match the windowizer's tickers"):
        rc.Forecaster.load(folder)
    config["universe"]["tickers"] = "A"
    (folder / "config.json").write_text(json.dumps(config))
    with pytest.raises(ArtifactError, match=r"universe\.tickers"):
        rc.Forecaster.load(folder)
    config["universe"]["tickers"] = fc.tickers_
    config["calibration_scores"]["A"] = "abc"
    (folder / "config.json").write_text(json.dumps(config))
    with pytest.raises(ArtifactError, match=r'calibration_scores.A: expected a list, got "abc"'):
        rc.Forecaster.load(folder)


def test_a_single_ticker_frame_behaves_as_one_series():
    frame = walk(200, 0)
    train, val, test = rc.data.chronological_split(frame)
    plain = make(seed=1).fit(train, validation=val, epochs=1, batch_size=64, verbose=0)
    tagged = make(seed=1).fit(
        train.assign(ticker="A"), validation=val, epochs=1, batch_size=64, verbose=0
    )
    assert plain.tickers_ is None and tagged.tickers_ is None
    pd.testing.assert_frame_equal(
        plain.predict(test, context=val), tagged.predict(test, context=val)
    )
    assert plain.predict_next(frame).index.names == ["date"]


def test_scoring_inputs_per_ticker_are_the_one_series_inputs(fitted):
    fc, train, val, test = fitted
    forecasts = fc.forecasts(test, val, baselines=[])
    inputs = fc.scoring_inputs(test, forecasts, val, interval=0.8)
    assert sorted(inputs["forecasts"]) == ["A", "B", "C"]
    rows = {
        name: part[part.ticker == "A"].drop(columns="ticker")
        for name, part in (("train", train), ("val", val), ("test", test))
    }
    model = inputs["forecasts"]["A"]["model"]
    np.testing.assert_allclose(model.to_numpy(), by_hand(fc, "A", test, val), rtol=1e-5)
    naive = Naive(lookback=LOOKBACK, horizon=2).fit(rows["train"])
    expected = naive.predict(rows["test"], context=rows["val"]).loc[model.index]
    pd.testing.assert_frame_equal(inputs["forecasts"]["A"]["naive"], expected)
    pd.testing.assert_series_equal(inputs["actual"]["A"], rows["test"]["close"])
    pd.testing.assert_series_equal(inputs["train_prices"]["A"], rows["train"]["close"])
    prices = pd.concat([rows["val"], rows["test"]])["close"]
    base = inputs["base"]["A"]
    assert list(base.index) == list(model.index) and base.index.name == "date"
    np.testing.assert_allclose(base.to_numpy(), prices.shift(1).loc[model.index].to_numpy())
    band = inputs["intervals"]["A"]["model"]
    assert (band["lower"] < model).all().all() and (band["upper"] > model).all().all()
    assert inputs["interval_level"] == 0.8 and inputs["learned_nothing"] in (True, False)


@pytest.mark.slow
def test_the_bundled_sample_universe_end_to_end():
    frames = [
        rc.datasets.load_sample(t).iloc[-600:].assign(ticker=t)
        for t in rc.datasets.available_samples()
    ]
    universe = pd.concat(frames)
    train, val, _test = rc.data.chronological_split(universe)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # every sample ticker is long enough: no warning
        fc = make(seed=0).fit(train, validation=val, epochs=1, batch_size=256, verbose=0)
    forecast = fc.predict_next(universe, days=1)
    assert sorted(forecast.index.get_level_values("ticker")) == sorted(
        rc.datasets.available_samples()
    )
    assert (forecast.index.get_level_values("date") == pd.Timestamp("2013-03-04")).all()


def test_last_windows_scale_each_tickers_last_rows_even_interleaved(fitted, universe):
    fc, *_ = fitted
    X, names = fc.windowizer_.last_windows(universe)
    assert names == ["A", "B", "C", "D"] and X.shape == (4, LOOKBACK, 1)
    for window, ticker in zip(X, names, strict=True):
        close = universe[universe.ticker == ticker]["close"].to_numpy()[-(LOOKBACK + 1) :]
        scaler = fc.windowizer_.scalers_[ticker]
        expected = (np.diff(np.log(close)) - scaler.center_[0]) / scaler.scale_[0]
        np.testing.assert_allclose(window[:, 0], expected, rtol=1e-5)
    by_date = universe.reset_index().sort_values(["date", "ticker"]).set_index("date")
    X2, names2 = fc.windowizer_.last_windows(by_date)
    assert names2 == ["A", "B", "D", "C"]  # order of first appearance: C lists late
    np.testing.assert_array_equal(X2, X[[0, 1, 3, 2]])
    pd.testing.assert_frame_equal(
        fc.predict_next(by_date, days=2).sort_index(),
        fc.predict_next(universe, days=2).sort_index(),
    )


def test_the_recursive_strategy_feeds_each_ticker_its_own_scaled_forecasts(universe):
    train = rc.data.chronological_split(universe).train
    fc = make(seed=0, strategy="recursive").fit(train, epochs=1, batch_size=128, verbose=0)
    forecast = fc.predict_next(universe, days=3)
    for ticker in ("B", "C"):
        close = universe[universe.ticker == ticker]["close"].to_numpy()
        scaler, target = fc.windowizer_.scalers_[ticker], fc.windowizer_.target_scalers_[ticker]
        window = (np.diff(np.log(close[-(LOOKBACK + 1) :])) - scaler.center_[0]) / scaler.scale_[0]
        price, expected = close[-1], []
        for _ in range(3):
            step = fc.model_.predict(window[None, :, None].astype(np.float32))[0, 0]
            move = step * target.scale_[0] + target.center_[0]  # the log return
            price = price * np.exp(move)
            expected.append(price)
            window = np.append(window[1:], (move - scaler.center_[0]) / scaler.scale_[0])
        np.testing.assert_allclose(forecast.xs(ticker)["forecast"], expected, rtol=1e-5)


def test_the_divergence_check_runs_per_ticker_and_names_it(fitted):
    fc, *_ = fitted
    low_b, high_b = fc.train_ranges_["B"]
    base = np.array([100.0, high_b, high_b])  # A's last price, then B's
    prices = np.array([[150.0], [high_b * 1.5], [high_b * 11]])  # B's last: > 10x B's prices
    tickers = np.array(["A", "B", "B"], dtype=object)
    with pytest.raises(rc.exceptions.TrainingDivergedError, match=r"forecast\(s\) of ticker 'B'"):
        fc._check_sane(prices, base, tickers)
    fc._check_sane(prices[:2], base[:2], tickers[:2])  # B within 10x of its own prices
    assert low_b < high_b


def test_evaluate_scores_every_ticker_as_one_series_on_the_same_inputs(fitted):
    pytest.importorskip("rnncast.evaluate.universe")  # the universe evaluator (issue 15)
    fc, _, val, test = fitted
    forecasts = fc.forecasts(test, val, baselines=[])
    report = fc.score(test, forecasts, context=val, interval=None)
    assert type(report).__name__ == "UniverseReport" and sorted(report.tickers) == ["A", "B", "C"]
    inputs = fc.scoring_inputs(test, forecasts, val, interval=None)
    one = rc.evaluate.evaluate_forecasts(
        inputs["actual"]["A"],
        inputs["forecasts"]["A"],
        inputs["base"]["A"],
        inputs["train_prices"]["A"],
        learned_nothing=inputs["learned_nothing"],
    )
    assert json.dumps(report.tickers["A"].to_dict(), default=str) == json.dumps(
        one.to_dict(), default=str
    )

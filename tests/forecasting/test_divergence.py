"""Forecasts far outside the known prices stop with TrainingDivergedError (issue 14, item 11)."""

import numpy as np
import pytest

import rnncast as rc
from rnncast.exceptions import FitError, TrainingDivergedError
from rnncast.layers import LSTM, Dense


@pytest.fixture(scope="module")
def parts():
    return rc.data.chronological_split(rc.datasets.load_sample("MSFT"))


def forecaster(learning_rate, units=8):
    model = rc.Sequential([LSTM(units), Dense(units, activation="relu"), Dense(1)], seed=0)
    model.compile(optimizer=rc.optimizers.Adam(learning_rate=learning_rate), loss="mse")
    return rc.Forecaster(model, lookback=10, seed=0)


def test_a_huge_learning_rate_stops_fit_instead_of_forecasting_1e35(parts):
    train, val, _ = parts
    with pytest.raises(TrainingDivergedError) as info:
        forecaster(100.0).fit(train, validation=val, epochs=2, verbose=0)
    message = str(info.value)
    # The loss-growth check in the training loop stops it before any forecast is made.
    assert "the model's training diverged (learning_rate=100)" in message
    assert "the loss of predicting 0" in message and "lower learning rate" in message
    assert isinstance(info.value, FitError)  # the CLI's "failed", exit 1


def test_forecasts_outside_the_training_range_stop_fit(parts, monkeypatch):
    train, val, _ = parts
    fc = forecaster(1e-3, units=4)
    # A network whose output, back in prices, is 50x the last price: finite, no loss blow-up.
    monkeypatch.setattr(
        rc.data.Windowizer,
        "inverse_transform_target",
        lambda self, y, base: np.asarray(base, dtype=float)[:, None] * 50.0,
    )
    with pytest.raises(TrainingDivergedError) as info:
        fc.fit(train, validation=val, epochs=1, verbose=0)
    message = str(info.value)
    assert "the model's training diverged (learning_rate=0.001)" in message
    low, high = train["close"].min(), train["close"].max()
    assert f"[{low / 10:.4g}, {high * 10:.4g}]" in message
    assert len(info.value.history.history["loss"]) == 1  # the epoch that ran


def test_a_sane_model_passes_and_bad_forecasts_are_caught_at_predict(parts, monkeypatch):
    train, val, test = parts
    fc = forecaster(1e-3, units=4).fit(train, validation=val, epochs=1, verbose=0)
    assert np.isfinite(fc.predict(test, context=val).to_numpy()).all()
    last = float(test["close"].iloc[-1])
    high = max(train["close"].max(), test["close"].max())
    for factor, ok in ((1.5, True), (12 * high / last, False), (float("nan"), False)):
        # The network's output, back in prices, is `factor` times the last price.
        monkeypatch.setattr(
            fc.windowizer_,
            "inverse_transform_target",
            lambda y, base, f=factor: np.asarray(base, dtype=float)[:, None] * f,
        )
        if ok:
            assert fc.predict_next(test, days=1)["forecast"].iloc[0] == pytest.approx(last * 1.5)
        else:
            with pytest.raises(TrainingDivergedError, match="lower learning rate"):
                fc.predict_next(test, days=1)


def test_range_check_by_hand():
    fc = rc.Forecaster([LSTM(2), Dense(1)], lookback=3)
    fc.train_range_ = (10.0, 20.0)
    base = np.array([15.0, 30.0])
    fc._check_sane(np.array([[1.01], [299.0]]), base)  # inside [1, 300]
    for bad in (0.99, 300.5, np.inf, -5.0):
        with pytest.raises(TrainingDivergedError, match=r"outside \[1, 300\]"):
            fc._check_sane(np.array([[15.0], [bad]]), base)
    spread = rc.Forecaster([LSTM(2), Dense(1)], lookback=3)  # a target that crosses zero
    spread._check_sane(np.array([[-40.0, 45.0]]), np.array([-5.0, 4.0]))
    with pytest.raises(TrainingDivergedError, match=r"outside \[-50, 50\]"):
        spread._check_sane(np.array([[51.0]]), np.array([-5.0, 4.0]))

import json

import numpy as np
import pandas as pd
import pytest

import rnncast as rc
from rnncast import Forecaster
from rnncast.exceptions import ConfigError, DataError
from rnncast.forecasting.backtest import walk_forward
from rnncast.forecasting.baselines import Drift, Naive
from rnncast.layers import LSTM, Dense


@pytest.fixture(scope="module")
def frame():
    return rc.datasets.load_sample("IBM").iloc[-400:]


def small_forecaster(horizon=1):
    return Forecaster([LSTM(4), Dense(horizon)], lookback=10, horizon=horizon, seed=0)


def test_folds_cover_the_rest_contiguously(frame):
    result = walk_forward(Naive(lookback=10), frame, initial_train=200, max_folds=4, verbose=0)
    assert len(result.folds) == 4 and result.folds["n"].tolist() == [50, 50, 50, 50]
    assert result.predictions.index.equals(frame.index[200:])
    assert result.folds["train_end"].tolist() == [
        d.date() for d in frame.index[[199, 249, 299, 349]]
    ]
    np.testing.assert_array_equal(
        result.predictions["forecast"],  # naive = previous close
        frame["close"].to_numpy()[199:-1],
    )
    assert result.metrics["skill_vs_naive_pct"] == pytest.approx(0.0)
    json.dumps(result.to_dict())


def test_rolling_window_and_refit_every(frame):
    seen = []

    class Recording(Drift):
        def fit(self, train, validation=None, **kwargs):
            seen.append((train.index[0], len(train)))
            return super().fit(train)

    walk_forward(
        Recording(lookback=10),
        frame,
        initial_train=100,
        step=50,
        window="rolling",
        refit_every=2,
        verbose=0,
    )
    assert [n for _, n in seen] == [100, 100, 100]  # folds 0, 2, 4 of 6 refit
    assert [start for start, _ in seen] == list(frame.index[[0, 100, 200]])


def test_no_fold_sees_rows_after_its_cut_off(frame):
    kwargs = {"initial_train": 200, "step": 50, "fit_kwargs": {"epochs": 1}, "verbose": 0}
    before = walk_forward(small_forecaster(horizon=2), frame, **kwargs)
    cut = frame.index[300]
    changed = frame.copy()
    changed.loc[changed.index >= cut, ["close", "open", "high", "low"]] *= 10
    after = walk_forward(small_forecaster(horizon=2), changed, **kwargs)
    known = before.forecasts.index <= cut  # forecasts made before the change became visible
    pd.testing.assert_frame_equal(before.forecasts[known], after.forecasts[known])
    assert not before.forecasts[~known].equals(after.forecasts[~known])


def test_forecaster_folds_and_warm_start(frame, capsys):
    fresh = walk_forward(
        small_forecaster(), frame, initial_train=300, max_folds=2, fit_kwargs={"epochs": 1}
    )
    assert "fold 2/2" in capsys.readouterr().out
    warm = walk_forward(
        small_forecaster(),
        frame,
        initial_train=300,
        max_folds=2,
        warm_start=True,
        fit_kwargs={"epochs": 1},
        verbose=0,
    )
    first = fresh.forecasts["fold"] == 0
    pd.testing.assert_frame_equal(fresh.forecasts[first], warm.forecasts[first])
    assert not np.allclose(fresh.forecasts[~first]["step_1"], warm.forecasts[~first]["step_1"])


def test_forecasters_are_cloned_not_modified(frame):
    fc = small_forecaster()
    walk_forward(fc, frame, initial_train=300, max_folds=1, fit_kwargs={"epochs": 1}, verbose=0)
    assert not hasattr(fc, "model_")


def test_trading_on_walk_forward_forecasts(frame):
    result = walk_forward(Drift(lookback=10), frame, initial_train=200, max_folds=4, verbose=0)
    naive = walk_forward(Naive(lookback=10), frame, initial_train=200, max_folds=4, verbose=0)
    trading = rc.backtest.simulate_trading(
        frame["close"], result.forecasts, benchmarks={"naive": naive.forecasts}, cost_bps=5
    )
    assert set(trading.comparison.index) >= {"strategy", "buy_and_hold", "naive"}
    assert trading.comparison.loc["naive", "exposure"] == 0


def test_bad_arguments(frame):
    with pytest.raises(ConfigError, match=r"initial_train=1\.5"):
        walk_forward(Naive(lookback=10), frame, initial_train=1.5)
    with pytest.raises(ConfigError, match="window='sliding'"):
        walk_forward(Naive(lookback=10), frame, window="sliding")
    with pytest.raises(DataError, match="one series"):
        walk_forward(Naive(lookback=10), frame.assign(ticker="IBM"))


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"refit_every": 0}, "refit_every must be >= 1, got 0"),
        ({"step": 0}, "step must be >= 1 row, got 0"),
        ({"max_folds": 0}, "max_folds must be >= 1, got 0"),
    ],
)
def test_fold_settings_are_checked(frame, kwargs, message):
    with pytest.raises(ConfigError, match=message):
        walk_forward(Naive(lookback=10), frame, initial_train=200, verbose=0, **kwargs)


def test_frame_must_be_dated(frame):
    with pytest.raises(DataError, match="walk_forward takes a price frame indexed by date"):
        walk_forward(Naive(lookback=10), frame.reset_index())


def volatility_doubling(n: int = 2400, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    sigma = np.where(np.arange(n) < n // 2, 0.01, 0.02)  # calm half, then twice as volatile
    close = 100 * np.exp(np.cumsum(rng.normal(0, sigma)))
    return pd.DataFrame(
        {"close": close}, index=pd.bdate_range("2010-01-04", periods=n, name="date")
    )


def test_adaptive_conformal_bands_keep_coverage_when_volatility_doubles():
    frame = volatility_doubling()
    result = walk_forward(
        Naive(lookback=10), frame, initial_train=200, step=100, interval=0.9, verbose=0
    )
    predictions = result.predictions
    assert abs(result.metrics["interval_coverage"] - 0.9) <= 0.02
    assert result.metrics["interval_level"] == 0.9
    inside = (predictions["lower"] <= predictions["actual"]) & (
        predictions["actual"] <= predictions["upper"]
    )
    np.testing.assert_array_equal(inside.to_numpy(), predictions["inside"].to_numpy())
    # a fixed band calibrated on the calm first half falls short in the volatile second half
    scores = np.abs(np.log(predictions["actual"] / predictions["forecast"])).to_numpy()
    half = len(scores) // 2
    fixed = np.quantile(scores[:half], 0.9)
    assert np.mean(scores[half:] <= fixed) < 0.8
    assert predictions["inside"].to_numpy()[half:].mean() > 0.85


def test_adaptive_bands_use_only_earlier_sessions():
    frame = volatility_doubling(800)
    kwargs = {"initial_train": 200, "step": 100, "interval": 0.9, "verbose": 0}
    first = walk_forward(Naive(lookback=10), frame, **kwargs).predictions
    changed = frame.copy()
    changed.iloc[600:, 0] *= 1.5  # the future after session 600
    second = walk_forward(Naive(lookback=10), changed, **kwargs).predictions
    before = first.index < frame.index[600]
    pd.testing.assert_frame_equal(first[before], second[before])

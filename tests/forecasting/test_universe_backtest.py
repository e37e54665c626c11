"""walk_forward on a long multi-ticker frame: one global model per fold, per-ticker results."""

import numpy as np
import pandas as pd
import pytest

import rnncast as rc
from rnncast.exceptions import ConfigError
from rnncast.forecasting.baselines import Naive
from rnncast.layers import LSTM, Dense


def walk(n, seed, start="2021-01-04"):
    rng = np.random.default_rng(seed)
    close = 40 * (seed + 1) * np.exp(np.cumsum(rng.normal(0, 0.01, n)))
    return pd.DataFrame({"close": close}, index=pd.bdate_range(start, periods=n, name="date"))


@pytest.fixture(scope="module")
def universe():
    """B lists late, C is delisted inside the backtest."""
    return pd.concat(
        [
            walk(160, 0).assign(ticker="A"),
            walk(160, 1).iloc[30:].assign(ticker="B"),
            walk(160, 2).iloc[:120].assign(ticker="C"),
        ]
    )


def run(frame, **kwargs):
    forecaster = rc.Forecaster([LSTM(4), Dense(1)], lookback=8, seed=0)
    return rc.backtest.walk_forward(
        forecaster,
        frame,
        initial_train=100,
        step=25,
        max_folds=2,
        fit_kwargs={"epochs": 1, "batch_size": 128},
        verbose=0,
        **kwargs,
    )


@pytest.fixture(scope="module")
def result(universe):
    return run(universe, interval=0.8)


def test_folds_cut_every_ticker_at_the_same_dates(result, universe):
    dates = np.unique(universe.index)
    assert [str(d) for d in result.folds["test_start"]] == [
        str(pd.Timestamp(dates[i]).date()) for i in (100, 125)
    ]
    for row in result.folds.itertuples():
        fold = result.predictions[result.predictions["fold"] == row.fold]
        forecast_dates = fold.index.get_level_values("date")
        assert forecast_dates.min().date() >= row.test_start > row.train_end
        assert forecast_dates.max().date() <= row.test_end
    # C stops on row 120 (inside fold 0): it has no forecasts in fold 1
    last = result.predictions[result.predictions["fold"] == 1]
    assert set(last.index.get_level_values("ticker")) == {"A", "B"}


def test_predictions_and_metrics_per_ticker_and_pooled(result, universe):
    predictions = result.predictions
    assert predictions.index.names == ["ticker", "date"]
    for ticker, rows in universe.groupby("ticker"):
        own = predictions.xs(ticker, level="ticker")
        close = rows["close"]
        np.testing.assert_allclose(own["actual"], close.loc[own.index])
        np.testing.assert_allclose(own["base"], close.shift(1).loc[own.index])
        table = result.per_ticker.loc[ticker]
        assert table["n"] == len(own)
        rmse = np.sqrt(np.mean((own["actual"] - own["forecast"]) ** 2))
        np.testing.assert_allclose(table["rmse"], rmse)
        np.testing.assert_allclose(table["interval_coverage"], own["inside"].mean())
    relative = (predictions["actual"] - predictions["forecast"]) / predictions["base"]
    np.testing.assert_allclose(result.metrics["rmse"], np.sqrt(np.mean(relative**2)))
    assert result.metrics["interval_level"] == 0.8
    summary = result.to_dict()
    assert [row["ticker"] for row in summary["per_ticker"]] == list(result.per_ticker.index)
    assert "pooled over tickers" in str(result)


@pytest.mark.slow
def test_perturbing_later_rows_changes_no_earlier_forecast(result, universe):
    cut = pd.Timestamp(result.folds["test_start"].iloc[1])
    changed = universe.copy()
    changed.loc[changed.index >= cut, "close"] *= 1.5
    again = run(changed, interval=0.8)
    early = result.forecasts["fold"] < 1
    pd.testing.assert_frame_equal(again.forecasts[early], result.forecasts[early])
    assert not np.allclose(again.forecasts[~early]["step_1"], result.forecasts[~early]["step_1"])


def test_a_universe_needs_a_forecaster(universe):
    with pytest.raises(ConfigError, match="takes a Forecaster"):
        rc.backtest.walk_forward(Naive(lookback=8), universe, initial_train=100, verbose=0)

"""Baselines: same windows as the Windowizer, hand-checked numbers, no look-ahead, no leakage."""

import warnings

import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm
from statsmodels.tools.sm_exceptions import ConvergenceWarning
from statsmodels.tsa.arima.model import ARIMA as SMARIMA

import rnncast as rc
from rnncast.data import Windowizer
from rnncast.forecasting.baselines import (
    ARIMA,
    BASELINES,
    Drift,
    LinearAR,
    MovingAverage,
    Naive,
    all_baselines,
)

# statsmodels' own notes on the (2, 1, 2) starting values: expected, not ours to silence
pytestmark = pytest.mark.filterwarnings("ignore:Non-(stationary|invertible) starting")

LOOKBACK = 20
SMALL_GRID = ((0, 1, 0), (1, 1, 0))


def ar1_log_prices(n: int = 1000, phi: float = 0.3, seed: int = 7) -> pd.DataFrame:
    """Prices whose log returns are a stationary AR(1): ARIMA(1, 1, 0) in log prices."""
    rng = np.random.default_rng(seed)
    shocks = rng.normal(0, 0.015, n)
    returns = np.zeros(n)
    for t in range(1, n):
        returns[t] = phi * returns[t - 1] + shocks[t]
    index = pd.bdate_range("2015-01-01", periods=n, name="date")
    return pd.DataFrame({"close": 100 * np.exp(np.cumsum(returns))}, index=index)


def scale_future(frame: pd.DataFrame, first_future: pd.Timestamp, factor: float = 10.0):
    changed = frame.copy()
    changed.loc[changed.index >= first_future, "close"] *= factor
    return changed


def fitted_state(baseline) -> dict:
    """Every learned attribute except the (unscaled) Windowizer and statsmodels' results."""
    return {
        key: repr(value) if not isinstance(value, np.ndarray) else value.tobytes()
        for key, value in vars(baseline).items()
        if key.endswith("_") and key not in ("windowizer_", "results_")
    }


@pytest.fixture(scope="module")
def msft_parts():
    return rc.data.chronological_split(rc.datasets.load_sample("MSFT").iloc[:1000])


@pytest.fixture(scope="module")
def ar1_parts():
    return rc.data.chronological_split(ar1_log_prices())


@pytest.fixture(scope="module")
def fitted(msft_parts):
    """All baselines fitted on MSFT's training rows, for horizon 1 and 3."""
    train, val, _ = msft_parts
    return {
        horizon: [b.fit(train, validation=val) for b in all_baselines(LOOKBACK, horizon)]
        for horizon in (1, 3)
    }


@pytest.fixture(scope="module")
def arima_111(ar1_parts):
    return ARIMA(LOOKBACK, horizon=3, order=(1, 1, 1)).fit(ar1_parts.train)


# ------------------------------------------------------------------ format
@pytest.mark.parametrize("horizon", [1, 3])
@pytest.mark.parametrize("with_context", [False, True])
def test_output_format_and_identical_windows(fitted, msft_parts, horizon, with_context):
    train, val, test = msft_parts
    context = val if with_context else None
    win = Windowizer(LOOKBACK, horizon, features=["close"], target="close", scaler=None)
    expected = win.fit(train).target_dates(test, context)
    first = test.index[0] if with_context else test.index[LOOKBACK]
    assert expected[0] == first and len(expected) == len(win.transform(test, context)[1])
    for baseline in fitted[horizon]:
        forecast = baseline.predict(test, context=context)
        assert forecast.index.equals(expected) and forecast.index.name == "date"
        assert list(forecast.columns) == [f"step_{k}" for k in range(1, horizon + 1)]
        assert (forecast.dtypes == np.float64).all()
        assert np.isfinite(forecast.to_numpy()).all()


# ---------------------------------------------------------- by-hand values
def test_naive_equals_base_price(fitted, msft_parts):
    train, val, test = msft_parts
    forecast = fitted[3][0].predict(test, context=val)
    base = Windowizer(LOOKBACK, 3, scaler=None).fit(train).base_prices(test, context=val)
    assert base[0] == val["close"].iloc[-1]
    for k in (1, 2, 3):
        np.testing.assert_array_equal(forecast[f"step_{k}"].to_numpy(), base)


def test_drift_is_base_plus_k_times_mean_training_change(fitted, msft_parts):
    train, val, test = msft_parts
    drift = fitted[3][1]
    close = train["close"].to_numpy()
    d = (close[-1] - close[0]) / (len(close) - 1)
    assert drift.drift_ == pytest.approx(d, rel=1e-12) and d != 0
    forecast = drift.predict(test, context=val)
    base = np.concatenate([val["close"].to_numpy()[-LOOKBACK:], test["close"].to_numpy()])
    base = base[LOOKBACK - 1 : LOOKBACK - 1 + len(forecast)]
    for k in (1, 2, 3):
        np.testing.assert_allclose(forecast[f"step_{k}"].to_numpy(), base + k * d, rtol=1e-12)


def test_moving_average_by_hand():
    index = pd.bdate_range("2024-01-01", periods=6, name="date")
    frame = pd.DataFrame({"close": [1.0, 2.0, 4.0, 8.0, 16.0, 32.0]}, index=index)
    forecast = MovingAverage(lookback=3, horizon=2, window=2).fit(frame).predict(frame)
    # windows [1, 2, 4] and [2, 4, 8]; each step is the mean of the last 2 prices
    expected = pd.DataFrame({"step_1": [3.0, 6.0], "step_2": [3.0, 6.0]}, index=index[3:5])
    pd.testing.assert_frame_equal(forecast, expected, check_freq=False)


def relative_design(prices: np.ndarray, lookback: int, horizon: int):
    """Independent loop: design [1, x_1/base .. x_{L-1}/base] and targets y/base."""
    rows, targets, bases = [], [], []
    for start in range(len(prices) - lookback - horizon + 1):
        window = prices[start : start + lookback]
        base = window[-1]
        rows.append(np.concatenate([[1.0], window[:-1] / base]))
        targets.append(prices[start + lookback : start + lookback + horizon] / base)
        bases.append(base)
    return np.array(rows), np.array(targets), np.array(bases)


def test_linear_ar_equals_statsmodels_ols(msft_parts):
    train, val, test = msft_parts
    model = LinearAR(lookback=5, horizon=2).fit(train)
    design, targets, _ = relative_design(train["close"].to_numpy(), 5, 2)
    for k in range(2):
        params = sm.OLS(targets[:, k], design).fit().params
        np.testing.assert_allclose(model.intercept_[k], params[0], rtol=1e-8)
        np.testing.assert_allclose(model.coef_[:, k], params[1:], rtol=1e-6, atol=1e-9)
    prices = np.concatenate([val["close"].to_numpy()[-5:], test["close"].to_numpy()])
    design, _, bases = relative_design(prices, 5, 2)
    weights = np.vstack([model.intercept_, model.coef_])
    np.testing.assert_allclose(
        model.predict(test, context=val).to_numpy(), design @ weights * bases[:, None], rtol=1e-12
    )


def test_linear_ar_recovers_an_ar1_in_relative_levels():
    # x[t+1] / x[t] = 1.5 - 0.5 * x[t-1] / x[t] + noise: stationary in relative levels
    rng = np.random.default_rng(3)
    n = 4000
    prices = np.empty(n)
    prices[:2] = 100.0
    for t in range(1, n - 1):
        ratio = 1.5 - 0.5 * prices[t - 1] / prices[t] + rng.normal(0, 0.01)
        prices[t + 1] = prices[t] * ratio
    frame = pd.DataFrame(
        {"close": prices}, index=pd.bdate_range("2000-01-03", periods=n, name="date")
    )
    train, _, test = rc.data.chronological_split(frame, val=0.0, test=0.25)
    model = LinearAR(lookback=3).fit(train)
    np.testing.assert_allclose(model.intercept_, [1.5], atol=0.05)
    np.testing.assert_allclose(model.coef_[:, 0], [0.0, -0.5], atol=0.05)
    actual = test["close"].to_numpy()[3:]
    ar_error = np.mean((model.predict(test)["step_1"].to_numpy() - actual) ** 2)
    naive_error = np.mean(
        (Naive(lookback=3).fit(train).predict(test)["step_1"].to_numpy() - actual) ** 2
    )
    assert ar_error < 0.9 * naive_error


# ------------------------------------------------------------------ ARIMA
def test_arima_order_is_the_aic_argmin(ar1_parts):
    train = ar1_parts.train
    model = ARIMA(LOOKBACK).fit(train)
    log_prices = np.log(train["close"].to_numpy())
    aics = {order: SMARIMA(log_prices, order=order).fit().aic for order in model.grid}
    best = min(aics, key=aics.get)
    assert best not in (model.grid[0], model.grid[-1])  # the check can tell orders apart
    assert model.order_ == best and model.aic_ == pytest.approx(aics[best], rel=1e-9)
    assert model.aics_ == pytest.approx(aics, rel=1e-9)


def test_arima_one_step_equals_statsmodels_predictions(ar1_parts):
    train, val, test = ar1_parts
    model = ARIMA(LOOKBACK, order=(1, 1, 1)).fit(train)
    log_prices = np.log(
        np.concatenate([val["close"].to_numpy()[-LOOKBACK:], test["close"].to_numpy()])
    )
    predicted = SMARIMA(log_prices, order=(1, 1, 1)).filter(model.params_).predict()
    forecast = model.predict(test, context=val)["step_1"].to_numpy()
    np.testing.assert_allclose(forecast, np.exp(predicted[LOOKBACK:]), rtol=1e-12)
    naive = np.exp(log_prices[LOOKBACK - 1 : -1])
    assert np.abs(forecast / naive - 1).max() > 1e-3  # not simply the last price


def test_arima_horizon_3_equals_statsmodels_forecast_from_each_origin(arima_111, ar1_parts):
    _, val, test = ar1_parts
    forecast = arima_111.predict(test, context=val).to_numpy()
    prices = np.concatenate([val["close"].to_numpy()[-LOOKBACK:], test["close"].to_numpy()])
    for window in (0, 1, 57, len(forecast) - 1):
        history = np.log(prices[: window + LOOKBACK])  # rows up to the window's origin
        direct = SMARIMA(history, order=(1, 1, 1)).filter(arima_111.params_).forecast(3)
        np.testing.assert_allclose(forecast[window], np.exp(direct), rtol=1e-10)


def test_arima_suppresses_only_convergence_warnings(monkeypatch, ar1_parts):
    original = SMARIMA.fit

    def noisy_fit(self, *args, **kwargs):
        warnings.warn("did not converge", ConvergenceWarning, stacklevel=2)
        warnings.warn("something else", UserWarning, stacklevel=2)
        return original(self, *args, **kwargs)

    monkeypatch.setattr(SMARIMA, "fit", noisy_fit)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        ARIMA(LOOKBACK, order=(0, 1, 0)).fit(ar1_parts.train)
    messages = [str(w.message) for w in caught]
    assert "something else" in messages and "did not converge" not in messages


# --------------------------------------------------- look-ahead and leakage
@pytest.mark.parametrize("name", list(BASELINES))
def test_no_look_ahead_later_rows_do_not_change_earlier_forecasts(
    name, fitted, arima_111, msft_parts, ar1_parts
):
    if name == "arima":
        model, (_, val, test) = arima_111, ar1_parts
    else:
        model = next(b for b in fitted[3] if b.name == name)
        _, val, test = msft_parts
    cut = test.index[60]
    before = model.predict(test, context=val)
    after = model.predict(scale_future(test, cut), context=val)
    earlier = before.index <= cut  # origins before the changed rows
    assert earlier.sum() == 61
    pd.testing.assert_frame_equal(before[earlier], after[earlier], check_exact=True)
    assert not np.allclose(before[~earlier], after[~earlier])  # the check can fail


@pytest.mark.parametrize("name", list(BASELINES))
def test_non_training_rows_do_not_change_the_fitted_state(name, ar1_parts):
    frame = ar1_log_prices()
    train, val, _ = ar1_parts
    train2, val2, _ = rc.data.chronological_split(scale_future(frame, val.index[0]))
    assert (val2["close"].to_numpy() == 10 * val["close"].to_numpy()).all()
    extra = {"grid": SMALL_GRID} if name == "arima" else {}
    model = BASELINES[name](LOOKBACK, horizon=2, **extra).fit(train, validation=val)
    model2 = BASELINES[name](LOOKBACK, horizon=2, **extra).fit(train2, validation=val2)
    assert fitted_state(model) == fitted_state(model2)
    pd.testing.assert_frame_equal(model.predict(train), model2.predict(train), check_exact=True)


@pytest.mark.parametrize("name", ["drift", "linear_ar", "arima"])
def test_the_leakage_check_can_fail(name, ar1_parts):
    frame = ar1_log_prices()
    train, val, _ = ar1_parts
    changed = scale_future(frame, val.index[0])
    extra = {"grid": SMALL_GRID} if name == "arima" else {}
    leaky = BASELINES[name](LOOKBACK, **extra).fit(pd.concat([train, val]))
    leaky2 = BASELINES[name](LOOKBACK, **extra).fit(changed[changed.index <= val.index[-1]])
    assert fitted_state(leaky) != fitted_state(leaky2)


# ------------------------------------------------------------------ errors
@pytest.mark.parametrize("name", list(BASELINES))
def test_predict_before_fit_raises(name, msft_parts):
    with pytest.raises(rc.NotFittedError, match="fit"):
        BASELINES[name](LOOKBACK).predict(msft_parts.test)


@pytest.mark.parametrize(
    "make",
    [
        lambda: MovingAverage(lookback=3, window=4),
        lambda: MovingAverage(window=0),
        lambda: Naive(lookback=0),
        lambda: Drift(horizon=1.5),
        lambda: Naive(target=3),
        lambda: ARIMA(order=(1, 1)),
        lambda: ARIMA(order=(-1, 1, 0)),
        lambda: ARIMA(order=(1.0, 1, 0)),
        lambda: ARIMA(order="110"),
        lambda: ARIMA(grid=()),
        lambda: ARIMA(grid=((1, 1, 1), (2, 1))),
    ],
)
def test_bad_arguments_raise_config_error(make):
    with pytest.raises(rc.ConfigError):
        make()


def test_bad_data_raises_data_error(msft_parts):
    train = msft_parts.train
    with pytest.raises(rc.DataError, match="ticker"):
        Naive(LOOKBACK).fit(train.assign(ticker="MSFT"))
    with pytest.raises(rc.DataError, match="positive"):
        LinearAR(LOOKBACK).fit(train.assign(close=train["close"] - train["close"].median()))
    with pytest.raises(rc.DataError, match="not enough rows"):
        Naive(LOOKBACK).fit(train.iloc[:LOOKBACK])


def test_registry_config_and_repr():
    baselines = all_baselines(lookback=4, horizon=2, target="open")
    assert [b.name for b in baselines] == list(BASELINES)
    assert all(isinstance(b, BASELINES[b.name]) for b in baselines)
    assert baselines[2].window == 4  # MovingAverage uses min(5, lookback)
    for baseline in baselines:
        copy = type(baseline)(**baseline.get_config())
        assert copy.get_config() == baseline.get_config() and repr(copy) == repr(baseline)
    assert repr(baselines[2]) == "MovingAverage(lookback=4, horizon=2, target='open', window=4)"

"""Training matches Keras 3 (torch backend): same weights, data and optimizer give the same losses.

Each test builds a Keras model with moderate random weights, imports it with
:func:`rnncast.interop.from_keras` (identical starting point), then fits both
with ``shuffle=False``, ``batch_size=32`` on 150 samples (a last partial batch
of 22) and validation data of 50 samples (a partial batch of 18), and
compares the per-epoch history and the trained predictions. Measured after
3 epochs: SGD and RMSprop agree to ~6e-8 relative and Adam to ~1e-7 (rnncast
computes Adam's bias correction in float32 as Keras does; in float64 the gap
would be ~5e-6). The tests allow 1e-4, and one test pins Adam at 1e-6.
"""

from __future__ import annotations

import os
from collections.abc import Callable

os.environ.setdefault("KERAS_BACKEND", "torch")

import numpy as np
import pytest

from rnncast import optimizers
from rnncast.interop import from_keras

keras = pytest.importorskip("keras")
L = keras.layers
pytestmark = pytest.mark.filterwarnings("ignore:__array__ implementation:DeprecationWarning")

TIMESTEPS = 40
N_TRAIN, N_VAL, BATCH = 150, 50, 32  # 150 = 4 * 32 + 22, 50 = 32 + 18
EPOCHS = 3
RTOL = 1e-4

STACK_1: Callable[[], list] = lambda: [  # noqa: E731 - the stack of the README
    L.LSTM(50, return_sequences=True),
    L.LSTM(50),
    L.Dense(25, activation="relu"),
    L.Dense(1),
]
GRU_STACK: Callable[[], list] = lambda: [  # noqa: E731
    L.GRU(32, return_sequences=True),
    L.GRU(32),
    L.Dense(1),
]


def windows(n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Windows of a noisy sine (float32): ``x (n, TIMESTEPS, 1)``, next value ``y (n, 1)``."""
    rng = np.random.default_rng(seed)
    t = np.arange(n + TIMESTEPS)
    series = np.sin(t / 7.0) + 0.1 * rng.normal(size=t.shape)
    x = np.stack([series[i : i + TIMESTEPS] for i in range(n)])[..., None]
    return x.astype("float32"), series[TIMESTEPS : TIMESTEPS + n, None].astype("float32")


@pytest.fixture(scope="module")
def data() -> dict[str, np.ndarray]:
    x, y = windows(N_TRAIN, 0)
    x_val, y_val = windows(N_VAL, 1)
    return {"x": x, "y": y, "x_val": x_val, "y_val": y_val}


def twin_models(layers: Callable[[], list], seed: int = 0):
    """A Keras model with weights U(-0.3, 0.3) and its rnncast import (same weights)."""
    keras_model = keras.Sequential([keras.Input((TIMESTEPS, 1)), *layers()])
    rng = np.random.default_rng(seed)
    for layer in keras_model.layers:
        layer.set_weights(
            [rng.uniform(-0.3, 0.3, w.shape).astype("float32") for w in layer.get_weights()]
        )
    return keras_model, from_keras(keras_model)


def fit_both(data, layers, keras_optimizer, rnncast_optimizer, metrics=None, seed: int = 0):
    """Compile and fit twin models identically; returns both models and both histories."""
    keras_model, model = twin_models(layers, seed)
    keras_model.compile(optimizer=keras_optimizer, loss="mse", metrics=metrics)
    model.compile(optimizer=rnncast_optimizer, loss="mse", metrics=metrics)
    kwargs = {
        "batch_size": BATCH,
        "epochs": EPOCHS,
        "shuffle": False,
        "verbose": 0,
        "validation_data": (data["x_val"], data["y_val"]),
    }
    keras_history = keras_model.fit(data["x"], data["y"], **kwargs).history
    history = model.fit(data["x"], data["y"], **kwargs).history
    return keras_model, model, keras_history, history


def relative_difference(expected, actual) -> float:
    expected, actual = np.asarray(expected, "float64"), np.asarray(actual, "float64")
    return float(np.max(np.abs(actual - expected) / np.abs(expected)))


def assert_history_matches(keras_history: dict, history: dict, keys: list[str]) -> None:
    for key in keys:
        assert len(history[key]) == len(keras_history[key]) == EPOCHS, key
        np.testing.assert_allclose(history[key], keras_history[key], rtol=RTOL, atol=0, err_msg=key)


def assert_predictions_match(keras_model, model, x: np.ndarray) -> None:
    np.testing.assert_allclose(
        model.predict(x), keras_model.predict(x, verbose=0), rtol=0, atol=1e-4
    )


@pytest.fixture(scope="module")
def lstm_adam(data):
    """Stack 1 fitted once with Adam(1e-3) and metrics=["mae"] (shared by several tests)."""
    return fit_both(
        data,
        STACK_1,
        keras.optimizers.Adam(learning_rate=1e-3),
        optimizers.Adam(learning_rate=1e-3),
        metrics=["mae"],
    )


# -- fit -----------------------------------------------------------------------
def test_lstm_stack_adam_loss_per_epoch_matches_keras(lstm_adam):
    _, _, keras_history, history = lstm_adam
    assert_history_matches(keras_history, history, ["loss"])
    # training did something: the loss moved far more than the tolerance
    assert keras_history["loss"][-1] < 0.9 * keras_history["loss"][0]


def test_lstm_stack_adam_val_loss_matches_keras(lstm_adam):
    _, _, keras_history, history = lstm_adam
    assert_history_matches(keras_history, history, ["val_loss"])


def test_lstm_stack_adam_mae_metric_matches_keras(lstm_adam):
    _, _, keras_history, history = lstm_adam
    assert set(history) == set(keras_history) == {"loss", "mae", "val_loss", "val_mae"}
    assert_history_matches(keras_history, history, ["mae", "val_mae"])


def test_lstm_stack_adam_trained_weights_match_keras(lstm_adam, data):
    keras_model, model, _, _ = lstm_adam
    assert_predictions_match(keras_model, model, data["x_val"])
    for actual, expected in zip(model.get_weights(), keras_model.get_weights(), strict=True):
        np.testing.assert_allclose(actual, expected, rtol=0, atol=1e-4)


def test_lstm_stack_adam_agrees_with_keras_to_float32_rounding(lstm_adam):
    _, _, keras_history, history = lstm_adam
    for key in ("loss", "mae", "val_loss", "val_mae"):
        np.testing.assert_allclose(history[key], keras_history[key], rtol=1e-6, atol=0, err_msg=key)


def test_lstm_stack_sgd_momentum_matches_keras(data):
    keras_model, model, keras_history, history = fit_both(
        data,
        STACK_1,
        keras.optimizers.SGD(learning_rate=0.01, momentum=0.9),
        optimizers.SGD(learning_rate=0.01, momentum=0.9),
        seed=1,
    )
    assert_history_matches(keras_history, history, ["loss", "val_loss"])
    assert_predictions_match(keras_model, model, data["x_val"])


def test_lstm_stack_rmsprop_matches_keras(data):
    keras_model, model, keras_history, history = fit_both(
        data,
        STACK_1,
        keras.optimizers.RMSprop(learning_rate=1e-3),
        optimizers.RMSprop(learning_rate=1e-3),
        seed=2,
    )
    assert_history_matches(keras_history, history, ["loss", "val_loss"])
    assert_predictions_match(keras_model, model, data["x_val"])


def test_gru_stack_adam_matches_keras(data):
    keras_model, model, keras_history, history = fit_both(
        data,
        GRU_STACK,
        keras.optimizers.Adam(learning_rate=1e-3),
        optimizers.Adam(learning_rate=1e-3),
        metrics=["mae"],
        seed=3,
    )
    assert_history_matches(keras_history, history, ["loss", "mae", "val_loss", "val_mae"])
    assert_predictions_match(keras_model, model, data["x_val"])


# -- evaluate ------------------------------------------------------------------
@pytest.mark.parametrize("batch_size", [32, 20])
def test_evaluate_loss_matches_keras(data, batch_size):
    keras_model, model = twin_models(GRU_STACK, seed=4)
    keras_model.compile(optimizer="adam", loss="mse")
    model.compile(optimizer="adam", loss="mse")
    for x, y in ((data["x"], data["y"]), (data["x_val"], data["y_val"])):
        expected = keras_model.evaluate(x, y, batch_size=batch_size, verbose=0)
        actual = model.evaluate(x, y, batch_size=batch_size, verbose=0)
        assert isinstance(actual, float)
        assert actual == pytest.approx(expected, rel=RTOL)


def test_evaluate_with_metrics_matches_keras(data, lstm_adam):
    keras_model, model, _, _ = lstm_adam  # trained, compiled with metrics=["mae"]
    assert model.metrics_names == ["loss", "mae"]
    expected = keras_model.evaluate(data["x_val"], data["y_val"], batch_size=BATCH, verbose=0)
    actual = model.evaluate(data["x_val"], data["y_val"], batch_size=BATCH, verbose=0)
    assert len(actual) == len(expected) == 2
    np.testing.assert_allclose(actual, expected, rtol=RTOL, atol=0)
    logs = model.evaluate(
        data["x_val"], data["y_val"], batch_size=BATCH, verbose=0, return_dict=True
    )
    assert logs == {"loss": actual[0], "mae": actual[1]}


def test_evaluate_weights_batches_by_size(data):
    """The partial batch counts by its size: the result is the mean over all samples."""
    keras_model, model = twin_models(GRU_STACK, seed=5)
    model.compile(optimizer="adam", loss="mse", metrics=["mae"])
    x, y = data["x_val"], data["y_val"]
    error = keras_model.predict(x, verbose=0).astype("float64") - y
    loss, mae = model.evaluate(x, y, batch_size=BATCH, verbose=0)
    assert loss == pytest.approx(float((error**2).mean()), rel=RTOL)
    assert mae == pytest.approx(float(np.abs(error).mean()), rel=RTOL)

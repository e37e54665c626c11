"""Classification trains as in Keras 3: same weights and data give the same losses and accuracy.

Twin models (a Keras model with weights U(-0.5, 0.5) and its
:func:`rnncast.interop.from_keras` import) are fitted with ``shuffle=False``,
``batch_size=32`` on 150 windows (a partial last batch of 22) with
validation data of 50, and the first 3 epochs' ``loss``, ``accuracy`` and
their ``val_`` twins are compared. Targets are passed as Keras tutorials pass
them: ``(n,)`` integer classes for sparse crossentropy, ``(n,)`` 0/1 floats for
binary crossentropy. Measured: losses agree to ~1e-7 relative, accuracies
exactly; the tests allow 1e-5.
"""

from __future__ import annotations

import os

os.environ.setdefault("KERAS_BACKEND", "torch")

import numpy as np
import pytest

from rnncast import losses, metrics, optimizers
from rnncast.exceptions import ConfigError, DataError, ShapeError
from rnncast.interop import from_keras

keras = pytest.importorskip("keras")
L = keras.layers
pytestmark = pytest.mark.filterwarnings("ignore:__array__ implementation:DeprecationWarning")

TIMESTEPS, N_TRAIN, N_VAL, BATCH, EPOCHS = 12, 150, 50, 32, 3
RTOL = 1e-5


def windows(n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Windows of a noisy sine ``(n, TIMESTEPS, 1)`` and whether the next value rises, ``(n,)``."""
    rng = np.random.default_rng(seed)
    t = np.arange(n + TIMESTEPS + 1)
    series = np.sin(t / 5.0) + 0.3 * rng.normal(size=t.shape)
    x = np.stack([series[i : i + TIMESTEPS] for i in range(n)])[..., None].astype("float32")
    up = series[TIMESTEPS : TIMESTEPS + n] > series[TIMESTEPS - 1 : TIMESTEPS + n - 1]
    return x, up.astype("int64")


@pytest.fixture(scope="module")
def data() -> dict[str, np.ndarray]:
    x, y = windows(N_TRAIN, 0)
    x_val, y_val = windows(N_VAL, 1)
    return {"x": x, "y": y, "x_val": x_val, "y_val": y_val}


def twins(head: list):
    keras_model = keras.Sequential([keras.Input((TIMESTEPS, 1)), L.LSTM(8), *head])
    rng = np.random.default_rng(0)
    for layer in keras_model.layers:
        layer.set_weights(
            [rng.uniform(-0.5, 0.5, w.shape).astype("float32") for w in layer.get_weights()]
        )
    return keras_model, from_keras(keras_model)


def fit_both(data, head, keras_loss, loss, y_cast):
    keras_model, model = twins(head)
    keras_model.compile(
        optimizer=keras.optimizers.Adam(1e-2), loss=keras_loss, metrics=["accuracy"]
    )
    model.compile(optimizer=optimizers.Adam(1e-2), loss=loss, metrics=["accuracy"])
    y, y_val = y_cast(data["y"]), y_cast(data["y_val"])
    kwargs = {"batch_size": BATCH, "epochs": EPOCHS, "shuffle": False, "verbose": 0}
    keras_history = keras_model.fit(
        data["x"], y, validation_data=(data["x_val"], y_val), **kwargs
    ).history
    history = model.fit(data["x"], y, validation_data=(data["x_val"], y_val), **kwargs).history
    return keras_model, model, keras_history, history


def assert_same_history(keras_history: dict, history: dict) -> None:
    assert set(history) == set(keras_history) == {"loss", "accuracy", "val_loss", "val_accuracy"}
    for key in keras_history:
        np.testing.assert_allclose(history[key], keras_history[key], rtol=RTOL, atol=0, err_msg=key)
    assert keras_history["loss"][-1] < keras_history["loss"][0]  # training moved the weights


@pytest.fixture(scope="module")
def softmax_sparse(data):
    return fit_both(
        data,
        [L.Dense(2, activation="softmax")],
        "sparse_categorical_crossentropy",
        "sparse_categorical_crossentropy",
        lambda y: y,  # (n,) int64 class labels
    )


@pytest.fixture(scope="module")
def sigmoid_binary(data):
    return fit_both(
        data,
        [L.Dense(1, activation="sigmoid")],
        "binary_crossentropy",
        losses.BinaryCrossentropy(),
        lambda y: y.astype("float32"),  # (n,) 0/1 floats
    )


def test_softmax_sparse_crossentropy_history_matches_keras(softmax_sparse):
    _, _, keras_history, history = softmax_sparse
    assert_same_history(keras_history, history)


def test_softmax_predict_returns_class_probabilities(softmax_sparse, data):
    keras_model, model, _, _ = softmax_sparse
    probabilities = model.predict(data["x_val"])
    assert probabilities.shape == (N_VAL, 2)
    np.testing.assert_allclose(probabilities.sum(axis=1), 1.0, rtol=1e-6)
    np.testing.assert_allclose(
        probabilities, keras_model.predict(data["x_val"], verbose=0), atol=1e-5
    )


def test_softmax_evaluate_matches_keras(softmax_sparse, data):
    keras_model, model, _, _ = softmax_sparse
    theirs = keras_model.evaluate(data["x_val"], data["y_val"], verbose=0, return_dict=True)
    ours = model.evaluate(data["x_val"], data["y_val"], verbose=0, return_dict=True)
    assert ours == pytest.approx(theirs, rel=RTOL)


def test_sigmoid_binary_crossentropy_history_matches_keras(sigmoid_binary):
    _, _, keras_history, history = sigmoid_binary
    assert_same_history(keras_history, history)


def test_sigmoid_predict_returns_probabilities(sigmoid_binary, data):
    keras_model, model, _, _ = sigmoid_binary
    probabilities = model.predict(data["x_val"])
    assert probabilities.shape == (N_VAL, 1) and ((probabilities > 0) & (probabilities < 1)).all()
    np.testing.assert_allclose(
        probabilities, keras_model.predict(data["x_val"], verbose=0), atol=1e-5
    )


def test_metric_objects_and_loss_objects_are_stored_in_the_compile_config(data):
    _, model = twins([L.Dense(1, activation="sigmoid")])
    model.compile(
        optimizer="adam",
        loss=losses.BinaryCrossentropy(label_smoothing=0.1),
        metrics=[metrics.BinaryAccuracy(threshold=0.6), "mae"],
    )
    assert model.compile_config["loss"] == {
        "class_name": "BinaryCrossentropy",
        "config": losses.BinaryCrossentropy(label_smoothing=0.1).get_config(),
    }
    assert model.compile_config["metrics"][1] == "mae"
    assert metrics.get(model.compile_config["metrics"][0]).threshold == 0.6
    history = model.fit(data["x"][:40], data["y"][:40].astype("float32"), epochs=1, verbose=0)
    assert set(history.history) == {"loss", "binary_accuracy", "mae"}


def test_regression_metric_objects_match_keras(data):
    keras_model, model = twins([L.Dense(1)])
    y = data["x"][:, -1, 0] * 0.5  # (n,) float targets
    keras_model.compile(
        optimizer="sgd", loss=keras.losses.Huber(), metrics=[keras.metrics.RootMeanSquaredError()]
    )
    model.compile(optimizer="sgd", loss=losses.Huber(), metrics=[metrics.RootMeanSquaredError()])
    kwargs = {"batch_size": BATCH, "epochs": 2, "shuffle": False, "verbose": 0}
    theirs = keras_model.fit(data["x"], y, **kwargs).history
    ours = model.fit(data["x"], y, **kwargs).history
    assert set(ours) == set(theirs) == {"loss", "root_mean_squared_error"}
    for key in theirs:
        np.testing.assert_allclose(ours[key], theirs[key], rtol=RTOL, err_msg=key)


def test_bad_class_labels_name_the_sample_and_the_fix(data):
    _, model = twins([L.Dense(2, activation="softmax")])
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
    y = data["y"].copy()
    y[7] = 2
    with pytest.raises(DataError, match=r"y\[7\] = 2.0 is not a class index in 0..1"):
        model.fit(data["x"], y, verbose=0)
    with pytest.raises(ShapeError, match="categorical_crossentropy"):
        model.fit(data["x"], np.eye(2)[data["y"]], verbose=0)


def test_unknown_metrics_are_config_errors():
    with pytest.raises(ConfigError, match="unknown metric 'f1'"):
        metrics.get("f1")
    with pytest.raises(ConfigError, match=r"threshhold=0.3.*does not support"):
        metrics.BinaryAccuracy(threshhold=0.3)
    with pytest.raises(ConfigError, match="dtype='float16'"):
        metrics.RootMeanSquaredError(dtype="float16")

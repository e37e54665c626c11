"""fit / evaluate / predict / compile arguments against Keras 3 (torch backend).

Twin models start from the same weights (``from_keras``), train with
``shuffle=False`` and are compared epoch by epoch. Measured max abs
differences over 3 epochs: sample_weight + weighted_metrics + loss_weights +
validation_freq ~7e-8; class_weight with accuracy ~7e-8; weighted evaluate
~5e-8. The tests allow 1e-5.
"""

from __future__ import annotations

import os

os.environ.setdefault("KERAS_BACKEND", "torch")

import numpy as np
import pytest
import torch

from rnncast import Sequential, losses, optimizers
from rnncast.callbacks import Callback
from rnncast.exceptions import ConfigError, ShapeError
from rnncast.layers import LSTM, Dense

keras = pytest.importorskip("keras")
from rnncast.interop import from_keras  # noqa: E402 - after the Keras skip

L = keras.layers
pytestmark = pytest.mark.filterwarnings("ignore:__array__ implementation:DeprecationWarning")
ATOL = 1e-5
EPOCHS = 3


@pytest.fixture(scope="module")
def data() -> dict[str, np.ndarray]:
    rng = np.random.default_rng(0)
    return {
        "x": rng.normal(size=(70, 6, 2)).astype("float32"),  # 70 = 4 * 16 + 6
        "y": rng.normal(size=(70, 1)).astype("float32"),
        "w": rng.uniform(0, 2, 70).astype("float32"),
        "labels": rng.integers(0, 2, 70).astype("float32"),
        "x_val": rng.normal(size=(30, 6, 2)).astype("float32"),
        "y_val": rng.normal(size=(30, 1)).astype("float32"),
        "w_val": rng.uniform(0, 2, 30).astype("float32"),
    }


def twins(layers, shape=(6, 2), seed=1):
    """A Keras model with weights U(-0.5, 0.5) and its rnncast copy."""
    keras_model = keras.Sequential([keras.Input(shape), *layers])
    rng = np.random.default_rng(seed)
    for layer in keras_model.layers:
        layer.set_weights(
            [rng.uniform(-0.5, 0.5, w.shape).astype("float32") for w in layer.get_weights()]
        )
    return keras_model, from_keras(keras_model)


def assert_same_history(keras_history: dict, history: dict) -> None:
    assert set(history) == set(keras_history)
    for key, expected in keras_history.items():
        np.testing.assert_allclose(history[key], expected, rtol=0, atol=ATOL, err_msg=key)


def test_sample_weight_weighted_metrics_loss_weights_and_validation_freq_match_keras(data):
    keras_model, model = twins([L.LSTM(4), L.Dense(1)])
    settings = {
        "loss": "mse",
        "metrics": ["mae"],
        "weighted_metrics": ["mae", "mse"],
        "loss_weights": [0.5],
    }
    keras_model.compile(optimizer=keras.optimizers.SGD(0.05), **settings)
    model.compile(optimizer=optimizers.SGD(0.05), **settings)
    kwargs = {
        "batch_size": 16,
        "epochs": EPOCHS,
        "shuffle": False,
        "verbose": 0,
        "sample_weight": data["w"],
        "validation_data": (data["x_val"], data["y_val"], data["w_val"]),
        "validation_freq": [1, 3],
    }
    expected = keras_model.fit(data["x"], data["y"], **kwargs).history
    history = model.fit(data["x"], data["y"], **kwargs).history
    assert set(history) == {
        "loss",
        "mae",
        "weighted_mae",
        "mse",
        "val_loss",
        "val_mae",
        "val_weighted_mae",
        "val_mse",
    }
    assert len(history["val_loss"]) == 2  # epochs 1 and 3 only
    assert_same_history(expected, history)


def test_weighted_loss_divides_by_the_batch_size_not_the_weights():
    y, prediction = torch.zeros(4, 1), torch.tensor([[1.0], [2.0], [0.0], [0.0]])
    weights = torch.tensor([2.0, 1.0, 0.0, 0.0])
    # (2 * 1 + 1 * 4) / 4 samples, not / (2 + 1)
    assert losses.weighted(losses.get("mse"), y, prediction, weights).item() == pytest.approx(1.5)
    assert losses.MeanSquaredError()(y, prediction, weights).item() == pytest.approx(1.5)
    assert losses.MeanSquaredError(reduction="sum")(y, prediction, weights).item() == 6.0
    # unweighted results are unchanged
    assert losses.get("mse")(y, prediction).item() == pytest.approx(1.25)


def test_class_weight_with_accuracy_matches_keras(data):
    keras_model, model = twins([L.LSTM(4), L.Dense(2, activation="softmax")])
    settings = {
        "loss": "sparse_categorical_crossentropy",
        "metrics": ["accuracy"],
        "weighted_metrics": ["accuracy"],
    }
    keras_model.compile(optimizer=keras.optimizers.Adam(0.01), **settings)
    model.compile(optimizer=optimizers.Adam(0.01), **settings)
    kwargs = {
        "batch_size": 16,
        "epochs": EPOCHS,
        "shuffle": False,
        "verbose": 0,
        "class_weight": {0: 0.3, 1: 2.0},
        "validation_split": 0.2,  # the held-out part is not class-weighted, as in Keras
    }
    expected = keras_model.fit(data["x"], data["labels"], **kwargs).history
    history = model.fit(data["x"], data["labels"], **kwargs).history
    assert set(history) == {"loss", "accuracy", "weighted_accuracy"} | {
        "val_loss",
        "val_accuracy",
        "val_weighted_accuracy",
    }
    assert history["val_weighted_accuracy"] == history["val_accuracy"]
    assert_same_history(expected, history)


@pytest.mark.parametrize("loss_weights", [0.25, [0.25], {"dense": 0.25}])
def test_loss_weights_scale_the_loss_as_keras(data, loss_weights):
    keras_model, model = twins([L.LSTM(3), L.Dense(1, name="dense")])
    keras_model.compile(optimizer=keras.optimizers.SGD(0.1), loss="mae", loss_weights=loss_weights)
    model.compile(optimizer=optimizers.SGD(0.1), loss="mae", loss_weights=loss_weights)
    kwargs = {"batch_size": 32, "epochs": EPOCHS, "shuffle": False, "verbose": 0}
    expected = keras_model.fit(data["x"], data["y"], **kwargs).history
    assert_same_history(expected, model.fit(data["x"], data["y"], **kwargs).history)


def test_validation_freq_int_and_batch_size_and_steps_match_keras(data):
    keras_model, model = twins([L.GRU(3), L.Dense(1)])
    keras_model.compile(optimizer=keras.optimizers.RMSprop(0.01), loss="mse", metrics=["mae"])
    model.compile(optimizer=optimizers.RMSprop(0.01), loss="mse", metrics=["mae"])
    kwargs = {
        "batch_size": 16,
        "epochs": 4,
        "shuffle": False,
        "verbose": 0,
        "steps_per_epoch": 3,  # 3 of the 5 batches: the next epoch goes on from batch 4
        "validation_data": (data["x_val"], data["y_val"]),
        "validation_freq": 2,
        "validation_batch_size": 7,
        "validation_steps": 2,
    }
    with pytest.warns(UserWarning, match="ran out of data"):
        expected = keras_model.fit(data["x"], data["y"], **kwargs).history
    with pytest.warns(UserWarning, match="ran out of data"):  # Keras warns the same
        history = model.fit(data["x"], data["y"], **kwargs).history
    assert len(history["val_loss"]) == 2
    assert_same_history(expected, history)


def test_evaluate_sample_weight_steps_and_predict_steps_match_keras(data):
    keras_model, model = twins([L.LSTM(4), L.Dense(1)])
    keras_model.compile(optimizer="sgd", loss="mse", weighted_metrics=["mae"])
    model.compile(optimizer="sgd", loss="mse", weighted_metrics=["mae"])
    args = (data["x_val"], data["y_val"])
    for kwargs in (
        {"sample_weight": data["w_val"], "batch_size": 8},
        {"steps": 2, "batch_size": 8},
    ):
        expected = keras_model.evaluate(*args, verbose=0, return_dict=True, **kwargs)
        actual = model.evaluate(*args, verbose=0, return_dict=True, **kwargs)
        assert actual.keys() == expected.keys()
        for key in expected:
            assert actual[key] == pytest.approx(expected[key], abs=ATOL)
    expected = keras_model.predict(data["x_val"], batch_size=8, steps=2, verbose=0)
    actual = model.predict(data["x_val"], batch_size=8, steps=2)
    assert actual.shape == expected.shape == (16, 1)
    np.testing.assert_allclose(actual, expected, rtol=0, atol=ATOL)


# -- callbacks ----------------------------------------------------------------
class Recorder(Callback):
    def __init__(self):
        super().__init__()
        self.calls: list[str] = []

    def on_test_begin(self, logs=None):
        self.calls.append("test_begin")

    def on_test_batch_end(self, batch, logs=None):
        self.calls.append(f"test_batch_end {batch} {sorted(logs)}")

    def on_test_end(self, logs=None):
        self.calls.append(f"test_end {sorted(logs)}")

    def on_predict_begin(self, logs=None):
        self.calls.append("predict_begin")

    def on_predict_batch_end(self, batch, logs=None):
        self.calls.append(f"predict_batch_end {batch} {tuple(logs['outputs'].shape)}")

    def on_predict_end(self, logs=None):
        self.calls.append("predict_end")


def test_evaluate_predict_and_validation_call_the_test_and_predict_hooks(data):
    model = Sequential([LSTM(2), Dense(1)], seed=0)
    model.compile(optimizer="sgd", loss="mse", metrics=["mae"])
    recorder = Recorder()
    model.evaluate(data["x_val"], data["y_val"], batch_size=20, callbacks=[recorder], verbose=0)
    assert recorder.calls == [
        "test_begin",
        "test_batch_end 0 ['loss', 'mae']",
        "test_batch_end 1 ['loss', 'mae']",
        "test_end ['loss', 'mae']",
    ]
    recorder.calls.clear()
    model.predict(data["x_val"], batch_size=20, callbacks=[recorder])
    assert recorder.calls == [
        "predict_begin",
        "predict_batch_end 0 (20, 1)",
        "predict_batch_end 1 (10, 1)",
        "predict_end",
    ]
    recorder.calls.clear()
    model.fit(
        data["x"],
        data["y"],
        epochs=2,
        validation_data=(data["x_val"], data["y_val"]),
        validation_batch_size=30,
        callbacks=[recorder],
        verbose=0,
    )
    assert recorder.calls.count("test_begin") == 2  # validation after each epoch, as in Keras


# -- accepted hints and errors -------------------------------------------------
def test_compile_accepts_keras_hints_and_rejects_unknown_arguments_with_config_errors(data):
    model = Sequential([LSTM(2, input_shape=(6, 2)), Dense(1)], seed=0)
    model.compile(
        optimizer="adam",
        loss="mse",
        run_eagerly=True,
        steps_per_execution=4,
        jit_compile=True,
        auto_scale_loss=False,
    )
    with pytest.raises(ConfigError, match=r"compile got an unknown argument metric=.*metrics"):
        model.compile(optimizer="adam", loss="mse", metric=["mae"])
    with pytest.raises(ConfigError, match=r"compile\(sample_weight_mode='temporal'\)"):
        model.compile(optimizer="adam", loss="mse", sample_weight_mode="temporal")
    with pytest.raises(ConfigError, match=r"loss_weights.*pass metrics by keyword"):
        model.compile("adam", "mse", ["mae"])
    with pytest.raises(ConfigError, match="has 2 entries but a Sequential model has one output"):
        model.compile(optimizer="adam", loss="mse", loss_weights=[1.0, 2.0])
    with pytest.raises(ConfigError, match="reduction='none'"):
        model.compile(optimizer="adam", loss=losses.MeanSquaredError(reduction="none"))


def test_fit_and_evaluate_argument_errors_name_the_argument(data):
    model = Sequential([LSTM(2, input_shape=(6, 2)), Dense(1)], seed=0)
    model.compile(optimizer="adam", loss="mse")
    x, y = data["x"], data["y"]
    model.fit(x, y, epochs=1, verbose=0, workers=4, use_multiprocessing=True, max_queue_size=5)
    with pytest.raises(ConfigError, match="fit got an unknown argument epoch=2"):
        model.fit(x, y, epoch=2)
    with pytest.raises(ConfigError, match="both class_weight and sample_weight"):
        model.fit(x, y, class_weight={0: 1.0}, sample_weight=data["w"])
    with pytest.raises(
        ShapeError, match=r"sample_weight needs one weight per sample, shape \(70,\)"
    ):
        model.fit(x, y, sample_weight=data["w"][:5], verbose=0)
    with pytest.raises(ConfigError, match="validation_freq must be an int"):
        model.fit(x, y, validation_freq="2", verbose=0)
    with pytest.raises(ConfigError, match="steps_per_epoch"):
        model.fit(x, y, steps_per_epoch=0, verbose=0)
    with pytest.raises(ConfigError, match="evaluate got an unknown argument sample_weights="):
        model.evaluate(x, y, sample_weights=data["w"])
    with pytest.raises(ConfigError, match="class_weight must be a dict"):
        model.fit(x, y, class_weight=[1.0, 2.0], verbose=0)

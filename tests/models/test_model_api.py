"""Keras's model methods: model(x), *_on_batch, pop, get_layer, the hidden Input, to_json.

Keras 3 (torch backend) is the oracle where it is installed; the *_on_batch
methods are also checked against rnncast's own fit / evaluate / predict.
"""

from __future__ import annotations

import os

os.environ.setdefault("KERAS_BACKEND", "torch")

import numpy as np
import pytest
import torch

import rnncast as rc
from rnncast import Sequential, optimizers
from rnncast import layers as R
from rnncast.models import model_from_json

ATOL = 1e-6
pytestmark = pytest.mark.filterwarnings("ignore:__array__ implementation:DeprecationWarning")


def stack(seed: int = 0) -> Sequential:
    return Sequential(
        [
            R.Input(shape=(6, 2)),
            R.LSTM(5, return_sequences=True),
            R.BatchNormalization(),
            R.GRU(4),
            R.Dense(3, activation="relu"),
            R.Dense(1),
        ],
        seed=seed,
    )


def spread(model: Sequential, seed: int = 0) -> Sequential:
    """Random weights, BatchNormalization statistics away from 0 / 1."""
    rng = np.random.default_rng(seed)
    for layer in model.layers:
        weights = [rng.uniform(-0.5, 0.5, w.shape).astype("float32") for w in layer.keras_weights()]
        if isinstance(layer, R.BatchNormalization):
            weights[-1] = rng.uniform(0.5, 1.5, weights[-1].shape).astype("float32")
        layer.set_keras_weights(weights)
    return model


@pytest.fixture
def data():
    rng = np.random.default_rng(3)
    x = rng.normal(size=(12, 6, 2)).astype("float32")
    y = (np.tanh(x[:, -1, :1]) + 0.1 * x[:, 0, 1:]).astype("float32")
    return x, y


@pytest.fixture
def keras():
    keras = pytest.importorskip("keras")
    yield keras
    keras.backend.clear_session()  # Keras numbers automatic layer names per session


# -- model(x) -----------------------------------------------------------------
def test_calling_the_model_on_numpy_matches_keras(keras, data):
    x, _ = data
    model = spread(stack())
    keras_model = keras.models.model_from_json(model.to_json())
    keras_model.set_weights(model.get_weights())
    out = model(x)
    assert isinstance(out, torch.Tensor) and tuple(out.shape) == (12, 1)
    expected = keras_model(x)
    assert np.abs(out.detach().numpy() - expected.detach().cpu().numpy()).max() <= ATOL
    same = model(x, training=False).detach().numpy()
    np.testing.assert_array_equal(same, out.detach().numpy())
    # training=True: BatchNormalization normalises by the batch, as in Keras
    trained = model(x, training=True).detach().numpy()
    keras_trained = keras_model(x, training=True).detach().cpu().numpy()
    assert np.abs(trained - keras_trained).max() <= 1e-5
    assert np.abs(trained - same).max() > 1e-3


def test_model_call_leaves_the_module_mode_alone(data):
    x, _ = data
    model = Sequential([R.Dropout(0.5, input_shape=(6, 2))], seed=0)
    model.train()
    np.testing.assert_array_equal(model(x).numpy(), x)  # numpy in: inference, as Keras
    assert model.training
    dropped = model(x, training=True).numpy()
    assert (dropped == 0).any() and model.training
    model.eval()
    assert not model(torch.from_numpy(x), training=True).eq(torch.from_numpy(x)).all()
    assert not model.training
    with pytest.raises(rc.ShapeError, match="model\\(x\\) takes a numeric array"):
        model("not numbers")


# -- *_on_batch ------------------------------------------------------------------
def test_train_on_batch_equals_one_unshuffled_full_batch_epoch(data):
    x, y = data
    ours, reference = spread(stack()), spread(stack())
    for model in (ours, reference):
        model.compile(optimizer=optimizers.Adam(learning_rate=0.01), loss="mse", metrics=["mae"])
    fitted = reference.fit(x, y, batch_size=len(x), epochs=1, shuffle=False, verbose=0)
    loss, mae = ours.train_on_batch(x, y)
    assert loss == pytest.approx(fitted.history["loss"][0], rel=1e-6)
    assert mae == pytest.approx(fitted.history["mae"][0], rel=1e-6)
    np.testing.assert_allclose(ours.predict(x), reference.predict(x), rtol=0, atol=ATOL)
    logs = ours.train_on_batch(x, y, return_dict=True)
    assert set(logs) == {"loss", "mae"} and logs["loss"] < loss


def test_test_and_predict_on_batch_equal_evaluate_and_predict(data):
    x, y = data
    model = spread(stack())
    model.compile(optimizer="sgd", loss="mse")
    assert model.test_on_batch(x, y) == pytest.approx(
        model.evaluate(x, y, batch_size=len(x), verbose=0), rel=1e-6
    )
    assert model.test_on_batch(x, y, return_dict=True).keys() == {"loss"}
    before = model.get_weights()
    model.test_on_batch(x, y)
    for a, b in zip(before, model.get_weights(), strict=True):
        np.testing.assert_array_equal(a, b)
    out = model.predict_on_batch(x)
    assert isinstance(out, np.ndarray)
    np.testing.assert_array_equal(out, model.predict(x))


def test_train_on_batch_losses_match_keras_over_three_calls(keras, data):
    x, y = data
    model = spread(stack())
    keras_model = keras.models.model_from_json(model.to_json())
    keras_model.set_weights(model.get_weights())
    model.compile(optimizer=optimizers.Adam(learning_rate=0.01), loss="mse", metrics=["mae"])
    keras_model.compile(optimizer=keras.optimizers.Adam(learning_rate=0.01), loss="mse",
                        metrics=["mae"])  # fmt: skip
    ours = [model.train_on_batch(x, y) for _ in range(3)]
    theirs = [keras_model.train_on_batch(x, y) for _ in range(3)]
    np.testing.assert_allclose(ours, theirs, rtol=1e-5, atol=0)
    assert abs(theirs[2][0] - theirs[0][0]) > 1e-3 * theirs[0][0]  # the weights moved
    assert np.abs(model.predict(x) - keras_model.predict(x, verbose=0)).max() <= 1e-5


def test_on_batch_methods_need_compile(data):
    x, y = data
    model = stack()
    with pytest.raises(rc.FitError, match="compile"):
        model.train_on_batch(x, y)
    model.compile(optimizer="sgd", loss="mse")
    with pytest.raises(rc.ShapeError, match="sample_weight"):
        model.train_on_batch(x, y, sample_weight=np.ones(len(x) + 1))
    assert model.test_on_batch(x, y, sample_weight=None) > 0  # Keras's default passes


def test_weighted_on_batch_methods_match_keras(data):
    keras = pytest.importorskip("keras")
    x, y = data
    weights = np.linspace(0.2, 2.0, len(x)).astype("float32")
    model = stack()
    keras_model = keras.models.model_from_json(model.to_json())
    keras_model.set_weights(model.get_weights())
    model.compile(optimizer=optimizers.SGD(learning_rate=0.05), loss="mse", metrics=["mae"])
    keras_model.compile(optimizer=keras.optimizers.SGD(learning_rate=0.05), loss="mse",
                        metrics=["mae"])  # fmt: skip
    ours = [model.train_on_batch(x, y, sample_weight=weights) for _ in range(3)]
    theirs = [keras_model.train_on_batch(x, y, sample_weight=weights) for _ in range(3)]
    np.testing.assert_allclose(ours, theirs, rtol=1e-5, atol=0)
    ours = model.test_on_batch(x, y, sample_weight=weights)
    theirs = keras_model.test_on_batch(x, y, sample_weight=weights)
    np.testing.assert_allclose(ours, theirs, rtol=1e-5, atol=0)
    unweighted = model.test_on_batch(x, y)
    assert abs(unweighted[0] - ours[0]) > 1e-4 * ours[0]  # the weights changed the loss


# -- pop / get_layer -------------------------------------------------------------
def test_pop_removes_the_last_layer_like_keras(data):
    x, _ = data
    model = spread(stack())
    last = model.pop()
    assert last.name == "dense_1" and [layer.name for layer in model.layers][-1] == "dense"
    assert model.output_shape == (None, 3) and model.predict(x).shape == (12, 3)
    model.add(R.Dense(2))
    assert model.output_shape == (None, 2)
    empty = Sequential([R.Input(shape=(3,))])
    with pytest.raises(rc.ConfigError, match="no layers to pop"):
        empty.pop()


def test_get_layer_by_name_or_index_with_named_errors():
    model = stack()
    assert model.get_layer("gru") is model.layers[2]
    assert model.get_layer(index=0).name == "lstm"
    assert model.get_layer(index=-1).name == "dense_1"
    with pytest.raises(rc.ConfigError, match=r"no such layer: 'grue'.*\['lstm', 'batch_n"):
        model.get_layer("grue")
    with pytest.raises(rc.ConfigError, match=r"index=9.*5 layers"):
        model.get_layer(index=9)
    with pytest.raises(rc.ConfigError, match="not both"):
        model.get_layer("gru", index=1)
    with pytest.raises(rc.ConfigError, match="name or an index"):
        model.get_layer()


# -- the Input layer ---------------------------------------------------------------
def test_input_stays_out_of_layers_and_summary_but_in_the_config(keras):
    model = stack()
    keras_model = keras.Sequential([keras.Input((6, 2)), keras.layers.Dense(1)])
    assert "input_layer" not in [layer.name for layer in model.layers]
    assert len(keras_model.layers) == 1  # Keras 3 hides it the same way
    lines = []
    model.summary(print_fn=lines.append)
    assert "input_layer" not in lines[0] and "InputLayer" not in lines[0]
    assert model.count_params() == sum(w.size for w in model.get_weights())
    config = model.get_config()
    assert config["layers"][0]["class_name"] == "InputLayer"
    rebuilt = Sequential.from_config(config)
    assert rebuilt.get_config() == config and rebuilt.input_shape == (None, 6, 2)
    with pytest.raises(rc.ConfigError, match="already has an Input"):
        model.add(R.Input(shape=(6, 2)))


# -- to_json ---------------------------------------------------------------------
def test_to_json_round_trips_the_architecture(data):
    x, _ = data
    model = spread(stack())
    text = model.to_json()
    rebuilt = model_from_json(text)
    assert rebuilt.to_json() == text
    assert rebuilt.optimizer is None
    rebuilt.set_weights(model.get_weights())
    np.testing.assert_array_equal(rebuilt.predict(x), model.predict(x))
    assert rc.models.model_from_json(Sequential([R.Dense(2, input_shape=(3,))]).to_json())


def test_keras_reads_rnncast_json_and_rnncast_reads_keras_json(keras, data):
    x, _ = data
    model = spread(stack())
    keras_model = keras.models.model_from_json(model.to_json())
    keras_model.set_weights(model.get_weights())
    assert np.abs(keras_model.predict(x, verbose=0) - model.predict(x)).max() <= ATOL
    back = model_from_json(keras_model.to_json())
    back.set_weights(keras_model.get_weights())
    assert np.abs(back.predict(x) - keras_model.predict(x, verbose=0)).max() <= ATOL


def test_to_json_errors_are_config_errors():
    with pytest.raises(rc.ConfigError, match="not JSON"):
        model_from_json("{not json")
    with pytest.raises(rc.ConfigError, match="Lambda"):
        Sequential([R.Lambda(lambda t: t, input_shape=(3,))]).to_json()
    with pytest.raises(rc.ConfigError, match="not built"):
        Sequential([R.Dense(1)]).to_json()

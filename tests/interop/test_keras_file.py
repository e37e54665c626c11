"""Keras 3 files written by rnncast open in Keras, and Keras's files open in rnncast.

Keras 3 (torch backend) is the oracle: the same weights must give the same
predictions (1e-6) whichever library wrote or reads the file.
"""

from __future__ import annotations

import builtins
import json
import os
import zipfile

os.environ.setdefault("KERAS_BACKEND", "torch")

import numpy as np
import pytest

import rnncast as rc
from rnncast import Sequential, optimizers
from rnncast import layers as R
from rnncast.interop import from_keras

keras = pytest.importorskip("keras")
pytest.importorskip("h5py")
K = keras.layers
ATOL = 1e-6
pytestmark = pytest.mark.filterwarnings(
    "ignore:__array__ implementation:DeprecationWarning",
    "error:Skipping variable loading for optimizer:UserWarning",  # the state must fit Keras's
)


@pytest.fixture(autouse=True)
def fresh_keras_names():
    """Keras numbers automatic layer names per session: leave the counters as found."""
    yield
    keras.backend.clear_session()


def every_layer() -> Sequential:
    """One rnncast model with every layer type rnncast has (Lambda aside)."""
    return Sequential(
        [
            R.Input(shape=(10, 3)),
            R.Conv1D(4, 3, padding="same", activation="relu"),
            R.MaxPooling1D(2),
            R.BatchNormalization(),
            R.Bidirectional(R.LSTM(5, return_sequences=True)),
            R.GRU(4, return_sequences=True),
            R.SimpleRNN(3, return_sequences=True),
            R.LayerNormalization(),
            R.TimeDistributed(R.Dense(2)),
            R.Dropout(0.1),
            R.Activation("tanh"),
            R.GlobalAveragePooling1D(),
            R.RepeatVector(2),
            R.Reshape((4,)),
            R.Flatten(),
            R.Dense(1),
        ],
        seed=1,
    )


def without_input() -> Sequential:
    """A tutorial-style stack: input_shape on the first layer, no Input."""
    return Sequential(
        [
            R.Bidirectional(R.GRU(4, return_sequences=True), merge_mode="sum", input_shape=(10, 3)),
            R.LSTM(6),
            R.Dense(3, activation="relu"),
            R.Dense(1),
        ],
        seed=2,
    )


def randomize(model: Sequential, seed: int = 0) -> Sequential:
    """Random weights with small, positive BatchNormalization variances."""
    rng = np.random.default_rng(seed)
    for layer in model.layers:
        weights = [rng.uniform(-0.5, 0.5, w.shape).astype("float32") for w in layer.keras_weights()]
        if isinstance(layer, R.BatchNormalization):
            weights[-1] = rng.uniform(0.5, 1.5, weights[-1].shape).astype("float32")
        layer.set_keras_weights(weights)
    return model


@pytest.fixture
def x():
    return np.random.default_rng(7).normal(size=(9, 10, 3)).astype("float32")


@pytest.mark.parametrize("build", [every_layer, without_input])
def test_keras_load_model_opens_an_rnncast_file_and_predicts_the_same(build, x, tmp_path):
    model = randomize(build())
    model.compile(optimizer=optimizers.Nadam(learning_rate=0.02), loss="mae", metrics=["rmse"])
    model.save(tmp_path / "m.keras")
    with zipfile.ZipFile(tmp_path / "m.keras") as archive:
        assert set(archive.namelist()) == {"metadata.json", "config.json", "model.weights.h5"}
        config = json.loads(archive.read("config.json"))
    assert config["module"] == "keras" and config["class_name"] == "Sequential"
    assert config["config"]["layers"][0]["class_name"] == "InputLayer"

    keras_model = keras.saving.load_model(tmp_path / "m.keras")
    diff = np.abs(keras_model.predict(x, verbose=0) - model.predict(x)).max()
    assert diff <= ATOL
    assert [layer.name for layer in keras_model.layers] == [layer.name for layer in model.layers]
    assert keras_model.count_params() == model.count_params()
    # the compile settings came along
    assert type(keras_model.optimizer).__name__ == "Nadam"
    assert float(keras_model.optimizer.learning_rate) == pytest.approx(0.02)
    assert keras_model.loss == "mae"


def test_rnncast_reads_its_own_keras_file_back(x, tmp_path):
    model = randomize(every_layer())
    model.compile(optimizer=optimizers.Adamax(learning_rate=0.005), loss="mse", metrics=["mae"])
    model.save(tmp_path / "m.keras")
    for loader in (rc.load_model, rc.models.load_model):
        loaded = loader(tmp_path / "m.keras")
        np.testing.assert_array_equal(loaded.predict(x), model.predict(x))
        assert type(loaded.optimizer).__name__ == "Adamax"
        assert loaded.optimizer.learning_rate == pytest.approx(0.005)
        assert loaded.metrics_names == ["loss", "mae"]
        assert loaded.to_json() == model.to_json()
    assert rc.load_model(tmp_path / "m.keras", compile=False).optimizer is None


def test_a_keras_written_file_is_read_by_rnncast(x, tmp_path):
    keras_model = keras.models.model_from_json(randomize(every_layer()).to_json())
    keras_model.set_weights(randomize(every_layer(), seed=3).get_weights())
    keras_model.compile(optimizer=keras.optimizers.Adagrad(learning_rate=0.03), loss="huber")
    keras_model.save(tmp_path / "k.keras")
    model = rc.load_model(tmp_path / "k.keras")
    diff = np.abs(model.predict(x) - keras_model.predict(x, verbose=0)).max()
    assert diff <= ATOL
    assert type(model.optimizer).__name__ == "Adagrad"
    assert model.optimizer.learning_rate == pytest.approx(0.03)


def small() -> Sequential:
    return Sequential(
        [
            R.Input(shape=(10, 3)),
            R.GRU(4, return_sequences=True),
            R.BatchNormalization(),
            R.Bidirectional(R.LSTM(3)),
            R.Dense(1),
        ],
        seed=4,
    )


OPTIMIZERS = {
    "Adam": {"learning_rate": 0.01, "amsgrad": True},
    "AdamW": {"learning_rate": 0.01},
    "SGD": {"learning_rate": 0.05, "momentum": 0.9, "nesterov": True},
    "RMSprop": {"learning_rate": 0.01, "momentum": 0.5, "centered": True},
    "Adagrad": {"learning_rate": 0.05},
    "Adadelta": {"learning_rate": 0.5},
    "Adamax": {"learning_rate": 0.01},
    "Nadam": {"learning_rate": 0.01},
}


@pytest.mark.parametrize("name", sorted(OPTIMIZERS))
def test_training_resumes_in_keras_with_rnncasts_optimizer_state(name, x, tmp_path):
    y = np.tanh(x[:, -1, :1]).astype("float32")
    model = randomize(small())
    model.compile(optimizer=getattr(optimizers, name)(**OPTIMIZERS[name]), loss="mse")
    for _ in range(2):
        model.train_on_batch(x, y)
    model.save(tmp_path / "m.keras")
    keras_model = keras.saving.load_model(tmp_path / "m.keras")  # a skipped state would raise
    assert int(keras_model.optimizer.iterations) == 2
    ours = [model.train_on_batch(x, y) for _ in range(3)]
    theirs = [float(keras_model.train_on_batch(x, y)) for _ in range(3)]
    np.testing.assert_allclose(ours, theirs, rtol=1e-5, atol=0)


@pytest.mark.parametrize("name", ["Adam", "RMSprop", "Nadam"])
def test_training_resumes_in_rnncast_with_keras_optimizer_state(name, x, tmp_path):
    y = np.tanh(x[:, -1, :1]).astype("float32")
    keras_model = keras.models.model_from_json(small().to_json())
    keras_model.set_weights(randomize(small(), seed=2).get_weights())
    keras_model.compile(optimizer=getattr(keras.optimizers, name)(**OPTIMIZERS[name]), loss="mse")
    for _ in range(2):
        keras_model.train_on_batch(x, y)
    keras_model.save(tmp_path / "k.keras")
    model = rc.load_model(tmp_path / "k.keras")
    assert model.optimizer.iterations == 2
    theirs = [float(keras_model.train_on_batch(x, y)) for _ in range(3)]
    ours = [model.train_on_batch(x, y) for _ in range(3)]
    np.testing.assert_allclose(ours, theirs, rtol=1e-5, atol=0)
    fresh = rc.load_model(tmp_path / "k.keras")
    fresh.optimizer.build([])  # forget the state: the comparison above has teeth
    assert fresh.train_on_batch(x, y) == pytest.approx(theirs[0], rel=1e-5)
    assert abs(fresh.train_on_batch(x, y) - ours[1]) > 1e-6


def test_a_frozen_layer_stays_frozen_and_the_state_still_fits(x, tmp_path):
    y = np.tanh(x[:, -1, :1]).astype("float32")
    model = randomize(small())
    model.layers[0].trainable = False
    model.compile(optimizer=optimizers.Adam(learning_rate=0.01), loss="mse")
    for _ in range(2):
        model.train_on_batch(x, y)
    model.save(tmp_path / "m.keras")
    keras_model = keras.saving.load_model(tmp_path / "m.keras")  # a skipped state would raise
    assert [layer.trainable for layer in keras_model.layers] == [False, True, True, True]
    back = rc.load_model(tmp_path / "m.keras")
    assert [layer.trainable for layer in back.layers] == [False, True, True, True]
    ours = [model.train_on_batch(x, y) for _ in range(3)]
    theirs = [float(keras_model.train_on_batch(x, y)) for _ in range(3)]
    again = [back.train_on_batch(x, y) for _ in range(3)]
    np.testing.assert_allclose(ours, theirs, rtol=1e-5, atol=0)
    np.testing.assert_allclose(again, ours, rtol=1e-6, atol=0)


def test_other_paths_still_write_the_folder_artifact(tmp_path):
    model = randomize(without_input())
    model.save(tmp_path / "folder")
    assert (tmp_path / "folder" / "config.json").is_file()
    assert (tmp_path / "folder" / "model.safetensors").is_file()


def test_weights_h5_round_trips_through_both_libraries(x, tmp_path):
    model = randomize(every_layer())
    model.save_weights(tmp_path / "ours.weights.h5")
    fresh = every_layer()
    fresh.load_weights(tmp_path / "ours.weights.h5")
    np.testing.assert_array_equal(fresh.predict(x), model.predict(x))

    keras_model = keras.models.model_from_json(model.to_json())
    keras_model.load_weights(tmp_path / "ours.weights.h5")
    assert np.abs(keras_model.predict(x, verbose=0) - model.predict(x)).max() <= ATOL

    keras_model.set_weights(randomize(every_layer(), seed=5).get_weights())
    keras_model.save_weights(tmp_path / "theirs.weights.h5")
    fresh.load_weights(tmp_path / "theirs.weights.h5")
    assert np.abs(fresh.predict(x) - keras_model.predict(x, verbose=0)).max() <= ATOL


def test_overwrite_false_refuses_an_existing_path_as_keras_asks(tmp_path):
    model = without_input()
    model.save(filepath=tmp_path / "m.keras", overwrite=False)  # Keras's argument names
    before = (tmp_path / "m.keras").read_bytes()
    with pytest.raises(rc.ConfigError, match=r"m\.keras exists and overwrite=False"):
        randomize(without_input()).save(tmp_path / "m.keras", overwrite=False)
    assert (tmp_path / "m.keras").read_bytes() == before
    model.save_weights(filepath=tmp_path / "w.weights.h5")
    with pytest.raises(rc.ConfigError, match="overwrite=False"):
        model.save_weights(tmp_path / "w.weights.h5", overwrite=False)
    model.load_weights(filepath=tmp_path / "w.weights.h5")


def test_safetensors_weights_are_unchanged_for_other_suffixes(x, tmp_path):
    model = randomize(without_input())
    model.save_weights(tmp_path / "w.safetensors")
    fresh = without_input()
    fresh.load_weights(tmp_path / "w.safetensors")
    np.testing.assert_array_equal(fresh.predict(x), model.predict(x))


def test_without_h5py_the_error_says_how_to_install_it(monkeypatch, tmp_path):
    real_import = builtins.__import__

    def no_h5py(name, *args, **kwargs):
        if name == "h5py":
            raise ImportError("No module named 'h5py'")
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_h5py)
    model = without_input()
    for save in (model.save, model.save_weights):
        target = tmp_path / ("m.keras" if save == model.save else "m.weights.h5")
        with pytest.raises(rc.ConfigError, match=r'pip install "rnncast\[keras\]"'):
            save(target)
        assert not target.exists()


def test_a_failed_write_leaves_the_previous_file(monkeypatch, tmp_path, x):
    model = randomize(without_input())
    path = tmp_path / "m.keras"
    model.save(path)
    before = path.read_bytes()

    def broken(self, name, data, *args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(zipfile.ZipFile, "writestr", broken)
    with pytest.raises(OSError, match="disk full"):
        randomize(without_input(), seed=9).save(path)
    monkeypatch.undo()
    assert path.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == ["m.keras"]  # no temporary file left
    np.testing.assert_array_equal(rc.load_model(path).predict(x), model.predict(x))


def test_lambda_cannot_be_written_and_says_why(tmp_path):
    model = Sequential([R.Lambda(lambda t: t * 2, input_shape=(4,)), R.Dense(1)])
    with pytest.raises(rc.ConfigError, match=r"'lambda' is a Lambda.*save_weights"):
        model.save(tmp_path / "m.keras")
    with pytest.raises(rc.ConfigError, match=r"'lambda' is a Lambda"):
        model.to_json()
    assert not (tmp_path / "m.keras").exists()


# -- from_keras: every layer and the newer optimizers ---------------------------
SMALL = {
    "activation": lambda: [K.Dense(4), K.Activation("tanh"), K.Flatten(), K.Dense(1)],
    "reshape": lambda: [K.Reshape((5, 6)), K.LSTM(3), K.Dense(1)],
    "repeat_vector": lambda: [K.LSTM(4), K.RepeatVector(3), K.GRU(2), K.Dense(1)],
    "global_average_pooling": lambda: [K.Conv1D(4, 2), K.GlobalAveragePooling1D(), K.Dense(1)],
    "layer_normalization": lambda: [K.LayerNormalization(), K.SimpleRNN(3), K.Dense(1)],
    "simple_rnn": lambda: [K.SimpleRNN(4, return_sequences=True), K.SimpleRNN(2), K.Dense(1)],
    "time_distributed": lambda: [K.LSTM(4, return_sequences=True), K.TimeDistributed(K.Dense(2))],
    "bidirectional_simple_rnn": lambda: [K.Bidirectional(K.SimpleRNN(3)), K.Dense(1)],
}


def keras_twin(name: str, seed: int = 0):
    keras_model = keras.Sequential([keras.Input((10, 3)), *SMALL[name]()])
    rng = np.random.default_rng(seed)
    keras_model.set_weights(
        [rng.uniform(-0.5, 0.5, w.shape).astype("float32") for w in keras_model.get_weights()]
    )
    return keras_model


@pytest.mark.parametrize("name", sorted(SMALL))
def test_from_keras_translates_every_small_layer(name, x):
    keras_model = keras_twin(name)
    model = from_keras(keras_model)
    assert [layer.kind for layer in model.layers] == [
        type(layer).__name__ for layer in keras_model.layers
    ]
    diff = np.abs(model.predict(x) - keras_model.predict(x, verbose=0)).max()
    assert diff <= ATOL


@pytest.mark.parametrize(
    ("optimizer", "settings"),
    [
        ("Adagrad", {"learning_rate": 0.05, "initial_accumulator_value": 0.2}),
        ("Adadelta", {"learning_rate": 0.5, "rho": 0.9}),
        ("Adamax", {"learning_rate": 0.02, "beta_2": 0.99}),
        ("Nadam", {"learning_rate": 0.02, "beta_1": 0.8}),
    ],
)
def test_from_keras_brings_the_optimizer_and_trains_like_keras(optimizer, settings, x):
    keras_model = keras_twin("layer_normalization", seed=1)
    keras_model.compile(optimizer=getattr(keras.optimizers, optimizer)(**settings), loss="mse")
    model = from_keras(keras_model)
    assert type(model.optimizer).__name__ == optimizer
    for key, value in settings.items():
        assert getattr(model.optimizer, key) == pytest.approx(value)
    y = np.tanh(x[:, -1, :1]).astype("float32")
    ours = [model.train_on_batch(x, y) for _ in range(3)]
    theirs = [float(keras_model.train_on_batch(x, y)) for _ in range(3)]
    np.testing.assert_allclose(ours, theirs, rtol=1e-5, atol=0)
    assert abs(theirs[2] - theirs[0]) > 1e-4 * theirs[0]  # the weights moved


def test_rc_load_opens_a_keras_file(tmp_path):
    model = rc.Sequential([rc.layers.LSTM(3, input_shape=(4, 1)), rc.layers.Dense(1)], seed=0)
    pytest.importorskip("h5py")
    model.save(tmp_path / "m.keras")
    loaded = rc.load(tmp_path / "m.keras")
    x = np.random.default_rng(0).normal(size=(5, 4, 1)).astype("float32")
    np.testing.assert_array_equal(loaded.predict(x), model.predict(x))

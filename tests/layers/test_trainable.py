"""trainable=False and Keras's layer weight API (get_weights, set_weights, weights, count_params).

Oracle: Keras 3 on the torch backend. Frozen layers are compared by training
both libraries from the same weights (3 epochs, ``shuffle=False``): losses and
weights agree to 1e-5 (measured: 9.5e-8 and 8.2e-8), frozen weights do not move
at all, and a frozen BatchNormalization runs in inference mode as in Keras.
"""

from __future__ import annotations

import json
import os
import re

os.environ.setdefault("KERAS_BACKEND", "torch")

import numpy as np
import pytest

import rnncast
from rnncast import Sequential
from rnncast import layers as R
from rnncast.exceptions import ConfigError, ShapeError
from rnncast.saving import load_model, save_model

keras = pytest.importorskip("keras")
pytestmark = pytest.mark.filterwarnings("ignore:__array__ implementation:DeprecationWarning")

T, F, N, BATCH, ATOL = 6, 2, 40, 16, 1e-5


def data(n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, T, F)).astype("float32")
    return x, (x[:, -1, :1] - 0.5 * x[:, 0, 1:]).astype("float32")


def twins(spec, seed: int = 0):
    """A Keras model with weights U(-0.3, 0.3) and the same model in rnncast."""
    keras_model = keras.Sequential([keras.Input((T, F)), *spec(keras)])
    rng = np.random.default_rng(seed)
    for w in keras_model.weights:
        low = 0.5 if "variance" in w.path else -0.3
        w.assign(rng.uniform(low, low + 0.6, w.shape).astype("float32"))
    model = Sequential([R.Input(shape=(T, F)), *spec(rnncast)])
    model.set_weights(keras_model.get_weights())
    return keras_model, model


def fit_both(keras_model, model, epochs: int = 3):
    keras_model.compile(optimizer=keras.optimizers.Adam(0.02), loss="mse")
    model.compile(optimizer=rnncast.optimizers.Adam(0.02), loss="mse")
    x, y = data(N, 0)
    kwargs = {"batch_size": BATCH, "epochs": epochs, "shuffle": False, "verbose": 0}
    theirs = keras_model.fit(x, y, validation_data=data(16, 1), **kwargs).history
    ours = model.fit(x, y, validation_data=data(16, 1), **kwargs).history
    for key in ("loss", "val_loss"):
        np.testing.assert_allclose(ours[key], theirs[key], rtol=0, atol=ATOL, err_msg=key)
    for mine, keras_weight in zip(model.get_weights(), keras_model.get_weights(), strict=True):
        np.testing.assert_allclose(mine, keras_weight, rtol=0, atol=ATOL)


FROZEN_STACK = lambda M: [  # noqa: E731
    M.layers.LSTM(4, return_sequences=True),
    M.layers.BatchNormalization(trainable=False),
    M.layers.LSTM(3),
    M.layers.Dense(3, trainable=False),
    M.layers.Dense(1),
]


def test_frozen_layers_train_as_in_keras_and_do_not_move():
    keras_model, model = twins(FROZEN_STACK)
    before = [layer.get_weights() for layer in model.layers]
    fit_both(keras_model, model)
    for index in (1, 3):  # BatchNormalization (moving statistics too) and the frozen Dense
        for old, new in zip(before[index], model.layers[index].get_weights(), strict=True):
            np.testing.assert_array_equal(old, new)
    assert not np.allclose(before[4][0], model.layers[4].get_weights()[0])


def test_trainable_set_after_creation_matches_keras():
    spec = lambda M: [M.layers.GRU(4), M.layers.Dense(2), M.layers.Dense(1)]  # noqa: E731
    keras_model, model = twins(spec)
    keras_model.layers[0].trainable = False
    model.layers[0].trainable = False  # the Input stays out of layers, as in Keras 3
    fit_both(keras_model, model)


def summary_counts(text: str) -> list[str]:
    return re.findall(r"(Total|Trainable|Non-trainable) params: ([\d,]+)", text)


def test_summary_counts_equal_keras():
    keras_model, model = twins(FROZEN_STACK)
    keras_model.layers[2].trainable = False  # the second LSTM too, after creation
    model.layers[2].trainable = False
    theirs: list[str] = []
    keras_model.summary(print_fn=lambda line, **kwargs: theirs.append(line))
    ours: list[str] = []
    model.summary(print_fn=ours.append)
    assert summary_counts("\n".join(ours)) == summary_counts("\n".join(theirs))
    trainable = sum(int(np.prod(w.shape)) for w in keras_model.trainable_weights)
    assert model.count_params(trainable_only=True) == trainable
    assert model.count_params() == keras_model.count_params()


def test_model_trainable_false_freezes_everything():
    model = Sequential([R.LSTM(4, input_shape=(T, F)), R.Dense(1)], seed=0)
    model.trainable = False
    assert not model.trainable and all(not layer.trainable for layer in model.layers)
    before = model.get_weights()
    model.compile(optimizer="adam", loss="mse")
    history = model.fit(*data(N, 0), epochs=2, verbose=0)
    assert history.history["loss"][0] == pytest.approx(history.history["loss"][1])
    for old, new in zip(before, model.get_weights(), strict=True):
        np.testing.assert_array_equal(old, new)
    assert model.count_params(trainable_only=True) == 0


def test_unfreezing_returns_weights_to_the_optimizer_keeping_other_slots():
    model = Sequential([R.LSTM(3, input_shape=(T, F)), R.Dense(1)], seed=0)
    model.compile(optimizer=rnncast.optimizers.Adam(0.01), loss="mse")
    x, y = data(N, 0)
    model.layers[0].trainable = False
    model.fit(x, y, epochs=1, verbose=0)
    assert len(model.optimizer.params) == 2  # the second Dense's kernel and bias
    moments = [m.clone() for m in model.optimizer.slots["m"]]
    frozen = model.layers[0].get_weights()
    model.layers[0].trainable = True
    model._build_optimizer()
    assert len(model.optimizer.params) == 5  # + the LSTM's kernel, recurrent kernel, bias
    for kept, moment in zip(moments, model.optimizer.slots["m"][3:], strict=True):
        assert (kept == moment).all()
    model.fit(x, y, epochs=1, verbose=0)
    assert not np.allclose(frozen[0], model.layers[0].get_weights()[0])


def test_trainable_survives_config_and_artifact(tmp_path):
    model = Sequential(
        [
            R.Bidirectional(R.LSTM(3), input_shape=(T, F)),
            R.Dense(2, trainable=False),
            R.BatchNormalization(),
            R.Dense(1),
        ],
        seed=0,
    )
    model.layers[0].trainable = False
    config = json.loads(json.dumps(model.get_config()))
    assert [spec["config"]["trainable"] for spec in config["layers"]] == [False, False, True, True]
    save_model(model, tmp_path / "m")
    for clone in (Sequential.from_config(config), load_model(tmp_path / "m")):
        assert [layer.trainable for layer in clone.layers] == [False, False, True, True]
        assert clone.count_params(trainable_only=True) == model.count_params(trainable_only=True)
        assert not any(p.requires_grad for p in clone.layers[0].parameters())


# -- Keras's layer weight API ----------------------------------------------------------
LAYERS = {
    "dense": lambda M: M.layers.Dense(3),
    "dense_no_bias": lambda M: M.layers.Dense(3, use_bias=False),
    "conv1d": lambda M: M.layers.Conv1D(3, 2),
    "lstm": lambda M: M.layers.LSTM(3),
    "gru": lambda M: M.layers.GRU(3),
    "gru_reset_before": lambda M: M.layers.GRU(3, reset_after=False),
    "simple_rnn": lambda M: M.layers.SimpleRNN(3),
    "batch_norm": lambda M: M.layers.BatchNormalization(),
    "layer_norm": lambda M: M.layers.LayerNormalization(),
    "bidirectional": lambda M: M.layers.Bidirectional(M.layers.GRU(3)),
    "time_distributed": lambda M: M.layers.TimeDistributed(M.layers.Dense(3)),
}


@pytest.mark.parametrize("name", sorted(LAYERS))
@pytest.mark.parametrize("trainable", [True, False])
def test_layer_weight_api_equals_keras(name, trainable):
    keras_model, model = twins(lambda M: [LAYERS[name](M)])
    theirs, ours = keras_model.layers[0], model.layers[0]
    theirs.trainable = ours.trainable = trainable
    np.testing.assert_array_equal(ours.get_weights()[0], theirs.get_weights()[0])
    assert ours.count_params() == theirs.count_params()
    assert isinstance(ours.count_params(), int)
    for attribute in ("weights", "trainable_weights", "non_trainable_weights"):
        want = [tuple(w.shape) for w in getattr(theirs, attribute)]
        assert [tuple(w.shape) for w in getattr(ours, attribute)] == want, attribute
    changed = [w + 1.0 for w in theirs.get_weights()]
    ours.set_weights(changed)
    for got, want in zip(ours.get_weights(), changed, strict=True):
        np.testing.assert_array_equal(got, want)


def test_weight_api_errors_name_the_problem():
    layer = R.Dense(3)
    assert layer.get_weights() == [] and layer.weights == []
    with pytest.raises(ShapeError, match="before it is built"):
        layer.set_weights([np.zeros((2, 3))])
    with pytest.raises(ShapeError, match="before it is built"):
        layer.count_params()
    model = Sequential([R.Dense(3, input_shape=(2,))])
    with pytest.raises(ShapeError, match=r"\(2, 3\)"):
        model.layers[0].set_weights([np.zeros((3, 3)), np.zeros(3)])
    with pytest.raises(ConfigError, match="trainable='no'"):
        R.Dense(3, trainable="no")
    assert R.Activation("relu", trainable=False).get_config()["trainable"] is False

"""Stateful recurrent layers, return_state and initial_state against Keras 3 (torch backend).

Same weights (U(-0.5, 0.5)) in both libraries; batches are fed in order.
Measured: outputs over consecutive batches and after ``reset_states`` agree
to ~1e-7 absolute and fit losses to ~1e-7 relative (the tests allow 1e-5).
"""

from __future__ import annotations

import os

os.environ.setdefault("KERAS_BACKEND", "torch")

import numpy as np
import pytest
import torch

from rnncast import Sequential, optimizers
from rnncast import layers as R
from rnncast.exceptions import ConfigError, ShapeError

keras = pytest.importorskip("keras")
K = keras.layers
pytestmark = pytest.mark.filterwarnings("ignore:__array__ implementation:DeprecationWarning")

ATOL = 1e-5
BATCH, STEPS, FEATURES = 4, 6, 2

# name: (Keras recurrent layer, rnncast recurrent layer); all stateful
CASES = {
    "lstm": (lambda: K.LSTM(5, stateful=True), lambda: R.LSTM(5, stateful=True)),
    "gru": (lambda: K.GRU(5, stateful=True), lambda: R.GRU(5, stateful=True)),
    "simple_rnn": (
        lambda: K.SimpleRNN(5, stateful=True),
        lambda: R.SimpleRNN(5, stateful=True),
    ),
    "lstm_loop_backwards": (  # relu runs the exact loop, not the fused kernel
        lambda: K.LSTM(5, activation="relu", go_backwards=True, stateful=True),
        lambda: R.LSTM(5, activation="relu", go_backwards=True, stateful=True),
    ),
    "gru_loop_reset_before": (
        lambda: K.GRU(5, reset_after=False, stateful=True, return_sequences=True),
        lambda: R.GRU(5, reset_after=False, stateful=True, return_sequences=True),
    ),
    "bidirectional_lstm": (
        lambda: K.Bidirectional(K.LSTM(5, stateful=True)),
        lambda: R.Bidirectional(R.LSTM(5, stateful=True)),
    ),
}


def copy_weights(keras_model, model, seed: int = 0) -> None:
    rng = np.random.default_rng(seed)
    ours = [layer for layer in model.layers if not isinstance(layer, R.InputLayer)]
    for layer, source in zip(ours, keras_model.layers, strict=True):
        weights = [rng.uniform(-0.5, 0.5, w.shape).astype("float32") for w in source.get_weights()]
        source.set_weights(weights)
        layer.set_keras_weights(weights)


def twins(name: str, seed: int = 0, cases=CASES):
    keras_layer, rnncast_layer = cases[name]
    shape = (BATCH, STEPS, FEATURES)
    keras_model = keras.Sequential([keras.Input(batch_shape=shape), keras_layer(), K.Dense(1)])
    model = Sequential([R.Input(batch_shape=shape), rnncast_layer(), R.Dense(1)])
    copy_weights(keras_model, model, seed)
    return keras_model, model


def batches(n: int, seed: int = 1) -> list[np.ndarray]:
    rng = np.random.default_rng(seed)
    return [rng.normal(size=(BATCH, STEPS, FEATURES)).astype("float32") for _ in range(n)]


def keras_reset(keras_model) -> None:
    for layer in keras_model.layers:
        if getattr(layer, "stateful", False):
            layer.reset_state()


@pytest.mark.parametrize("name", sorted(CASES))
def test_state_carries_over_batches_until_reset_like_keras(name):
    keras_model, model = twins(name)
    first, second = batches(2)
    ours = [model.predict(first, batch_size=BATCH), model.predict(second, batch_size=BATCH)]
    theirs = [keras_model.predict_on_batch(first), keras_model.predict_on_batch(second)]
    model.reset_states()
    keras_reset(keras_model)
    ours.append(model.predict(first, batch_size=BATCH))
    theirs.append(keras_model.predict_on_batch(first))
    for got, want in zip(ours, theirs, strict=True):
        np.testing.assert_allclose(got, want, rtol=0, atol=ATOL)
    np.testing.assert_allclose(ours[2], ours[0], rtol=0, atol=ATOL)  # reset = fresh start
    # the second batch started from the first batch's state, not from zeros
    fresh = twins(name)[1].predict(second, batch_size=BATCH)
    assert np.abs(ours[1] - fresh).max() > 1e-3


# Keras 3.15's own fit of a stateful LSTM/GRU on the torch backend fails ("modified by an
# inplace operation") unless use_cudnn=False, which computes the same function.
FIT_CASES = {
    "lstm": (
        lambda: K.LSTM(5, stateful=True, use_cudnn=False),
        lambda: R.LSTM(5, stateful=True),
    ),
    "gru": (lambda: K.GRU(5, stateful=True, use_cudnn=False), lambda: R.GRU(5, stateful=True)),
    "simple_rnn": CASES["simple_rnn"],
}


@pytest.mark.parametrize("name", sorted(FIT_CASES))
def test_stateful_fit_gives_the_keras_losses(name):
    keras_model, model = twins(name, seed=2, cases=FIT_CASES)
    x = np.concatenate(batches(4, seed=3))  # 16 samples = 4 full batches
    y = np.tanh(x[:, -1, :1] + x[:, 0, 1:2]).astype("float32")
    keras_model.compile(optimizer=keras.optimizers.SGD(learning_rate=0.1), loss="mse")
    model.compile(optimizer=optimizers.SGD(learning_rate=0.1), loss="mse")
    kwargs = {"batch_size": BATCH, "epochs": 2, "shuffle": False, "verbose": 0}
    keras_losses = keras_model.fit(x, y, **kwargs).history["loss"]
    losses = model.fit(x, y, **kwargs).history["loss"]
    np.testing.assert_allclose(losses, keras_losses, rtol=1e-5, atol=0)
    assert abs(keras_losses[1] - keras_losses[0]) > 1e-3 * keras_losses[0]
    # after fit both continue from the state the last training batch left
    np.testing.assert_allclose(
        model.predict(x[:BATCH], batch_size=BATCH),
        keras_model.predict_on_batch(x[:BATCH]),
        rtol=0,
        atol=ATOL,
    )


@pytest.mark.parametrize(
    "first",
    [
        lambda: [R.Input(batch_shape=(BATCH, STEPS, FEATURES)), R.LSTM(3, stateful=True)],
        lambda: [R.Input(shape=(STEPS, FEATURES), batch_size=BATCH), R.LSTM(3, stateful=True)],
        lambda: [R.InputLayer(batch_shape=(BATCH, STEPS, FEATURES)), R.LSTM(3, stateful=True)],
        lambda: [R.LSTM(3, stateful=True, batch_input_shape=(BATCH, STEPS, FEATURES))],
        lambda: [R.LSTM(3, stateful=True, batch_size=BATCH, input_shape=(STEPS, FEATURES))],
        lambda: [R.Bidirectional(R.LSTM(3, stateful=True), batch_size=BATCH)],
    ],
)
def test_every_way_to_fix_the_batch_size_is_enforced(first):
    model = Sequential([*first(), R.Dense(1)])
    x = np.zeros((BATCH + 2, STEPS, FEATURES), dtype="float32")
    with pytest.raises(ShapeError, match=rf"fixed batch size {BATCH} .*batch_size={BATCH}"):
        model.predict(x, batch_size=BATCH + 2)
    with pytest.raises(ShapeError, match="divisible by 4"):
        model.predict(x, batch_size=BATCH)  # the last batch has only 2 samples


def test_fit_with_a_partial_last_batch_names_the_fix():
    model = Sequential([R.Input(batch_shape=(BATCH, STEPS, FEATURES)), R.GRU(3, stateful=True)])
    model.compile(optimizer="adam", loss="mse")
    x = np.zeros((BATCH * 2 + 1, STEPS, FEATURES), dtype="float32")
    with pytest.raises(ShapeError, match="drop the remainder"):
        model.fit(x, np.zeros((len(x), 3), dtype="float32"), batch_size=BATCH, verbose=0)


def test_without_a_fixed_batch_size_the_first_batch_fixes_it():
    layer = R.LSTM(3, stateful=True)
    layer.build((STEPS, FEATURES))
    layer(torch.zeros(5, STEPS, FEATURES))
    assert layer.state_batch_size == 5
    with pytest.raises(ShapeError, match="fixed batch size 5"):
        layer(torch.zeros(4, STEPS, FEATURES))


def test_state_is_detached_and_not_saved(tmp_path):
    _, model = twins("lstm")
    model.compile(optimizer="sgd", loss="mse")
    x = np.concatenate(batches(2))
    model.predict(x, batch_size=BATCH)  # leaves a state made in inference mode; fit can use it
    model.fit(x, np.zeros((len(x), 1), dtype="float32"), batch_size=BATCH, epochs=1, verbose=0)
    lstm = model.layers[0]  # the Input stays out of layers, as in Keras 3
    assert [tuple(s.shape) for s in lstm.states] == [(BATCH, 5), (BATCH, 5)]
    assert not any(s.requires_grad for s in lstm.states)
    assert not any("state" in key for key in model.state_dict())
    model.save(tmp_path / "m")
    from rnncast import load

    again = load(tmp_path / "m")
    assert again.layers[0].stateful and again.layers[0].state_batch_size == BATCH
    model.reset_states()
    np.testing.assert_allclose(
        again.predict(x[:BATCH], batch_size=BATCH),
        model.predict(x[:BATCH], batch_size=BATCH),
        atol=1e-6,
    )


# -- return_state and initial_state on a layer called on its own ----------------
def keras_twin(keras_layer, layer, shape=(BATCH, STEPS, FEATURES), seed=0):
    x = np.random.default_rng(seed).normal(size=shape).astype("float32")
    keras_layer(x)  # builds it
    rng = np.random.default_rng(seed + 1)
    weights = [rng.uniform(-0.5, 0.5, w.shape).astype("float32") for w in keras_layer.get_weights()]
    keras_layer.set_weights(weights)
    layer.build(shape[1:])
    layer.set_keras_weights(weights)
    return x


def numpy(values) -> list[np.ndarray]:
    return [keras.ops.convert_to_numpy(v) for v in values]


@pytest.mark.parametrize(
    ("make", "states"),
    [
        (lambda L, **kw: L.LSTM(5, **kw), 2),
        (lambda L, **kw: L.GRU(5, **kw), 1),
        (lambda L, **kw: L.SimpleRNN(5, **kw), 1),
        (lambda L, **kw: L.LSTM(5, activation="relu", **kw), 2),  # exact loop
        (lambda L, **kw: L.Bidirectional(L.GRU(5, **kw), merge_mode="sum"), 2),
    ],
)
def test_return_state_gives_keras_outputs_and_states(make, states):
    kwargs = {"return_state": True, "return_sequences": True}
    keras_layer, layer = make(K, **kwargs), make(R, **kwargs)
    x = keras_twin(keras_layer, layer)
    theirs = numpy(keras_layer(x))
    with torch.no_grad():
        ours = [t.numpy() for t in layer(torch.from_numpy(x))]
    assert len(ours) == len(theirs) == 1 + states
    for got, want in zip(ours, theirs, strict=True):
        np.testing.assert_allclose(got, want, rtol=0, atol=ATOL)


@pytest.mark.parametrize("kind", ["LSTM", "GRU"])
def test_initial_state_like_keras(kind):
    keras_layer, layer = getattr(K, kind)(5), getattr(R, kind)(5)
    x = keras_twin(keras_layer, layer)
    count = 2 if kind == "LSTM" else 1
    start = [
        np.random.default_rng(7 + i).normal(size=(BATCH, 5)).astype("float32") for i in range(count)
    ]
    want = numpy([keras_layer(x, initial_state=start)])[0]
    with torch.no_grad():
        got = layer(torch.from_numpy(x), initial_state=start).numpy()
        zero = layer(torch.from_numpy(x)).numpy()
    np.testing.assert_allclose(got, want, rtol=0, atol=ATOL)
    assert np.abs(got - zero).max() > 1e-3
    with pytest.raises(ShapeError, match=r"initial_state as \d tensor"):
        layer(torch.from_numpy(x), initial_state=start[:1] * 3)


def test_return_state_in_a_sequential_is_a_config_error():
    with pytest.raises(
        ConfigError, match=r"LSTM\(return_state=True\) cannot be a Sequential layer"
    ):
        Sequential([R.LSTM(4, return_state=True, input_shape=(5, 1))])
    with pytest.raises(ConfigError, match="output, \\*states = layer\\(x\\)"):
        Sequential([R.Input(shape=(5, 1)), R.Bidirectional(R.GRU(4, return_state=True))])


def test_stateful_config_round_trip():
    layer = R.LSTM(4, stateful=True, return_state=True, unroll=True, seed=3, use_cudnn=False)
    config = layer.get_config()
    assert {k: config[k] for k in ("stateful", "return_state", "unroll", "seed", "use_cudnn")} == {
        "stateful": True,
        "return_state": True,
        "unroll": True,
        "seed": 3,
        "use_cudnn": False,
    }
    assert R.LSTM.from_config(config).get_config() == config

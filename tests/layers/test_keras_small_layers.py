"""The small Keras layers against Keras 3 itself (torch backend): same weights, same outputs.

Each case builds the same stack in Keras and in rnncast, copies Keras's
weights (drawn U(-0.5, 0.5)) into rnncast with ``set_keras_weights``, and
compares parameter counts, output shapes, configs and predictions. Measured
differences: predictions agree to ~1e-7 absolute (the tests allow 1e-5);
one epoch of SGD on the SimpleRNN and LayerNormalization stacks gives the
same loss to ~1e-7 relative (the tests allow 1e-5).
"""

from __future__ import annotations

import os

os.environ.setdefault("KERAS_BACKEND", "torch")

import numpy as np
import pytest

import rnncast as rc
from rnncast import Sequential, optimizers
from rnncast import layers as R
from rnncast.exceptions import ArtifactError, ConfigError, ShapeError

keras = pytest.importorskip("keras")
K = keras.layers
pytestmark = pytest.mark.filterwarnings("ignore:__array__ implementation:DeprecationWarning")

ATOL = 1e-5


def last_five(x):
    return x[:, -5:, :]


# name: (input shape, Keras layers, rnncast layers) -- the same stack twice
CASES = {
    "activation": (
        (10, 3),
        lambda: [K.Dense(4), K.Activation("tanh")],
        lambda: [R.Dense(4), R.Activation("tanh")],
    ),
    "reshape": (
        (12,),
        lambda: [K.Reshape((4, 3)), K.LSTM(5), K.Dense(1)],
        lambda: [R.Reshape((4, 3)), R.LSTM(5), R.Dense(1)],
    ),
    "reshape_minus_one": (
        (6, 2),
        lambda: [K.Reshape((-1,)), K.Dense(2)],
        lambda: [R.Reshape((-1,)), R.Dense(2)],
    ),
    "repeat_vector_encoder_decoder": (
        (10, 2),
        lambda: [
            K.LSTM(6),
            K.RepeatVector(4),
            K.LSTM(5, return_sequences=True),
            K.TimeDistributed(K.Dense(1)),
        ],
        lambda: [
            R.LSTM(6),
            R.RepeatVector(4),
            R.LSTM(5, return_sequences=True),
            R.TimeDistributed(R.Dense(1)),
        ],
    ),
    "global_average_pooling": (
        (12, 2),
        lambda: [K.Conv1D(8, 3, activation="relu"), K.GlobalAveragePooling1D(), K.Dense(1)],
        lambda: [R.Conv1D(8, 3, activation="relu"), R.GlobalAveragePooling1D(), R.Dense(1)],
    ),
    "global_average_pooling_keepdims": (
        (12, 2),
        lambda: [K.GlobalAveragePooling1D(keepdims=True), K.Dense(3)],
        lambda: [R.GlobalAveragePooling1D(keepdims=True), R.Dense(3)],
    ),
    "layer_normalization": (
        (10, 2),
        lambda: [K.LSTM(8, return_sequences=True), K.LayerNormalization(), K.LSTM(4), K.Dense(1)],
        lambda: [R.LSTM(8, return_sequences=True), R.LayerNormalization(), R.LSTM(4), R.Dense(1)],
    ),
    "layer_normalization_no_center_scale": (
        (10, 3),
        lambda: [
            K.LayerNormalization(center=False),
            K.LayerNormalization(scale=False),
            K.LayerNormalization(epsilon=0.5),
        ],
        lambda: [
            R.LayerNormalization(center=False),
            R.LayerNormalization(scale=False),
            R.LayerNormalization(epsilon=0.5),
        ],
    ),
    "simple_rnn": (
        (10, 2),
        lambda: [K.SimpleRNN(8, return_sequences=True), K.SimpleRNN(6), K.Dense(1)],
        lambda: [R.SimpleRNN(8, return_sequences=True), R.SimpleRNN(6), R.Dense(1)],
    ),
    "simple_rnn_relu_backwards_no_bias": (
        (10, 2),
        lambda: [K.SimpleRNN(5, activation="relu", go_backwards=True, use_bias=False)],
        lambda: [R.SimpleRNN(5, activation="relu", go_backwards=True, use_bias=False)],
    ),
    "bidirectional_simple_rnn": (
        (10, 2),
        lambda: [K.Bidirectional(K.SimpleRNN(4, return_sequences=True)), K.Dense(1)],
        lambda: [R.Bidirectional(R.SimpleRNN(4, return_sequences=True)), R.Dense(1)],
    ),
    "time_distributed_dense": (
        (10, 4),
        lambda: [K.TimeDistributed(K.Dense(3, activation="relu"))],
        lambda: [R.TimeDistributed(R.Dense(3, activation="relu"))],
    ),
    "lambda": (
        (10, 2),
        lambda: [K.Lambda(last_five), K.LSTM(4), K.Dense(1)],
        lambda: [R.Lambda(last_five), R.LSTM(4), R.Dense(1)],
    ),
}


def twins(name: str, seed: int = 0):
    """The Keras stack with weights U(-0.5, 0.5) and the rnncast stack with the same weights."""
    shape, keras_layers, rnncast_layers = CASES[name]
    keras_model = keras.Sequential([keras.Input(shape), *keras_layers()])
    model = Sequential([R.Input(shape=shape), *rnncast_layers()])
    rng = np.random.default_rng(seed)
    ours = [layer for layer in model.layers if not isinstance(layer, R.InputLayer)]
    for layer, source in zip(ours, keras_model.layers, strict=True):
        weights = [rng.uniform(-0.5, 0.5, w.shape).astype("float32") for w in source.get_weights()]
        source.set_weights(weights)
        layer.set_keras_weights(weights)
    return keras_model, model


def inputs(shape: tuple[int, ...], n: int = 37, seed: int = 1) -> np.ndarray:
    return np.random.default_rng(seed).normal(size=(n, *shape)).astype("float32")


@pytest.mark.parametrize("name", sorted(CASES))
def test_same_weights_give_keras_predictions_counts_and_shapes(name):
    keras_model, model = twins(name)
    x = inputs(CASES[name][0])
    assert model.count_params() == keras_model.count_params()
    assert model.output_shape == keras_model.output_shape
    expected = keras_model.predict(x, verbose=0)
    np.testing.assert_allclose(model.predict(x), expected, rtol=0, atol=ATOL)


IGNORED_KEYS = {"name", "input_shape", "layer", "trainable", "dtype"}
NEW_LAYERS = (
    R.Activation,
    R.Reshape,
    R.RepeatVector,
    R.GlobalAveragePooling1D,
    R.LayerNormalization,
    R.SimpleRNN,
    R.TimeDistributed,
)


@pytest.mark.parametrize("name", sorted(set(CASES) - {"lambda"}))
def test_configs_use_keras_names_and_values(name):
    keras_model, model = twins(name)
    ours = [layer for layer in model.layers if not isinstance(layer, R.InputLayer)]
    for layer, source in zip(ours, keras_model.layers, strict=True):
        if not isinstance(layer, NEW_LAYERS):
            continue
        theirs = source.get_config()
        for key, value in layer.get_config().items():
            if key in IGNORED_KEYS or key.endswith("initializer"):
                continue
            want = theirs[key]
            want = list(want) if isinstance(want, tuple) else want
            if key == "axis" and want == [-1]:  # Keras lists LayerNormalization's axis
                want = -1
            assert value == want, (layer.kind, key)


def test_default_names_are_keras_names():
    model = Sequential(
        [
            R.Input(shape=(12,)),
            R.Reshape((6, 2)),
            R.SimpleRNN(4, return_sequences=True),
            R.LayerNormalization(),
            R.TimeDistributed(R.Dense(2)),
            R.GlobalAveragePooling1D(),
            R.Activation("relu"),
            R.RepeatVector(2),
            R.Lambda(lambda x: x * 2),
        ]
    )
    names = [layer.name for layer in model.layers]  # the Input stays out, as in Keras 3
    assert names == [
        "reshape",
        "simple_rnn",
        "layer_normalization",
        "time_distributed",
        "global_average_pooling1d",
        "activation",
        "repeat_vector",
        "lambda",
    ]


# -- training: one epoch from the same weights gives Keras's loss --------------
@pytest.mark.parametrize("name", ["simple_rnn", "layer_normalization"])
def test_one_epoch_of_sgd_gives_the_keras_loss(name):
    keras_model, model = twins(name, seed=2)
    x = inputs(CASES[name][0], n=70, seed=3)  # 70 = 2 * 32 + a partial batch of 6
    y = np.tanh(x[:, -1, :1] + x[:, 0, 1:2]).astype("float32")
    keras_model.compile(optimizer=keras.optimizers.SGD(learning_rate=0.1), loss="mse")
    model.compile(optimizer=optimizers.SGD(learning_rate=0.1), loss="mse")
    kwargs = {"batch_size": 32, "epochs": 2, "shuffle": False, "verbose": 0}
    keras_losses = keras_model.fit(x, y, **kwargs).history["loss"]
    losses = model.fit(x, y, **kwargs).history["loss"]
    np.testing.assert_allclose(losses, keras_losses, rtol=1e-5, atol=0)
    # the weights moved far more than the tolerance: the check has teeth
    assert abs(keras_losses[1] - keras_losses[0]) > 1e-3 * keras_losses[0]
    np.testing.assert_allclose(
        model.predict(x), keras_model.predict(x, verbose=0), rtol=0, atol=ATOL
    )


# -- Input ------------------------------------------------------------------
def test_input_sets_the_input_shape_like_keras():
    model = Sequential([R.Input(shape=(60, 1)), R.LSTM(50), R.Dense(1)])
    keras_model = keras.Sequential([keras.Input(shape=(60, 1)), K.LSTM(50), K.Dense(1)])
    assert model.built and model.input_shape == keras_model.input_shape == (None, 60, 1)
    assert model.count_params() == keras_model.count_params() == 10_451
    assert R.Input(batch_shape=(None, 60, 1)).input_shape == (60, 1)
    sized = R.Input(shape=(60, 1), batch_size=32)
    assert R.InputLayer.from_config(sized.get_config()).batch_size == 32
    assert R.InputLayer(shape=(5, 2)).get_config() == {
        "batch_shape": [None, 5, 2],
        "name": None,
    }


def test_input_errors_are_config_errors():
    with pytest.raises(ConfigError, match="shape"):
        R.Input()
    with pytest.raises(ConfigError, match="sparse"):
        R.Input(shape=(3,), sparse=True)
    with pytest.raises(ConfigError, match="tensor"):
        R.Input(shape=(3,), tensor=object())
    with pytest.raises(ConfigError, match=r"InputLayer\(input_tensor=.*give shape=\(timesteps"):
        R.InputLayer(shape=(3,), input_tensor=object())
    R.Input(shape=(3,), tensor=None, input_tensor=None)  # Keras's off values pass
    R.Input(shape=(3,), sparse=False, dtype="float32", optional=False)  # Keras defaults pass
    with pytest.raises(ShapeError, match="belongs first"):
        Sequential([R.Dense(2, input_shape=(4,)), R.InputLayer(shape=(4,))])


# -- unsupported Keras arguments: ConfigError naming the argument -------------
@pytest.mark.parametrize(
    ("make", "argument"),
    [
        (lambda: R.SimpleRNN(4, kernel_regularizer="l3"), "kernel_regularizer=.l3"),
        (lambda: R.LayerNormalization(gamma_constraint="nonneg"), "gamma_constraint=.nonneg"),
        (lambda: R.LayerNormalization(rms_scaling=True), "rms_scaling"),
        (lambda: R.LayerNormalization(axis=1), "axis"),
        (lambda: R.GlobalAveragePooling1D(data_format="channels_first"), "data_format"),
        (lambda: R.Activation("relu", activity_regularizer="l9"), "activity_regularizer=.l9"),
        (lambda: R.Reshape((2, -1, -1)), "target_shape"),
        (lambda: R.RepeatVector(0), "n"),
        (lambda: R.TimeDistributed("dense"), "TimeDistributed"),
        (lambda: R.Lambda(3), "Lambda"),
        (lambda: R.Lambda(abs, mask=lambda x, m: m), "mask"),
        (lambda: R.SimpleRNN(4, spelling_mistake=1), "spelling_mistake"),
    ],
)
def test_unsupported_arguments_raise_config_errors_naming_them(make, argument):
    with pytest.raises(ConfigError, match=argument):
        make()


def test_keras_off_values_of_unsupported_arguments_are_accepted():
    layer = R.SimpleRNN(
        4, return_state=False, stateful=False, unroll=False, seed=None, kernel_regularizer=None
    )
    assert layer.units == 4


def test_reshape_size_mismatch_is_a_shape_error():
    with pytest.raises(ShapeError, match="cannot reshape"):
        Sequential([R.Reshape((5, 2), input_shape=(12,))])
    with pytest.raises(ShapeError, match="cannot reshape"):
        Sequential([R.Reshape((5, -1), input_shape=(12,))])


# -- saving -------------------------------------------------------------------
def test_models_with_the_new_layers_save_and_reload(tmp_path):
    _, model = twins("repeat_vector_encoder_decoder")
    stacks = [model] + [twins(name)[1] for name in ("simple_rnn", "layer_normalization")]
    for i, original in enumerate(stacks):
        x = inputs(original.input_shape[1:], n=5)
        original.save(tmp_path / f"m{i}")
        loaded = rc.load_model(tmp_path / f"m{i}")
        assert [type(layer) for layer in loaded.layers] == [type(la) for la in original.layers]
        np.testing.assert_array_equal(loaded.predict(x), original.predict(x))


def test_all_new_layers_round_trip_through_their_config():
    model = Sequential(
        [
            R.Input(shape=(12,)),
            R.Reshape((6, 2)),
            R.SimpleRNN(4, return_sequences=True, dropout=0.1),
            R.LayerNormalization(epsilon=0.01),
            R.TimeDistributed(R.Dense(2, activation="relu")),
            R.GlobalAveragePooling1D(keepdims=True),
            R.Activation("tanh"),
        ]
    )
    clone = Sequential.from_config(model.get_config())
    assert [R.serialize(layer) for layer in clone.layers] == [
        R.serialize(layer) for layer in model.layers
    ]
    assert clone.count_params() == model.count_params()


def test_lambda_cannot_be_saved_and_says_what_to_do(tmp_path):
    _, model = twins("lambda")
    with pytest.raises(ArtifactError, match="save_weights"):
        model.save(tmp_path / "m")
    with pytest.raises(ArtifactError, match="Lambda"):
        R.deserialize({"class_name": "Lambda", "config": {}})
    model.save_weights(tmp_path / "w.safetensors")  # the documented alternative works
    _, again = twins("lambda", seed=5)
    again.load_weights(tmp_path / "w.safetensors")
    x = inputs((10, 2), n=4)
    np.testing.assert_array_equal(again.predict(x), model.predict(x))

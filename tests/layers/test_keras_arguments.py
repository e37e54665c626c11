"""Every Keras 3 constructor argument either works on the rnncast layer or gives a ConfigError.

The argument names come from Keras itself (``inspect.signature`` of each
``keras.layers.X.__init__`` and of the base ``keras.layers.Layer``), so a
Keras argument rnncast forgets fails here instead of as a TypeError in a
user's tutorial. Also: oracle tests of the arguments added with them
(Conv1D ``groups``/``data_format``, Bidirectional ``backward_layer``,
BatchNormalization initializers, Dropout ``seed``/``noise_shape``).
Measured: Conv1D groups and Bidirectional backward_layer predictions agree
with Keras to ~1e-7 (the tests allow 1e-5); one SGD epoch of grouped Conv1D
to ~1e-7 relative.
"""

from __future__ import annotations

import inspect
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

# the arguments a class cannot be built without, for rnncast (and Keras) alike
REQUIRED = {
    "LSTM": lambda L: {"units": 3},
    "GRU": lambda L: {"units": 3},
    "SimpleRNN": lambda L: {"units": 3},
    "Dense": lambda L: {"units": 3},
    "Dropout": lambda L: {"rate": 0.1},
    "Conv1D": lambda L: {"filters": 4, "kernel_size": 2},
    "Activation": lambda L: {"activation": "relu"},
    "Reshape": lambda L: {"target_shape": (2, 3)},
    "RepeatVector": lambda L: {"n": 2},
    "Lambda": lambda L: {"function": lambda x: x},
    "Bidirectional": lambda L: {"layer": L.LSTM(3)},
    "TimeDistributed": lambda L: {"layer": L.Dense(2)},
    "InputLayer": lambda L: {"shape": (6, 3)},
}
# Keras's base Layer pops these from **kwargs (not in any signature)
BASE_KWARGS = {"input_dim": 3, "input_shape": (6, 3)}
# Keras 2 spellings tutorials still use; rnncast accepts them on a first layer
KERAS2_KWARGS = {"batch_input_shape": (4, 6, 3), "batch_size": 4}


def keras_arguments(name: str) -> dict[str, object]:
    """Keras 3's argument names of ``keras.layers.<name>`` with their default values."""
    cls = getattr(K, name)
    params = dict(inspect.signature(cls.__init__).parameters)
    if name != "InputLayer":
        params.update(inspect.signature(keras.layers.Layer.__init__).parameters)
    arguments = {
        p.name: (None if p.default is inspect.Parameter.empty else p.default)
        for p in params.values()
        if p.name != "self" and p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD)
    }
    extra = {"input_shape": (6, 3), "batch_input_shape": (4, 6, 3)}
    return {**arguments, **(extra if name == "InputLayer" else BASE_KWARGS | KERAS2_KWARGS)}


CLASSES = sorted(name for name in R.LAYERS if hasattr(K, name))
CASES = [
    (cls, arg, default)
    for cls in CLASSES
    for arg, default in keras_arguments(cls).items()
    if arg not in REQUIRED.get(cls, lambda L: {})(R)
]


def another_value(value: object) -> object:
    """A value other than Keras's default, of the kind a tutorial might pass."""
    if isinstance(value, bool):
        return not value
    if isinstance(value, int):
        return value + 1
    if isinstance(value, float):
        return value / 2
    if isinstance(value, str):
        return "surely_not_" + value
    return "l2"  # None (an off value, a regularizer slot, a seed, a shape, ...)


def test_the_sweep_covers_the_keras_arguments():
    assert {"LSTM", "GRU", "Conv1D", "Bidirectional", "BatchNormalization"} <= set(CLASSES)
    names = {(cls, arg) for cls, arg, _ in CASES}
    for expected in [
        ("LSTM", "stateful"),
        ("LSTM", "use_cudnn"),
        ("LSTM", "trainable"),
        ("Conv1D", "groups"),
        ("Bidirectional", "backward_layer"),
        ("BatchNormalization", "moving_variance_initializer"),
        ("Dropout", "seed"),
        ("Dense", "lora_rank"),
    ]:
        assert expected in names


# Keras defaults rnncast refuses on purpose (the error names the argument)
REFUSED_DEFAULTS = {("InputLayer", "batch_input_shape")}  # given with shape=: one of the two


@pytest.mark.parametrize(("cls", "arg", "default"), CASES)
def test_keras_default_values_are_accepted(cls, arg, default):
    """Spelling out Keras's default value of any argument builds the layer."""
    make = getattr(R, cls)
    required = REQUIRED.get(cls, lambda L: {})(R)
    if (cls, arg) in REFUSED_DEFAULTS:
        with pytest.raises(ConfigError, match=arg):
            make(**required, **{arg: default})
    else:
        make(**required, **{arg: default})


@pytest.mark.parametrize(("cls", "arg", "default"), CASES)
def test_other_values_work_or_raise_config_errors_naming_the_argument(cls, arg, default):
    value = another_value(default)
    try:
        getattr(R, cls)(**REQUIRED.get(cls, lambda L: {})(R), **{arg: value})
    except ConfigError as err:
        assert arg in str(err) or repr(value) in str(err), str(err)


@pytest.mark.parametrize(
    ("make", "fragment"),
    [
        (lambda: R.Dense(2, dtype="float64"), r"dtype='float64'.*dtype=\"float32\""),
        (lambda: R.LSTM(2, use_cudnn="yes"), "use_cudnn='yes'"),
        (lambda: R.LSTM(2, seed=1.5), "seed=1.5"),
        (lambda: R.Dense(2, lora_rank=4), "lora_rank"),
        (lambda: R.BatchNormalization(renorm=True), "renorm"),
        (lambda: R.BatchNormalization(synchronized=True), "synchronized"),
        (lambda: R.Conv1D(4, 2, groups=3), "divisible by groups"),
        (lambda: R.Conv1D(4, 2, data_format="channels_middle"), "data_format"),
        (lambda: R.MaxPooling1D(data_format="channels_first"), "channels_last"),
        (lambda: R.Flatten(data_format="channels_first"), "channels_last"),
        (lambda: R.Dense(2, input_dim=3, input_shape=(3,)), "only one of"),
        (lambda: R.LSTM(2, batch_size=0), "batch_size=0"),
        (lambda: R.Dropout(0.1, noise_shape="x"), "noise_shape"),
        (lambda: R.Bidirectional(R.LSTM(2), backward_layer=R.LSTM(2)), "go_backwards"),
        (
            lambda: R.Bidirectional(
                R.LSTM(2), backward_layer=R.LSTM(2, go_backwards=True, return_sequences=True)
            ),
            "return_sequences",
        ),
    ],
)
def test_config_errors_name_the_argument_and_the_fix(make, fragment):
    with pytest.raises(ConfigError, match=fragment):
        make()


def test_generic_keras_layer_arguments():
    assert R.Dense(2, input_dim=5).input_shape == (5,)
    assert R.LSTM(2, batch_input_shape=(8, 10, 1)).input_shape == (10, 1)
    assert R.LSTM(2, batch_input_shape=(8, 10, 1)).batch_size == 8
    assert R.Dense(2, dtype="float32", autocast=True).units == 2
    assert R.Dense(2, dtype=keras.DTypePolicy("float32")).units == 2
    lstm = R.LSTM(3, unroll=True, use_cudnn=False, input_shape=(5, 2))
    model = Sequential([lstm])
    assert lstm.fused  # unroll and use_cudnn change nothing: still the fused kernel
    x = np.ones((2, 5, 2), dtype="float32")
    plain = Sequential([R.LSTM(3, input_shape=(5, 2))])
    plain.set_weights(model.get_weights())
    np.testing.assert_array_equal(model.predict(x), plain.predict(x))


# -- Conv1D groups and data_format -----------------------------------------------
@pytest.mark.parametrize(
    ("shape", "keras_layers", "rnncast_layers"),
    [
        (
            (12, 6),
            lambda: [K.Conv1D(4, 3, groups=2), K.Flatten()],
            lambda: [R.Conv1D(4, 3, groups=2), R.Flatten()],
        ),
        (
            (12, 6),
            lambda: [
                K.Conv1D(6, 2, groups=3, padding="causal", dilation_rate=2, activation="relu")
            ],
            lambda: [
                R.Conv1D(6, 2, groups=3, padding="causal", dilation_rate=2, activation="relu")
            ],
        ),
        (
            (4, 10),
            lambda: [K.Conv1D(6, 3, data_format="channels_first", padding="same", groups=2)],
            lambda: [R.Conv1D(6, 3, data_format="channels_first", padding="same", groups=2)],
        ),
    ],
)
def test_conv1d_groups_and_data_format_match_keras(shape, keras_layers, rnncast_layers):
    keras_model = keras.Sequential([keras.Input(shape), *keras_layers()])
    model = Sequential([R.Input(shape=shape), *rnncast_layers()])
    assert model.count_params() == keras_model.count_params()
    assert model.output_shape == keras_model.output_shape
    rng = np.random.default_rng(0)
    for layer, source in zip(model.layers, keras_model.layers, strict=True):
        weights = [rng.uniform(-0.5, 0.5, w.shape).astype("float32") for w in source.get_weights()]
        source.set_weights(weights)
        layer.set_keras_weights(weights)
        for got, want in zip(layer.keras_weights(), weights, strict=True):
            np.testing.assert_array_equal(got, want)
    x = rng.normal(size=(9, *shape)).astype("float32")
    np.testing.assert_allclose(
        model.predict(x), keras_model.predict(x, verbose=0), atol=ATOL, rtol=0
    )


def test_grouped_conv1d_trains_like_keras():
    keras_model = keras.Sequential(
        [keras.Input((10, 4)), K.Conv1D(4, 3, groups=2), K.Flatten(), K.Dense(1)]
    )
    model = Sequential([R.Input(shape=(10, 4)), R.Conv1D(4, 3, groups=2), R.Flatten(), R.Dense(1)])
    model.set_weights(keras_model.get_weights())
    rng = np.random.default_rng(1)
    x = rng.normal(size=(40, 10, 4)).astype("float32")
    y = x[:, -1, :1] - x[:, 0, 3:4]
    keras_model.compile(optimizer=keras.optimizers.SGD(learning_rate=0.05), loss="mse")
    model.compile(optimizer=optimizers.SGD(learning_rate=0.05), loss="mse")
    kwargs = {"batch_size": 8, "epochs": 3, "shuffle": False, "verbose": 0}
    keras_losses = keras_model.fit(x, y, **kwargs).history["loss"]
    np.testing.assert_allclose(model.fit(x, y, **kwargs).history["loss"], keras_losses, rtol=1e-5)
    assert abs(keras_losses[2] - keras_losses[0]) > 1e-3 * keras_losses[0]


def test_grouped_conv1d_needs_features_divisible_by_groups():
    with pytest.raises(ShapeError, match="groups=2 but its input has 3 features"):
        Sequential([R.Conv1D(4, 2, groups=2, input_shape=(10, 3))])


# -- Bidirectional backward_layer ------------------------------------------------
def test_bidirectional_backward_layer_matches_keras():
    keras_model = keras.Sequential(
        [
            keras.Input((7, 2)),
            K.Bidirectional(K.LSTM(4), backward_layer=K.GRU(4, go_backwards=True)),
            K.Dense(1),
        ]
    )
    model = Sequential(
        [
            R.Input(shape=(7, 2)),
            R.Bidirectional(R.LSTM(4), backward_layer=R.GRU(4, go_backwards=True)),
            R.Dense(1),
        ]
    )
    assert model.count_params() == keras_model.count_params()
    assert model.output_shape == keras_model.output_shape == (None, 1)
    rng = np.random.default_rng(2)
    weights = [rng.uniform(-0.5, 0.5, w.shape).astype("float32") for w in keras_model.get_weights()]
    keras_model.set_weights(weights)
    model.set_weights(weights)
    x = rng.normal(size=(6, 7, 2)).astype("float32")
    np.testing.assert_allclose(
        model.predict(x), keras_model.predict(x, verbose=0), atol=ATOL, rtol=0
    )
    clone = Sequential.from_config(model.get_config())
    assert type(clone.layers[0].backward_layer) is R.GRU
    clone.set_weights(weights)
    np.testing.assert_array_equal(clone.predict(x), model.predict(x))


def test_bidirectional_weights_argument_loads_at_build():
    source = Sequential([R.Bidirectional(R.GRU(3), input_shape=(5, 2))], seed=1)
    weights = source.layers[0].keras_weights()
    model = Sequential([R.Bidirectional(R.GRU(3), weights=weights, input_shape=(5, 2))], seed=2)
    for got, want in zip(model.layers[0].keras_weights(), weights, strict=True):
        np.testing.assert_array_equal(got, want)


# -- BatchNormalization initializers ---------------------------------------------
def test_batch_normalization_initializers_match_keras():
    arguments = {
        "beta_initializer": "ones",
        "gamma_initializer": "zeros",
        "moving_mean_initializer": "ones",
        "moving_variance_initializer": "zeros",
        "center": True,
        "scale": True,
        "axis": -1,
    }
    keras_model = keras.Sequential([keras.Input((5, 3)), K.BatchNormalization(**arguments)])
    model = Sequential([R.Input(shape=(5, 3)), R.BatchNormalization(**arguments)])
    for got, want in zip(model.get_weights(), keras_model.get_weights(), strict=True):
        np.testing.assert_array_equal(got, want)
    x = np.random.default_rng(3).normal(size=(4, 5, 3)).astype("float32")
    np.testing.assert_allclose(
        model.predict(x), keras_model.predict(x, verbose=0), atol=ATOL, rtol=0
    )
    layer = model.layers[0]
    assert R.BatchNormalization.from_config(layer.get_config()).get_config() == layer.get_config()


# -- Dropout seed and noise_shape ------------------------------------------------
def test_dropout_seed_makes_the_masks_reproducible():
    x = torch.ones(8, 5, 3)
    first = R.Dropout(0.5, seed=4).train()(x)
    again = R.Dropout(0.5, seed=4).train()(x)
    other = R.Dropout(0.5, seed=5).train()(x)
    torch.testing.assert_close(first, again)
    assert not torch.equal(first, other)


def test_dropout_noise_shape_broadcasts_like_keras():
    x = torch.ones(64, 6, 4)
    y = R.Dropout(0.5, noise_shape=(None, 1, 4), seed=0).train()(x)
    assert torch.equal(y, y[:, :1].expand_as(y))  # one mask for all timesteps
    assert set(y.unique().tolist()) == {0.0, 2.0}
    with pytest.raises(ShapeError, match="noise_shape"):
        R.Dropout(0.5, noise_shape=(None, 1)).train()(x)


def test_recurrent_seed_makes_dropout_masks_reproducible():
    x = torch.ones(4, 5, 2)
    outputs = []
    for seed in (3, 3, 4):
        layer = R.LSTM(3, dropout=0.5, recurrent_dropout=0.3, seed=seed)
        layer.build((5, 2), torch.Generator().manual_seed(0))
        outputs.append(layer.train()(x))
    torch.testing.assert_close(outputs[0], outputs[1])
    assert not torch.equal(outputs[0], outputs[2])


@pytest.mark.parametrize(
    ("arg", "default"),
    [
        (p.name, p.default)
        for p in inspect.signature(keras.Input).parameters.values()
        if p.name != "shape"
    ],
)
def test_every_keras_input_argument_works_or_is_a_config_error(arg, default):
    assert R.Input(shape=(6, 3), **{arg: default}).input_shape == (6, 3)
    try:
        R.Input(shape=(6, 3), **{arg: another_value(default)})
    except ConfigError as err:
        assert arg in str(err), str(err)

"""Keras interop: Keras 3 (torch backend) is the oracle for from_keras and load_keras."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import zipfile
from collections.abc import Callable
from pathlib import Path

os.environ.setdefault("KERAS_BACKEND", "torch")

import numpy as np
import pytest

import rnncast as rc
from rnncast.interop import from_keras, from_keras_config, load_keras, translate_layer

keras = pytest.importorskip("keras")
pytest.importorskip("h5py")
L = keras.layers
pytestmark = pytest.mark.filterwarnings("ignore:__array__ implementation:DeprecationWarning")

TIMESTEPS = 60


def randomize(model, seed: int = 0):
    """Moderate random weights; BatchNormalization gets small variances and nonzero means."""
    rng = np.random.default_rng(seed)
    for layer in model.layers:
        weights = [rng.uniform(-0.3, 0.3, w.shape).astype("float32") for w in layer.get_weights()]
        if isinstance(layer, L.BatchNormalization):
            weights[-1] = rng.uniform(0.005, 0.02, weights[-1].shape).astype("float32")
        layer.set_weights(weights)
    return model


def sequential(*layers, timesteps: int = TIMESTEPS, features: int = 1):
    return randomize(keras.Sequential([keras.Input((timesteps, features)), *layers]))


STACKS: dict[str, Callable[[], list]] = {
    "lstm": lambda: [
        L.LSTM(50, return_sequences=True),
        L.LSTM(50),
        L.Dense(25, activation="relu"),
        L.Dense(1),
    ],
    "gru": lambda: [L.GRU(50, return_sequences=True), L.GRU(50), L.Dense(1)],
    "bilstm": lambda: [
        L.Bidirectional(L.LSTM(50, return_sequences=True)),
        L.Bidirectional(L.LSTM(50)),
        L.Dense(1),
    ],
    "conv_lstm": lambda: [
        L.Conv1D(64, 3, activation="relu"),
        L.MaxPooling1D(2),
        L.LSTM(50),
        L.Dense(1),
    ],
    "lstm_batchnorm": lambda: [
        L.LSTM(50, return_sequences=True),
        L.BatchNormalization(),
        L.Dropout(0.2),
        L.LSTM(50),
        L.Dropout(0.2),
        L.Dense(1),
    ],
}

VARIANTS: dict[str, Callable[[], list]] = {
    **{
        f"bidirectional_{mode}": (
            lambda mode=mode: [
                L.Bidirectional(L.LSTM(8, return_sequences=True), merge_mode=mode),
                L.Bidirectional(L.GRU(8), merge_mode=mode),
                L.Dense(1),
            ]
        )
        for mode in ("sum", "mul", "ave")
    },
    "bigru_sequences": lambda: [L.Bidirectional(L.GRU(8, return_sequences=True)), L.Dense(1)],
    "gru_reset_before": lambda: [L.GRU(12, reset_after=False), L.Dense(1)],
    "lstm_elu": lambda: [L.LSTM(12, activation="elu"), L.Dense(1)],
    "gru_relu_gates": lambda: [L.GRU(12, recurrent_activation="relu"), L.Dense(1)],
    "lstm_go_backwards": lambda: [L.LSTM(12, go_backwards=True, return_sequences=True), L.Dense(1)],
    "conv_same_even_kernel": lambda: [
        L.Conv1D(8, 4, strides=2, padding="same"),
        L.Flatten(),
        L.Dense(1),
    ],
    "conv_causal_dilated": lambda: [
        L.Conv1D(8, 3, padding="causal", dilation_rate=2),
        L.LSTM(8),
        L.Dense(1),
    ],
    "pool_same_odd_length": lambda: [
        L.Conv1D(4, 2),
        L.MaxPooling1D(2, padding="same"),
        L.Flatten(),
        L.Dense(1),
    ],
    "dense_on_sequences": lambda: [
        L.Dense(6, activation="tanh"),
        L.LSTM(8, return_sequences=True),
        L.Dense(2),
    ],
    "no_bias": lambda: [
        L.GRU(6, use_bias=False, return_sequences=True),
        L.LSTM(6, use_bias=False),
        L.Dense(1, use_bias=False),
    ],
    "conv_strided_pool_overlapping": lambda: [
        L.Conv1D(5, 4, strides=3),
        L.MaxPooling1D(3, strides=1),
        L.Flatten(),
        L.Dense(1),
    ],
    "batchnorm_no_center_scale": lambda: [
        L.Conv1D(5, 3),
        L.BatchNormalization(center=False, scale=False),
        L.Flatten(),
        L.Dense(1),
    ],
    "recurrent_dropout_inference": lambda: [
        L.LSTM(6, dropout=0.3, recurrent_dropout=0.2),
        L.Dense(1),
    ],
    # widths differ, so weight groups dense_2 / dense_10 read in the wrong order cannot fit
    "twelve_dense": lambda: [L.Flatten(), *[L.Dense(units) for units in range(12, 0, -1)]],
}


@pytest.fixture(scope="module")
def x() -> np.ndarray:
    return np.random.default_rng(1).normal(size=(16, TIMESTEPS, 1)).astype("float32")


@pytest.fixture(scope="module")
def saved(tmp_path_factory) -> Callable:
    """Build, randomise and save each Keras model once; return (model, path, prediction)."""
    cache: dict[str, tuple] = {}
    folder = tmp_path_factory.mktemp("keras")

    def get(name: str, x: np.ndarray) -> tuple:
        if name not in cache:
            model = sequential(*{**STACKS, **VARIANTS}[name]())
            path = folder / f"{name}.keras"
            model.save(path)
            cache[name] = (model, path, model.predict(x, verbose=0))
        return cache[name]

    return get


def assert_close(actual: np.ndarray, expected: np.ndarray) -> None:
    assert actual.shape == expected.shape
    np.testing.assert_allclose(actual, expected, atol=1e-5, rtol=0)


# -- equivalence with Keras ---------------------------------------------------
@pytest.mark.parametrize("name", [*STACKS, *VARIANTS])
def test_from_keras_predicts_like_keras(name, saved, x):
    keras_model, _, expected = saved(name, x)
    model = from_keras(keras_model)
    assert [layer.name for layer in model.layers] == [layer.name for layer in keras_model.layers]
    assert_close(model.predict(x), expected)


@pytest.mark.parametrize("name", [*STACKS, *VARIANTS])
def test_load_keras_predicts_like_keras(name, saved, x):
    keras_model, path, expected = saved(name, x)
    model = rc.load_keras(path)
    assert model.name == keras_model.name
    assert [layer.name for layer in model.layers] == [layer.name for layer in keras_model.layers]
    assert_close(model.predict(x), expected)


@pytest.mark.parametrize("name", list(STACKS))
def test_parameter_counts_and_summary_match_keras(name, saved, x):
    keras_model, path, _ = saved(name, x)
    total = keras_model.count_params()
    lines: list[str] = []
    for model in (from_keras(keras_model), load_keras(path)):
        assert model.count_params() == total
        model.summary(print_fn=lines.append)
        assert f"{total:,}" in lines[-1]


def test_load_keras_never_imports_keras(saved, x, tmp_path):
    _, path, expected = saved("lstm_batchnorm", x)
    np.save(tmp_path / "x.npy", x)
    code = f"""
import sys, numpy as np, rnncast as rc
out = rc.load_keras({str(path)!r}).predict(np.load({str(tmp_path / "x.npy")!r}))
assert not {{"keras", "tensorflow"}} & set(sys.modules), "keras was imported"
np.save({str(tmp_path / "out.npy")!r}, out)
"""
    subprocess.run([sys.executable, "-c", code], check=True, capture_output=True)
    assert_close(np.load(tmp_path / "out.npy"), expected)


def test_from_keras_config_builds_fresh_model_with_keras_shapes(saved, x):
    keras_model, _, _ = saved("conv_lstm", x)
    model = from_keras_config({"class_name": "Sequential", "config": keras_model.get_config()})
    assert model.output_shape == keras_model.output_shape
    assert [tuple(w.shape) for layer in model.layers for w in layer.keras_weights()] == [
        tuple(w.shape) for w in keras_model.get_weights()
    ]


# -- what rnncast cannot honour ---------------------------------------------------
def test_unsupported_layer_is_named_with_supported_list():
    model = sequential(L.GaussianNoise(0.1, name="noise"), L.Dense(1))
    with pytest.raises(
        rc.ConfigError,
        match=r"'noise' is a GaussianNoise.*supported: LSTM, GRU, Dense",
    ):
        from_keras(model)


def test_lambda_in_file_is_refused_without_running_it(tmp_path):
    model = keras.Sequential([keras.Input((5, 1)), L.Lambda(lambda t: t * 2), L.Dense(1)])
    model.save(tmp_path / "lambda.keras")
    with pytest.raises(rc.ConfigError, match=r"lambda\.keras.*is a Lambda"):
        load_keras(tmp_path / "lambda.keras")


def test_stateful_rnn_is_refused():
    model = keras.Sequential(
        [keras.Input(batch_shape=(4, 10, 1)), L.LSTM(4, stateful=True, name="memory"), L.Dense(1)]
    )
    with pytest.raises(rc.ConfigError, match=r"'memory' \(LSTM\) sets stateful=True"):
        from_keras(model)


def test_return_state_is_refused():
    spec = {"class_name": "GRU", "config": {"name": "g", "units": 4, "return_state": True}}
    with pytest.raises(rc.ConfigError, match=r"'g' \(GRU\) sets return_state=True"):
        translate_layer(spec)


def test_batchnorm_on_other_axis_is_refused():
    model = sequential(L.BatchNormalization(axis=1, name="bn"), L.Flatten(), L.Dense(1))
    with pytest.raises(rc.ConfigError, match=r"'bn' \(BatchNormalization\).*axis=1"):
        from_keras(model)


def test_custom_backward_layer_is_refused():
    wrapper = L.Bidirectional(L.LSTM(4), backward_layer=L.LSTM(3, go_backwards=True), name="bi")
    with pytest.raises(rc.ConfigError, match=r"'bi' \(Bidirectional\) has a custom backward_layer"):
        from_keras(sequential(wrapper, L.Dense(1)))


def test_custom_activation_is_refused():
    def twice(t):
        return 2 * t

    with pytest.raises(rc.ConfigError, match=r"'odd' \(Dense\) has a custom activation"):
        from_keras(sequential(L.Flatten(), L.Dense(2, activation=twice, name="odd")))


def test_unknown_activation_name_is_refused():
    model = sequential(L.LSTM(4, recurrent_activation="celu", name="hs"))
    with pytest.raises(rc.ConfigError, match=r"'hs' \(LSTM\).*'celu'"):
        from_keras(model)


def test_functional_model_is_refused(tmp_path):
    inputs = keras.Input((TIMESTEPS, 1))
    model = keras.Model(inputs, L.Dense(1)(L.LSTM(4)(inputs)))
    with pytest.raises(rc.ConfigError, match=r"only Keras Sequential models.*Functional"):
        from_keras(model)
    model.save(tmp_path / "functional.keras")
    with pytest.raises(rc.ConfigError, match=r"functional\.keras.*Functional"):
        load_keras(tmp_path / "functional.keras")


def test_unbuilt_model_is_refused():
    with pytest.raises(rc.ConfigError, match="not built"):
        from_keras(keras.Sequential([L.Dense(1)]))


# -- broken files -------------------------------------------------------------------
def rewrite(source: Path, target: Path, **members: bytes | None) -> Path:
    """Copy a .keras zip, replacing (bytes) or dropping (None) members."""
    with zipfile.ZipFile(source) as old, zipfile.ZipFile(target, "w") as new:
        for name in old.namelist():
            key = name.replace(".", "_")
            if key not in members:
                new.writestr(name, old.read(name))
            elif members[key] is not None:
                new.writestr(name, members[key])
    return target


def test_missing_file(tmp_path):
    with pytest.raises(rc.ArtifactError, match=r"nothing\.keras: no such file"):
        load_keras(tmp_path / "nothing.keras")


def test_not_a_zip(tmp_path):
    path = tmp_path / "plain.keras"
    path.write_text("not a model")
    with pytest.raises(rc.ArtifactError, match=r"plain\.keras: not a readable \.keras \(zip\)"):
        load_keras(path)


@pytest.mark.parametrize("member", ["config_json", "model_weights_h5"])
def test_missing_member(member, saved, x, tmp_path):
    _, path, _ = saved("gru", x)
    broken = rewrite(path, tmp_path / "partial.keras", **{member: None})
    with pytest.raises(rc.ArtifactError, match=r"partial\.keras: the archive has no"):
        load_keras(broken)


def test_truncated_weights(saved, x, tmp_path):
    _, path, _ = saved("gru", x)
    with zipfile.ZipFile(path) as archive:
        weights = archive.read("model.weights.h5")
    broken = rewrite(path, tmp_path / "cut.keras", model_weights_h5=weights[: len(weights) // 2])
    with pytest.raises(rc.ArtifactError, match=r"cut\.keras: model\.weights\.h5 is corrupted"):
        load_keras(broken)


def test_corrupted_archive(saved, x, tmp_path):
    _, path, _ = saved("gru", x)
    data = bytearray(path.read_bytes())
    middle = len(data) // 2
    data[middle : middle + 64] = bytes(64)  # zero some bytes inside the stored weights
    broken = tmp_path / "damaged.keras"
    broken.write_bytes(bytes(data))
    with pytest.raises(rc.ArtifactError, match=r"damaged\.keras: .*(zip|corrupted)"):
        load_keras(broken)


def test_weights_not_matching_config(saved, x, tmp_path):
    _, path, _ = saved("gru", x)
    with zipfile.ZipFile(path) as archive:
        config = json.loads(archive.read("config.json"))
    layer = config["config"]["layers"][1]["config"]
    layer["units"] = 49
    name = re.escape(layer["name"])  # 'gru', or 'gru_3' when other tests made Keras GRUs first
    broken = rewrite(path, tmp_path / "mismatch.keras", config_json=json.dumps(config).encode())
    with pytest.raises(rc.ArtifactError, match=rf"mismatch\.keras: layer '{name}' .*shapes"):
        load_keras(broken)


def test_bad_config_json(saved, x, tmp_path):
    _, path, _ = saved("gru", x)
    broken = rewrite(path, tmp_path / "badjson.keras", config_json=b"{not json")
    with pytest.raises(rc.ArtifactError, match=r"badjson\.keras: config\.json is not valid JSON"):
        load_keras(broken)

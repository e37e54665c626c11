"""Sequential.export(format="onnx"): onnxruntime gives rnncast's predictions for every layer type.

Each case builds a small model, moves every weight away from its initial
value (BatchNormalization gets moving statistics far from 0 and 1), exports
it, and compares onnxruntime's outputs with ``model.predict`` on batches of
1, 3 and 17 windows (the batch axis is dynamic; the trace used 2).
Measured max abs differences are about 1e-7 (docs/export.md lists them per
case); the test allows 1e-5.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch

from rnncast import Sequential
from rnncast import layers as R
from rnncast.exceptions import ConfigError, ShapeError

ort = pytest.importorskip("onnxruntime")
pytest.importorskip("onnx")

from onnx_sessions import one_thread_session  # noqa: E402 - after the importorskips

ATOL = 1e-5
LOOKBACK, FEATURES = 12, 3
BATCHES = (1, 3, 17)

CASES = {
    "lstm": lambda: [R.LSTM(8), R.Dense(2)],
    "gru": lambda: [R.GRU(8), R.Dense(1)],
    "gru_reset_after_false": lambda: [R.GRU(6, reset_after=False), R.Dense(1)],
    "simple_rnn": lambda: [R.SimpleRNN(7), R.Dense(1)],
    "bidirectional_lstm": lambda: [R.Bidirectional(R.LSTM(5)), R.Dense(1)],
    "bidirectional_gru_concat_sum": lambda: [
        R.Bidirectional(R.GRU(4, return_sequences=True)),
        R.Bidirectional(R.GRU(3), merge_mode="sum"),
        R.Dense(1),
    ],
    "stacked_return_sequences": lambda: [
        R.LSTM(6, return_sequences=True),
        R.GRU(5, return_sequences=True),
        R.LSTM(4),
        R.Dense(3),
    ],
    "conv1d_pooling": lambda: [
        R.Conv1D(4, 3, activation="relu"),
        R.MaxPooling1D(2),
        R.Conv1D(3, 2, padding="same"),
        R.GlobalAveragePooling1D(),
        R.Dense(1),
    ],
    "conv1d_lstm": lambda: [R.Conv1D(5, 3, padding="causal"), R.LSTM(4), R.Dense(1)],
    "dense_flatten": lambda: [R.Flatten(), R.Dense(6, activation="relu"), R.Dense(1)],
    "dropout_inference": lambda: [
        R.LSTM(6, return_sequences=True, dropout=0.3),
        R.Dropout(0.5),
        R.LSTM(4),
        R.Dropout(0.2),
        R.Dense(1),
    ],
    "batch_normalization": lambda: [
        R.LSTM(6, return_sequences=True),
        R.BatchNormalization(),
        R.LSTM(4),
        R.BatchNormalization(),
        R.Dense(1),
    ],
    "layer_normalization": lambda: [R.GRU(6), R.LayerNormalization(), R.Dense(1)],
    "time_distributed": lambda: [
        R.TimeDistributed(R.Dense(4, activation="tanh")),
        R.LSTM(5),
        R.Dense(1),
    ],
    "lstm_loop_activation": lambda: [R.LSTM(5, activation="relu"), R.Dense(1)],
    "go_backwards": lambda: [R.GRU(5, go_backwards=True), R.Dense(1)],
    "input_reshape_repeat_activation": lambda: [
        R.Input(shape=(LOOKBACK, FEATURES)),
        R.Reshape((LOOKBACK // 2, FEATURES * 2)),
        R.Bidirectional(R.SimpleRNN(3), merge_mode="ave"),
        R.RepeatVector(2),
        R.Activation("relu"),
        R.Bidirectional(R.LSTM(2), merge_mode="mul"),
        R.Dense(1),
    ],
}


def random_model(name: str, seed: int = 0) -> Sequential:
    """The case's model with every weight moved to a random value."""
    model = Sequential(CASES[name](), seed=seed)
    model.build((None, LOOKBACK, FEATURES))
    rng = np.random.default_rng(seed)
    for layer in model.layers:
        weights = [w + rng.normal(0, 0.3, w.shape).astype(w.dtype) for w in layer.get_weights()]
        if isinstance(layer, R.BatchNormalization):  # gamma, beta, moving mean, moving variance
            weights[3] = rng.uniform(0.5, 2.0, weights[3].shape).astype(weights[3].dtype)
        layer.set_weights(weights)
    return model


def onnx_differences(model: Sequential, path) -> list[float]:
    session = one_thread_session(str(path))
    rng = np.random.default_rng(1)
    differences = []
    for batch in BATCHES:
        x = rng.normal(size=(batch, LOOKBACK, FEATURES)).astype(np.float32)
        (got,) = session.run(["outputs"], {"inputs": x})
        expected = model.predict(x)
        assert got.shape == expected.shape == (batch, *model.output_shape[1:])
        differences.append(float(np.abs(got - expected).max()))
    return differences


@pytest.mark.parametrize("name", CASES)
def test_onnxruntime_matches_predict(name, tmp_path):
    model = random_model(name)
    path = model.export(tmp_path / "model.onnx", verbose=False)
    differences = onnx_differences(model, path)
    assert max(differences) < ATOL, differences


def test_onnx_file_declares_a_dynamic_batch_axis_and_names(tmp_path):
    import onnx

    model = random_model("lstm")
    proto = onnx.load(str(model.export(tmp_path / "m.onnx", verbose=False)))

    def dims(value):
        return [d.dim_param or d.dim_value for d in value.type.tensor_type.shape.dim]

    assert [(v.name, dims(v)) for v in proto.graph.input] == [("inputs", ["batch", 12, 3])]
    assert [(v.name, dims(v)) for v in proto.graph.output] == [("outputs", ["batch", 2])]
    assert {p.key: p.value for p in proto.metadata_props}["layers"] == "LSTM,Dense"
    assert [o.version for o in proto.opset_import if o.domain in ("", "ai.onnx")] == [17]


def test_export_keeps_training_mode_and_weights(tmp_path):
    model = random_model("batch_normalization")
    before = [w.copy() for w in model.get_weights()]
    model.train()
    model.export(tmp_path / "m.onnx", verbose=False)
    assert model.training
    for old, new in zip(before, model.get_weights(), strict=True):
        np.testing.assert_array_equal(old, new)


def test_verbose_says_where_the_file_went(tmp_path, capsys):
    random_model("gru").export(tmp_path / "m.onnx")
    assert f"Saved artifact at '{tmp_path / 'm.onnx'}'." in capsys.readouterr().out


def test_unbuilt_model_needs_input_signature(tmp_path):
    model = Sequential([R.LSTM(4), R.Dense(1)], seed=0)
    with pytest.raises(ShapeError, match="input_signature"):
        model.export(tmp_path / "m.onnx", verbose=False)
    model.export(tmp_path / "m.onnx", verbose=False, input_signature=(None, 6, 2))
    session = one_thread_session(str(tmp_path / "m.onnx"))
    x = np.ones((4, 6, 2), dtype=np.float32)
    np.testing.assert_allclose(session.run(None, {"inputs": x})[0], model.predict(x), atol=ATOL)


def test_bad_format_and_stateful_models_are_config_errors(tmp_path):
    with pytest.raises(ConfigError, match="tf_saved_model"):
        random_model("lstm").export(tmp_path / "m", format="tf_saved_model")
    stateful = Sequential([R.Input(batch_shape=(4, 12, 3)), R.LSTM(4, stateful=True), R.Dense(1)])
    with pytest.raises(ConfigError, match="stateful"):
        stateful.export(tmp_path / "m.onnx", verbose=False)
    assert not (tmp_path / "m.onnx").exists()


def test_missing_onnx_package_says_what_to_install(tmp_path, monkeypatch):
    import sys

    monkeypatch.setitem(sys.modules, "onnx", None)  # import onnx raises ImportError
    with pytest.raises(ConfigError, match=r'pip install "rnncast\[onnx\]"'):
        random_model("lstm").export(tmp_path / "m.onnx", verbose=False)
    assert list(tmp_path.iterdir()) == []


@pytest.mark.slow  # torch.export's first use costs seconds
def test_torch_format_writes_an_exported_program(tmp_path):
    model = random_model("bidirectional_lstm")
    program = torch.export.load(model.export(tmp_path / "m.pt2", format="torch", verbose=False))
    x = np.random.default_rng(2).normal(size=(5, LOOKBACK, FEATURES)).astype(np.float32)
    with torch.no_grad():
        got = program.module()(torch.from_numpy(x)).numpy()
    np.testing.assert_allclose(got, model.predict(x), atol=ATOL)

import json

import numpy as np
import pytest
import torch

import rnncast as rc
from rnncast import Sequential
from rnncast.exceptions import ArtifactError, ConfigError, ShapeError
from rnncast.layers import GRU, LSTM, Bidirectional, Conv1D, Dense, Dropout, Flatten
from rnncast.utils import set_seed


def stack1(seed=None, **kwargs):
    return Sequential(
        [
            LSTM(50, return_sequences=True, input_shape=(60, 1)),
            LSTM(50),
            Dense(25, activation="relu"),
            Dense(1),
        ],
        seed=seed,
        **kwargs,
    )


def weights(model):
    return [p.detach().clone() for p in model.parameters()]


def test_auto_names_count_per_model():
    first, second = stack1(), stack1()
    assert [layer.name for layer in first.layers] == ["lstm", "lstm_1", "dense", "dense_1"]
    assert [layer.name for layer in second.layers] == ["lstm", "lstm_1", "dense", "dense_1"]
    named = Sequential([LSTM(4, name="encoder", input_shape=(3, 1)), Dense(1, name="head")])
    assert [layer.name for layer in named.layers] == ["encoder", "head"]


def test_duplicate_names_and_non_layers_are_errors():
    with pytest.raises(ConfigError, match="two layers are named 'x'"):
        Sequential([Dense(2, name="x"), Dense(1, name="x")])
    with pytest.raises(ConfigError, match=r"Sequential takes rnncast layers.*got Linear"):
        Sequential([torch.nn.Linear(2, 2)])
    layer = Dense(1)
    with pytest.raises(ConfigError, match="already in this model"):
        Sequential([layer, layer])


def test_builds_from_input_shape_from_build_or_lazily_from_data():
    assert stack1().built and stack1().output_shape == (None, 1)
    lazy = Sequential([LSTM(8), Dense(1)])
    assert not lazy.built
    with pytest.raises(ShapeError, match="known once the model is built"):
        lazy.count_params()
    assert lazy.predict(np.zeros((3, 10, 2))).shape == (3, 1)
    assert lazy.input_shape == (None, 10, 2)
    manual = Sequential([GRU(8), Dense(1)])
    manual.build((None, 10, 2))
    assert manual.count_params() == 3 * (2 * 8 + 8 * 8 + 16) + 9


def test_add_after_build_builds_the_new_layer():
    model = Sequential([LSTM(8, return_sequences=True, input_shape=(5, 1))])
    model.add(LSTM(4))
    model.add(Dense(1))
    assert model.output_shape == (None, 1) and model.layers[-1].built


def test_lstm_after_lstm_without_return_sequences_names_both_and_the_fix():
    with pytest.raises(ShapeError) as info:
        Sequential([LSTM(50, input_shape=(60, 1)), LSTM(50)])
    message = str(info.value)
    assert "layer 'lstm_1' (LSTM) expects 3-D input" in message
    assert "from 'lstm' (LSTM)" in message
    assert "Set return_sequences=True on 'lstm'" in message


def test_conv_kernel_longer_than_the_sequence():
    with pytest.raises(
        ShapeError,
        match=r"'conv1d' \(Conv1D\) has a kernel spanning 5 timesteps"
        r".*only 3.*padding='same'",
    ):
        Sequential([Conv1D(4, 5, input_shape=(3, 1))])


def test_flatten_needs_fixed_timesteps():
    with pytest.raises(ShapeError, match=r"'flatten' \(Flatten\) needs fixed sizes"):
        Sequential([LSTM(4, return_sequences=True, input_shape=(None, 1)), Flatten()])


def test_predict_checks_the_input_shape():
    model = stack1()
    with pytest.raises(ShapeError, match=r"expects input \(None, 60, 1\) but got \(4, 60, 2\)"):
        model.predict(np.zeros((4, 60, 2)))
    with pytest.raises(ShapeError, match="samples, timesteps, features"):
        model.predict([1, 2, 3])


def test_predict_is_batched_numpy_in_numpy_out_and_in_inference_mode():
    model = Sequential(
        [LSTM(8, return_sequences=True, input_shape=(12, 2)), Dropout(0.5), LSTM(8), Dense(1)],
        seed=3,
    )
    x = np.random.default_rng(0).normal(size=(70, 12, 2)).astype(np.float32)
    out = model.predict(x, batch_size=16)
    assert isinstance(out, np.ndarray) and out.dtype == np.float32 and out.shape == (70, 1)
    np.testing.assert_allclose(out, model.predict(x, batch_size=70), atol=1e-6)
    np.testing.assert_array_equal(out, model.predict(x))  # dropout off: deterministic
    assert model.training  # the mode is restored
    assert model.predict(x[:0]).shape == (0, 1)


def test_predict_accepts_multi_ticker_windows():
    from conftest import make_long

    X, _ = rc.data.Windowizer(lookback=10).fit_transform(make_long(n=40))
    model = Sequential([GRU(4), Dense(1)], seed=0)
    np.testing.assert_allclose(model.predict(X), model.predict(np.asarray(X)), atol=1e-6)


def test_seed_gives_identical_weights_and_different_seeds_differ():
    for a, b in zip(weights(stack1(seed=7)), weights(stack1(seed=7)), strict=True):
        assert torch.equal(a, b)
    assert not torch.equal(weights(stack1(seed=7))[0], weights(stack1(seed=8))[0])
    set_seed(5)
    first = weights(stack1())
    set_seed(5)
    assert all(torch.equal(a, b) for a, b in zip(first, weights(stack1()), strict=True))


def test_config_round_trips_through_json():
    model = Sequential(
        [
            Conv1D(8, 3, padding="causal", activation="relu", input_shape=(20, 2)),
            Bidirectional(LSTM(6, return_sequences=True, dropout=0.1), merge_mode="sum"),
            GRU(5, reset_after=False),
            Dropout(0.2),
            Dense(1),
        ],
        name="tutorial",
        seed=11,
    )
    config = json.loads(json.dumps(model.get_config()))
    clone = Sequential.from_config(config)
    assert clone.get_config() == model.get_config()
    assert [layer.name for layer in clone.layers] == [layer.name for layer in model.layers]
    x = np.random.default_rng(1).normal(size=(3, 20, 2))
    np.testing.assert_allclose(clone.predict(x), model.predict(x), atol=1e-6)  # same seed


def test_from_config_refuses_unknown_classes():
    with pytest.raises(ConfigError, match="unknown layer class 'PythonCode'"):
        Sequential.from_config({"layers": [{"class_name": "PythonCode", "config": {}}]})
    with pytest.raises(ArtifactError, match="a Lambda layer cannot be rebuilt from a config"):
        Sequential.from_config({"layers": [{"class_name": "Lambda", "config": {}}]})
    with pytest.raises(ConfigError, match="bad configuration for layer Dense"):
        Sequential.from_config({"layers": [{"class_name": "Dense", "config": {"unit": 3}}]})


def test_summary_matches_keras_layout():
    lines = []
    stack1().summary(print_fn=lines.append)
    text = lines[0]
    assert text.startswith('Model: "sequential"')
    for row in (
        "lstm (LSTM)",
        "(None, 60, 50)",
        "10,400",
        "lstm_1 (LSTM)",
        "20,200",
        "dense (Dense)",
        "(None, 25)",
        "1,275",
        "dense_1 (Dense)",
        "(None, 1)",
        "26",
    ):
        assert row in text
    assert " Total params: 31,901 (124.61 KB)" in text
    assert " Trainable params: 31,901 (124.61 KB)" in text
    assert " Non-trainable params: 0 (0.00 B)" in text


def test_summary_of_an_unbuilt_model(capsys):
    Sequential([LSTM(3), Dense(1)]).summary()
    assert "0 (unbuilt)" in capsys.readouterr().out


def test_same_numbers_as_a_hand_written_torch_stack():
    model = stack1(seed=0)
    lstm = torch.nn.LSTM(1, 50, num_layers=2, batch_first=True)
    head = torch.nn.Sequential(torch.nn.Linear(50, 25), torch.nn.ReLU(), torch.nn.Linear(25, 1))
    with torch.no_grad():
        for i, layer in enumerate(model.layers[:2]):
            for name in ("weight_ih", "weight_hh", "bias_ih", "bias_hh"):
                getattr(lstm, f"{name}_l{i}").copy_(getattr(layer.rnn, f"{name}_l0"))
        head[0].load_state_dict(model.layers[2].linear.state_dict())
        head[2].load_state_dict(model.layers[3].linear.state_dict())
    x = torch.randn(32, 60, 1)
    with torch.no_grad():
        expected = head(lstm(x)[0][:, -1])
        torch.testing.assert_close(model(x), expected, atol=1e-6, rtol=0)


def test_gradients_flow_to_every_trainable_weight():
    model = stack1(seed=1)
    model(torch.randn(4, 60, 1)).sum().backward()
    assert all(p.grad is not None and p.grad.abs().sum() > 0 for p in model.parameters())


def test_build_and_config_errors():
    with pytest.raises(
        ShapeError,
        match=r"build takes the input shape with its batch axis, "
        r"e\.g\. \(None, 60, 1\); got \(60,\)",
    ):
        Sequential([Dense(1)]).build((60,))
    with pytest.raises(ConfigError, match="the model has no layers"):
        Sequential().build((None, 60, 1))
    with pytest.raises(ConfigError, match="a Sequential config is a dict with a 'layers' list"):
        Sequential.from_config([Dense(1)])


def test_predict_with_dropout_on_is_monte_carlo_dropout():
    from rnncast.layers import BatchNormalization

    model = Sequential(
        [
            LSTM(8, return_sequences=True, input_shape=(12, 2)),
            BatchNormalization(),
            Dropout(0.5),
            LSTM(8),
            Dense(1),
        ],
        seed=3,
    )
    assert [layer.name for layer in model.dropout_layers()] == ["dropout"]
    x = np.random.default_rng(0).normal(size=(16, 12, 2)).astype(np.float32)
    moving = model.layers[1].moving_mean.clone()
    torch.manual_seed(0)
    draws = [model.predict(x, dropout=True) for _ in range(2)]
    assert not np.array_equal(draws[0], draws[1])  # a new mask each call
    assert torch.equal(model.layers[1].moving_mean, moving)  # BatchNormalization stays in inference
    np.testing.assert_array_equal(model.predict(x), model.predict(x))
    assert model.training

import numpy as np
import pytest
import torch

from rnncast import Sequential
from rnncast.exceptions import ArtifactError, ConfigError
from rnncast.layers import (
    GRU,
    LSTM,
    BatchNormalization,
    Bidirectional,
    Conv1D,
    Dense,
    Dropout,
    Flatten,
    MaxPooling1D,
    activations,
    initializers,
)


def sigmoid(x):
    return 1 / (1 + np.exp(-x))


def built(layer, shape, seed=0):
    layer.build(shape, torch.Generator().manual_seed(seed))
    return layer


def run(layer, x, training=False):
    layer.train(training)
    with torch.no_grad():
        return layer(torch.as_tensor(x, dtype=torch.float32)).numpy()


@pytest.fixture
def rng():
    return np.random.default_rng(0)


# ------------------------------------------------------------------ LSTM / GRU
def test_lstm_step_by_hand_guards_the_gate_order(rng):
    """Keras's LSTM equations written out, with Keras's weight layout (gates i, f, c, o)."""
    layer = built(LSTM(3, return_sequences=True), (2, 4))
    kernel, recurrent, bias = (rng.uniform(-0.5, 0.5, w.shape) for w in layer.keras_weights())
    layer.set_keras_weights([kernel, recurrent, bias])
    x = rng.normal(size=(1, 2, 4))
    h, c = np.zeros(3), np.zeros(3)
    expected = []
    for t in range(2):
        z = x[0, t] @ kernel + h @ recurrent + bias
        i, f, g, o = np.split(z, 4)
        c = sigmoid(f) * c + sigmoid(i) * np.tanh(g)
        h = sigmoid(o) * np.tanh(c)
        expected.append(h)
    np.testing.assert_allclose(run(layer, x)[0], expected, atol=1e-6)


def test_gru_step_by_hand_with_keras_gate_order(rng):
    """Keras's GRU (reset_after=True): gates stored as z, r, h; two bias rows."""
    layer = built(GRU(3), (1, 4))
    kernel, recurrent, bias = (rng.uniform(-0.5, 0.5, w.shape) for w in layer.keras_weights())
    layer.set_keras_weights([kernel, recurrent, bias])
    x = rng.normal(size=(1, 1, 4))
    h = np.zeros(3)
    x_z, x_r, x_h = np.split(x[0, 0] @ kernel + bias[0], 3)
    r_z, r_r, r_h = np.split(h @ recurrent + bias[1], 3)
    z, r = sigmoid(x_z + r_z), sigmoid(x_r + r_r)
    expected = z * h + (1 - z) * np.tanh(x_h + r * r_h)
    np.testing.assert_allclose(run(layer, x)[0], expected, atol=1e-6)


@pytest.mark.parametrize("cls", [LSTM, GRU])
def test_keras_weights_round_trip(cls, rng):
    layer = built(cls(5), (7, 3))
    weights = [rng.normal(size=w.shape).astype(np.float32) for w in layer.keras_weights()]
    layer.set_keras_weights(weights)
    for got, want in zip(layer.keras_weights(), weights, strict=True):
        np.testing.assert_array_equal(got, want)


@pytest.mark.parametrize("cls", [LSTM, GRU])
def test_fused_kernel_equals_the_timestep_loop(cls, rng):
    layer = built(cls(6, return_sequences=True), (9, 2))
    assert layer.fused
    x = torch.as_tensor(rng.normal(size=(4, 9, 2)), dtype=torch.float32)
    with torch.no_grad():
        torch.testing.assert_close(layer(x), layer._loop(x)[0], atol=1e-6, rtol=0)
        start = [torch.randn(4, 6) for _ in range(layer.state_count)]  # a given start state
        layer.return_state = True
        fused_out, *fused_states = layer(x, initial_state=start)
        loop_out, loop_states = layer._loop(x, start)
        torch.testing.assert_close(fused_out, loop_out, atol=1e-6, rtol=0)
        torch.testing.assert_close(fused_states, loop_states, atol=1e-6, rtol=0)


def test_non_default_activation_uses_the_loop(rng):
    layer = built(LSTM(4, activation="relu"), (5, 2))
    assert not layer.fused
    calls = []
    layer.rnn.register_forward_hook(lambda *args: calls.append(1))
    run(layer, rng.normal(size=(2, 5, 2)))
    assert calls == []  # the fused nn.LSTM was not used


def test_gru_reset_after_false_has_one_bias_and_loops():
    layer = built(GRU(4, reset_after=False), (5, 2))
    assert not layer.fused
    assert [w.shape for w in layer.keras_weights()] == [(2, 12), (4, 12), (12,)]
    assert layer.param_counts() == (3 * (2 * 4 + 4 * 4 + 4), 0)


def test_keras_parameter_counts():
    assert built(LSTM(50), (60, 1)).param_counts() == (10_400, 0)
    assert built(LSTM(50), (60, 50)).param_counts() == (20_200, 0)
    assert built(GRU(50), (60, 1)).param_counts() == (7_950, 0)
    assert built(LSTM(8, use_bias=False), (3, 2)).param_counts() == (4 * 8 * 10, 0)
    assert built(Bidirectional(LSTM(50)), (60, 1)).param_counts() == (20_800, 0)
    assert built(Conv1D(64, 3), (60, 1)).param_counts() == (256, 0)
    assert built(BatchNormalization(), (60, 50)).param_counts() == (100, 100)


def test_lstm_bias_starts_with_forget_gate_ones():
    bias = built(LSTM(3), (2, 1)).keras_weights()[2]
    assert bias.tolist() == [0, 0, 0, 1, 1, 1, 0, 0, 0, 0, 0, 0]
    assert built(LSTM(3, unit_forget_bias=False), (2, 1)).keras_weights()[2].sum() == 0


def test_second_lstm_bias_is_a_zero_buffer_that_stays_zero():
    layer = built(LSTM(8), (5, 3))
    names = [name for name, _ in layer.named_parameters()]
    assert "rnn.bias_hh_l0" not in names and "rnn.bias_ih_l0" in names
    optimizer = torch.optim.AdamW(layer.parameters(), lr=0.1)
    for _ in range(3):
        optimizer.zero_grad()
        layer(torch.randn(4, 5, 3)).pow(2).sum().backward()
        optimizer.step()
    layer.rnn.reset_parameters()
    assert torch.count_nonzero(layer.rnn.bias_hh_l0) == 0
    assert layer.param_counts() == (4 * 8 * (3 + 8 + 1), 0)


def test_input_dropout_mask_is_the_same_at_every_timestep():
    layer = built(LSTM(4, dropout=0.5), (6, 10))
    seen = []
    layer.rnn.register_forward_pre_hook(lambda module, args: seen.append(args[0].clone()))
    x = torch.ones(3, 6, 10)
    layer.train()
    layer(x)
    masked = seen[0]
    assert set(masked.unique().tolist()) <= {0.0, 2.0}
    assert torch.equal(masked, masked[:, :1].expand_as(masked))  # same mask for all timesteps
    assert not torch.equal(masked[0], masked[1])  # one mask per sample
    layer.eval()
    layer(x)
    assert torch.equal(seen[1], x)  # no dropout in inference


def test_recurrent_dropout_only_in_training(rng):
    layer = built(LSTM(4, recurrent_dropout=0.3), (5, 2))
    x = rng.normal(size=(2, 5, 2))
    assert not layer.fused
    np.testing.assert_array_equal(run(layer, x), run(layer, x))
    torch.manual_seed(0)
    assert not np.array_equal(run(layer, x, training=True), run(layer, x))


def test_go_backwards_returns_the_reversed_pass(rng):
    forward = built(LSTM(3, return_sequences=True), (5, 2))
    backward = built(LSTM(3, return_sequences=True, go_backwards=True), (5, 2))
    backward.set_keras_weights(forward.keras_weights())
    x = rng.normal(size=(2, 5, 2))
    np.testing.assert_allclose(run(backward, x), run(forward, x[:, ::-1].copy()), atol=1e-6)


# --------------------------------------------------------------- Bidirectional
@pytest.mark.parametrize("merge_mode", ["concat", "sum", "mul", "ave"])
def test_bidirectional_merges_final_states(merge_mode, rng):
    layer = built(Bidirectional(LSTM(3), merge_mode=merge_mode), (6, 2))
    x = rng.normal(size=(2, 6, 2))
    ahead = run(layer.forward_layer, x)
    behind = run(layer.backward_layer, x)  # final state after reading the sequence backwards
    merged = {
        "concat": np.concatenate([ahead, behind], axis=-1),
        "sum": ahead + behind,
        "mul": ahead * behind,
        "ave": (ahead + behind) / 2,
    }[merge_mode]
    np.testing.assert_allclose(run(layer, x), merged, atol=1e-6)


def test_bidirectional_sequences_are_aligned_in_time(rng):
    layer = built(Bidirectional(GRU(3, return_sequences=True)), (6, 2))
    x = rng.normal(size=(2, 6, 2))
    out = run(layer, x)
    behind = run(layer.backward_layer, x)  # in processing (reversed) order
    np.testing.assert_allclose(out[:, :, 3:], behind[:, ::-1], atol=1e-6)
    np.testing.assert_allclose(out[:, 0, 3:], behind[:, -1], atol=1e-6)  # saw all 6 steps


def test_bidirectional_needs_a_recurrent_layer():
    with pytest.raises(
        ConfigError, match=r"Bidirectional's layer must be a recurrent layer.*got Dense"
    ):
        Bidirectional(Dense(3))
    with pytest.raises(ConfigError, match="merge_mode='max' is not supported"):
        Bidirectional(LSTM(3), merge_mode="max")


# ---------------------------------------------------------------- other layers
def test_dense_is_linear_by_default_and_acts_on_the_last_axis(rng):
    layer = built(Dense(2), (5, 3))
    kernel, bias = rng.normal(size=(3, 2)), rng.normal(size=2)
    layer.set_keras_weights([kernel, bias])
    x = rng.normal(size=(4, 5, 3))
    np.testing.assert_allclose(run(layer, x), x @ kernel + bias, atol=1e-5)
    assert layer.compute_output_shape((5, 3)) == (5, 2)


def test_batch_normalization_keras_semantics(rng):
    layer = built(BatchNormalization(), (4, 3))
    x = rng.normal(2.0, 0.1, size=(8, 4, 3))
    out = run(layer, x, training=True)
    flat = x.reshape(-1, 3)
    mean, variance = flat.mean(0), flat.var(0)  # biased variance, as Keras
    np.testing.assert_allclose(out, (x - mean) / np.sqrt(variance + 1e-3), atol=1e-4)
    np.testing.assert_allclose(layer.moving_mean.numpy(), 0.01 * mean, rtol=1e-5)
    np.testing.assert_allclose(layer.moving_variance.numpy(), 0.99 + 0.01 * variance, rtol=1e-6)
    gamma, beta = rng.normal(size=3), rng.normal(size=3)
    moving_mean, moving_var = rng.normal(size=3), rng.uniform(0.005, 0.02, size=3)
    layer.set_keras_weights([gamma, beta, moving_mean, moving_var])
    expected = (x - moving_mean) / np.sqrt(moving_var + 1e-3) * gamma + beta  # epsilon 1e-3
    np.testing.assert_allclose(run(layer, x), expected, rtol=1e-4)


def test_batch_normalization_only_last_axis():
    with pytest.raises(ConfigError, match=r"axis=1.*channels-last"):
        BatchNormalization(axis=1)


def test_dropout_layer(rng):
    layer = Dropout(0.25)
    x = np.ones((200, 50))
    np.testing.assert_array_equal(run(layer, x), x)
    dropped = run(layer, x, training=True)
    assert set(np.unique(dropped)) == {0.0, np.float32(1 / 0.75)}
    assert abs((dropped == 0).mean() - 0.25) < 0.02
    with pytest.raises(ConfigError, match=r"Dropout rate must be in \[0, 1\), got 1.5"):
        Dropout(1.5)


def conv_by_hand(x, kernel, bias, stride=1, dilation=1, left=0, right=0):
    x = np.pad(x, ((0, 0), (left, right), (0, 0)))
    span = dilation * (kernel.shape[0] - 1) + 1
    steps = (x.shape[1] - span) // stride + 1
    out = np.zeros((x.shape[0], steps, kernel.shape[2]))
    for t in range(steps):
        taps = x[:, t * stride : t * stride + span : dilation]  # (batch, k, in)
        out[:, t] = np.einsum("bki,kio->bo", taps, kernel) + bias
    return out


@pytest.mark.parametrize(
    ("padding", "kwargs", "pads"),
    [
        ("valid", {}, (0, 0)),
        ("causal", {"dilation_rate": 2}, (4, 0)),
        ("same", {"strides": 2}, (1, 2)),  # 9 steps, kernel 4, stride 2: Keras pads 1 left, 2 right
    ],
)
def test_conv1d_paddings_by_hand(padding, kwargs, pads, rng):
    layer = built(Conv1D(2, 4 if padding == "same" else 3, padding=padding, **kwargs), (9, 3))
    kernel, bias = rng.normal(size=layer.keras_weights()[0].shape), rng.normal(size=2)
    layer.set_keras_weights([kernel, bias])
    x = rng.normal(size=(2, 9, 3))
    expected = conv_by_hand(
        x, kernel, bias, kwargs.get("strides", 1), kwargs.get("dilation_rate", 1), *pads
    )
    out = run(layer, x)
    np.testing.assert_allclose(out, expected, atol=1e-5)
    assert out.shape[1:] == layer.compute_output_shape((9, 3))


def test_causal_conv_never_sees_the_future(rng):
    layer = built(Conv1D(1, 3, padding="causal"), (8, 1))
    x = rng.normal(size=(1, 8, 1))
    changed = x.copy()
    changed[0, 5:] += 10
    np.testing.assert_array_equal(run(layer, x)[0, :5], run(layer, changed)[0, :5])


def test_max_pooling(rng):
    x = np.arange(10.0).reshape(1, 5, 2)
    assert run(MaxPooling1D(2), x).tolist() == [[[2, 3], [6, 7]]]
    assert run(MaxPooling1D(2, padding="same"), x).tolist() == [[[2, 3], [6, 7], [8, 9]]]
    assert MaxPooling1D(2, padding="same").compute_output_shape((5, 2)) == (3, 2)


def test_flatten():
    x = np.arange(12.0).reshape(2, 3, 2)
    np.testing.assert_array_equal(run(Flatten(), x), x.reshape(2, 6))


def test_set_keras_weights_checks_shapes():
    layer = built(Dense(3), (4,))
    with pytest.raises(ArtifactError, match=r"needs weights of shapes \[\(4, 3\), \(3,\)\]"):
        layer.set_keras_weights([np.zeros((3, 4)), np.zeros(3)])


# ----------------------------------------------------- activations, initializers
def test_activations_by_name():
    x = torch.linspace(-3, 3, 13)
    torch.testing.assert_close(activations.get("swish")(x), x * torch.sigmoid(x))
    torch.testing.assert_close(activations.get("gelu")(x), 0.5 * x * (1 + torch.erf(x / 2**0.5)))
    torch.testing.assert_close(activations.get(None)(x), x)
    with pytest.raises(ConfigError, match=r"unknown activation 'leaky'; use one of elu, expon"):
        Dense(3, activation="leaky")


def test_glorot_uniform_and_orthogonal():
    kernel = initializers.initialize("glorot_uniform", (60, 200), torch.Generator().manual_seed(1))
    limit = (6 / 260) ** 0.5
    assert kernel.abs().max() <= limit and kernel.abs().max() > 0.95 * limit
    q = initializers.initialize("orthogonal", (50, 200), torch.Generator().manual_seed(1))
    torch.testing.assert_close(q @ q.T, torch.eye(50), atol=1e-5, rtol=0)
    with pytest.raises(ConfigError, match="unknown initializer 'xavier'"):
        LSTM(3, kernel_initializer="xavier")


def test_bad_layer_arguments():
    with pytest.raises(ConfigError, match="units must be a positive integer, got 0"):
        LSTM(0)
    with pytest.raises(ConfigError, match=r"dropout must be in \[0, 1\)"):
        GRU(3, dropout=1.0)
    with pytest.raises(ConfigError, match="padding='full' is not supported"):
        Conv1D(3, 2, padding="full")
    with pytest.raises(ConfigError, match="input_shape"):
        Sequential([Dense(3, input_shape="sixty")])

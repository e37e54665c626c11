"""Mixed precision: Keras's policy API, bfloat16 autocast on the CPU, the float16 loss scaler."""

from __future__ import annotations

import os

import numpy as np
import pytest
import torch

import rnncast as rc
from rnncast import mixed_precision
from rnncast.exceptions import ConfigError
from rnncast.layers import LSTM, Dense
from rnncast.models import devices
from rnncast.optimizers import SGD, Adam


@pytest.fixture(autouse=True)
def float32_policy():
    yield
    mixed_precision.set_global_policy("float32")


def lstm_model(**compile_kwargs) -> rc.Sequential:
    model = rc.Sequential([LSTM(8, input_shape=(6, 2)), Dense(1)], seed=0)
    model.compile(optimizer=Adam(learning_rate=1e-2), loss="mse", device="cpu", **compile_kwargs)
    return model


def data(n: int = 64) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(1)
    x = rng.normal(size=(n, 6, 2)).astype(np.float32)
    return x, (x[:, -1, :1] * 0.5 + 0.1).astype(np.float32)


# ------------------------------------------------------------------ the policy API
def test_policies_match_keras():
    os.environ.setdefault("KERAS_BACKEND", "torch")
    keras = pytest.importorskip("keras")
    for name in ("float32", "mixed_bfloat16", "mixed_float16"):
        ours, theirs = mixed_precision.Policy(name), keras.mixed_precision.Policy(name)
        assert (ours.name, ours.compute_dtype, ours.variable_dtype) == (
            theirs.name,
            theirs.compute_dtype,
            theirs.variable_dtype,
        )
    assert mixed_precision.global_policy().name == keras.mixed_precision.global_policy().name


def test_set_global_policy_and_aliases():
    assert mixed_precision.global_policy() == mixed_precision.DTypePolicy("float32")
    mixed_precision.set_global_policy("mixed_bfloat16")
    assert mixed_precision.dtype_policy().name == "mixed_bfloat16"
    mixed_precision.set_dtype_policy(mixed_precision.Policy("float32"))
    assert repr(mixed_precision.global_policy()) == '<DTypePolicy "float32">'
    with pytest.raises(ConfigError, match=r"dtype policy 'float16' is not supported"):
        mixed_precision.set_global_policy("float16")
    with pytest.raises(ConfigError, match="set_global_policy takes a policy name"):
        mixed_precision.set_global_policy(16)


def test_compile_rejects_unknown_precision_and_float16_on_the_cpu():
    with pytest.raises(ConfigError, match=r"mixed_precision='int8' is not supported; use 'bf16'"):
        lstm_model(mixed_precision="int8")
    with pytest.raises(ConfigError, match=r"float16\) needs a CUDA GPU; on the CPU use"):
        lstm_model(mixed_precision="fp16")


# ------------------------------------------------------------------ bfloat16 on the CPU
def test_bf16_training_on_cpu_is_close_to_float32_and_keeps_float32_weights():
    x, y = data()
    plain, mixed = lstm_model(), lstm_model(mixed_precision="bf16")
    assert mixed._precision is not None and mixed._precision.dtype == torch.bfloat16
    h32 = plain.fit(x, y, epochs=3, batch_size=16, shuffle=False, verbose=0).history["loss"]
    h16 = mixed.fit(x, y, epochs=3, batch_size=16, shuffle=False, verbose=0).history["loss"]
    np.testing.assert_allclose(h16, h32, rtol=5e-2)
    assert h16 != h32  # autocast really ran in bfloat16
    assert {p.dtype for p in mixed.parameters()} == {torch.float32}
    assert {t.dtype for v in mixed.optimizer.slots.values() for t in v} == {torch.float32}
    prediction = mixed.predict(x)
    assert prediction.dtype == np.float32
    np.testing.assert_allclose(prediction, plain.predict(x), atol=5e-2)


def test_global_policy_is_read_at_compile_and_float32_overrides_it():
    mixed_precision.set_global_policy("mixed_bfloat16")
    assert lstm_model()._precision.dtype == torch.bfloat16
    assert lstm_model(mixed_precision="float32")._precision is None
    mixed_precision.set_global_policy("float32")
    assert lstm_model()._precision is None


# ------------------------------------------------------------------ the float16 loss scaler
def test_grad_scaler_steps_rnncast_optimizers_like_unscaled_ones():
    def step(scaler: torch.amp.GradScaler | None, grad_scale: float = 1.0) -> torch.Tensor:
        weight = torch.nn.Parameter(torch.tensor([1.0, -2.0]))
        optimizer = SGD(learning_rate=0.1, momentum=0.9)
        optimizer.build([weight])
        loss = (weight**2).sum() * grad_scale
        if scaler is None:
            loss.backward()
            optimizer.step()
        else:
            scaler.scale(loss).backward()
            scaler.step(optimizer)
            scaler.update()
        return weight.detach(), optimizer.iterations

    plain, plain_steps = step(None)
    scaled, scaled_steps = step(torch.amp.GradScaler("cpu", init_scale=2.0**16))
    torch.testing.assert_close(scaled, plain, rtol=0, atol=0)  # power-of-two scale: exact
    assert plain_steps == scaled_steps == 1
    scaler = torch.amp.GradScaler("cpu", init_scale=2.0**16)
    overflowed, steps = step(scaler, grad_scale=float("inf"))
    torch.testing.assert_close(overflowed, torch.tensor([1.0, -2.0]))  # step skipped
    assert steps == 0 and scaler.get_scale() == 2.0**15


def test_float16_training_goes_through_the_scaler(monkeypatch):
    # PyTorch's CPU LSTM has no float16 kernel, but Dense does: exercise the scaler path here.
    rng = np.random.default_rng(2)
    x = rng.normal(size=(64, 4)).astype(np.float32)
    y = x @ np.array([[0.5], [-1.0], [0.2], [0.0]], dtype=np.float32)

    def model(precision: str | None) -> rc.Sequential:
        m = rc.Sequential([Dense(8, activation="tanh", input_shape=(4,)), Dense(1)], seed=0)
        m.compile(optimizer=Adam(learning_rate=1e-2), loss="mse", device="cpu")
        if precision:
            policy = mixed_precision.Policy(precision)
            m._precision = devices.Precision(policy, torch.device("cpu"), scale_loss=True)
        return m

    plain, mixed = model(None), model("mixed_float16")
    scaled = []
    real_scale = mixed._precision.scaler.scale
    monkeypatch.setattr(
        mixed._precision.scaler, "scale", lambda loss: scaled.append(1) or real_scale(loss)
    )
    h32 = plain.fit(x, y, epochs=3, batch_size=16, shuffle=False, verbose=0).history["loss"]
    h16 = mixed.fit(x, y, epochs=3, batch_size=16, shuffle=False, verbose=0).history["loss"]
    assert len(scaled) == 12  # every batch's loss went through the scaler
    assert {p.dtype for p in mixed.parameters()} == {torch.float32}
    # A step whose float16 gradients overflowed is skipped and halves the scale (2**15 first,
    # Keras's LossScaleOptimizer's initial scale); every other step updates the weights.
    skipped = 12 - mixed.optimizer.iterations
    assert mixed._precision.scaler.get_scale() == 2.0 ** (15 - skipped)
    assert skipped < 12 and h16[-1] < h16[0]
    np.testing.assert_allclose(h16[0], h32[0], rtol=0.1)

"""Devices: names, moves of weights/slots/batches, device-free artifacts (CPU; CUDA tests skip)."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch

import rnncast as rc
from rnncast.exceptions import ConfigError
from rnncast.layers import GRU, LSTM, Dense
from rnncast.models import batches, devices
from rnncast.optimizers import SGD, Adam

CUDA = torch.cuda.is_available()
needs_cuda = pytest.mark.skipif(not CUDA, reason="needs a CUDA GPU (runs in gpu_check.py)")


def tiny(seed: int = 0, device: str | None = None) -> rc.Sequential:
    model = rc.Sequential([LSTM(4, input_shape=(5, 2)), Dense(1)], seed=seed)
    kwargs = {} if device is None else {"device": device}
    model.compile(optimizer=Adam(learning_rate=1e-2), loss="mse", **kwargs)
    return model


def data(n: int = 24) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(0)
    return rng.normal(size=(n, 5, 2)).astype(np.float32), rng.normal(size=(n, 1)).astype(np.float32)


# ------------------------------------------------------------------ names
def test_auto_picks_cuda_then_mps_then_cpu():
    expected = "cuda" if CUDA else "mps" if devices._mps_available() else "cpu"
    assert devices.resolve_device("auto").type == expected
    assert devices.resolve_device(None).type == expected
    assert devices.resolve_device("cpu") == torch.device("cpu")
    assert devices.resolve_device(torch.device("cpu")) == torch.device("cpu")


@pytest.mark.parametrize("bad", ["gpu", "cuda:x", "CPU", "tpu", 3, ""])
def test_bad_device_names_the_value_and_the_choices(bad):
    with pytest.raises(ConfigError, match=r"device=.* is not a device; use one of auto, cpu, cuda"):
        devices.resolve_device(bad)
    model = rc.Sequential([Dense(1, input_shape=(3,))])
    with pytest.raises(ConfigError, match="is not a device"):
        model.compile(loss="mse", device=bad)


@pytest.mark.skipif(CUDA, reason="checks the error of a machine without CUDA")
@pytest.mark.parametrize("name", ["cuda", "cuda:1"])
def test_cuda_without_cuda_says_so_and_suggests_auto_or_cpu(name):
    with pytest.raises(ConfigError, match=r"CUDA is not available.*device='auto'.*device='cpu'"):
        devices.resolve_device(name)
    with pytest.raises(ConfigError, match="CUDA is not available"):
        rc.Forecaster([LSTM(4), Dense(1)], lookback=5, device=name)


@pytest.mark.skipif(devices._mps_available(), reason="checks the error without Apple MPS")
def test_mps_without_mps_is_a_config_error():
    with pytest.raises(ConfigError, match="no Apple MPS device"):
        devices.resolve_device("mps")


# ------------------------------------------------------------------ CPU is untouched
def test_cpu_batches_are_passed_through_without_copies():
    batch = (torch.ones(2, 3), torch.zeros(2, 1), None)
    moved = devices.to_device(batch, torch.device("cpu"))
    assert moved is batch
    assert devices.to_device(batch, None) is batch
    assert not devices.pins_memory(torch.device("cpu")) and devices.pins_memory(
        torch.device("cuda")
    )


def test_default_compile_is_the_cpu_here_and_trains_as_device_cpu():
    x, y = data()
    default, explicit = tiny(), tiny(device="cpu")
    expected = "cuda" if CUDA else "mps" if devices._mps_available() else "cpu"
    assert default._device.type == expected and explicit._device.type == "cpu"
    if expected != "cpu":
        pytest.skip("the default device here is not the CPU")
    h1 = default.fit(x, y, epochs=2, batch_size=8, verbose=0).history["loss"]
    h2 = explicit.fit(x, y, epochs=2, batch_size=8, verbose=0).history["loss"]
    assert h1 == h2
    for a, b in zip(default.get_weights(), explicit.get_weights(), strict=True):
        np.testing.assert_array_equal(a, b)


# ------------------------------------------------------------------ moving (meta device)
def test_move_model_moves_weights_buffers_slots_and_reflattens_rnns(monkeypatch):
    model = rc.Sequential(
        [LSTM(4, return_sequences=True, input_shape=(5, 2)), GRU(3), Dense(1)], seed=0
    )
    model.compile(optimizer=Adam(), loss="mse", device="cpu")
    model.fit(*data(8), epochs=1, verbose=0)  # builds the optimizer's slots
    flattened = []
    monkeypatch.setattr(
        torch.nn.RNNBase, "flatten_parameters", lambda self: flattened.append(type(self).__name__)
    )
    meta = torch.device("meta")  # a real second device on a CPU-only machine
    devices.move_model(model, meta)
    assert {t.device.type for t in (*model.parameters(), *model.buffers())} == {"meta"}
    assert model.layers[0].rnn.bias_hh_l0.device == meta  # Keras bias layout's zero buffer
    slots = [t for values in model.optimizer.slots.values() for t in values]
    assert slots and {t.device for t in slots} == {meta}
    assert model._device == meta
    assert sorted(flattened).count("LSTM") >= 1 and "GRU" in flattened


def test_torch_to_moves_optimizer_slots_and_later_batches():
    model = tiny(device="cpu")
    model.fit(*data(8), epochs=1, verbose=0)
    model.to("meta")
    assert model._device == torch.device("meta")
    assert {t.device.type for v in model.optimizer.slots.values() for t in v} == {"meta"}
    x, y, w = devices.to_device((torch.ones(2, 5, 2), torch.ones(2, 1), None), model._device)
    assert x.device.type == y.device.type == "meta" and w is None


def test_lazily_built_layers_follow_the_compiled_device(monkeypatch):
    monkeypatch.setattr(devices, "resolve_device", lambda device: torch.device("meta"))
    from rnncast.models import trainer

    monkeypatch.setattr(trainer, "resolve_device", lambda device: torch.device("meta"))
    model = rc.Sequential([LSTM(4), Dense(1)], seed=0)  # no input shape: built by the data
    model.compile(optimizer="adam", loss="mse", device="cuda")
    model.build((None, 5, 2))
    assert {p.device.type for p in model.parameters()} == {"meta"}


# ------------------------------------------------------------------ pinned batches
def test_pinned_batches_equal_plain_ones(monkeypatch):
    real_empty = torch.empty
    pinned_calls = []

    def fake_empty(*shape, pin_memory=False, **kwargs):  # CPU-only torch cannot pin
        pinned_calls.append(pin_memory)
        return real_empty(*shape, **kwargs)

    x, y = data(10)
    weights = np.arange(10, dtype=np.float32)
    model = tiny(device="cpu")
    iterator = model._epoch_iterator(x, y, weights, None, 4, True, None, ("x", "y"))
    feed = iterator.feed
    plain = list(feed.new_pass(torch.Generator().manual_seed(1)))
    monkeypatch.setattr(batches.torch, "empty", fake_empty)
    feed.pin_memory = True
    pinned = list(feed.new_pass(torch.Generator().manual_seed(1)))
    assert pinned_calls and all(pinned_calls)
    assert len(plain) == len(pinned) == 3
    for a, b in zip(plain, pinned, strict=True):
        for left, right in zip(a, b, strict=True):
            torch.testing.assert_close(left, right, rtol=0, atol=0)
    slice_batch = batches.pinned(feed.data.rows, slice(2, 5))
    torch.testing.assert_close(slice_batch, feed.data.rows[2:5], rtol=0, atol=0)
    first, rest = feed.split(6)
    assert first.pin_memory and rest.pin_memory


def test_cpu_fit_never_pins():
    model = tiny(device="cpu")
    iterator = model._epoch_iterator(*data(8), None, None, 4, False, None, ("x", "y"))
    assert iterator.feed.pin_memory is False


# ------------------------------------------------------------------ artifacts
def test_artifact_records_no_device_and_loads_onto_a_requested_device(tmp_path):
    x, y = data()
    model = tiny(device="cpu")
    model.fit(x, y, epochs=1, batch_size=8, verbose=0)
    model.save(tmp_path / "m")
    text = (tmp_path / "m" / "config.json").read_text()
    assert "device" not in text and '"cpu"' not in text and "cuda" not in text
    json.loads(text)
    loaded = rc.load(tmp_path / "m", device="cpu")
    assert loaded._device == torch.device("cpu")
    np.testing.assert_allclose(loaded.predict(x), model.predict(x), rtol=0, atol=1e-6)
    again = rc.load_model(tmp_path / "m")
    again.compile(optimizer=Adam(learning_rate=1e-2), loss="mse", device="cpu")
    np.testing.assert_allclose(again.predict(x), model.predict(x), rtol=0, atol=1e-6)
    history = again.fit(x, y, epochs=1, batch_size=8, verbose=0)
    assert np.isfinite(history.history["loss"][0])


def test_forecaster_device_is_not_saved_and_load_takes_one(tmp_path):
    prices = rc.datasets.load_sample("MSFT").iloc[:160]
    fc = rc.Forecaster([LSTM(4), Dense(1)], lookback=10, seed=0, device="cpu")
    assert fc.clone().device == "cpu"
    fc.fit(prices, epochs=1, verbose=0)
    assert fc.model_._device == torch.device("cpu")
    folder = fc.save(tmp_path / "fc")
    assert "device" not in (folder / "config.json").read_text()
    loaded = rc.Forecaster.load(folder, device="cpu")
    assert loaded.model_._device == torch.device("cpu") and loaded.device == "cpu"
    tail = prices.iloc[-40:]
    pd_a, pd_b = fc.predict(tail), loaded.predict(tail)
    np.testing.assert_allclose(pd_a.to_numpy(float), pd_b.to_numpy(float), rtol=1e-6)


# ------------------------------------------------------------------ CUDA only
@needs_cuda
def test_cuda_training_matches_cpu_and_uses_cudnn():
    from torch.profiler import ProfilerActivity, profile

    x, y = data(64)
    cpu, gpu = tiny(device="cpu"), tiny(device="cuda")
    assert all(p.is_cuda for p in gpu.parameters())
    gpu_x = torch.from_numpy(x).cuda()
    with profile(activities=[ProfilerActivity.CPU, ProfilerActivity.CUDA]) as prof:
        gpu(gpu_x)
    names = " ".join(event.key for event in prof.key_averages())
    assert "cudnn" in names.lower(), names  # the fused cuDNN RNN kernel, not a loop
    assert torch.backends.cudnn.enabled
    h_cpu = cpu.fit(x, y, epochs=2, batch_size=16, verbose=0, shuffle=False).history["loss"]
    h_gpu = gpu.fit(x, y, epochs=2, batch_size=16, verbose=0, shuffle=False).history["loss"]
    np.testing.assert_allclose(h_gpu, h_cpu, rtol=1e-4)
    assert all(t.is_cuda for v in gpu.optimizer.slots.values() for t in v)


@needs_cuda
def test_cuda_artifact_loads_on_cpu_and_back(tmp_path):
    x, y = data(32)
    gpu = tiny(device="cuda")
    gpu.fit(x, y, epochs=1, batch_size=8, verbose=0)
    gpu.save(tmp_path / "m")
    on_cpu = rc.load(tmp_path / "m", device="cpu")
    np.testing.assert_allclose(on_cpu.predict(x), gpu.predict(x), atol=1e-5)
    back = rc.load(tmp_path / "m", device="cuda")
    np.testing.assert_allclose(back.predict(x), on_cpu.predict(x), atol=1e-5)


@needs_cuda
def test_cuda_fit_cuts_batches_into_pinned_memory():
    model = tiny(device="cuda")
    iterator = model._epoch_iterator(*data(8), None, None, 4, False, None, ("x", "y"))
    x, y, _ = next(iter(iterator.epoch()))
    assert x.is_pinned() and y.is_pinned()


def test_sgd_slots_follow_params_device():
    optimizer = SGD(momentum=0.9)
    optimizer.build([torch.zeros(3, requires_grad=True, device="meta")])
    assert optimizer.slots["momentum"][0].device.type == "meta"

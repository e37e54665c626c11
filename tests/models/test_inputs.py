"""Inputs that are not 3-D numpy arrays train exactly like the equivalent arrays (and like Keras).

Every input kind (2-D windows, generators, DataLoader, Dataset, PyDataset,
timeseries_dataset_from_array) is compared with the same numpy arrays fitted
with ``shuffle=False`` from the same weights: losses agree to 1e-6 (measured:
identical, 0.0, since the batches are the same numbers). Where Keras accepts
the same input (2-D windows into a ``(timesteps, 1)`` model, generators,
DataLoaders, PyDatasets), the histories also match Keras to 1e-5 (measured
~1e-7).
"""

from __future__ import annotations

import math
import os

os.environ.setdefault("KERAS_BACKEND", "torch")

import numpy as np
import pytest
import torch

from rnncast import Sequential
from rnncast.exceptions import ConfigError
from rnncast.layers import LSTM, Dense
from rnncast.utils import PyDataset, Sequence, timeseries_dataset_from_array

pytestmark = pytest.mark.filterwarnings("ignore:__array__ implementation:DeprecationWarning")
N, T, BATCH = 50, 8, 16  # 50 = 3 * 16 + 2: a short last batch
STEPS = math.ceil(N / BATCH)


@pytest.fixture(scope="module")
def arrays() -> dict[str, np.ndarray]:
    rng = np.random.default_rng(0)
    return {
        "x": rng.normal(size=(N, T, 1)).astype("float32"),
        "y": rng.normal(size=(N, 1)).astype("float32"),
        "w": rng.uniform(0.1, 2.0, N).astype("float32"),
    }


def model_pair_histories(fit_a, fit_b, epochs=3, input_shape=(T, 1)):
    """Two models with the same weights, fitted by ``fit_a(model)`` and ``fit_b(model)``."""
    histories = []
    for fit in (fit_a, fit_b):
        model = Sequential([LSTM(3, input_shape=input_shape), Dense(1)], seed=3)
        model.compile(optimizer="adam", loss="mse", metrics=["mae"])
        histories.append(fit(model, epochs).history)
    return histories


def assert_same(first: dict, second: dict, atol: float = 1e-6) -> None:
    assert first.keys() == second.keys()
    for key in first:
        np.testing.assert_allclose(first[key], second[key], rtol=0, atol=atol, err_msg=key)


def numpy_fit(arrays, **extra):
    def fit(model, epochs):
        return model.fit(
            arrays["x"],
            arrays["y"],
            batch_size=BATCH,
            epochs=epochs,
            shuffle=False,
            verbose=0,
            **extra,
        )

    return fit


def batches(arrays, weights=False):
    """A finite generator of the same batches numpy fitting uses."""
    for start in range(0, N, BATCH):
        rows = slice(start, start + BATCH)
        if weights:
            yield arrays["x"][rows], arrays["y"][rows], arrays["w"][rows]
        else:
            yield arrays["x"][rows], arrays["y"][rows]


def endless(arrays):
    while True:
        yield from batches(arrays)


class Batches(PyDataset):
    """A PyDataset of the arrays' batches; counts ``on_epoch_end`` calls."""

    def __init__(self, arrays, infinite=False, **kwargs):
        super().__init__(**kwargs)
        self.arrays, self.infinite, self.epochs_ended = arrays, infinite, 0

    def __len__(self):
        return STEPS

    @property
    def num_batches(self):
        return None if self.infinite else STEPS

    def __getitem__(self, index):
        rows = slice((index % STEPS) * BATCH, (index % STEPS + 1) * BATCH)
        return self.arrays["x"][rows], self.arrays["y"][rows]

    def on_epoch_end(self):
        self.epochs_ended += 1


# -- (n, timesteps) windows --------------------------------------------------------
def test_two_dimensional_windows_get_the_feature_axis(arrays):
    flat = arrays["x"][..., 0]  # (n, timesteps)

    def fit_flat(model, epochs):
        return model.fit(
            flat, arrays["y"], batch_size=BATCH, epochs=epochs, shuffle=False, verbose=0
        )

    assert_same(*model_pair_histories(numpy_fit(arrays), fit_flat))


def test_unbuilt_sequence_model_builds_from_two_dimensional_windows(arrays):
    model = Sequential([LSTM(3), Dense(1)], seed=0)
    model.compile(optimizer="adam", loss="mse")
    model.fit(arrays["x"][..., 0], arrays["y"], epochs=1, verbose=0)
    assert model.input_shape == (None, T, 1)
    np.testing.assert_array_equal(model.predict(arrays["x"][..., 0]), model.predict(arrays["x"]))


def test_two_dimensional_windows_do_not_gain_an_axis_in_a_dense_model(arrays):
    model = Sequential([Dense(4, activation="relu"), Dense(1)], seed=0)
    model.compile(optimizer="sgd", loss="mse")
    history = model.fit(arrays["x"][..., 0], arrays["y"], epochs=2, verbose=0)
    assert model.input_shape == (None, T)
    assert len(history.history["loss"]) == 2


def test_two_dimensional_windows_window_view_stays_zero_copy(arrays):
    series = np.arange(100, dtype=np.float32)
    windows = np.lib.stride_tricks.sliding_window_view(series, T)  # (93, T) read-only view
    model = Sequential([LSTM(2, input_shape=(T, 1)), Dense(1)], seed=0)
    data = model._prepare_inputs(windows, "x")
    assert data.rows.data_ptr() == series.__array_interface__["data"][0]  # nothing copied
    assert data.sample_shape == (T, 1)


# -- generators ---------------------------------------------------------------------
def test_generator_with_steps_per_epoch_trains_like_the_arrays(arrays):
    def fit(model, epochs):
        return model.fit(endless(arrays), steps_per_epoch=STEPS, epochs=epochs, verbose=0)

    assert_same(*model_pair_histories(numpy_fit(arrays), fit))


def test_finite_generator_is_read_until_exhausted(arrays):
    def fit(model, epochs):
        return model.fit(batches(arrays), epochs=epochs, verbose=0)

    expected, actual = model_pair_histories(numpy_fit(arrays), fit, epochs=1)
    assert_same(expected, actual)


def test_generator_that_runs_out_warns_and_stops_training(arrays):
    model = Sequential([LSTM(2, input_shape=(T, 1)), Dense(1)], seed=0)
    model.compile(optimizer="adam", loss="mse")
    with pytest.warns(UserWarning, match="ran out of data"):
        history = model.fit(batches(arrays), epochs=3, verbose=0)
    assert history.epoch == [0]  # one pass, then nothing left to read


def test_generator_with_sample_weights_trains_like_weighted_arrays(arrays):
    def fit(model, epochs):
        return model.fit(endless_weighted(arrays), steps_per_epoch=STEPS, epochs=epochs, verbose=0)

    def endless_weighted(arrays):
        while True:
            yield from batches(arrays, weights=True)

    assert_same(*model_pair_histories(numpy_fit(arrays, sample_weight=arrays["w"]), fit))


def test_generator_validation_data_with_validation_steps(arrays):
    extra = {"validation_data": (arrays["x"], arrays["y"]), "validation_batch_size": BATCH}

    def fit(model, epochs):
        return model.fit(
            arrays["x"],
            arrays["y"],
            batch_size=BATCH,
            epochs=epochs,
            shuffle=False,
            verbose=0,
            validation_data=endless(arrays),
            validation_steps=STEPS,
        )

    assert_same(*model_pair_histories(numpy_fit(arrays, **extra), fit))


# -- torch DataLoader and Dataset ------------------------------------------------------
def tensors(arrays):
    return torch.utils.data.TensorDataset(
        torch.from_numpy(arrays["x"]), torch.from_numpy(arrays["y"])
    )


def test_dataloader_trains_like_the_arrays(arrays):
    loader = torch.utils.data.DataLoader(tensors(arrays), batch_size=BATCH, shuffle=False)

    def fit(model, epochs):
        return model.fit(loader, epochs=epochs, verbose=0)

    assert_same(*model_pair_histories(numpy_fit(arrays), fit))


def test_dataset_of_samples_is_batched_with_batch_size(arrays):
    def fit(model, epochs):
        return model.fit(tensors(arrays), batch_size=BATCH, epochs=epochs, shuffle=False, verbose=0)

    assert_same(*model_pair_histories(numpy_fit(arrays), fit))


def test_evaluate_and_predict_read_dataloaders_and_generators(arrays):
    model = Sequential([LSTM(3, input_shape=(T, 1)), Dense(1)], seed=0)
    model.compile(optimizer="adam", loss="mse", metrics=["mae"])
    loader = torch.utils.data.DataLoader(tensors(arrays), batch_size=BATCH)
    expected = model.evaluate(arrays["x"], arrays["y"], batch_size=BATCH, verbose=0)
    assert model.evaluate(loader, verbose=0) == pytest.approx(expected, abs=1e-6)
    assert model.evaluate(batches(arrays), verbose=0) == pytest.approx(expected, abs=1e-6)
    prediction = model.predict(arrays["x"])
    np.testing.assert_allclose(model.predict(loader), prediction, atol=1e-6)
    only_x = (x for x, _ in batches(arrays))
    np.testing.assert_allclose(model.predict(only_x), prediction, atol=1e-6)


# -- PyDataset ---------------------------------------------------------------------------
def test_pydataset_trains_like_the_arrays_and_ends_every_epoch(arrays):
    datasets = []

    def fit(model, epochs):
        datasets.append(Batches(arrays, workers=4, use_multiprocessing=False, max_queue_size=3))
        return model.fit(datasets[-1], epochs=epochs, shuffle=False, verbose=0)

    assert_same(*model_pair_histories(numpy_fit(arrays), fit))
    assert datasets[0].epochs_ended == 3


def test_infinite_pydataset_needs_steps_per_epoch(arrays):
    def fit(model, epochs):
        return model.fit(
            Batches(arrays, infinite=True), steps_per_epoch=STEPS, epochs=epochs, verbose=0
        )

    assert_same(*model_pair_histories(numpy_fit(arrays), fit))


def test_duck_typed_sequence_and_alias(arrays):
    assert Sequence is PyDataset

    class Plain:  # no base class: __len__, __getitem__ and on_epoch_end, as old Keras Sequences
        def __len__(self):
            return STEPS

        def __getitem__(self, index):
            rows = slice(index * BATCH, (index + 1) * BATCH)
            return arrays["x"][rows], arrays["y"][rows]

        def on_epoch_end(self):
            pass

    def fit(model, epochs):
        return model.fit(Plain(), epochs=epochs, shuffle=False, verbose=0)

    assert_same(*model_pair_histories(numpy_fit(arrays), fit))


def test_timeseries_dataset_from_array_trains_like_its_windows():
    series = np.sin(np.arange(80) / 5.0).astype("float32")[:, None]  # (80, 1)
    dataset = timeseries_dataset_from_array(series[:-T], series[T:], T, batch_size=BATCH)
    x = np.stack([series[i : i + T] for i in range(len(series) - 2 * T + 1)])  # (65, T, 1)
    y = series[T : T + len(x)]  # the step after each window

    def fit_arrays(model, epochs):
        return model.fit(x, y, batch_size=BATCH, epochs=epochs, shuffle=False, verbose=0)

    def fit_dataset(model, epochs):
        return model.fit(dataset, epochs=epochs, shuffle=False, verbose=0)

    assert_same(*model_pair_histories(fit_arrays, fit_dataset))


# -- refused inputs ------------------------------------------------------------------------
class DatasetV2:
    """Stands in for tf.data.Dataset: rnncast must recognise it without TensorFlow."""


DatasetV2.__module__ = "tensorflow.python.data.ops.dataset_ops"


def test_tf_data_dataset_gets_a_one_line_config_error():
    model = Sequential([LSTM(2, input_shape=(T, 1)), Dense(1)])
    model.compile(optimizer="adam", loss="mse")
    for call in (
        lambda: model.fit(DatasetV2(), epochs=1),
        lambda: model.evaluate(DatasetV2()),
        lambda: model.predict(DatasetV2()),
    ):
        with pytest.raises(ConfigError) as info:
            call()
        message = str(info.value)
        assert "\n" not in message
        assert "tf.data datasets (DatasetV2) are not supported" in message
        assert "DataLoader" in message and "PyDataset" in message


def test_unknown_input_types_are_named():
    model = Sequential([LSTM(2, input_shape=(T, 1)), Dense(1)])
    model.compile(optimizer="adam", loss="mse")
    with pytest.raises(ConfigError, match=r"cannot read inputs of type builtins\.set"):
        model.fit({1, 2}, epochs=1)


def test_targets_beside_a_generator_are_refused(arrays):
    model = Sequential([LSTM(2, input_shape=(T, 1)), Dense(1)])
    model.compile(optimizer="adam", loss="mse")
    with pytest.raises(ConfigError, match="when x is a iterator, y must not be passed"):
        model.fit(batches(arrays), arrays["y"])
    with pytest.raises(ConfigError, match="yielded inputs without targets"):
        model.fit((x for x, _ in batches(arrays)), epochs=1, verbose=0)
    with pytest.raises(ConfigError, match="validation_split works on arrays only"):
        model.fit(batches(arrays), validation_split=0.2, verbose=0)


# -- the same inputs in Keras -------------------------------------------------------------
keras_tests = pytest.mark.skipif(
    __import__("importlib").util.find_spec("keras") is None, reason="needs Keras 3"
)


def keras_twins(arrays):
    import keras

    from rnncast.interop import from_keras

    keras_model = keras.Sequential(
        [keras.Input((T, 1)), keras.layers.LSTM(3), keras.layers.Dense(1)]
    )
    rng = np.random.default_rng(5)
    for layer in keras_model.layers:
        layer.set_weights(
            [rng.uniform(-0.5, 0.5, w.shape).astype("float32") for w in layer.get_weights()]
        )
    model = from_keras(keras_model)
    keras_model.compile(optimizer=keras.optimizers.Adam(0.01), loss="mse")
    model.compile(optimizer="adam", loss="mse")
    model.optimizer.learning_rate = 0.01
    return keras, keras_model, model


@keras_tests
@pytest.mark.parametrize("kind", ["flat", "generator", "dataloader", "pydataset"])
def test_inputs_keras_accepts_train_as_in_keras(arrays, kind):
    keras, keras_model, model = keras_twins(arrays)

    class KerasBatches(keras.utils.PyDataset):
        def __len__(self):
            return STEPS

        def __getitem__(self, index):
            rows = slice(index * BATCH, (index + 1) * BATCH)
            return arrays["x"][rows], arrays["y"][rows]

    def inputs(for_keras):
        if kind == "flat":
            return (arrays["x"][..., 0], arrays["y"]), {"batch_size": BATCH, "shuffle": False}
        if kind == "generator":
            return (endless(arrays),), {"steps_per_epoch": STEPS}
        if kind == "dataloader":
            loader = torch.utils.data.DataLoader(tensors(arrays), batch_size=BATCH)
            return (loader,), {}
        return (KerasBatches() if for_keras else Batches(arrays),), {"shuffle": False}

    args, kwargs = inputs(True)
    expected = keras_model.fit(*args, epochs=3, verbose=0, **kwargs).history
    args, kwargs = inputs(False)
    actual = model.fit(*args, epochs=3, verbose=0, **kwargs).history
    assert_same(expected, actual, atol=1e-5)

"""rnncast.utils: PyDataset and timeseries_dataset_from_array as in keras.utils.

timeseries_dataset_from_array is checked against Keras's own function
element by element (Keras 3 needs TensorFlow or Grain for it: the test runs
Keras's ``format="grain"`` path when grain is installed; measured max abs
difference 0.0, same windows, targets and batch sizes) and always against the
examples of Keras's docstring.
"""

from __future__ import annotations

import math
import os

os.environ.setdefault("KERAS_BACKEND", "torch")

import numpy as np
import pytest

import rnncast as rc
from rnncast.exceptions import ConfigError
from rnncast.utils import PyDataset, Sequence, timeseries_dataset_from_array, to_categorical

CASES = [
    {"sequence_length": 5},
    {"sequence_length": 4, "sequence_stride": 3, "sampling_rate": 2, "batch_size": 7},
    {"sequence_length": 3, "start_index": 5, "end_index": 40, "batch_size": 4},
    {"sequence_length": 6, "sampling_rate": 3, "start_index": 2, "batch_size": None},
]


def rows() -> tuple[np.ndarray, np.ndarray]:
    data = np.arange(100 * 2, dtype="float32").reshape(100, 2)
    return data, np.arange(100, dtype="float32") * 10


def test_keras_docstring_example_1_indices():
    dataset = timeseries_dataset_from_array(
        np.arange(99), None, sequence_length=10, sampling_rate=2, sequence_stride=3
    )
    windows = np.concatenate(list(dataset))
    assert windows[0].tolist() == [0, 2, 4, 6, 8, 10, 12, 14, 16, 18]
    assert windows[1].tolist() == [3, 5, 7, 9, 11, 13, 15, 17, 19, 21]
    assert windows[2].tolist() == [6, 8, 10, 12, 14, 16, 18, 20, 22, 24]
    assert windows[-1].tolist() == [78, 80, 82, 84, 86, 88, 90, 92, 94, 96]


def test_keras_docstring_example_2_next_step_targets():
    data = np.arange(50.0)
    dataset = timeseries_dataset_from_array(data[:-10], data[10:], sequence_length=10)
    inputs, targets = dataset[0]
    np.testing.assert_array_equal(inputs[0], data[:10])
    assert targets[0] == data[10]
    assert len(dataset) == 1 and len(inputs) == 50 - 10 - 9


def test_batches_cover_every_window_once_and_shuffle_keeps_them():
    data, targets = rows()
    plain = timeseries_dataset_from_array(data, targets, 5, batch_size=8)
    mixed = timeseries_dataset_from_array(data, targets, 5, batch_size=8, shuffle=True, seed=3)
    assert len(plain) == math.ceil(96 / 8) == len(mixed)
    x, y = (np.concatenate(part) for part in zip(*plain, strict=True))
    np.testing.assert_array_equal(x[:, 0], data[:96])  # window i starts at row i
    x_mixed, y_mixed = (np.concatenate(part) for part in zip(*mixed, strict=True))
    assert not np.array_equal(y, y_mixed)
    np.testing.assert_array_equal(np.sort(y_mixed), y)
    starts = np.arange(96)
    np.random.RandomState(3).shuffle(starts)  # Keras's first shuffle, reproduced exactly
    np.testing.assert_array_equal(y_mixed, targets[starts])
    np.testing.assert_array_equal(x_mixed[:, 0], data[starts])


@pytest.mark.parametrize("case", CASES)
def test_windows_equal_keras_element_by_element(case):
    keras = pytest.importorskip("keras")
    pytest.importorskip("grain")  # Keras 3 builds these windows through tf.data or Grain
    data, targets = rows()
    for target in (targets, None):
        expected = list(
            keras.utils.timeseries_dataset_from_array(data, target, format="grain", **case)
        )
        actual = list(timeseries_dataset_from_array(data, target, **case))
        assert len(actual) == len(expected)
        for keras_batch, batch in zip(expected, actual, strict=True):
            keras_parts = keras_batch if isinstance(keras_batch, tuple | list) else (keras_batch,)
            parts = batch if isinstance(batch, tuple) else (batch,)
            for keras_part, part in zip(keras_parts, parts, strict=True):
                np.testing.assert_array_equal(part, np.asarray(keras_part))


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"start_index": 200}, "start_index=200"),
        ({"start_index": 10, "end_index": 5}, "end_index=5 must be above start_index=10"),
        ({"end_index": 100}, "end_index=100 must be in 1..99"),
        ({"sampling_rate": 0}, "sampling_rate=0 must be positive"),
        ({"sequence_stride": 100}, "sequence_stride=100"),
        ({"format": "torch"}, "format='torch'"),
        ({"batch_size": 0}, "batch_size must be a positive integer or None"),
    ],
)
def test_timeseries_argument_errors(kwargs, match):
    data, targets = rows()
    with pytest.raises(ConfigError, match=match):
        timeseries_dataset_from_array(data, targets, 3, **kwargs)


def test_pydataset_keras_interface():
    class Squares(PyDataset):
        def __init__(self, **kwargs):
            super().__init__(**kwargs)

        def __len__(self):
            return 3

        def __getitem__(self, index):
            return np.full((2, 1), index**2), np.zeros(2)

    dataset = Squares(workers=3, use_multiprocessing=True, max_queue_size=4)
    assert (dataset.workers, dataset.use_multiprocessing, dataset.max_queue_size) == (3, True, 4)
    assert dataset.num_batches == 3
    assert [int(x[0, 0]) for x, _ in dataset] == [0, 1, 4]
    assert Sequence is PyDataset

    class NoSuper(PyDataset):  # Keras allows skipping super().__init__(): defaults apply
        def __init__(self):
            pass

    assert (NoSuper().workers, NoSuper().max_queue_size) == (1, 10)
    with pytest.raises(NotImplementedError):
        _ = NoSuper()[0]


@pytest.mark.parametrize(
    ("labels", "num_classes"),
    [([0, 2, 1, 2], None), ([[1], [0], [3]], None), ([1, 0], 4), (np.array([[0, 1], [1, 1]]), 2)],
)
def test_to_categorical_matches_keras(labels, num_classes):
    keras = pytest.importorskip("keras")
    ours = to_categorical(labels, num_classes)
    theirs = keras.utils.to_categorical(labels, num_classes)
    assert ours.dtype == theirs.dtype and ours.shape == theirs.shape
    np.testing.assert_array_equal(ours, theirs)


def test_to_categorical_names_bad_labels():
    with pytest.raises(rc.DataError, match=r"label 3 is outside 0 \.\. 2"):
        to_categorical([0, 3], num_classes=3)
    with pytest.raises(rc.DataError, match="label -1"):
        to_categorical([0, -1])
    with pytest.raises(rc.DataError, match="integer class labels"):
        to_categorical([0.5, 1.0])

"""Losses equal Keras 3's (``keras.losses``) on the same targets and outputs, to 1e-6."""

from __future__ import annotations

import json
import os

os.environ.setdefault("KERAS_BACKEND", "torch")

import numpy as np
import pytest
import torch

from rnncast import losses
from rnncast.exceptions import ConfigError

keras = pytest.importorskip("keras")
pytestmark = pytest.mark.filterwarnings("ignore:__array__ implementation:DeprecationWarning")

N, CLASSES = 17, 4


@pytest.fixture(scope="module")
def arrays() -> dict[str, np.ndarray]:
    rng = np.random.default_rng(0)
    logits = rng.normal(scale=2.0, size=(N, CLASSES)).astype("float32")
    probs = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
    labels = rng.integers(0, CLASSES, size=N)
    binary_logit = rng.normal(scale=3.0, size=(N, 1)).astype("float32")
    binary_p = 1.0 / (1.0 + np.exp(-binary_logit))
    binary_p[:2] = [[0.0], [1.0]]  # saturated outputs: the 1e-7 clipping decides the loss
    return {
        "logits": logits,
        "probs": probs.astype("float32"),
        "labels": labels,
        "onehot": np.eye(CLASSES, dtype="float32")[labels],
        "binary_logit": binary_logit,
        "binary_p": binary_p.astype("float32"),
        "binary_y": rng.integers(0, 2, size=N).astype("float32"),  # (n,) as users pass them
        "reg_y": rng.normal(size=N).astype("float32"),
        "reg_pred": rng.normal(scale=2.0, size=(N, 1)).astype("float32"),
    }


def keras_value(loss, y_true: np.ndarray, y_pred: np.ndarray) -> float:
    return float(keras.ops.convert_to_numpy(loss(y_true, y_pred)))


def ours_value(loss, y_true: np.ndarray, y_pred: np.ndarray) -> float:
    return float(loss(torch.from_numpy(np.asarray(y_true)), torch.from_numpy(y_pred)))


CASES = [  # (rnncast loss, Keras loss, y_true key, y_pred key)
    ("mse", keras.losses.MeanSquaredError(), "reg_y", "reg_pred"),
    ("mae", keras.losses.MeanAbsoluteError(), "reg_y", "reg_pred"),
    ("huber", keras.losses.Huber(), "reg_y", "reg_pred"),
    (losses.Huber(delta=0.3), keras.losses.Huber(delta=0.3), "reg_y", "reg_pred"),
    ("binary_crossentropy", keras.losses.BinaryCrossentropy(), "binary_y", "binary_p"),
    (
        losses.BinaryCrossentropy(from_logits=True),
        keras.losses.BinaryCrossentropy(from_logits=True),
        "binary_y",
        "binary_logit",
    ),
    (
        losses.BinaryCrossentropy(label_smoothing=0.1),
        keras.losses.BinaryCrossentropy(label_smoothing=0.1),
        "binary_y",
        "binary_p",
    ),
    ("categorical_crossentropy", keras.losses.CategoricalCrossentropy(), "onehot", "probs"),
    (
        losses.CategoricalCrossentropy(from_logits=True, label_smoothing=0.2),
        keras.losses.CategoricalCrossentropy(from_logits=True, label_smoothing=0.2),
        "onehot",
        "logits",
    ),
    (
        "sparse_categorical_crossentropy",
        keras.losses.SparseCategoricalCrossentropy(),
        "labels",
        "probs",
    ),
    (
        losses.SparseCategoricalCrossentropy(from_logits=True),
        keras.losses.SparseCategoricalCrossentropy(from_logits=True),
        "labels",
        "logits",
    ),
    (
        losses.MeanSquaredError(reduction="sum"),
        keras.losses.MeanSquaredError(reduction="sum"),
        "reg_y",
        "reg_pred",
    ),
]


@pytest.mark.parametrize(("ours", "theirs", "y_key", "p_key"), CASES, ids=lambda c: repr(c)[:40])
def test_loss_matches_keras(arrays, ours, theirs, y_key, p_key) -> None:
    y_true, y_pred = arrays[y_key], arrays[p_key]
    expected = keras_value(theirs, y_true, y_pred)
    assert ours_value(losses.get(ours), y_true, y_pred) == pytest.approx(expected, rel=1e-6)


def test_probabilities_are_clipped_at_keras_epsilon() -> None:
    # p = 0 for a positive: -log(1e-7) = 16.118..., not inf
    value = losses.binary_crossentropy(torch.tensor([[1.0]]), torch.tensor([[0.0]]))
    assert float(value) == pytest.approx(-np.log(1e-7), rel=1e-5)
    value = losses.sparse_categorical_crossentropy(torch.tensor([0]), torch.tensor([[0.0, 1.0]]))
    assert float(value) == pytest.approx(-np.log(1e-7), rel=1e-5)


def test_gradients_match_keras(arrays) -> None:
    """The gradient of the sparse crossentropy w.r.t. the probabilities (normalise, clip, log)."""
    probs = torch.from_numpy(arrays["probs"]).requires_grad_(True)
    losses.get("sparse_categorical_crossentropy")(
        torch.from_numpy(arrays["labels"]), probs
    ).backward()
    theirs = torch.from_numpy(arrays["probs"]).requires_grad_(True)
    keras.losses.SparseCategoricalCrossentropy()(
        torch.from_numpy(arrays["labels"]), theirs
    ).backward()
    torch.testing.assert_close(probs.grad, theirs.grad, rtol=1e-6, atol=1e-7)


@pytest.mark.parametrize("name", sorted(losses.CLASSES))
def test_loss_objects_round_trip_through_json(name: str) -> None:
    loss = losses.CLASSES[name]()
    stored = json.loads(json.dumps(losses.serialize(loss)))
    again = losses.get(stored)
    assert type(again) is type(loss)
    assert again.get_config() == loss.get_config()
    assert again.name == keras.losses.get(name).name  # Keras's default names
    assert losses.get(name).get_config() == loss.get_config()  # class names work as strings


def test_configs_keep_their_arguments() -> None:
    stored = losses.serialize(losses.BinaryCrossentropy(from_logits=True, label_smoothing=0.1))
    assert stored["config"]["from_logits"] is True
    assert losses.get(stored).label_smoothing == 0.1
    assert losses.get(losses.serialize(losses.Huber(delta=2.5))).delta == 2.5
    assert losses.serialize("mse") == "mse"


def test_class_index_losses_are_recognised() -> None:
    assert losses.takes_class_indices(losses.get("sparse_categorical_crossentropy"))
    assert losses.takes_class_indices(losses.SparseCategoricalCrossentropy(from_logits=True))
    assert not losses.takes_class_indices(losses.get("binary_crossentropy"))
    assert not losses.takes_class_indices(losses.CategoricalCrossentropy())


@pytest.mark.parametrize(
    ("make", "match"),
    [
        (lambda: losses.SparseCategoricalCrossentropy(ignore_class=0), "ignore_class=0.*drop"),
        (lambda: losses.BinaryCrossentropy(axis=0), "axis=0.*last axis"),
        (lambda: losses.MeanSquaredError(reduction="mean"), "reduction='mean'.*sum_over_batch"),
        (lambda: losses.Huber(dtype="float64"), "dtype='float64'.*float32"),
        (lambda: losses.Huber(delta=0), "delta must be > 0"),
        (lambda: losses.CategoricalCrossentropy(label_smoothing=2), "label_smoothing=2"),
        (
            lambda: losses.MeanAbsoluteError(sample_weight=1),
            "sample_weight=1.*does not support.*delta|sample_weight=1.*reduction, name, dtype",
        ),
        (lambda: losses.get("crossentropy"), "unknown loss 'crossentropy'"),
        (lambda: losses.get({"class_name": "Nope"}), "cannot read the loss config"),
    ],
)
def test_unsupported_keras_arguments_are_config_errors(make, match: str) -> None:
    with pytest.raises(ConfigError, match=match):
        make()


def test_shape_mistakes_name_the_fix() -> None:
    with pytest.raises(ConfigError, match="sparse_categorical_crossentropy"):
        losses.categorical_crossentropy(torch.tensor([1, 0]), torch.rand(2, 3))
    with pytest.raises(ConfigError, match="categorical_crossentropy'"):
        losses.sparse_categorical_crossentropy(torch.eye(3)[:2], torch.rand(2, 3))

"""A layer called on its own builds from its first input, as a Keras layer does."""

import os

import numpy as np
import pytest
import torch

from rnncast import layers as R
from rnncast.exceptions import ShapeError

os.environ.setdefault("KERAS_BACKEND", "torch")

CASES = [
    ("LSTM", (4,), (2, 5, 3)),
    ("GRU", (4,), (2, 5, 3)),
    ("Dense", (3,), (2, 6)),
    ("Conv1D", (2, 3), (2, 7, 3)),
]


@pytest.mark.parametrize(("kind", "args", "shape"), CASES)
def test_first_call_builds_like_keras(kind, args, shape):
    keras = pytest.importorskip("keras")
    x = np.linspace(-1, 1, int(np.prod(shape)), dtype="float32").reshape(shape)
    theirs = getattr(keras.layers, kind)(*args)
    theirs(x)  # builds it
    ours = getattr(R, kind)(*args)
    out = ours(x)  # a numpy array in, a tensor out
    assert ours.built and ours.built_input_shape == shape[1:]
    assert isinstance(out, torch.Tensor)
    ours.set_weights(theirs.get_weights())
    want = theirs(x).detach().cpu().numpy()
    np.testing.assert_allclose(ours(x).detach().numpy(), want, atol=1e-6)


def test_a_first_call_with_the_wrong_rank_is_a_shape_error():
    with pytest.raises(ShapeError, match="expects 3-D input"):
        R.LSTM(4)(np.zeros((2, 5)))

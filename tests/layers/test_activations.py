"""Every rnncast activation equals ``keras.activations.get(name)`` (Keras 3) to 1e-6."""

from __future__ import annotations

import os

os.environ.setdefault("KERAS_BACKEND", "torch")

import numpy as np
import pytest
import torch

from rnncast.exceptions import ConfigError
from rnncast.layers import activations

keras = pytest.importorskip("keras")
pytestmark = pytest.mark.filterwarnings("ignore:__array__ implementation:DeprecationWarning")

# (rows, 7): spans the kinks of hard_sigmoid (+-3), relu6 (6) and the saturating tails
GRID = np.linspace(-8.0, 8.0, 7 * 33, dtype=np.float32).reshape(-1, 7)


@pytest.mark.parametrize("name", sorted(activations.ACTIVATIONS))
def test_activation_matches_keras(name: str) -> None:
    ours = activations.get(name)(torch.from_numpy(GRID)).numpy()
    theirs = keras.ops.convert_to_numpy(keras.activations.get(name)(keras.ops.array(GRID)))
    assert ours.shape == theirs.shape
    np.testing.assert_allclose(ours, theirs, rtol=1e-6, atol=1e-6)


def test_keras_3_definitions_where_torch_differs() -> None:
    x = torch.tensor([-3.0, -1.0, 0.0, 1.5, 3.0])
    # Keras's leaky_relu slope is 0.2 (torch: 0.01)
    assert activations.get("leaky_relu")(x).tolist() == pytest.approx([-0.6, -0.2, 0, 1.5, 3])
    # Keras 3's hard_sigmoid is relu6(x + 3) / 6 (Keras 2: 0.2 x + 0.5)
    assert activations.get("hard_sigmoid")(x).tolist() == pytest.approx([0, 1 / 3, 0.5, 0.75, 1])
    # gelu is the exact erf form: 0.5 x (1 + erf(x / sqrt 2))
    assert float(activations.get("gelu")(torch.tensor(1.0))) == pytest.approx(0.8413447, abs=1e-7)
    # softmax normalises the last axis
    rows = activations.get("softmax")(torch.randn(4, 3, 5)).sum(dim=-1)
    torch.testing.assert_close(rows, torch.ones(4, 3))


def test_none_is_linear_and_unknown_names_are_config_errors() -> None:
    x = torch.tensor([-2.0, 5.0])
    assert activations.get(None)(x) is x
    with pytest.raises(ConfigError, match=r"unknown activation 'relu7'.*leaky_relu"):
        activations.get("relu7")

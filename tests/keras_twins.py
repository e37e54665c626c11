"""The same stack in Keras 3 and rnncast, fitted side by side (regularizer/constraint oracles).

``spec(module)`` returns the layers with ``module`` being ``keras`` or
``rnncast`` (their module paths are the same). Import this after
``KERAS_BACKEND`` is set and Keras is known to be importable.
"""

from __future__ import annotations

from collections.abc import Callable

import keras
import numpy as np

import rnncast
from rnncast import Sequential

T, F, N, N_VAL, BATCH, EPOCHS = 6, 2, 40, 16, 16, 3  # a partial last batch: 40 = 16 + 16 + 8


def data(n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, T, F)).astype("float32")
    return x, (x[:, -1, :1] - 0.5 * x[:, 0, 1:]).astype("float32")


def twins(spec: Callable, seed: int = 0):
    """A Keras model with weights U(-0.3, 0.3) and the same model in rnncast."""
    keras_model = keras.Sequential([keras.Input((T, F)), *spec(keras)])
    rng = np.random.default_rng(seed)
    for w in keras_model.weights:
        low = 0.5 if "variance" in w.path else -0.3
        w.assign(rng.uniform(low, low + 0.6, w.shape).astype("float32"))
    model = Sequential([rnncast.layers.Input(shape=(T, F)), *spec(rnncast)])
    model.set_weights(keras_model.get_weights())
    return keras_model, model


def fit_both(spec: Callable, adam: bool, adam_rate: float, sgd_rate: float):
    """Fit the twins for ``EPOCHS`` with ``shuffle=False``; returns both models and histories."""
    keras_model, model = twins(spec)
    for module, net in ((keras, keras_model), (rnncast, model)):
        optimizer = module.optimizers.Adam(adam_rate) if adam else module.optimizers.SGD(sgd_rate)
        net.compile(optimizer=optimizer, loss="mse")
    x, y = data(N, 0)
    kwargs = {"batch_size": BATCH, "epochs": EPOCHS, "shuffle": False, "verbose": 0}
    theirs = keras_model.fit(x, y, validation_data=data(N_VAL, 1), **kwargs).history
    ours = model.fit(x, y, validation_data=data(N_VAL, 1), **kwargs).history
    return keras_model, model, theirs, ours

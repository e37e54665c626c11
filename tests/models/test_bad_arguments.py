"""fit() arguments and model sizes that the bad-input campaign found unchecked (issue 14)."""

from __future__ import annotations

import numpy as np
import pytest

import rnncast as rc
from rnncast.layers import LSTM, Dense, Dropout


def compiled():
    model = rc.Sequential([LSTM(4, input_shape=(5, 1)), Dense(1)], seed=0)
    model.compile(optimizer="adam", loss="mse")
    return model


X = np.zeros((8, 5, 1), "float32")
Y = np.zeros((8, 1), "float32")


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"epochs": "3"}, r"epochs must be an integer >= 0, got '3'"),  # ran 3 epochs before
        ({"epochs": 1.5}, r"epochs must be an integer >= 0, got 1\.5"),  # ran 1 before
        ({"epochs": None}, r"epochs must be an integer >= 0, got None"),  # TypeError before
        ({"epochs": np.inf}, r"epochs must be an integer >= 0, got inf"),  # OverflowError
        (
            {"validation_split": "0.2"},
            r"validation_split must be in \(0, 1\) \(a number\), got '0\.2'",
        ),
        ({"callbacks": 5}, r"callbacks must be a list of rnncast\.callbacks objects, got 5"),
        ({"shuffle": "yes"}, r"shuffle must be True, False or 'batch', got 'yes'"),
    ],
)
def test_fit_names_the_bad_argument(kwargs, match):
    with pytest.raises(rc.ConfigError, match=match):
        compiled().fit(X, Y, verbose=0, **{"epochs": 1, **kwargs})


@pytest.mark.parametrize(
    "validation_data",
    ["val", 5, (np.zeros((4, 5, 2)), np.zeros(4)), (X[:4], Y[:3])],
)
def test_bad_validation_data_is_named(validation_data):
    with pytest.raises(rc.RnncastError, match=r"^validation_data: "):
        compiled().fit(X, Y, epochs=1, verbose=0, validation_data=validation_data)


def test_shuffle_batch_and_zero_epochs_still_work():
    history = compiled().fit(X, Y, epochs=0, shuffle="batch", verbose=0)
    assert history.epoch == []


@pytest.mark.parametrize(
    "make",
    [
        lambda: rc.Sequential([LSTM(10**6, input_shape=(5, 1)), Dense(1)]),  # 16 TB
        lambda: rc.Sequential([Dense(10**7, input_shape=(5, 10**4)), Dense(1)]),  # 400 GB
    ],
)
def test_a_model_too_big_for_memory_is_refused_before_allocation(make):
    with pytest.raises(rc.ConfigError, match=r"needs about [\d,]+ parameters .*use fewer units"):
        make()


@pytest.mark.parametrize("rate", ["x", None, True])
def test_dropout_rate_must_be_a_number(rate):
    with pytest.raises(rc.ConfigError, match="Dropout rate must be in"):
        Dropout(rate)


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"learning_rate": np.inf}, r"learning_rate must be a number >= 0 \(finite\)"),
        ({"learning_rate": np.nan}, r"learning_rate must be a number >= 0 \(finite\)"),
        ({"weight_decay": True}, r"weight_decay must be >= 0, got True"),  # passed before
        ({"weight_decay": {"evil": 1}}, r"weight_decay must be >= 0, got \{'evil': 1\}"),
    ],
)
def test_optimizer_settings_are_checked_by_name(kwargs, match):
    with pytest.raises(rc.ConfigError, match=match):
        rc.optimizers.Adam(**kwargs)

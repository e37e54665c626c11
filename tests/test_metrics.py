"""Error messages of rnncast.metrics (get, serialize, constructor arguments)."""

from __future__ import annotations

import pytest
import torch

from rnncast import metrics
from rnncast.exceptions import ConfigError


def test_get_rejects_unknown_config_dicts_naming_the_classes():
    with pytest.raises(ConfigError, match=r"cannot read the metric config .*BinaryAccuracy"):
        metrics.get({"class_name": "F1Score", "config": {}})
    with pytest.raises(ConfigError, match="cannot read the metric config"):
        metrics.get({"class_name": "BinaryAccuracy", "config": [0.5]})


def test_get_reads_a_config_dict():
    metric = metrics.get({"class_name": "BinaryAccuracy", "config": {"threshold": 0.7}})
    assert isinstance(metric, metrics.BinaryAccuracy) and metric.get_config()["threshold"] == 0.7


def test_serialize_rejects_unstorable_metrics():
    accuracy = metrics.get("accuracy")
    with pytest.raises(ConfigError, match=r"cannot store the metric .*use a name or one of"):
        metrics.serialize(accuracy)


def test_constructor_rejects_unsupported_arguments():
    with pytest.raises(ConfigError, match=r"MeanAbsoluteError got the argument foo=1.*drop it"):
        metrics.MeanAbsoluteError(foo=1)
    with pytest.raises(ConfigError, match=r"MeanSquaredError\(dtype='float64'\) is not supported"):
        metrics.MeanSquaredError(dtype="float64")


def test_resolved_accuracy_keeps_its_kind_across_reset():
    accuracy = metrics.get("accuracy")
    assert accuracy.resolved_name is None
    accuracy.update(torch.tensor([[1.0], [0.0]]), torch.tensor([[0.9], [0.8]]))
    assert accuracy.resolved_name == "binary_accuracy" and accuracy.result() == 0.5
    accuracy.reset()
    assert accuracy.resolved_name == "binary_accuracy" and accuracy.result() != accuracy.result()

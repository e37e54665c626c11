"""CLI cases the bad-input campaign found (issue 14)."""

from __future__ import annotations

import pytest

import rnncast as rc
from rnncast.cli import main
from rnncast.cli.config import load_config
from rnncast.layers import LSTM, Dense


def test_predict_with_a_saved_model_instead_of_a_forecaster(tmp_path, capsys):
    path = tmp_path / "m.keras"
    rc.Sequential([LSTM(4, input_shape=(5, 1)), Dense(1)]).save(path)
    code = main(["predict", "--model", str(path), "--ticker", "MSFT"])
    err = capsys.readouterr().err
    assert code == 2  # was: "failed: AttributeError: ... no attribute 'predict_next'"
    assert f"--model {path} is a saved Sequential, not a forecaster" in err


@pytest.mark.parametrize(
    "argv", [["data", "show", "MSFT", "--rows", "-3"], ["predict", "--model", "x", "--days", "0"]]
)
def test_counts_must_be_positive(argv, capsys):
    with pytest.raises(SystemExit) as exit_:
        main(argv)
    assert exit_.value.code == 2
    assert "expected a whole number >= 1" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("override", "match"),
    [
        ('data.features=["close:nope"]', r"data\.features: feature 'close:nope' has an unknown"),
    ],
)
def test_config_values_checked_when_loaded(override, match):
    with pytest.raises(rc.ConfigError, match=match):
        load_config(None, overrides=[override])

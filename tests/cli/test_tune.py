"""rnncast tune: the [tune] schema, the layer mapping, pruning, the unseen test part, the report."""

import json
import sys
import tomllib
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import rnncast as rc
from rnncast.cli import main, pipelines
from rnncast.cli import tune as tuning
from rnncast.cli.config import dump_config, load_config
from rnncast.cli.tune_space import apply_params, parse_space
from rnncast.exceptions import ConfigError

optuna = pytest.importorskip("optuna")

TINY = """
name = "tiny"
[data]
csv = "prices.csv"
[model]
layers = [
  { type = "LSTM", units = 4, return_sequences = true },
  { type = "LSTM", units = 4 },
  { type = "Dense", units = 1 },
]
[forecast]
lookback = 8
[training]
epochs = 1
batch_size = 64
patience = 0
[evaluation]
baselines = ["naive", "drift"]
interval = "none"
[tune]
units = [2, 4]
layers = [1, 2]
learning_rate = { low = 1e-4, high = 1e-2, log = true }
lookback = { low = 5, high = 10, step = 5 }
"""


def tiny_config(folder: Path, rows: int = 260, tune: str = TINY) -> Path:
    """A small CSV (the last rows of the AAPL sample) and a config that reads it."""
    frame = rc.datasets.load_sample("AAPL").tail(rows)
    frame.to_csv(folder / "prices.csv", index_label="date")
    path = folder / "tiny.toml"
    path.write_text(tune, encoding="utf-8")
    return path


# ------------------------------------------------------------------ the [tune] section
@pytest.mark.parametrize(
    ("override", "message"),
    [
        ("tune.unitz=[8, 16]", "unknown key 'tune.unitz'; did you mean 'units'?"),
        ("tune.units=[]", "tune.units is an empty list"),
        ("tune.learning_rate={ low = 0.1, high = 0.01 }", "low=0.1 must be below high=0.01"),
        ("tune.learning_rate={ low = 0.0, high = 0.1, log = true }", "log range needs low > 0"),
        ("tune.dropout={ low = 0.1 }", "a range needs low and high"),
        ("tune.units=32", "must be a list of candidates"),
        ("tune.optimizer=['adam', 'adamm']", "training.optimizer='adamm' is not one of"),
        ("tune.lookback={ low = 0, high = 10 }", "forecast.lookback=0 must be >= 1"),
        ("tune.layers=[0, 1]", "tune.layers must be whole numbers >= 1"),
    ],
)
def test_bad_search_spaces_are_named_config_errors(override, message):
    with pytest.raises(ConfigError, match="tune") as error:
        load_config(overrides=[override])
    assert message in str(error.value)


def test_ranges_and_choices_become_optuna_distributions():
    config = load_config(
        overrides=[
            "tune.units=[32, 64, 128]",
            "tune.learning_rate={ low = 1e-4, high = 1e-2, log = true }",
            "tune.lookback={ low = 20, high = 60, step = 20 }",
            "tune.dropout={ low = 0.0, high = 0.5 }",
        ]
    )
    space = parse_space(config)
    study = optuna.create_study(sampler=optuna.samplers.RandomSampler(seed=0))
    trial = study.ask()
    values = {name: param.suggest(trial) for name, param in space.items()}
    assert values["units"] in (32, 64, 128)
    assert isinstance(values["lookback"], int) and values["lookback"] in (20, 40, 60)
    assert 1e-4 <= values["learning_rate"] <= 1e-2
    assert trial.distributions["learning_rate"].log
    assert isinstance(values["dropout"], float) and 0.0 <= values["dropout"] <= 0.5


def test_dump_and_load_keep_the_tune_section(tmp_path):
    config = load_config(overrides=["tune.units=[8, 16]", "tune.dropout={ low = 0.0, high = 0.5 }"])
    path = tmp_path / "c.toml"
    path.write_text(dump_config(config), encoding="utf-8")
    assert load_config(path)["tune"] == {"units": [8, 16], "dropout": {"low": 0.0, "high": 0.5}}
    assert "tune" not in tomllib.loads(dump_config(load_config()))  # empty: not written


def kinds(layers):
    return [
        (s["type"], s.get("units", s.get("rate")), s.get("return_sequences", False)) for s in layers
    ]


def test_layers_units_and_dropout_map_onto_the_tutorial_stack():
    config = load_config("lstm")  # LSTM(50, seq) -> LSTM(50) -> Dense(25) -> Dense(1)
    one = apply_params(config, {"layers": 1, "units": 32})["model"]["layers"]
    assert kinds(one) == [("LSTM", 32, False), ("Dense", 25, False), ("Dense", 1, False)]
    three = apply_params(config, {"layers": 3, "dropout": 0.25})["model"]["layers"]
    assert kinds(three) == [
        ("LSTM", 50, True),
        ("Dropout", 0.25, False),
        ("LSTM", 50, True),
        ("Dropout", 0.25, False),
        ("LSTM", 50, False),
        ("Dropout", 0.25, False),
        ("Dense", 25, False),
        ("Dense", 1, False),
    ]


def test_dropout_sets_existing_dropout_layers_and_units_reach_bidirectional():
    layers = apply_params(load_config("lstm_bn_dropout"), {"dropout": 0.4, "layers": 1})
    assert kinds(layers["model"]["layers"]) == [
        ("LSTM", 50, False),
        ("Dropout", 0.4, False),
        ("Dense", 1, False),
    ]
    bilstm = apply_params(load_config("bilstm"), {"units": 7})["model"]["layers"]
    inner = [s["layer"]["units"] for s in bilstm if s["type"] == "Bidirectional"]
    assert inner and set(inner) == {7}


def test_settings_apply_by_short_and_full_name():
    tuned = apply_params(load_config(), {"lookback": 20, "training.batch_size": 16})
    assert tuned["forecast"]["lookback"] == 20 and tuned["training"]["batch_size"] == 16


def test_a_rescaling_key_needs_folds(tmp_path):
    config = load_config(overrides=["tune.scaler=['minmax', 'standard']"])
    with pytest.raises(ConfigError, match="--folds"):
        tuning.tune(config, 2, out=tmp_path)


# ------------------------------------------------------------------ pruning
class ScriptedTrial:
    def __init__(self, prune_after: int):
        self.reports, self.prune_after = [], prune_after

    def report(self, value, step):
        self.reports.append((step, value))

    def should_prune(self):
        return len(self.reports) >= self.prune_after


def test_the_pruning_callback_reports_val_loss_and_stops_fit():
    model = rc.Sequential([rc.layers.LSTM(2, input_shape=(4, 1)), rc.layers.Dense(1)], seed=0)
    model.compile(optimizer="adam", loss="mse")
    x, y = np.random.default_rng(0).normal(size=(2, 16, 4, 1)), np.zeros((16, 1))
    trial = ScriptedTrial(prune_after=2)
    history = rc.callbacks.History()
    with pytest.raises(optuna.TrialPruned, match="pruned after epoch 2"):
        model.fit(
            x[0], y, validation_data=(x[1], y), epochs=5, verbose=0,
            callbacks=[history, tuning.TrialPruning(trial, epochs=5)],
        )  # fmt: skip
    assert [step for step, _ in trial.reports] == [0, 1]
    assert [v for _, v in trial.reports] == pytest.approx(history.history["val_loss"])


def test_median_pruner_prunes_a_trial_trailing_the_median():
    study = optuna.create_study(pruner=optuna.pruners.MedianPruner(n_startup_trials=1))
    good = study.ask()
    for step in range(3):
        good.report(0.1, step)
    study.tell(good, 0.1)
    bad = tuning.TrialPruning(study.ask(), epochs=3)
    bad.on_train_begin()
    with pytest.raises(optuna.TrialPruned):
        bad.on_epoch_end(0, {"val_loss": 5.0})


# ------------------------------------------------------------------ the test part is never seen
@pytest.mark.parametrize("folds", [None, pytest.param(2, marks=pytest.mark.slow)])
def test_the_search_never_sees_the_test_part(tmp_path, monkeypatch, folds):
    config = load_config(tiny_config(tmp_path))
    real = pipelines.prepare(config)
    test_start = real.test.index[0]
    poisoned = real.test.copy()
    poisoned[:] = np.nan  # garbage: any fit or score that read it would fail or be NaN
    monkeypatch.setattr(
        tuning.pipelines,
        "prepare",
        lambda _: pipelines.Prepared(real.frame, real.source, real.train, real.val, poisoned),
    )
    seen = []
    fit = rc.Forecaster.fit

    def spy(self, train, validation=None, **kwargs):
        seen.append(
            max(train.index.max(), *([] if validation is None else [validation.index.max()]))
        )
        return fit(self, train, validation, **kwargs)

    monkeypatch.setattr(rc.Forecaster, "fit", spy)
    result = tuning.tune(
        config, 2, folds=folds, storage=f"sqlite:///{tmp_path / 's.db'}", worker=True,
        say=lambda *_: None,
    )  # fmt: skip
    states = [t.state.name for t in result.study.trials]
    assert states == ["COMPLETE"] * 2
    assert all(np.isfinite(t.value) for t in result.study.trials)
    assert seen and max(seen) < test_start
    assert len(seen) == (2 * 2 if folds else 2)


# ------------------------------------------------------------------ the final refit
def spy_on_fit(monkeypatch):
    """Record every Forecaster.fit: (train rows, validation rows or None, kwargs, forecaster)."""
    calls = []
    fit = rc.Forecaster.fit

    def spy(self, train, validation=None, **kwargs):
        calls.append(
            (train.copy(), None if validation is None else validation.copy(), kwargs, self)
        )
        return fit(self, train, validation, **kwargs)

    monkeypatch.setattr(rc.Forecaster, "fit", spy)
    return calls


def test_the_refit_learns_from_train_and_validation_and_never_reads_the_test_part(
    tmp_path, monkeypatch
):
    config = load_config(
        tiny_config(tmp_path, rows=400),
        overrides=["evaluation.interval=0.8", "training.patience=2"],
    )
    real = pipelines.prepare(config)
    poisoned = real.test.copy()
    poisoned[:] = np.nan  # any fit that read it would fail or learn NaN
    data = pipelines.Prepared(real.frame, real.source, real.train, real.val, poisoned)
    calls = spy_on_fit(monkeypatch)
    fc = tuning.Refit(epochs=2, say=lambda *_: None)(config, data)
    (twin_train, twin_val, twin_kwargs, twin), (train, validation, kwargs, final) = calls
    assert final is fc and validation is None
    pd.testing.assert_frame_equal(train, pd.concat([real.train, real.val]))  # in time order
    assert train.index.is_monotonic_increasing and train.index.max() < real.test.index[0]
    assert kwargs["epochs"] == 2 and kwargs["callbacks"] == []  # no early stopping
    assert fc.history_.epoch == [0, 1] and "val_loss" not in fc.history_.history
    # intervals: calibrated by a twin trained on train only, scored on the validation tail
    pd.testing.assert_frame_equal(twin_train, real.train)
    pd.testing.assert_frame_equal(twin_val, real.val)
    assert twin_kwargs["epochs"] == 2 and twin_kwargs["callbacks"] == []
    assert twin.calibration_scores_ is not None
    np.testing.assert_array_equal(fc.calibration_scores_, twin.calibration_scores_)
    forecast = fc.predict(real.test, context=real.val)
    assert np.isfinite(forecast.to_numpy()).all()


@pytest.mark.slow
def test_tune_refits_the_best_trial_for_its_best_epoch_on_train_and_validation(
    tmp_path, monkeypatch
):
    config = load_config(tiny_config(tmp_path, rows=400), overrides=["training.epochs=4"])
    data = pipelines.prepare(config)
    calls = spy_on_fit(monkeypatch)
    result = tuning.tune(config, 2, out=tmp_path / "runs", say=lambda *_: None)
    assert len(calls) == 3  # two trials (interval off: no calibration twin), one refit
    for train, validation, _, _ in calls:  # no fit saw a test row
        assert (
            max([train.index.max(), *([] if validation is None else [validation.index.max()])])
            < (data.test.index[0])
        )
    best = result.study.best_trial
    steps = best.intermediate_values  # the val_loss the pruner saw, by epoch
    expected = min(steps, key=lambda step: (steps[step], step)) + 1
    assert best.user_attrs["best_epoch"] == expected == result.final_epochs
    train, validation, kwargs, final = calls[-1]
    pd.testing.assert_frame_equal(train, pd.concat([data.train, data.val]))
    assert validation is None and kwargs["epochs"] == expected and kwargs["callbacks"] == []
    assert len(final.history_.epoch) == expected
    assert "refitted on train+validation; test scored once" in str(result.final.verdict)
    scored = json.loads((result.final.folder / "metrics.json").read_text())["test"]
    assert scored["rows"] == len(data.test) and scored["start"] == str(data.test.index[0].date())


def test_best_epoch_is_the_median_over_folds():
    pruning = tuning.TrialPruning(None, epochs=3)
    assert pruning.best_epoch() is None
    pruning.fold_losses = [[0.3, 0.2, 0.1], [0.1, 0.2, 0.3], [0.5, 0.1, 0.1], [0.2, 0.1, 0.3]]
    assert pruning.best_epoch() == 2  # epochs 3, 1, 2, 2: median 2
    pruning.fold_losses = [[0.3, 0.2, 0.1], [0.1, 0.2, 0.3]]
    assert pruning.best_epoch() == 2  # epochs 3 and 1: median 2


# ------------------------------------------------------------------ optional extra
def test_without_optuna_the_command_says_what_to_install(tmp_path, monkeypatch, capsys):
    monkeypatch.setitem(sys.modules, "optuna", None)  # `import optuna` raises ImportError
    config = tiny_config(tmp_path)
    code = main(["tune", "--config", str(config), "--trials", "2", "--out", str(tmp_path)])
    assert code == 2
    assert 'pip install "rnncast[tune]"' in capsys.readouterr().err
    assert not any(p.name.endswith("-tune") for p in tmp_path.iterdir())


def test_storage_errors_name_the_url_without_its_password(tmp_path):
    config = load_config(tiny_config(tmp_path))
    out = tmp_path / "runs"
    with pytest.raises(ConfigError, match=r"--storage nosuch://u:\*\*\*@host/db"):
        tuning.tune(config, 1, storage="nosuch://u:secret@host/db", out=out)
    assert list(out.iterdir()) == []  # no empty tuning folder left behind


# ------------------------------------------------------------------ end to end
@pytest.mark.slow
def test_tune_writes_the_report_best_toml_and_one_final_run(tmp_path, capsys):
    config = tiny_config(tmp_path)
    out = tmp_path / "runs"
    code = main(["tune", "--config", str(config), "--trials", "3", "--out", str(out)])
    assert code == 0, capsys.readouterr().err
    folder = next(out.iterdir())
    assert folder.name.endswith("-tiny-tune")
    page = (folder / "tune.html").read_text(encoding="utf-8")
    assert (
        "Best of 3 trials chosen on validation; refitted on train+validation; test scored once"
        in page
    )
    assert 'id="trials-table"' in page and "Optimisation history" in page
    trials = pd.read_csv(folder / "trials.csv", index_col="trial")
    assert list(trials.index) == [0, 1, 2] and set(trials["state"]) <= {"complete", "pruned"}
    best = load_config(folder / "best.toml")  # loads and validates as a run config
    assert best["tune"] == {} and best["name"] == "tiny-best"
    study = optuna.load_study(study_name="tiny", storage=f"sqlite:///{folder / 'study.db'}")
    chosen = study.best_trial.params
    assert best["forecast"]["lookback"] == chosen["lookback"]
    assert best["training"]["learning_rate"] == chosen["learning_rate"]
    final = [p for p in folder.iterdir() if p.is_dir()]
    assert len(final) == 1 and (final[0] / "report.html").is_file()
    assert load_config(final[0] / "config.toml") == best
    metrics = json.loads((final[0] / "metrics.json").read_text())
    assert "refitted on train+validation; test scored once" in metrics["verdict"]
    assert "best of 3 trials" in capsys.readouterr().out


def test_a_config_without_a_tune_section_names_the_fix(tmp_path, capsys):
    assert main(["tune", "--ticker", "MSFT", "--out", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert "no [tune] section" in err and "units = [32, 64]" in err
    assert list(tmp_path.iterdir()) == []

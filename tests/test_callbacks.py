import csv
import os
import sys

import numpy as np
import pytest

import rnncast as rc
from rnncast import Sequential
from rnncast.callbacks import (
    BackupAndRestore,
    Callback,
    CSVLogger,
    EarlyStopping,
    LambdaCallback,
    LearningRateScheduler,
    ModelCheckpoint,
    ReduceLROnPlateau,
    TensorBoard,
)
from rnncast.exceptions import ArtifactError, ConfigError
from rnncast.layers import LSTM, Dense
from rnncast.optimizers import SGD, Adam
from rnncast.optimizers.schedules import ExponentialDecay


class FakeModel:
    """Just what callbacks touch: weights snapshots, stop flag, optimizer."""

    def __init__(self, learning_rate=0.1):
        self.weights, self.stop_training = 0, False
        self.optimizer = SGD(learning_rate=learning_rate)

    def snapshot(self):
        return self.weights

    def restore(self, snapshot):
        self.weights = snapshot


def drive(callback, values, monitor="val_loss", model=None):
    """Feed epoch values to a callback the way fit does; returns the epochs run."""
    model = model or FakeModel()
    callback.set_model(model)
    callback.on_train_begin()
    ran = []
    for epoch, value in enumerate(values):
        model.weights = epoch
        ran.append(epoch)
        callback.on_epoch_end(epoch, {monitor: value})
        if model.stop_training:
            break
    callback.on_train_end()
    return ran, model


def test_early_stopping_patience_like_keras():
    ran, _ = drive(EarlyStopping(patience=2), [1.0, 0.9, 0.95, 0.96, 0.97, 0.5])
    assert ran == [0, 1, 2, 3]  # two epochs without improvement after epoch 1


def test_early_stopping_min_delta_and_restore_best_weights():
    stop = EarlyStopping(patience=1, min_delta=0.05, restore_best_weights=True)
    ran, model = drive(stop, [1.0, 0.97, 0.96])
    assert ran == [0, 1] and model.weights == 0 and stop.best_epoch == 0


def test_early_stopping_mode_max_start_from_epoch_and_baseline():
    ran, _ = drive(
        EarlyStopping(monitor="score", mode="max", patience=1), [1, 2, 1.5, 3], monitor="score"
    )
    assert ran == [0, 1, 2]
    ran, _ = drive(EarlyStopping(patience=0, start_from_epoch=3), [1, 2, 3, 4, 5])
    assert ran == [0, 1, 2, 3, 4]  # watching starts at epoch 3, patience 0 stops at epoch 4
    values = [1.0, 0.9, 0.9, 0.9]
    assert drive(EarlyStopping(patience=2), values)[0] == [0, 1, 2, 3]
    # Keras: improvements that do not beat the baseline do not reset the patience count
    assert drive(EarlyStopping(patience=2, baseline=0.5), values)[0] == [0, 1, 2]


def test_monitor_direction_must_be_known():
    with pytest.raises(ConfigError, match="pass mode='min' or mode='max'"):
        EarlyStopping(monitor="val_accuracy_of_sorts")
    with pytest.warns(UserWarning, match="watches 'val_loss', which is not logged; logged: loss"):
        EarlyStopping().on_epoch_end(0, {"loss": 1.0})


def test_reduce_lr_on_plateau():
    model = FakeModel(learning_rate=0.1)
    callback = ReduceLROnPlateau(factor=0.5, patience=2, min_lr=0.02, cooldown=1)
    drive(callback, [1.0] * 6, model=model)
    # Keras's counting: reductions at epochs 2 and 4 (the cooldown epoch also counts as waiting)
    assert model.optimizer.learning_rate == pytest.approx(0.025)
    drive(callback, [1.0] * 6, model=model)
    assert model.optimizer.learning_rate == 0.02


def test_reduce_lr_needs_a_float_learning_rate():
    model = FakeModel()
    model.optimizer = Adam(learning_rate=ExponentialDecay(0.1, 10, 0.5))
    with pytest.raises(ConfigError, match="follows a learning-rate schedule"):
        drive(ReduceLROnPlateau(patience=0), [1.0, 1.0], model=model)


def fitted(tmp_path, callbacks, epochs=3):
    rng = np.random.default_rng(0)
    x = rng.normal(size=(40, 6, 1)).astype(np.float32)
    y = x[:, -1]
    model = Sequential([LSTM(4, input_shape=(6, 1)), Dense(1)], seed=0)
    model.compile(optimizer="adam", loss="mse")
    history = model.fit(x, y, epochs=epochs, verbose=0, validation_split=0.25, callbacks=callbacks)
    return model, history


def test_model_checkpoint_every_epoch_and_best_only(tmp_path):
    pattern = str(tmp_path / "every-{epoch:02d}-{val_loss:.4f}")
    _, history = fitted(tmp_path, [ModelCheckpoint(pattern)])
    names = sorted(p.name for p in tmp_path.iterdir())
    assert names == [
        f"every-{e + 1:02d}-{v:.4f}" for e, v in enumerate(history.history["val_loss"])
    ]
    model, _ = fitted(tmp_path, [ModelCheckpoint(tmp_path / "best", save_best_only=True)], 4)
    saved = rc.load_model(tmp_path / "best")
    assert saved.get_config() == model.get_config()


def test_model_checkpoint_weights_only_and_bad_pattern(tmp_path):
    model, _ = fitted(
        tmp_path, [ModelCheckpoint(tmp_path / "w.safetensors", save_weights_only=True)], 1
    )
    clone = Sequential([LSTM(4, input_shape=(6, 1)), Dense(1)])
    clone.load_weights(tmp_path / "w.safetensors")
    x = np.ones((2, 6, 1), np.float32)
    np.testing.assert_array_equal(clone.predict(x), model.predict(x))
    with pytest.raises(ConfigError, match="cannot fill in ModelCheckpoint filepath"):
        fitted(tmp_path, [ModelCheckpoint(str(tmp_path / "{accuracy}"))], 1)


def test_csv_logger_writes_and_appends(tmp_path):
    log = tmp_path / "log.csv"
    _, history = fitted(tmp_path, [CSVLogger(log)], 2)
    rows = list(csv.DictReader(log.open()))
    assert [row["epoch"] for row in rows] == ["0", "1"]
    assert float(rows[1]["val_loss"]) == pytest.approx(history.history["val_loss"][1])
    fitted(tmp_path, [CSVLogger(log, append=True)], 1)
    lines = log.read_text().splitlines()
    assert lines[0] == "epoch,loss,val_loss" and len(lines) == 4


def test_hooks_run_in_keras_order(tmp_path):
    events = []

    class Recorder(Callback):
        def on_train_begin(self, logs=None):
            events.append("train_begin")

        def on_epoch_begin(self, epoch, logs=None):
            events.append(f"epoch_begin {epoch}")

        def on_train_batch_end(self, batch, logs=None):
            events.append(f"batch {batch} loss={'loss' in logs}")

        def on_epoch_end(self, epoch, logs=None):
            events.append(f"epoch_end {epoch} {sorted(logs)}")
            assert self.model is not None and self.params["epochs"] == 1

        def on_train_end(self, logs=None):
            events.append("train_end")

    fitted(tmp_path, [Recorder()], 1)
    assert events == [
        "train_begin",
        "epoch_begin 0",
        "batch 0 loss=True",
        "epoch_end 0 ['loss', 'val_loss']",
        "train_end",
    ]


def test_lambda_callback_and_bad_callbacks(tmp_path):
    seen = []
    fitted(tmp_path, [LambdaCallback(on_epoch_end=lambda epoch, logs: seen.append(epoch))], 2)
    assert seen == [0, 1]
    with pytest.raises(ConfigError, match="on_epoch_finish, which rnncast never calls"):
        LambdaCallback(on_epoch_finish=print)
    with pytest.raises(ConfigError, match=r"callbacks must be rnncast\.callbacks\.Callback"):
        fitted(tmp_path, [print], 1)


# ------------------------------------------------------------------ Keras 3 additions
def test_history_records_the_learning_rate_other_callbacks_log():
    # Keras runs History after the user's callbacks, so learning_rate reaches it.
    _, history = fitted(None, [ReduceLROnPlateau(patience=100)], 2)
    assert history.history["learning_rate"] == [pytest.approx(1e-3)] * 2


def test_learning_rate_scheduler_matches_keras_per_epoch():
    os.environ.setdefault("KERAS_BACKEND", "torch")
    keras = pytest.importorskip("keras")
    from rnncast.interop import from_keras

    def schedule(epoch, lr):  # the schedule of Keras's docstring, with an earlier drop
        return lr if epoch < 2 else lr * float(np.exp(-0.1))

    rng = np.random.default_rng(0)
    x = rng.normal(size=(40, 6, 1)).astype(np.float32)
    y = x[:, -1]
    keras_model = keras.Sequential(
        [keras.Input((6, 1)), keras.layers.LSTM(4), keras.layers.Dense(1)]
    )
    model = from_keras(keras_model)
    keras_model.compile(optimizer=keras.optimizers.SGD(learning_rate=0.05), loss="mse")
    model.compile(optimizer=SGD(learning_rate=0.05), loss="mse")
    fit = {"epochs": 5, "batch_size": 16, "shuffle": False, "verbose": 0}
    theirs = keras_model.fit(
        x, y, callbacks=[keras.callbacks.LearningRateScheduler(schedule)], **fit
    ).history
    ours = model.fit(x, y, callbacks=[LearningRateScheduler(schedule)], **fit).history
    np.testing.assert_allclose(ours["learning_rate"], theirs["learning_rate"], rtol=1e-6)
    np.testing.assert_allclose(ours["loss"], theirs["loss"], rtol=1e-5)  # measured ~1e-7
    np.testing.assert_allclose(
        model.predict(x), keras_model.predict(x, verbose=0), atol=1e-5
    )  # measured 6e-8
    assert model.optimizer.learning_rate == pytest.approx(0.05 * np.exp(-0.3), rel=1e-6)


def test_learning_rate_scheduler_one_argument_schedule_and_bad_values():
    _, history = fitted(None, [LearningRateScheduler(lambda epoch: 0.01 / (epoch + 1))], 3)
    assert history.history["learning_rate"] == pytest.approx([0.01, 0.005, 0.01 / 3])
    with pytest.raises(ConfigError, match="must return a float, got 'fast' at epoch 0"):
        fitted(None, [LearningRateScheduler(lambda epoch, lr: "fast")], 1)
    with pytest.raises(ConfigError, match="schedule must be a function"):
        LearningRateScheduler(0.01)
    with pytest.raises(ConfigError, match=r"learning rate -0.1 at epoch 0; .* finite number >= 0"):
        fitted(None, [LearningRateScheduler(lambda epoch, lr: -0.1)], 1)


class Crash(Callback):
    """Raises at the start of epoch ``at`` (a crash between two epochs)."""

    def __init__(self, at):
        super().__init__()
        self.at = at

    def on_epoch_begin(self, epoch, logs=None):
        if epoch == self.at:
            raise RuntimeError(f"crash at epoch {epoch}")


def backup_run(backup_dir, crash_at=None, epochs=5):
    """A seeded fit of 5 epochs with Adam, dropout and shuffling; a fresh model every call."""
    rng = np.random.default_rng(1)
    x = rng.normal(size=(50, 6, 1)).astype(np.float32)
    y = x[:, -1]
    model = Sequential([LSTM(4, input_shape=(6, 1), dropout=0.2), Dense(1)], seed=3)
    model.compile(optimizer=Adam(learning_rate=0.01), loss="mse")
    callbacks = [BackupAndRestore(backup_dir)]
    if crash_at is not None:
        callbacks.append(Crash(crash_at))
    history = model.fit(x, y, epochs=epochs, batch_size=16, verbose=0, callbacks=callbacks)
    return model, history, callbacks[0]


def test_backup_after_a_crash_holds_the_weights_of_the_last_finished_epoch(tmp_path):
    reference, _, _ = backup_run(tmp_path / "ref", epochs=3)  # what 3 epochs give
    with pytest.raises(RuntimeError, match="crash at epoch 3"):
        backup_run(tmp_path / "backup", crash_at=3)
    assert (tmp_path / "backup" / BackupAndRestore.FILE).exists()  # kept after the crash
    assert not (tmp_path / "ref").exists()  # deleted after a finished fit

    fresh = Sequential([LSTM(4, input_shape=(6, 1), dropout=0.2), Dense(1)], seed=99)
    fresh.compile(optimizer=Adam(learning_rate=0.01), loss="mse")
    fresh._build_optimizer()
    restore = BackupAndRestore(tmp_path / "backup")
    restore.set_model(fresh)
    restore.on_train_begin()
    assert restore.resumed_from == 3 and fresh._initial_epoch == 3
    for mine, theirs in zip(fresh.get_weights(), reference.get_weights(), strict=True):
        np.testing.assert_array_equal(mine, theirs)
    assert fresh.optimizer.iterations == reference.optimizer.iterations == 12  # 3 x 4 batches
    for key, value in reference.optimizer.state_tensors().items():
        np.testing.assert_array_equal(fresh.optimizer.state_tensors()[key], value)
    assert fresh.training_seed == 3


def test_backup_and_restore_resumes_at_the_crashed_epoch_with_the_same_weights(tmp_path):
    uninterrupted, _, _ = backup_run(tmp_path / "ref")
    with pytest.raises(RuntimeError, match="crash at epoch 3"):
        backup_run(tmp_path / "backup", crash_at=3)
    resumed, history, backup = backup_run(tmp_path / "backup")
    assert backup.resumed_from == 3 and history.epoch == [3, 4]
    for mine, theirs in zip(resumed.get_weights(), uninterrupted.get_weights(), strict=True):
        np.testing.assert_allclose(mine, theirs, rtol=0, atol=1e-7)
    assert not (tmp_path / "backup").exists()


def test_backup_and_restore_rejects_a_backup_of_another_model_and_bad_arguments(tmp_path):
    with pytest.raises(RuntimeError):
        backup_run(tmp_path / "backup", crash_at=2)
    other = Sequential([LSTM(3, input_shape=(6, 1)), Dense(1)], seed=0)
    other.compile(optimizer="adam", loss="mse")
    with pytest.raises(ArtifactError, match=r"another architecture; delete .*backup"):
        other.fit(
            np.zeros((8, 6, 1)),
            np.zeros(8),
            callbacks=[BackupAndRestore(tmp_path / "backup")],
            verbose=0,
        )
    (tmp_path / "junk").mkdir()
    (tmp_path / "junk" / BackupAndRestore.FILE).write_bytes(b"not safetensors")
    with pytest.raises(ArtifactError, match="cannot read the backup"):
        backup_run(tmp_path / "junk")
    with pytest.raises(ConfigError, match="save_freq='batch' is not supported"):
        BackupAndRestore(tmp_path, save_freq="batch")
    with pytest.raises(ConfigError, match="BackupAndRestore needs a backup_dir"):
        BackupAndRestore("")


def test_backup_every_n_batches_and_kept_when_asked(tmp_path):
    writes = []
    backup = BackupAndRestore(tmp_path / "b", save_freq=1, delete_checkpoint=False)
    original = backup._write
    backup._write = lambda: (writes.append(backup._finished_epochs), original())[1]
    fitted(None, [backup], 2)  # 30 training samples, batch 32: one batch per epoch
    assert writes == [0, 1]  # after each batch only (Keras), with the epochs finished before it
    assert (tmp_path / "b" / BackupAndRestore.FILE).exists()


def test_lambda_callback_runs_every_keras_hook_in_order():
    calls = []

    def record(name):
        return lambda *args: calls.append((name, *args[:-1]) if len(args) > 1 else (name,))

    hooks = [
        "on_train_begin",
        "on_epoch_begin",
        "on_train_batch_begin",
        "on_batch_begin",
        "on_train_batch_end",
        "on_batch_end",
        "on_epoch_end",
        "on_train_end",
    ]
    with_aliases = LambdaCallback(**{name: record(name) for name in hooks})
    model = Sequential([LSTM(2, input_shape=(4, 1)), Dense(1)], seed=0)
    model.compile(optimizer="sgd", loss="mse")
    model.fit(
        np.zeros((6, 4, 1)),
        np.zeros(6),
        batch_size=4,
        epochs=2,
        verbose=0,
        callbacks=[with_aliases],
    )
    # An explicit on_train_batch_* replaces the default that calls on_batch_*, as in Keras.
    batch = [
        ("on_train_batch_begin", 0),
        ("on_train_batch_end", 0),
        ("on_train_batch_begin", 1),
        ("on_train_batch_end", 1),
    ]
    assert calls == [
        ("on_train_begin",),
        ("on_epoch_begin", 0),
        *batch,
        ("on_epoch_end", 0),
        ("on_epoch_begin", 1),
        *batch,
        ("on_epoch_end", 1),
        ("on_train_end",),
    ]
    calls.clear()
    aliases_only = LambdaCallback(
        on_batch_begin=record("on_batch_begin"), on_batch_end=record("on_batch_end")
    )
    model.fit(
        np.zeros((6, 4, 1)),
        np.zeros(6),
        batch_size=4,
        epochs=1,
        verbose=0,
        callbacks=[aliases_only],
    )
    assert calls == [
        ("on_batch_begin", 0),
        ("on_batch_end", 0),
        ("on_batch_begin", 1),
        ("on_batch_end", 1),
    ]
    with pytest.raises(ConfigError, match="on_epoch_end must be a function, got int"):
        LambdaCallback(on_epoch_end=3)


def test_tensorboard_without_the_package_names_the_extra(monkeypatch):
    monkeypatch.setitem(sys.modules, "torch.utils.tensorboard", None)
    with pytest.raises(ConfigError, match=r"pip install rnncast\[tensorboard\]"):
        TensorBoard("logs")


@pytest.mark.parametrize(
    ("argument", "fix"),
    [
        ({"write_images": True}, "histogram_freq"),
        ({"profile_batch": 2}, "torch.profiler"),
        ({"embeddings_freq": 1}, "Embedding"),
        ({"write_steps_per_second": True}, "time epochs"),
        ({"update_freq": "often"}, "'epoch', 'batch' or a number"),
    ],
)
def test_tensorboard_unsupported_arguments_are_config_errors(argument, fix):
    with pytest.raises(ConfigError, match=fix):
        TensorBoard("logs", **argument)


def test_tensorboard_writes_keras_tags(tmp_path):
    pytest.importorskip("tensorboard")
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    _, history = fitted(None, [TensorBoard(tmp_path, histogram_freq=1, update_freq="batch")], 2)

    def scalars(part):
        events = EventAccumulator(str(tmp_path / part))
        events.Reload()
        tags = events.Tags()
        return {t: [e.value for e in events.Scalars(t)] for t in tags["scalars"]}, tags

    train, tags = scalars("train")
    validation, _ = scalars("validation")
    assert train["epoch_loss"] == pytest.approx(history.history["loss"])
    assert validation["epoch_loss"] == pytest.approx(history.history["val_loss"])
    assert train["epoch_learning_rate"] == pytest.approx([1e-3, 1e-3])
    assert len(train["batch_loss"]) == 2  # one batch per epoch
    assert "lstm/kernel" in " ".join(tags["histograms"]) or tags["histograms"]

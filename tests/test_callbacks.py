import csv

import numpy as np
import pytest

import rnncast as rc
from rnncast import Sequential
from rnncast.callbacks import (
    Callback,
    CSVLogger,
    EarlyStopping,
    LambdaCallback,
    ModelCheckpoint,
    ReduceLROnPlateau,
)
from rnncast.exceptions import ConfigError
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
    with pytest.raises(ConfigError, match="unknown hooks"):
        LambdaCallback(on_epoch_finish=print)
    with pytest.raises(ConfigError, match=r"callbacks must be rnncast\.callbacks\.Callback"):
        fitted(tmp_path, [print], 1)

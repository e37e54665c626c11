import os
import signal

import numpy as np
import pytest
import torch

import rnncast as rc
from rnncast import Sequential
from rnncast.callbacks import EarlyStopping, LambdaCallback, TerminateOnNaN
from rnncast.exceptions import ConfigError, DataError, FitError, ShapeError, TrainingDivergedError
from rnncast.layers import GRU, LSTM, Dense, Dropout
from rnncast.optimizers import Adam


def sine_windows(n=160, lookback=12, seed=0):
    rng = np.random.default_rng(seed)
    t = np.arange(n + lookback + 1)
    series = np.sin(t / 5) + rng.normal(0, 0.05, len(t))
    x = np.stack([series[i : i + lookback] for i in range(n)])[..., None].astype(np.float32)
    return x, series[lookback : lookback + n, None].astype(np.float32)


def small_model(seed=0, dropout=0.0, lr=1e-2):
    layers = [LSTM(8, input_shape=(12, 1))] + ([Dropout(dropout)] if dropout else []) + [Dense(1)]
    model = Sequential(layers, seed=seed)
    model.compile(optimizer=Adam(learning_rate=lr), loss="mse", metrics=["mae"])
    return model


def test_fit_learns_and_returns_keras_history():
    x, y = sine_windows()
    model = small_model()
    history = model.fit(x, y, batch_size=16, epochs=8, verbose=0, validation_split=0.25)
    assert history.epoch == list(range(8)) and model.history is history
    assert set(history.history) == {"loss", "mae", "val_loss", "val_mae"}
    losses = history.history["loss"]
    assert losses[-1] < losses[0] / 3
    assert history.params["epochs"] == 8


def test_validation_split_holds_out_the_last_samples():
    x, y = sine_windows()
    model = small_model()
    history = model.fit(x, y, epochs=1, verbose=0, validation_split=0.2)
    held_out = model.evaluate(x[128:], y[128:], verbose=0)
    assert history.history["val_loss"][0] == pytest.approx(held_out[0], rel=1e-6)


def test_same_seed_same_losses_and_shuffle_matters():
    x, y = sine_windows()
    runs = [
        small_model(seed=3, dropout=0.2).fit(x, y, epochs=3, verbose=0).history["loss"]
        for _ in range(2)
    ]
    assert runs[0] == runs[1]
    unshuffled = small_model(seed=3, dropout=0.2).fit(x, y, epochs=3, verbose=0, shuffle=False)
    assert unshuffled.history["loss"] != runs[0]


def test_one_dimensional_targets_and_multi_ticker_windows():
    from conftest import make_long

    X, y = rc.data.Windowizer(lookback=10).fit_transform(make_long(n=60))
    model = Sequential([GRU(4), Dense(1)], seed=0)
    model.compile(optimizer="adam", loss="mse")
    history = model.fit(X, y[:, 0], epochs=2, verbose=0)
    assert len(history.history["loss"]) == 2 and np.isfinite(history.history["loss"]).all()


def test_window_views_are_not_copied_for_training(aapl):
    from rnncast.models.batches import as_source

    X, _ = rc.data.Windowizer(lookback=60).fit_transform(aapl)
    source = as_source(X)
    buffer = X.base
    while buffer.base is not None:
        buffer = buffer.base
    assert source.rows.data_ptr() == buffer.__array_interface__["data"][0]
    torch.testing.assert_close(source.take(slice(5, 9)), torch.from_numpy(X[5:9].copy()))


@pytest.mark.parametrize(
    ("x", "y", "error", "message"),
    [
        (np.zeros((10, 7)), np.zeros(10), ShapeError, r"expects input \(None, 12, 1\) but got"),
        (np.zeros((10, 12, 1)), np.zeros(9), ShapeError, "x has 10 samples but y has 9"),
        (np.zeros((10, 12, 2)), np.zeros(10), ShapeError, r"expects input \(None, 12, 1\)"),
        (
            np.zeros((10, 12, 1)),
            np.zeros((10, 3)),
            ShapeError,
            r"outputs \(None, 1\) but y has shape",
        ),
        (
            np.full((10, 12, 1), np.nan),
            np.zeros(10),
            DataError,
            "x has NaN or inf values, first at sample 0",
        ),
        (
            np.zeros((10, 12, 1)),
            np.r_[np.zeros(4), np.inf, np.zeros(5)],
            DataError,
            "y has NaN or inf values, first at sample 4",
        ),
    ],
)
def test_inputs_are_checked_before_training(x, y, error, message):
    with pytest.raises(error, match=message):
        small_model().fit(x, y, verbose=0)


def test_fit_needs_compile_and_valid_arguments():
    x, y = sine_windows(20)
    with pytest.raises(FitError, match=r"call model.compile\(optimizer=..., loss=...\)"):
        Sequential([LSTM(4), Dense(1)]).fit(x, y)
    with pytest.raises(ConfigError, match="batch_size must be a positive integer"):
        small_model().fit(x, y, batch_size=0)
    with pytest.raises(ConfigError, match=r"validation_split must be in \(0, 1\)"):
        small_model().fit(x, y, validation_split=1.5, verbose=0)
    with pytest.raises(ConfigError, match="compile needs a loss"):
        small_model().compile(optimizer="adam")
    with pytest.raises(ConfigError, match="unknown loss 'rmse'"):
        small_model().compile(optimizer="adam", loss="rmse")


def nan_on_call(bad_call):
    calls = []

    def loss(y_true, y_pred):
        value = torch.nn.functional.mse_loss(y_pred, y_true)
        if not y_pred.requires_grad:  # the divergence watch's "predict 0" yardstick
            return value
        calls.append(1)
        return value * float("nan") if len(calls) == bad_call else value

    return loss


def test_nan_loss_raises_with_epoch_batch_and_keeps_finite_weights():
    x, y = sine_windows(64)
    model = small_model()
    model.compile(optimizer="adam", loss=nan_on_call(7))  # epoch 2, batch 3 with batch 32
    kept = {}
    snapshot = LambdaCallback(on_train_batch_end=lambda batch, logs: kept.update(model.snapshot()))
    with pytest.raises(TrainingDivergedError, match=r"at epoch 2, batch 3.*clipnorm") as info:
        model.fit(x, y, batch_size=16, epochs=3, verbose=0, shuffle=False, callbacks=[snapshot])
    assert info.value.history.epoch == [0]
    assert all(torch.equal(kept[k], v) for k, v in model.snapshot().items())
    assert all(torch.isfinite(p).all() for p in model.parameters())


def test_terminate_on_nan_stops_quietly(capsys):
    x, y = sine_windows(64)
    model = small_model()
    model.compile(optimizer="adam", loss=nan_on_call(3))
    history = model.fit(x, y, batch_size=16, epochs=3, verbose=0, callbacks=[TerminateOnNaN()])
    assert history.epoch == [] and model.stop_training
    assert "invalid loss, terminating training" in capsys.readouterr().out


def test_ctrl_c_returns_history_so_far_and_restores_best_weights(capsys):
    x, y = sine_windows(64)
    model = small_model()
    best = {}
    stopper = EarlyStopping(monitor="loss", patience=10, restore_best_weights=True)

    def interrupt(epoch, logs):
        best[epoch] = model.snapshot()
        if epoch == 2:
            os.kill(os.getpid(), signal.SIGINT)

    history = model.fit(
        x,
        y,
        batch_size=16,
        epochs=10,
        verbose=0,
        callbacks=[stopper, LambdaCallback(on_epoch_end=interrupt)],
    )
    assert history.epoch == [0, 1, 2]  # epoch 3 was interrupted after its first batch
    best_epoch = int(np.argmin(history.history["loss"]))
    assert all(torch.equal(best[best_epoch][k], v) for k, v in model.snapshot().items())
    assert "Training interrupted" in capsys.readouterr().out
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler


def test_progress_output(capsys):
    x, y = sine_windows(40)
    small_model().fit(x, y, batch_size=16, epochs=2, verbose=2, validation_split=0.2)
    out = capsys.readouterr().out.splitlines()
    assert out[0] == "Epoch 1/2" and out[2] == "Epoch 2/2"
    assert out[1].startswith("2/2 - ") and "ms/step - loss: " in out[1] and "val_loss: " in out[1]
    small_model().fit(x, y, epochs=1, verbose=0)
    assert capsys.readouterr().out == ""
    small_model().fit(x, y, epochs=1, verbose=1)  # not a terminal: a line per epoch
    assert capsys.readouterr().out.count("\n") == 2


def test_evaluate_returns_keras_shapes():
    x, y = sine_windows(50)
    model = small_model()
    loss, mae = model.evaluate(x, y, verbose=0)
    assert model.evaluate(x, y, verbose=0, return_dict=True) == {"loss": loss, "mae": mae}
    prediction = model.predict(x)
    assert loss == pytest.approx(float(np.mean((prediction - y) ** 2)), rel=1e-5)
    assert mae == pytest.approx(float(np.mean(np.abs(prediction - y))), rel=1e-5)
    model.compile(optimizer="adam", loss="mae")
    assert isinstance(model.evaluate(x, y, verbose=0), float)


def test_stop_training_from_a_callback_is_honoured():
    x, y = sine_windows(40)
    model = small_model()

    def stop(epoch, logs):
        model.stop_training = epoch == 1

    history = model.fit(x, y, epochs=5, verbose=0, callbacks=[LambdaCallback(on_epoch_end=stop)])
    assert history.epoch == [0, 1]


def test_more_fit_argument_errors():
    x, y = sine_windows(20)
    model = small_model()
    with pytest.raises(
        ConfigError, match="need 0 <= initial_epoch <= epochs, got initial_epoch=3, epochs=2"
    ):
        model.fit(x, y, epochs=2, initial_epoch=3)
    with pytest.raises(ConfigError, match=r"validation_data must be a tuple \(x_val, y_val\)"):
        model.fit(x, y, validation_data=x, verbose=0)
    with pytest.raises(ConfigError, match="verbose must be 'auto', 0, 1 or 2, got 3"):
        model.fit(x, y, verbose=3)


def test_data_and_weight_errors_name_the_fix():
    x, y = sine_windows(20)
    model = small_model()
    with pytest.raises(
        ConfigError, match=r"validation_split=0.99 leaves an empty part of \d+ samples"
    ):
        model.fit(x, y, validation_split=0.99, verbose=0)
    with pytest.raises(ConfigError, match="x and y are both required"):
        model.fit(x, None, verbose=0)
    with pytest.raises(ShapeError, match=r"x has \d+ samples but y has 3; they must match"):
        model.fit(x, y[:3], verbose=0)
    with pytest.raises(DataError, match="x must be numeric, got dtype"):
        model.fit(np.full((4, 12, 1), "a"), np.zeros(4), verbose=0)
    weights = model.get_weights()
    with pytest.raises(
        ShapeError, match=rf"got {len(weights) + 1} weight arrays but the model has"
    ):
        model.set_weights([*weights, weights[-1]])

"""Forecast the next close with Conv1D + LSTM, an ``Input`` first and a ``Lambda`` at the end.

The style of the TensorFlow time-series course: the inputs are prices divided
by 100, the model's last layer is ``Lambda(lambda x: x * 100.0)`` so it
predicts in dollars, the optimizer is an ``Adam`` object and ``EarlyStopping``
keeps the best epoch. Only the import lines below the ``# rnncast`` comment
differ from the Keras version.

Usage::

    python conv_lstm.py AAPL.csv
    EPOCHS=1 ROWS=400 python conv_lstm.py AAPL.csv

``EPOCHS`` sets the number of epochs (default 100, early stopping ends it
sooner), ``ROWS`` keeps only the last rows of the file (default: all).
"""

import os
import sys

import numpy as np
import pandas as pd

# rnncast
from rnncast.callbacks import EarlyStopping
from rnncast.layers import LSTM, Conv1D, Dense, Input, Lambda, MaxPooling1D
from rnncast.models import Sequential
from rnncast.optimizers import Adam

CSV_PATH = sys.argv[1] if len(sys.argv) > 1 else os.environ.get("CSV_PATH", "AAPL.csv")
EPOCHS = int(sys.argv[2]) if len(sys.argv) > 2 else int(os.environ.get("EPOCHS", "100"))
ROWS = int(os.environ.get("ROWS", "0"))
WINDOW_SIZE = 30
SPLIT = 0.8

if not os.path.exists(CSV_PATH):
    sys.exit(f"{CSV_PATH} not found: save a daily price history from Yahoo Finance as a CSV.")
df = pd.read_csv(CSV_PATH)
df["Date"] = pd.to_datetime(df["Date"])
df = df.sort_values("Date")
if ROWS:
    df = df.tail(ROWS)
series = df["Close"].to_numpy(dtype="float32")
time = df["Date"].to_numpy()


def windowed_dataset(values, window_size):
    """Windows of ``window_size`` prices (scaled by 1/100) and the next price."""
    X, y = [], []
    for i in range(len(values) - window_size):
        X.append(values[i : i + window_size])
        y.append(values[i + window_size])
    X = np.array(X)[..., np.newaxis] / 100.0  # (n, window_size, 1)
    return X, np.array(y)


split_time = int(len(series) * SPLIT)
X_train, y_train = windowed_dataset(series[:split_time], WINDOW_SIZE)
X_valid, y_valid = windowed_dataset(series[split_time - WINDOW_SIZE :], WINDOW_SIZE)
print("train windows:", X_train.shape, "validation windows:", X_valid.shape)

model = Sequential(
    [
        Input(shape=(WINDOW_SIZE, 1)),
        Conv1D(filters=32, kernel_size=5, strides=1, padding="causal", activation="relu"),
        MaxPooling1D(pool_size=2),
        LSTM(64, return_sequences=True),
        LSTM(32),
        Dense(16, activation="relu"),
        Dense(1),
        Lambda(lambda x: x * 100.0),
    ]
)
model.summary()

optimizer = Adam(learning_rate=1e-3)
model.compile(loss="huber", optimizer=optimizer, metrics=["mae"])
early_stopping = EarlyStopping(monitor="val_loss", patience=10, restore_best_weights=True)
history = model.fit(
    X_train,
    y_train,
    epochs=EPOCHS,
    batch_size=32,
    validation_data=(X_valid, y_valid),
    callbacks=[early_stopping],
)
print("epochs run:", len(history.history["loss"]))

forecast = model.predict(X_valid)[:, 0]
mae = np.mean(np.abs(forecast - y_valid))
naive_mae = np.mean(np.abs(X_valid[:, -1, 0] * 100.0 - y_valid))
print(f"Validation MAE: {mae:.4f} (naive forecast: {naive_mae:.4f})")
print("last date:", str(time[-1])[:10], "next close forecast:", float(forecast[-1]))

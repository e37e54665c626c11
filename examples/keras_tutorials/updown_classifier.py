"""Will the stock close higher tomorrow? An LSTM classifier with a softmax head.

The "up or down" tutorial: features are daily returns and volume changes,
standardised with the training rows' mean and standard deviation; the label is
1 when the next close is higher, else 0, as ``(n,)`` integers. The model ends
in ``Dense(2, activation="softmax")`` and trains with
``sparse_categorical_crossentropy`` and ``metrics=["accuracy"]``; ``predict``
returns the two class probabilities. Only the import lines below the
``# rnncast`` comment differ from the Keras version.

Usage::

    python updown_classifier.py AAPL.csv
    EPOCHS=1 ROWS=400 python updown_classifier.py AAPL.csv

``EPOCHS`` sets the number of epochs (default 30), ``ROWS`` keeps only the
last rows of the file (default: all).
"""

import os
import sys

import numpy as np
import pandas as pd

# rnncast
from rnncast.layers import LSTM, Dense, Dropout
from rnncast.models import Sequential

CSV_PATH = sys.argv[1] if len(sys.argv) > 1 else os.environ.get("CSV_PATH", "AAPL.csv")
EPOCHS = int(sys.argv[2]) if len(sys.argv) > 2 else int(os.environ.get("EPOCHS", "30"))
ROWS = int(os.environ.get("ROWS", "0"))
TIME_STEPS = 20

if not os.path.exists(CSV_PATH):
    sys.exit(f"{CSV_PATH} not found: save a daily price history from Yahoo Finance as a CSV.")
df = pd.read_csv(CSV_PATH, index_col="Date", parse_dates=True)
if ROWS:
    df = df.tail(ROWS)

# Features: today's return and volume change; label: does tomorrow close higher?
df["Return"] = df["Close"].pct_change()
df["VolumeChange"] = np.log(df["Volume"]).diff()
df["Target"] = (df["Close"].shift(-1) > df["Close"]).astype(int)
df = df.dropna().iloc[:-1]  # the last row has no tomorrow
features = df[["Return", "VolumeChange"]].values
labels = df["Target"].values

split = int(len(df) * 0.8)
mean, std = features[:split].mean(axis=0), features[:split].std(axis=0)
features = (features - mean) / std


def create_sequences(X, y, time_steps=TIME_STEPS):
    """Windows of ``time_steps`` days and the label of each window's last day."""
    Xs, ys = [], []
    for i in range(len(X) - time_steps + 1):
        Xs.append(X[i : i + time_steps])
        ys.append(y[i + time_steps - 1])
    return np.array(Xs), np.array(ys)


X_train, y_train = create_sequences(features[:split], labels[:split])
X_test, y_test = create_sequences(
    features[split - TIME_STEPS + 1 :], labels[split - TIME_STEPS + 1 :]
)
print("X_train:", X_train.shape, "y_train:", y_train.shape, "X_test:", X_test.shape)
print(f"share of up days in training: {y_train.mean():.3f}")

model = Sequential()
model.add(LSTM(32, input_shape=(X_train.shape[1], X_train.shape[2])))
model.add(Dropout(0.2))
model.add(Dense(16, activation="relu"))
model.add(Dense(2, activation="softmax"))
model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
model.summary()

history = model.fit(
    X_train,
    y_train,
    epochs=EPOCHS,
    batch_size=32,
    validation_split=0.1,
    shuffle=False,
    verbose=1,
)
print("training accuracy:", history.history["accuracy"][-1])

loss, accuracy = model.evaluate(X_test, y_test, verbose=0)
print(f"evaluate: loss {loss:.4f}, accuracy {accuracy:.4f}")

probabilities = model.predict(X_test)
print(
    "probabilities:",
    probabilities.shape,
    "rows sum to 1:",
    np.allclose(probabilities.sum(axis=1), 1.0, atol=1e-5),
)
predicted = np.argmax(probabilities, axis=1)
print(f"Test accuracy: {np.mean(predicted == y_test):.4f}")
print(f"always 'up' would score: {np.mean(y_test == 1):.4f}")

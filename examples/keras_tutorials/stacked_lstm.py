"""Predict tomorrow's closing price with a stacked LSTM (the classic Keras stock tutorial).

Written as the popular Keras tutorials write it; only the three import lines
below the ``# rnncast`` comment differ from the Keras version
(``keras.models`` -> ``rnncast.models`` and so on).

Usage::

    python stacked_lstm.py AAPL.csv            # a CSV saved from Yahoo Finance
    EPOCHS=1 ROWS=400 python stacked_lstm.py AAPL.csv

The CSV needs Yahoo's columns (Date, Open, High, Low, Close, Adj Close,
Volume). ``EPOCHS`` sets the number of epochs (default 25), ``ROWS`` keeps only
the last rows of the file (default: all). The plot is saved to
``stacked_lstm.png`` in the current folder.
"""

import math
import os
import sys

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from sklearn.preprocessing import MinMaxScaler

# rnncast
from rnncast.layers import LSTM, Activation, Dense, Dropout
from rnncast.models import Sequential

plt.switch_backend("Agg")  # write the plot to a file, no window

CSV_PATH = sys.argv[1] if len(sys.argv) > 1 else os.environ.get("CSV_PATH", "AAPL.csv")
EPOCHS = int(sys.argv[2]) if len(sys.argv) > 2 else int(os.environ.get("EPOCHS", "25"))
ROWS = int(os.environ.get("ROWS", "0"))
LOOKBACK = 60

# 1. Load the data
if not os.path.exists(CSV_PATH):
    sys.exit(f"{CSV_PATH} not found: save a daily price history from Yahoo Finance as a CSV.")
df = pd.read_csv(CSV_PATH, parse_dates=["Date"], index_col="Date")
if ROWS:
    df = df.tail(ROWS)
print(df.head())
data = df.filter(["Close"]).values  # (n, 1)
training_data_len = math.ceil(len(data) * 0.8)

# 2. Scale to [0, 1] with the training rows only
scaler = MinMaxScaler(feature_range=(0, 1))
scaler.fit(data[:training_data_len])
scaled_data = scaler.transform(data)

# 3. Cut 60-day windows
train_data = scaled_data[:training_data_len]
X_train, y_train = [], []
for i in range(LOOKBACK, len(train_data)):
    X_train.append(train_data[i - LOOKBACK : i, 0])
    y_train.append(train_data[i, 0])
X_train, y_train = np.array(X_train), np.array(y_train)
X_train = np.reshape(X_train, (X_train.shape[0], X_train.shape[1], 1))

test_data = scaled_data[training_data_len - LOOKBACK :]
X_test = []
y_test = data[training_data_len:]
for i in range(LOOKBACK, len(test_data)):
    X_test.append(test_data[i - LOOKBACK : i, 0])
X_test = np.array(X_test)
X_test = np.reshape(X_test, (X_test.shape[0], X_test.shape[1], 1))
y_test_scaled = scaler.transform(y_test)[:, 0]
print("X_train:", X_train.shape, "X_test:", X_test.shape)

# 4. Build the stacked LSTM
model = Sequential()
model.add(LSTM(50, return_sequences=True, input_shape=(X_train.shape[1], 1)))
model.add(Dropout(0.2))
model.add(LSTM(50, return_sequences=False))
model.add(Dropout(0.2))
model.add(Dense(25))
model.add(Activation("relu"))
model.add(Dense(1))
model.add(Activation("linear"))
model.summary()

# 5. Train
model.compile(optimizer="adam", loss="mean_squared_error")
history = model.fit(
    X_train,
    y_train,
    epochs=EPOCHS,
    batch_size=32,
    validation_data=(X_test, y_test_scaled),
    verbose=2,
)
print("final loss:", history.history["loss"][-1], "val_loss:", history.history["val_loss"][-1])

# 6. Predict and undo the scaling
predictions = model.predict(X_test)
predictions = scaler.inverse_transform(predictions)
rmse = np.sqrt(np.mean((predictions - y_test) ** 2))
print(f"Test RMSE: {rmse:.4f}")

# 7. Plot
train = df[:training_data_len]
valid = df[training_data_len:].copy()
valid["Predictions"] = predictions[:, 0]
plt.figure(figsize=(12, 6))
plt.title("Stacked LSTM")
plt.xlabel("Date")
plt.ylabel("Close Price USD ($)")
plt.plot(train["Close"])
plt.plot(valid[["Close", "Predictions"]])
plt.legend(["Train", "Val", "Predictions"], loc="lower right")
plt.savefig("stacked_lstm.png")
print("saved stacked_lstm.png")

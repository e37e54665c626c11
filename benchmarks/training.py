"""Epoch time of the tutorial model: rnncast ``fit`` vs a hand-written PyTorch loop.

Run: ``python benchmarks/training.py [--epochs 3] [--windows 5000]``

Workload w1 of the speed issue: LSTM(50, return_sequences=True) -> LSTM(50)
-> Dense(25) -> Dense(1), lookback 60 x 1 feature, batch 32, shuffled,
Adam(1e-3), MSE, on seeded random-walk windows. The reference is what a
careful engineer writes: ``nn.LSTM(num_layers=2, batch_first=True)`` + two
``nn.Linear``, one pre-built tensor indexed per batch, ``torch.optim.Adam``.
Epochs alternate between the two so machine noise hits both; the median of
epochs after the first is reported.
"""

from __future__ import annotations

import argparse
import statistics
import time

import numpy as np
import torch
from torch import nn

from rnncast import Sequential
from rnncast.layers import LSTM, Dense
from rnncast.optimizers import Adam


def random_walk_windows(n: int, lookback: int = 60, seed: int = 0):
    """Min-max scaled geometric random walk cut into float32 windows."""
    rng = np.random.default_rng(seed)
    prices = 100 * np.exp(np.cumsum(rng.normal(0, 0.01, n + lookback)))
    scaled = ((prices - prices.min()) / (prices.max() - prices.min())).astype(np.float32)
    x = np.lib.stride_tricks.sliding_window_view(scaled[:-1], lookback)[:n, :, None]
    return np.ascontiguousarray(x), scaled[lookback:lookback + n, None].copy()


class Reference(nn.Module):
    """The same network written directly with torch.nn."""

    def __init__(self) -> None:
        super().__init__()
        self.lstm = nn.LSTM(1, 50, num_layers=2, batch_first=True)
        self.head = nn.Sequential(nn.Linear(50, 25), nn.Linear(25, 1))

    def forward(self, x: torch.Tensor) -> torch.Tensor:  # (batch, 60, 1)
        """Forecast from the last hidden state."""
        return self.head(self.lstm(x)[0][:, -1])  # (batch, 1)


def reference_epoch(model: Reference, optimizer: torch.optim.Optimizer, x: torch.Tensor,
                    y: torch.Tensor, batch_size: int, generator: torch.Generator) -> float:
    """One shuffled epoch of the hand-written loop; returns seconds."""
    started = time.perf_counter()
    order = torch.randperm(len(x), generator=generator)
    for start in range(0, len(x), batch_size):
        chosen = order[start:start + batch_size]
        optimizer.zero_grad()
        loss = nn.functional.mse_loss(model(x[chosen]), y[chosen])
        loss.backward()
        optimizer.step()
    return time.perf_counter() - started


def compare(epochs: int = 3, windows: int = 5000, batch_size: int = 32) -> dict[str, float]:
    """Median epoch seconds of both (epochs after the first) and their ratio."""
    x, y = random_walk_windows(windows)
    ours = Sequential([LSTM(50, return_sequences=True, input_shape=(60, 1)), LSTM(50),
                       Dense(25), Dense(1)], seed=0)
    ours.compile(optimizer=Adam(learning_rate=1e-3), loss="mse")
    torch.manual_seed(0)
    reference = Reference()
    optimizer = torch.optim.Adam(reference.parameters(), lr=1e-3)
    x_t, y_t = torch.from_numpy(x), torch.from_numpy(y)
    generator = torch.Generator().manual_seed(0)
    times: dict[str, list[float]] = {"torch": [], "rnncast": []}
    for epoch in range(epochs):
        times["torch"].append(reference_epoch(reference, optimizer, x_t, y_t, batch_size,
                                              generator))
        started = time.perf_counter()
        ours.fit(x, y, batch_size=batch_size, epochs=epoch + 1, initial_epoch=epoch, verbose=0)
        times["rnncast"].append(time.perf_counter() - started)
    timed = slice(1, None) if epochs > 1 else slice(None)
    result = {name: statistics.median(values[timed]) for name, values in times.items()}
    result["ratio"] = result["rnncast"] / result["torch"]
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--windows", type=int, default=5000)
    args = parser.parse_args()
    result = compare(args.epochs, args.windows)
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads, {args.windows} "
          f"windows of 60 x 1, batch 32, median of epochs 2..{args.epochs}")
    print(f"plain PyTorch  {result['torch']:.2f} s/epoch")
    print(f"rnncast fit    {result['rnncast']:.2f} s/epoch   ratio {result['ratio']:.3f}")


if __name__ == "__main__":
    main()

"""Forward-pass speed of the tutorial stack: rnncast vs the same stack in plain PyTorch.

Run: ``python benchmarks/forward.py [--repeats 300] [--batch 32]``

Stack 1 of the Keras tutorials (LSTM(50, return_sequences=True) -> LSTM(50)
-> Dense(25) -> Dense(1), the w1 model of ``rnncast bench``) on a batch of
``batch x 60 x 1``, in
inference mode. The reference is what a careful engineer writes by hand:
``nn.LSTM(num_layers=2, batch_first=True)`` and two ``nn.Linear``. The two
are timed alternately in the same process so machine noise hits both; the
ratio of medians is reported (target: rnncast <= 1.10 x plain PyTorch).
"""

from __future__ import annotations

import argparse
import statistics
import time

import torch

from rnncast import Sequential
from rnncast.cli import bench


def rnncast_stack() -> Sequential:
    """The tutorial stack in rnncast (the same model ``rnncast bench`` trains as w1)."""
    return bench.rnncast_model(bench.W1)


def plain_stack() -> torch.nn.Module:
    """The same stack written directly with torch.nn (``rnncast.cli.bench.Reference``)."""
    return bench.Reference(bench.W1)


def timed(call, x: torch.Tensor) -> float:
    started = time.perf_counter()
    call(x)
    return time.perf_counter() - started


def compare(repeats: int = 300, batch: int = 32) -> dict[str, float]:
    """Median seconds per forward pass of both stacks and their ratio."""
    torch.manual_seed(0)
    ours, plain = rnncast_stack().eval(), plain_stack().eval()
    x = torch.randn(batch, 60, 1)
    numpy_x = x.numpy()
    times: dict[str, list[float]] = {"rnncast": [], "rnncast_predict": [], "torch": []}
    with torch.inference_mode():
        for _ in range(10):  # warm-up
            ours(x), plain(x)
        for _ in range(repeats):
            times["torch"].append(timed(plain, x))
            times["rnncast"].append(timed(ours, x))
    for _ in range(repeats):
        times["rnncast_predict"].append(timed(lambda a: ours.predict(a, batch_size=batch), numpy_x))
    medians = {name: statistics.median(values) for name, values in times.items()}
    medians["ratio"] = medians["rnncast"] / medians["torch"]
    medians["ratio_predict"] = medians["rnncast_predict"] / medians["torch"]
    return medians


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=300)
    parser.add_argument("--batch", type=int, default=32)
    args = parser.parse_args()
    result = compare(args.repeats, args.batch)
    print(
        f"torch {torch.__version__}, {torch.get_num_threads()} threads, "
        f"batch {args.batch} x 60 x 1, median of {args.repeats}"
    )
    print(f"plain PyTorch      {result['torch'] * 1e3:8.3f} ms")
    print(f"rnncast model(x)   {result['rnncast'] * 1e3:8.3f} ms   ratio {result['ratio']:.3f}")
    print(
        f"rnncast predict(x) {result['rnncast_predict'] * 1e3:8.3f} ms   "
        f"ratio {result['ratio_predict']:.3f} (numpy in and out)"
    )


if __name__ == "__main__":
    main()

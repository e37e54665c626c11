"""GPU check: rnncast on a CUDA device against the CPU and plain PyTorch, in one table.

Run on a CUDA machine (a few minutes):

    python benchmarks/gpu_check.py                 # device cuda
    python benchmarks/gpu_check.py --device cuda:1
    python benchmarks/gpu_check.py --cpu-dry-run   # the same code path on the CPU, small sizes

It checks, and prints one row per check:

1. every layer kind (the stacks of the Keras oracle tests: LSTM, GRU,
   SimpleRNN, Bidirectional, Conv1D, pooling, normalization,
   TimeDistributed; not dropout, whose masks come from each device's own
   random generator) gives on the GPU the outputs it gives on the CPU, and the
   same losses over two epochs of training, within 1e-4 (the CPU side matches
   Keras 3 within 1e-5 in tests/layers); cuDNN's TF32 mode is switched off so
   the GPU computes in true float32;
2. LSTM and GRU run cuDNN's fused RNN kernel (torch profiler);
3. a model trained and saved on the CPU loads onto the GPU and predicts the
   same numbers within 1e-5, and back;
4. the w1/w2 workloads of ``rnncast bench`` train and predict on the GPU
   next to plain PyTorch on the same GPU (ratio rnncast / torch).

Exit status 1 when a check fails.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np
import torch

import rnncast as rc
from rnncast.cli import bench
from rnncast.layers import (
    GRU,
    LSTM,
    BatchNormalization,
    Bidirectional,
    Conv1D,
    Dense,
    GlobalAveragePooling1D,
    LayerNormalization,
    MaxPooling1D,
    SimpleRNN,
    TimeDistributed,
)
from rnncast.models.devices import resolve_device

LAYER_TOLERANCE = 1e-4
ARTIFACT_TOLERANCE = 1e-5


class Row(NamedTuple):
    """One line of the table."""

    check: str
    value: str
    target: str
    ok: bool | None  # None: measured, nothing to pass


def stacks() -> dict[str, list[Any]]:
    """One small model per layer kind (fresh layers on every call)."""
    return {
        "LSTM x2": [LSTM(8, return_sequences=True), LSTM(6), Dense(1)],
        "GRU": [GRU(8), Dense(1)],
        "GRU reset_after=False": [GRU(8, reset_after=False), Dense(1)],
        "SimpleRNN": [SimpleRNN(8), Dense(1)],
        "LSTM (loop: relu)": [LSTM(6, activation="relu"), Dense(1)],
        "Bidirectional LSTM": [Bidirectional(LSTM(5)), Dense(1)],
        "Conv1D + pooling": [
            Conv1D(4, 3, activation="relu"),
            MaxPooling1D(2),
            GlobalAveragePooling1D(),
            Dense(1),
        ],
        "BatchNormalization": [LSTM(8), BatchNormalization(), Dense(1)],
        "LayerNorm + TimeDistributed": [
            LSTM(6, return_sequences=True),
            LayerNormalization(),
            TimeDistributed(Dense(3)),
            LSTM(4),
            Dense(1),
        ],
    }


def data(n: int = 32, timesteps: int = 12, features: int = 3) -> tuple[np.ndarray, np.ndarray]:
    """Seeded windows and targets."""
    rng = np.random.default_rng(0)
    x = rng.normal(size=(n, timesteps, features)).astype(np.float32)
    return x, (x[:, -1, :1] * 0.5 + 0.1 * x[:, 0, 1:2]).astype(np.float32)


def twin(layers: list[Any], device: torch.device) -> rc.Sequential:
    """A seeded model of ``layers`` compiled for ``device``."""
    model = rc.Sequential(layers, seed=0)
    model.compile(optimizer="adam", loss="mse", device=device)
    return model


def layer_rows(device: torch.device) -> list[Row]:
    """GPU outputs and two epochs' losses against the CPU, per layer kind."""
    x, y = data()
    rows = []
    for name, layers in stacks().items():
        cpu = twin(layers, torch.device("cpu"))
        cpu.build((None, *x.shape[1:]))
        other = twin(stacks()[name], device)
        other.build((None, *x.shape[1:]))
        other.set_weights(cpu.get_weights())
        output = float(np.abs(other.predict(x) - cpu.predict(x)).max())
        fit = {"epochs": 2, "batch_size": 16, "shuffle": False, "verbose": 0}
        losses_cpu = np.array(cpu.fit(x, y, **fit).history["loss"])
        losses_other = np.array(other.fit(x, y, **fit).history["loss"])
        loss = float(np.abs(losses_other / losses_cpu - 1).max())
        worst = max(output, loss)
        rows.append(
            Row(
                f"layer {name}: output / loss vs CPU",
                f"{output:.1e} / {loss:.1e}",
                f"<= {LAYER_TOLERANCE:g}",
                worst <= LAYER_TOLERANCE,
            )
        )
    return rows


def cudnn_row(device: torch.device) -> Row:
    """Whether LSTM and GRU forward passes launch cuDNN's RNN kernel."""
    if device.type != "cuda":
        return Row("LSTM/GRU use cuDNN (profiler)", "n/a on the CPU", "cudnn kernel", None)
    from torch.profiler import ProfilerActivity, profile

    x = torch.from_numpy(data()[0]).to(device)
    found = []
    for layers in ([LSTM(8), Dense(1)], [GRU(8), Dense(1)]):
        model = twin(layers, device)
        model.build((None, *x.shape[1:]))
        with profile(activities=[ProfilerActivity.CPU, ProfilerActivity.CUDA]) as prof:
            model(x)
            torch.cuda.synchronize(device)
        found.append(any("cudnn" in event.key.lower() for event in prof.key_averages()))
    return Row(
        "LSTM/GRU use cuDNN (profiler)", f"LSTM {found[0]}, GRU {found[1]}", "both", all(found)
    )


def artifact_row(device: torch.device) -> Row:
    """Trained and saved on the CPU, loaded onto ``device`` (and back): same predictions."""
    x, y = data()
    model = twin([LSTM(8), Dense(1)], torch.device("cpu"))
    model.fit(x, y, epochs=2, batch_size=16, verbose=0)
    expected = model.predict(x)
    with tempfile.TemporaryDirectory() as folder:
        model.save(Path(folder) / "m")
        there = rc.load(Path(folder) / "m", device=str(device))
        moved = float(np.abs(there.predict(x) - expected).max())
        there.fit(x, y, epochs=1, batch_size=16, verbose=0)  # trains there, saves from there
        there.save(Path(folder) / "back")
        back = rc.load(Path(folder) / "back", device="cpu")
        returned = float(np.abs(back.predict(x) - there.predict(x)).max())
    worst = max(moved, returned)
    return Row(
        f"artifact CPU -> {device} / {device} -> CPU",
        f"{moved:.1e} / {returned:.1e}",
        f"<= {ARTIFACT_TOLERANCE:g}",
        worst <= ARTIFACT_TOLERANCE,
    )


def tiny(workload: bench.Workload) -> bench.Workload:
    """``workload``'s code path at a size that runs in a second on a CPU (the dry run)."""
    return bench.Workload(workload.name, 8, (1,), workload.features, 16, 64, epochs=2)


def bench_rows(device: torch.device, small: bool) -> list[Row]:
    """The w1/w2 workloads on ``device``: rnncast / plain PyTorch on the same device."""
    rows = []
    for workload in (bench.W1, bench.W2):
        sized = tiny(workload) if small else workload
        train = bench.train_speed(sized, device=device)
        infer = bench.inference_speed(sized, windows=128 if small else 10_000, device=device)
        rows.append(
            Row(
                f"{workload.name} training epoch on {device} (torch s / rnncast s)",
                f"{train['torch_s']:.3g} / {train['rnncast_s']:.3g} = {train['ratio']:.2f}x",
                "ratio (measured)",
                None,
            )
        )
        rows.append(
            Row(
                f"{workload.name} inference on {device} (windows/s, torch / rnncast)",
                f"{infer['torch_windows_per_s']:.4g} / {infer['rnncast_windows_per_s']:.4g}",
                "ratio (measured)",
                None,
            )
        )
    return rows


def table(rows: list[Row]) -> str:
    """The rows as one Markdown table."""
    lines = ["| check | value | target | ok |", "|---|---|---|---|"]
    for row in rows:
        mark = "" if row.ok is None else ("yes" if row.ok else "NO")
        lines.append(f"| {row.check} | {row.value} | {row.target} | {mark} |")
    return "\n".join(lines)


def run(device: torch.device, small: bool, with_bench: bool = True) -> list[Row]:
    """Every check on ``device`` (``small``: tiny bench sizes, for the CPU dry run)."""
    flags = torch.backends.cudnn.allow_tf32, torch.backends.cuda.matmul.allow_tf32
    torch.backends.cudnn.allow_tf32 = False  # true float32 on Ampere and later GPUs
    torch.backends.cuda.matmul.allow_tf32 = False
    try:
        rows = [*layer_rows(device), cudnn_row(device), artifact_row(device)]
        if with_bench:
            rows += bench_rows(device, small)
    finally:
        torch.backends.cudnn.allow_tf32, torch.backends.cuda.matmul.allow_tf32 = flags
    return rows


def main(argv: list[str] | None = None) -> int:
    """Parse the arguments, run the checks, print the table; 1 when a check failed."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--device", default="cuda", help="the GPU to check (default cuda)")
    parser.add_argument(
        "--cpu-dry-run",
        action="store_true",
        help="run the same checks on the CPU with tiny bench sizes (no GPU needed)",
    )
    parser.add_argument("--no-bench", action="store_true", help="skip the w1/w2 timings")
    args = parser.parse_args(argv)
    device = resolve_device("cpu" if args.cpu_dry_run else args.device)
    started = time.perf_counter()
    rows = run(device, small=args.cpu_dry_run, with_bench=not args.no_bench)
    print(f"rnncast {rc.__version__}, torch {torch.__version__}, device {device}")
    print(table(rows))
    print(f"{time.perf_counter() - started:.0f} s")
    return 0 if all(row.ok is not False for row in rows) else 1


if __name__ == "__main__":
    sys.exit(main())

"""What data parallelism costs: the universe LSTM on 1 process against N gloo processes.

The universe model is one global LSTM over many tickers' windows
(``rnncast.data.Windowizer`` on a long multi-ticker frame, which returns a
``Windows`` object that ``fit`` takes as it is). This script times the same
number of global batches:

* ``1 process, T threads``: plain ``fit``;
* ``N processes x 1 thread``: ``torchrun --nproc_per_node N`` (gloo,
  ``DistributedDataParallel``), each rank a slice of every global batch;

and prints samples per second, the all-reduce cost of one step (measured),
the model's FLOPs per window (counted) and the memory of the windows.

Run (from the repository, the shared data present)::

    python benchmarks/scale_ddp.py                  # the table of docs/scale.md
    python benchmarks/scale_ddp.py --tickers 5 --steps 5 --repeats 1   # a quick look

Numbers depend on the machine and on what else runs on it: say both when
quoting them.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT.parent / "shared" / "data" / "hsmd" / "hsmd_sp500_1990_2017.csv.gz"
FEATURES = ["close:log_return", "open:log_return"]


def universe_frame(tickers: int, since: str) -> object:
    """The first ``tickers`` tickers of the HSMD S&P 500 file from ``since``, as a long frame."""
    import pandas as pd

    raw = pd.read_csv(DATA, parse_dates=["Date"])
    chosen = sorted(raw["Ticker"].unique())[:tickers]
    raw = raw[raw["Ticker"].isin(chosen) & (raw["Date"] >= since)]
    frame = raw.rename(columns=str.lower).rename(columns={"date": "date"}).set_index("date")
    return frame.sort_values(["ticker", "date"])[["ticker", "open", "close"]]


def windows(args: argparse.Namespace) -> tuple[object, object]:
    """The universe's training windows: ``Windows`` (n, lookback, 2) and targets (n, 1)."""
    import rnncast as rc

    frame = universe_frame(args.tickers, args.since)
    win = rc.data.Windowizer(
        lookback=args.lookback,
        features=FEATURES,
        target="close",
        target_transform="log_return",
        scaler="standard",
    )
    return win.fit_transform(frame)


def build(args: argparse.Namespace, features: int) -> object:
    import rnncast as rc
    from rnncast.layers import LSTM, Dense

    layers = [LSTM(args.units, input_shape=(args.lookback, features)), Dense(1)]
    model = rc.Sequential(layers, seed=0)
    model.compile(optimizer="adam", loss="mse")
    return model


def lstm_flops(units: int, features: int, lookback: int) -> dict[str, float]:
    """FLOPs of one window through LSTM(units) -> Dense(1), counted by hand.

    Per timestep: the four gates' matrix products ``2 * 4u * (u + f)`` (one
    multiply and one add per weight), their biases ``4u``, and the cell's
    element-wise work (three sigmoids, two tanhs, three products, one sum:
    about ``10u``, counting a sigmoid or tanh as one). Backward costs about
    twice the forward, so one training window is ``3x`` the forward.
    """
    per_step = 8 * units * (units + features) + 4 * units + 10 * units
    forward = lookback * per_step + 2 * units  # + Dense(1)
    return {"per_step": per_step, "forward": forward, "train": 3 * forward}


def time_fit(args: argparse.Namespace) -> dict[str, float]:
    """Fit ``args.steps`` global batches ``args.repeats`` times; the best samples/s."""
    import torch

    from rnncast._internal import ranks
    from rnncast.models import distributed

    distributed.setup()
    x, y = windows(args)
    model = build(args, len(FEATURES))
    model.fit(x, y, batch_size=args.batch, epochs=1, steps_per_epoch=2, verbose=0)  # warm up
    best = 0.0
    for _ in range(args.repeats):
        if ranks.world_size() > 1:
            torch.distributed.barrier()
        started = time.perf_counter()
        model.fit(x, y, batch_size=args.batch, epochs=1, steps_per_epoch=args.steps, verbose=0)
        elapsed = time.perf_counter() - started
        if ranks.world_size() > 1:  # the slowest rank sets the pace
            slowest = torch.tensor([elapsed])
            torch.distributed.all_reduce(slowest, op=torch.distributed.ReduceOp.MAX)
            elapsed = float(slowest)
        best = max(best, args.steps * args.batch / elapsed)
    result = {"windows": len(y), "samples_per_s": best, "params": model.count_params()}
    if ranks.world_size() > 1:
        result["allreduce_ms"] = allreduce_ms(model.count_params())
    return result


def allreduce_ms(params: int, repeats: int = 200) -> float:
    """Milliseconds of one gloo all-reduce of the gradients plus the 3-flag agreement."""
    import torch
    import torch.distributed as dist

    grads, flags = torch.zeros(params), torch.zeros(3)
    dist.barrier()
    started = time.perf_counter()
    for _ in range(repeats):
        dist.all_reduce(grads)
        dist.all_reduce(flags, op=dist.ReduceOp.MAX)
    return 1000 * (time.perf_counter() - started) / repeats


def child(args: argparse.Namespace) -> None:
    """One measurement in this process (a torchrun rank or the single process)."""
    import torch

    torch.set_num_threads(args.threads)
    result = time_fit(args)
    from rnncast._internal import ranks

    if ranks.is_main_process():
        print("RESULT " + json.dumps(result), flush=True)


def measure(args: argparse.Namespace, processes: int, threads: int) -> dict[str, float]:
    """Run :func:`child` in 1 process or under torchrun; parse its RESULT line."""
    options = [
        "--child", "--threads", str(threads), "--tickers", str(args.tickers),
        "--since", args.since, "--steps", str(args.steps), "--batch", str(args.batch),
        "--units", str(args.units), "--lookback", str(args.lookback),
        "--repeats", str(args.repeats),
    ]  # fmt: skip
    script = [str(Path(__file__).resolve()), *options]
    if processes == 1:
        command = [sys.executable, *script]
    else:
        launcher = ["-m", "torch.distributed.run", "--standalone", f"--nproc_per_node={processes}"]
        command = [sys.executable, *launcher, *script]
    env = {**os.environ, "OMP_NUM_THREADS": str(threads)}
    env["PYTHONPATH"] = str(ROOT / "src") + os.pathsep + env.get("PYTHONPATH", "")
    done = subprocess.run(command, env=env, capture_output=True, text=True, check=True)
    line = next(x for x in done.stdout.splitlines() if x.startswith("RESULT "))
    return json.loads(line[len("RESULT ") :])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tickers", type=int, default=40)
    parser.add_argument("--since", default="2010-01-01")
    parser.add_argument("--steps", type=int, default=20, help="global batches timed")
    parser.add_argument("--batch", type=int, default=256, help="global batch size")
    parser.add_argument("--units", type=int, default=64)
    parser.add_argument("--lookback", type=int, default=60)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args)
        return
    flops = lstm_flops(args.units, len(FEATURES), args.lookback)
    runs = {
        f"1 process x {args.workers} threads": measure(args, 1, args.workers),
        "1 process x 1 thread": measure(args, 1, 1),
        f"{args.workers} processes x 1 thread (gloo DDP)": measure(args, args.workers, 1),
    }
    base = runs["1 process x 1 thread"]["samples_per_s"]
    print(
        f"universe LSTM({args.units}) -> Dense(1), lookback {args.lookback}, "
        f"{len(FEATURES)} features, {args.tickers} tickers since {args.since}, "
        f"global batch {args.batch}, {args.steps} batches timed, best of {args.repeats}"
    )
    print(f"load average at the end: {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
    forward, train = flops["forward"] / 1e6, flops["train"] / 1e6
    print(f"FLOPs per window: forward {forward:.2f} M, training {train:.2f} M")
    print("| setup | samples/s | vs 1 process x 1 thread | training GFLOP/s | all-reduce ms/step |")
    print("|---|---|---|---|---|")
    for name, result in runs.items():
        rate = result["samples_per_s"]
        reduce = result.get("allreduce_ms")
        reduce_text = "" if reduce is None else f"{reduce:.3f}"
        gflops = rate * flops["train"] / 1e9
        print(f"| {name} | {rate:,.0f} | {rate / base:.2f}x | {gflops:.2f} | {reduce_text} |")
    any_run = next(iter(runs.values()))
    params = any_run["params"]
    print(f"windows: {any_run['windows']:,}; parameters: {params:,} ({params * 4 / 1e3:.0f} kB)")


if __name__ == "__main__":
    main()

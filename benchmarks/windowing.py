"""Time and memory of cutting windows, as ratios to the input array.

Run: ``python benchmarks/windowing.py [--rows 1000000] [--smoke]``

1. A synthetic 1,000,000 x 5 float64 frame, lookback 60: peak traced memory
   of ``Windowizer.fit_transform`` over the input's bytes (target: about 2x,
   where materialised windows would be 60x / 2 = 30x in float32).
2. When ``../shared/data/hsmd/hsmd_sp500_1990_2017.csv.gz`` exists: the
   176-ticker set (about 1.2 million rows), read, split and windowed per ticker.
"""

from __future__ import annotations

import argparse
import time
import tracemalloc

import numpy as np
import pandas as pd

import rnncast as rc
from rnncast.cli import bench

COLUMNS = ["open", "high", "low", "close", "volume"]


def measure(call):
    """Run ``call`` once; return its result, seconds and peak traced bytes."""
    tracemalloc.start()
    started = time.perf_counter()
    result = call()
    seconds = time.perf_counter() - started
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return result, seconds, peak


def synthetic(rows: int) -> None:
    rng = np.random.default_rng(0)
    values = np.exp(rng.normal(0, 0.01, (rows, len(COLUMNS))).cumsum(axis=0))
    frame = pd.DataFrame(
        values,
        columns=COLUMNS,
        index=pd.date_range("1800-01-01", periods=rows, freq="D", name="date"),
    )
    win = rc.data.Windowizer(lookback=60, features=COLUMNS)
    (X, _), seconds, peak = measure(lambda: win.fit_transform(frame))
    print(
        f"synthetic {rows:,} x {len(COLUMNS)}: {seconds:.2f} s, peak {peak / 1e6:.0f} MB = "
        f"{peak / values.nbytes:.2f} x input ({values.nbytes / 1e6:.0f} MB); "
        f"materialised windows would be {X.nbytes / 1e6:,.0f} MB"
    )


def hsmd() -> None:
    result = bench.hsmd_windowing()
    if result is None:
        print("hsmd: skipped (../shared/data/hsmd not found)")
        return
    print(
        f"hsmd: {result['tickers']} tickers, {result['rows']:,} rows -> "
        f"{result['windows']:,} windows in {result['seconds']:.2f} s, peak "
        f"{result['peak_mb']:.0f} MB = {result['memory_vs_float32']:.2f} x the float32 input"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--smoke", action="store_true", help="small and fast, for CI")
    args = parser.parse_args()
    synthetic(10_000 if args.smoke else args.rows)
    if not args.smoke:
        hsmd()


if __name__ == "__main__":
    main()

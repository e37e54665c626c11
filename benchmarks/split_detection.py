"""Split and jump detection on real data: false positives and known unadjusted splits.

Runs :func:`rnncast.data.validation.check_jumps` per ticker over the data sets
in ``/work/shared/data`` (see its README; they are never copied into the
project) and prints what it flags:

* HSMD (176 S&P 500 names 1990-2017, adjusted for splits and dividends):
  every flag is a false positive, except the bad ticks the README lists;
* S&P 500 5-year (unadjusted for some corporate actions): DISCA/DISCK on
  2014-08-07 (a share-class split, -51 %) must be flagged.

Run: ``python benchmarks/split_detection.py [DATA_DIR]``.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT / "src") not in sys.path:
    sys.path.insert(0, str(ROOT / "src"))

from rnncast.data.validation import _jumps  # noqa: E402

DATA = Path("/work/shared/data")
SETS = {
    "hsmd": ("hsmd/hsmd_sp500_1990_2017.csv.gz", "Ticker", "Date", "Close"),
    "hsmd_etfs": ("hsmd/hsmd_etfs.csv.gz", "Ticker", "Date", "Close"),
    "sandp500_5yr": ("sandp500_5yr/all_stocks_5yr.csv.gz", "Name", "date", "close"),
}


def flags(path: Path, ticker: str, date: str, close: str) -> tuple[int, int, list[tuple]]:
    """(tickers, moves checked, [(ticker, date, ratio, kind)]) for one data set."""
    table = pd.read_csv(path, usecols=[ticker, date, close])
    found, moves = [], 0
    for name, rows in table.groupby(ticker, sort=True):
        rows = rows.sort_values(date)
        values = rows[close].to_numpy(np.float64)
        moves += len(values) - 1
        flagged, stays = _jumps(values)
        for t in np.flatnonzero(flagged):
            kind = "split" if stays[t] else "spike"
            found.append((name, rows[date].iloc[t + 1], values[t + 1] / values[t], kind))
    return table[ticker].nunique(), moves, found


def main(data: Path = DATA) -> dict[str, dict]:
    report = {}
    for label, (file, *columns) in SETS.items():
        if not (data / file).is_file():
            print(f"{label}: {data / file} missing, skipped")
            continue
        start = time.perf_counter()
        tickers, moves, found = flags(data / file, *columns)
        seconds = time.perf_counter() - start
        print(
            f"{label}: {tickers} tickers, {moves:,} daily moves, {len(found)} flagged "
            f"({seconds:.0f} s)"
        )
        for name, day, ratio, kind in found:
            print(f"  {name:6} {day}  x{ratio:.3f}  {kind}")
        report[label] = {"tickers": tickers, "moves": moves, "flagged": found}
    return report


if __name__ == "__main__":
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else DATA)

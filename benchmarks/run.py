"""Run the full benchmark suite (the same as ``rnncast bench``) and write the results.

Run: ``python benchmarks/run.py`` writes ``docs/benchmarks.md`` and
``benchmarks/results.json``; ``--quick`` is the seconds-long smoke version.
See :mod:`rnncast.cli.bench` for the workloads and the reference implementation.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from rnncast.cli import bench

ROOT = Path(__file__).resolve().parents[1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args()
    bench.main(
        quick=args.quick,
        markdown_path=None if args.quick else str(ROOT / "docs" / "benchmarks.md"),
        json_path=None if args.quick else str(ROOT / "benchmarks" / "results.json"),
    )


if __name__ == "__main__":
    main()

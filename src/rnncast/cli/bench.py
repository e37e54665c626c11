"""``rnncast bench``: training and inference speed, memory and import time next to plain PyTorch.

Both sides run in the same process on the same synthetic windows (a seeded
geometric random walk, min-max scaled, float32), alternating so machine noise
hits both; results are ratios (rnncast / PyTorch) plus absolute figures.

* w1, the Keras tutorial: LSTM(50, return_sequences) -> LSTM(50) -> Dense(25)
  -> Dense(1); 60 x 1 windows; batch 32; 5,000 windows; 3 epochs; the median
  of epochs 2-3.
* w2, larger: LSTM(128, return_sequences) -> LSTM(128) -> Dense(1); 60 x 5
  windows; batch 256; 50,000 windows; 10 warm-up batches, then 1 timed epoch.
* Inference for both: 10,000 windows at batch 1024, median of 3 warm calls.
* Peak resident memory of each side (separate processes), ``import rnncast``
  time over ``import torch, pandas``, validation MSE after the timed epochs,
  and windowing the 176-ticker HSMD set when ``../shared/data`` is present.
* universe (``--workload universe``; skipped when ``../shared/data`` is
  absent): a global LSTM(64, return_sequences) -> LSTM(64) -> Dense(1) on
  every ticker of HSMD: ``rnncast.data.Windowizer(60)`` on open, high, low,
  close, volume (about 1.2 million windows, a multi-ticker ``Windows``
  object that ``fit`` gathers batches from), batch 256, 3 epochs, the median
  of epochs 2-3; the reference indexes one pre-built tensor of the same
  windows. ``--max-windows N`` trains on N windows drawn at random from all
  tickers and dates. Also the windowing time and its peak traced memory over
  the float32 input.

The reference is what a careful engineer writes by hand:
``nn.LSTM(num_layers=2, batch_first=True)`` + ``nn.Linear``, one pre-built
tensor indexed per batch, ``torch.optim.Adam``, MSE, no DataLoader.

On a GPU (``--device cuda``) both sides train and predict on that GPU: the
reference keeps its whole tensor there (what a careful engineer writes),
rnncast keeps its windows on the host and copies each batch over; memory,
import time and the HSMD windowing are CPU measurements and are skipped.

Example:
    $ rnncast bench --quick
    $ rnncast bench --workload universe --max-windows 50000
    $ rnncast bench --device cuda
    $ python -m rnncast bench --markdown docs/benchmarks.md --json benchmarks/results.json
"""

from __future__ import annotations

import itertools
import json
import platform
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from rnncast.exceptions import ConfigError
from rnncast.layers import LSTM, Dense
from rnncast.models.devices import resolve_device
from rnncast.models.sequential import Sequential
from rnncast.optimizers import Adam


@dataclass(frozen=True)
class Workload:
    """Sizes of one benchmark workload."""

    name: str
    units: int
    dense: tuple[int, ...]
    features: int
    batch: int
    windows: int
    epochs: int = 3
    warmup_batches: int = 0


W1 = Workload("w1", 50, (25, 1), 1, 32, 5000, epochs=3)
W2 = Workload("w2", 128, (1,), 5, 256, 50_000, epochs=1, warmup_batches=10)
# A global LSTM on every ticker of HSMD (median of epochs 2-3); --max-windows samples windows.
UNIVERSE = Workload("universe", 64, (1,), 5, 256, 1_225_085, epochs=3)
UNIVERSE_FEATURES = ["open", "high", "low", "close", "volume"]
HSMD = (  # ../shared/data next to the repository (src/rnncast/cli/bench.py -> repo -> ..)
    Path(__file__).resolve().parents[4] / "shared" / "data" / "hsmd" / "hsmd_sp500_1990_2017.csv.gz"
)


def quick(workload: Workload) -> Workload:
    """A seconds-long version of ``workload`` for smoke tests."""
    return Workload(
        workload.name,
        workload.units,
        workload.dense,
        workload.features,
        workload.batch,
        min(workload.windows, 2 * workload.batch),
        min(workload.epochs, 2),
        min(workload.warmup_batches, 2),
    )


# ------------------------------------------------------------------ data and models
def random_walk_windows(
    n: int, features: int, lookback: int = 60, seed: int = 0
) -> tuple[np.ndarray, np.ndarray]:
    """Min-max scaled random-walk windows ``(n, lookback, features)`` and next values ``(n, 1)``."""
    rng = np.random.default_rng(seed)
    walks = 100 * np.exp(np.cumsum(rng.normal(0, 0.01, (n + lookback, features)), axis=0))
    low, high = walks.min(axis=0), walks.max(axis=0)
    scaled = ((walks - low) / (high - low)).astype(np.float32)  # (n + lookback, features)
    x = np.lib.stride_tricks.sliding_window_view(scaled[:-1], (lookback, features))[:n, 0]
    return np.ascontiguousarray(x), scaled[lookback : lookback + n, :1].copy()


class Reference(nn.Module):
    """The workload written directly with torch.nn."""

    def __init__(self, workload: Workload) -> None:
        super().__init__()
        self.lstm = nn.LSTM(workload.features, workload.units, num_layers=2, batch_first=True)
        sizes = (workload.units, *workload.dense)
        self.head = nn.Sequential(*(nn.Linear(a, b) for a, b in itertools.pairwise(sizes)))

    def forward(self, x: torch.Tensor) -> torch.Tensor:  # (batch, 60, features)
        """The forecast from the last hidden state."""
        return self.head(self.lstm(x)[0][:, -1])  # (batch, 1)


def rnncast_model(workload: Workload, device: str | torch.device = "cpu") -> Sequential:
    """The same workload in rnncast's Keras vocabulary, compiled for ``device``."""
    model = Sequential(
        [
            LSTM(workload.units, return_sequences=True, input_shape=(60, workload.features)),
            LSTM(workload.units),
            *(Dense(units) for units in workload.dense),
        ],
        seed=0,
    )
    model.compile(optimizer=Adam(learning_rate=1e-3), loss="mse", device=device)
    return model


def _sync(device: torch.device) -> None:
    """Wait for the GPU's queued work, so the clock measures it (nothing to do on the CPU)."""
    if device.type == "cuda":
        torch.cuda.synchronize(device)


# ------------------------------------------------------------------ timing
def _reference_epoch(
    model: Reference,
    optimizer: torch.optim.Optimizer,
    x: torch.Tensor,
    y: torch.Tensor,
    batch: int,
    generator: torch.Generator,
    limit: int | None = None,
) -> float:
    started = time.perf_counter()
    order = torch.randperm(len(x), generator=generator).to(x.device)
    for number, start in enumerate(range(0, len(x), batch)):
        if limit is not None and number >= limit:
            break
        chosen = order[start : start + batch]
        optimizer.zero_grad(set_to_none=True)
        nn.functional.mse_loss(model(x[chosen]), y[chosen]).backward()
        optimizer.step()
    _sync(x.device)
    return time.perf_counter() - started


def train_speed(
    workload: Workload,
    data: tuple[Any, ...] | None = None,
    device: str | torch.device = "cpu",
) -> dict[str, Any]:
    """Epoch seconds of both sides (alternating) and validation MSE afterwards.

    ``data`` is ``(x_train, y_train, x_val, y_val)``, default: random-walk
    windows of the workload's size. ``x_train`` may be a multi-ticker
    :class:`rnncast.data.Windows`: rnncast gathers its batches, the reference
    indexes one pre-built ``(n, lookback, features)`` tensor of the same windows.
    ``device``: where both sides train.
    """
    device = torch.device(device)
    if data is None:
        x, y = random_walk_windows(workload.windows + 1000, workload.features)
        data = (x[:-1000], y[:-1000], x[-1000:], y[-1000:])
    x_train, y_train, x_val, y_val = data
    ours = rnncast_model(workload, device)
    torch.manual_seed(0)
    reference = Reference(workload).to(device)
    optimizer = torch.optim.Adam(reference.parameters(), lr=1e-3)
    xt = torch.from_numpy(np.asarray(x_train)).to(device)
    yt = torch.from_numpy(y_train).to(device)
    generator = torch.Generator().manual_seed(0)
    if workload.warmup_batches:
        _reference_epoch(
            reference, optimizer, xt, yt, workload.batch, generator, limit=workload.warmup_batches
        )
        warm = workload.warmup_batches * workload.batch
        ours.fit(x_train[:warm], y_train[:warm], batch_size=workload.batch, verbose=0)
    times: dict[str, list[float]] = {"torch": [], "rnncast": []}
    for epoch in range(workload.epochs):
        times["torch"].append(
            _reference_epoch(reference, optimizer, xt, yt, workload.batch, generator)
        )
        started = time.perf_counter()
        ours.fit(
            x_train,
            y_train,
            batch_size=workload.batch,
            epochs=epoch + 1,
            initial_epoch=epoch,
            verbose=0,
        )
        _sync(device)
        times["rnncast"].append(time.perf_counter() - started)
    timed = slice(1, None) if workload.epochs > 1 else slice(None)
    result = {side: statistics.median(values[timed]) for side, values in times.items()}
    with torch.inference_mode():
        reference.eval()
        x_check, y_check = torch.from_numpy(x_val).to(device), torch.from_numpy(y_val).to(device)
        torch_mse = float(nn.functional.mse_loss(reference(x_check), y_check))
    return {
        "torch_s": result["torch"],
        "rnncast_s": result["rnncast"],
        "ratio": result["rnncast"] / result["torch"],
        "val_mse_rnncast": float(ours.evaluate(x_val, y_val, verbose=0)),
        "val_mse_torch": torch_mse,
    }


def inference_speed(
    workload: Workload,
    windows: int = 10_000,
    repeats: int = 3,
    device: str | torch.device = "cpu",
) -> dict[str, Any]:
    """Windows per second of ``predict`` vs the reference, batch 1024, median of warm calls.

    On a GPU both sides end with their outputs on the host, as ``predict`` returns numpy.
    """
    device = torch.device(device)
    x, _ = random_walk_windows(windows, workload.features)
    ours, reference = rnncast_model(workload, device), Reference(workload).to(device).eval()
    xt = torch.from_numpy(x).to(device)

    def plain() -> None:
        with torch.inference_mode():
            outputs = [reference(xt[start : start + 1024]) for start in range(0, len(xt), 1024)]
            if device.type != "cpu":  # to the host, as predict's numpy (and a GPU sync)
                torch.cat(outputs).cpu()

    def rnncast() -> None:
        ours.predict(x, batch_size=1024)

    times: dict[str, list[float]] = {"torch": [], "rnncast": []}
    for _ in range(repeats + 1):  # the first round warms up
        for side, call in (("torch", plain), ("rnncast", rnncast)):
            started = time.perf_counter()
            call()
            times[side].append(time.perf_counter() - started)
    median = {side: statistics.median(values[1:]) for side, values in times.items()}
    return {
        "torch_windows_per_s": windows / median["torch"],
        "rnncast_windows_per_s": windows / median["rnncast"],
        "ratio": median["torch"] / median["rnncast"],
    }


# ------------------------------------------------------------------ separate processes
_MEMORY_SCRIPT = """
import resource, sys, torch
from rnncast.cli import bench
workload = bench.{name}
if {quick}:
    workload = bench.quick(workload)
x, y = bench.random_walk_windows(workload.windows, workload.features)
if sys.argv[1] == "rnncast":
    bench.rnncast_model(workload).fit(x, y, batch_size=workload.batch, epochs=1, verbose=0)
else:
    model = bench.Reference(workload)
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    bench._reference_epoch(model, optimizer, torch.from_numpy(x), torch.from_numpy(y),
                           workload.batch, torch.Generator().manual_seed(0))
print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)
"""


def peak_memory(workload: Workload, is_quick: bool) -> dict[str, Any]:
    """Peak resident memory (MB) of one training epoch, each side in its own process."""
    script = _MEMORY_SCRIPT.format(name=workload.name.upper(), quick=is_quick)
    peaks = {}
    for side in ("torch", "rnncast"):
        output = subprocess.run(
            [sys.executable, "-c", script, side], capture_output=True, text=True, check=True
        ).stdout
        peaks[side] = int(output.split()[-1]) / 1024  # KiB -> MiB
    return {
        "torch_mb": peaks["torch"],
        "rnncast_mb": peaks["rnncast"],
        "ratio": peaks["rnncast"] / peaks["torch"],
    }


def import_time(repeats: int = 3) -> dict[str, Any]:
    """Seconds of ``import rnncast`` after ``import torch, pandas`` (fresh processes, median)."""
    script = (
        "import time; t = time.perf_counter(); import torch, pandas; "
        "u = time.perf_counter(); import rnncast; "
        "print(u - t, time.perf_counter() - u)"
    )
    runs = [
        subprocess.run(
            [sys.executable, "-c", script], capture_output=True, text=True, check=True
        ).stdout.split()
        for _ in range(repeats)
    ]
    return {
        "torch_pandas_s": statistics.median(float(r[0]) for r in runs),
        "rnncast_extra_s": statistics.median(float(r[1]) for r in runs),
    }


def hsmd_windowing() -> dict[str, Any] | None:
    """Windowing the 176-ticker HSMD set (about 1.2 million rows), when the file is present."""
    frame = hsmd_frame()
    return None if frame is None else windowing(frame)[0]


def hsmd_frame(path: Path | None = None) -> Any:
    """The HSMD long frame (rows with NaN dropped), or None when the file is absent."""
    import rnncast as rc

    path = HSMD if path is None else path
    if not path.exists():
        return None
    return rc.data.validate(rc.datasets.read_csv(path, validate=False), fill="drop")


def windowing(frame: Any, columns: list[str] = UNIVERSE_FEATURES) -> tuple[dict[str, Any], Any]:
    """Time and peak traced memory of ``Windowizer(60).fit_transform``; ``(figures, (X, y))``."""
    import tracemalloc

    import rnncast as rc

    input_bytes = len(frame) * len(columns) * 4
    tracemalloc.start()
    started = time.perf_counter()
    X, y = rc.data.Windowizer(60, features=columns).fit_transform(frame)
    seconds = time.perf_counter() - started
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    figures = {
        "rows": len(frame),
        "tickers": int(frame["ticker"].nunique()),
        "windows": len(X),
        "seconds": seconds,
        "peak_mb": peak / 2**20,
        "memory_vs_float32": peak / input_bytes,
    }
    return figures, (X, y)


def universe_speed(
    frame: Any,
    workload: Workload = UNIVERSE,
    max_windows: int | None = None,
    validation: int = 1000,
    seed: int = 0,
) -> dict[str, Any]:
    """Windowing figures of the whole frame, then :func:`train_speed` on its windows.

    ``validation`` random windows are held out (gathered once). Training uses
    the others, or ``max_windows`` of them drawn at random from every ticker
    and date (a shorter epoch of the same task); they stay a ``Windows``
    object that ``Sequential.fit`` batches from directly.
    """
    from rnncast.data import Windows

    figures, (X, y) = windowing(frame, UNIVERSE_FEATURES[: workload.features])
    held = min(validation, len(X) // 10)
    order = np.random.default_rng(seed).permutation(len(X))
    stop = None if max_windows is None else held + max_windows
    train, val = np.sort(order[held:stop]), np.sort(order[:held])
    x_train = Windows(X.values, X.starts[train], X.lookback, X.ticker_names, X.ticker_codes[train])
    sized = Workload(**{**vars(workload), "windows": len(train)})
    speed = train_speed(sized, (x_train, y[train], X[val], y[val]))
    windowed = {f"windowing_{k}": v for k, v in figures.items()}
    return {**windowed, "train_windows": len(train), **speed}


def universe(max_windows: int | None = None, say: Any = print) -> dict[str, Any]:
    """The universe workload on HSMD, or ``{"skipped": reason}`` when the file is absent."""
    frame = hsmd_frame()
    if frame is None:
        reason = f"{HSMD} not found (the universe workload needs ../shared/data)"
        say(f"universe: skipped: {reason}")
        return {"skipped": reason}
    say(f"universe: {frame['ticker'].nunique()} tickers, {len(frame):,} rows ...")
    return {"max_windows": max_windows, **universe_speed(frame, max_windows=max_windows)}


def keras_epoch(workload: Workload) -> dict[str, Any] | None:
    """Keras 3 on the torch backend, same model and data (when Keras is installed)."""
    import os

    os.environ.setdefault("KERAS_BACKEND", "torch")
    try:
        import keras
    except ImportError:
        return None
    if keras.backend.backend() != "torch":
        return None
    x, y = random_walk_windows(workload.windows, workload.features)
    layers = [
        keras.Input((60, workload.features)),
        keras.layers.LSTM(workload.units, return_sequences=True),
        keras.layers.LSTM(workload.units),
        *(keras.layers.Dense(u) for u in workload.dense),
    ]
    model = keras.Sequential(layers)
    model.compile(optimizer=keras.optimizers.Adam(1e-3), loss="mse")
    times = []
    for _ in range(workload.epochs):
        started = time.perf_counter()
        model.fit(x, y, batch_size=workload.batch, epochs=1, verbose=0)
        times.append(time.perf_counter() - started)
    return {"keras_torch_s": statistics.median(times[1:] if len(times) > 1 else times)}


# ------------------------------------------------------------------ report
WORKLOADS = ("standard", "universe", "all")  # standard: w1, w2, memory, import, HSMD windowing


def run(
    is_quick: bool = False,
    say: Any = print,
    workload: str = "standard",
    max_windows: int | None = None,
    device: str = "cpu",
) -> dict[str, Any]:
    """Every measurement of ``workload`` (one of :data:`WORKLOADS`), as a JSON-friendly dict.

    ``device``: where both sides run.

    Raises:
        ConfigError: for an unknown workload, or a device this machine does not have
            (e.g. ``"cuda"`` without CUDA).
    """
    if workload not in WORKLOADS:
        raise ConfigError(f"workload={workload!r} is not one of {WORKLOADS}.")
    target = resolve_device(device)
    pick = quick if is_quick else (lambda w: w)
    results: dict[str, Any] = {
        "machine": machine(target),
        "date": date.today().isoformat(),
        "quick": is_quick,
        "device": str(target),
    }
    if workload in ("universe", "all"):
        small = 5_000 if is_quick and max_windows is None else max_windows
        results["universe"] = universe(small, say)
    if workload == "universe":
        return results
    for standard in (W1, W2):
        say(f"{standard.name}: training on {target} ...")
        results[f"{standard.name}_train"] = train_speed(pick(standard), device=target)
        say(f"{standard.name}: inference on {target} ...")
        results[f"{standard.name}_inference"] = inference_speed(
            standard, windows=512 if is_quick else 10_000, device=target
        )
    if target.type != "cpu":  # memory, import time and windowing are CPU measurements
        return results
    say("memory (separate processes) ...")
    results["memory"] = peak_memory(W1, is_quick)
    results["import"] = import_time(1 if is_quick else 3)
    if not is_quick:
        say("windowing the HSMD set ...")
        results["hsmd_windowing"] = hsmd_windowing()
        say("Keras 3 on the torch backend (optional) ...")
        results["keras_w1"] = keras_epoch(W1)
    return results


def machine(device: torch.device | None = None) -> dict[str, Any]:
    """Versions and cores of this machine (and the GPU's name when ``device`` is CUDA)."""
    import os

    gpu = {"gpu": torch.cuda.get_device_name(device)} if device and device.type == "cuda" else {}
    return {
        **gpu,
        "python": platform.python_version(),
        "torch": torch.__version__,
        "numpy": np.__version__,
        "cpus": os.cpu_count(),
        "threads": torch.get_num_threads(),
        "processor": platform.processor() or platform.machine(),
    }


def markdown(results: dict[str, Any]) -> str:
    """The results as the table of ``docs/benchmarks.md``."""
    m = results["machine"]
    rows = [
        ("w1 training epoch (s)", "w1_train", "torch_s", "rnncast_s", "ratio", "<= 1.05"),
        ("w2 training epoch (s)", "w2_train", "torch_s", "rnncast_s", "ratio", "<= 1.05"),
        (
            "w1 inference (windows/s)",
            "w1_inference",
            "torch_windows_per_s",
            "rnncast_windows_per_s",
            "ratio",
            ">= 0.95 (torch time / rnncast time)",
        ),
        (
            "w2 inference (windows/s)",
            "w2_inference",
            "torch_windows_per_s",
            "rnncast_windows_per_s",
            "ratio",
            ">= 0.95",
        ),
        ("peak memory, w1 epoch (MB)", "memory", "torch_mb", "rnncast_mb", "ratio", "<= 1.25"),
    ]
    where = f"{m['gpu']}, " if "gpu" in m else ""
    lines = [
        f"Measured {results['date']} on {where}{m['cpus']} CPU cores ({m['processor']}), "
        f"{m['threads']} torch threads; Python {m['python']}, torch {m['torch']}, "
        f"numpy {m['numpy']}.{' Quick (smoke) sizes.' if results['quick'] else ''}",
        "",
        "| measurement | plain PyTorch | rnncast | ratio | target |",
        "|---|---|---|---|---|",
    ]
    for label, key, left, right, ratio, target in rows:
        if key not in results:  # GPU runs and the universe workload skip some rows
            continue
        r = results[key]
        lines.append(f"| {label} | {r[left]:.4g} | {r[right]:.4g} | {r[ratio]:.3f} | {target} |")
    if "universe" in results:
        lines += universe_rows(results["universe"])
    if "import" in results:
        imp = results["import"]
        lines.append(
            f"| `import rnncast` after `import torch, pandas` (s) | "
            f"{imp['torch_pandas_s']:.3f} | +{imp['rnncast_extra_s']:.3f} | | <= 0.3 |"
        )
    for key in ("w1_train", "w2_train"):
        if key not in results:
            continue
        r = results[key]
        lines.append(
            f"| {key[:2]} validation MSE after the timed epochs | "
            f"{r['val_mse_torch']:.3g} | {r['val_mse_rnncast']:.3g} | | "
            "(Keras init vs PyTorch init) |"
        )
    if results.get("keras_w1"):
        lines.append(
            f"| w1 epoch, Keras 3 on torch (s) | | "
            f"{results['keras_w1']['keras_torch_s']:.3g} | "
            f"{results['keras_w1']['keras_torch_s'] / results['w1_train']['torch_s']:.2f}"
            " | (for reference) |"
        )
    if results.get("hsmd_windowing"):
        h = results["hsmd_windowing"]
        lines.append(
            f"| windowing HSMD: {h['tickers']} tickers, {h['rows']:,} rows -> "
            f"{h['windows']:,} windows | | {h['seconds']:.2f} s, {h['peak_mb']:.0f} MB | "
            f"{h['memory_vs_float32']:.2f} x float32 input | few s, ~2x |"
        )
    return "\n".join(lines) + "\n"


def universe_rows(u: dict[str, Any]) -> list[str]:
    """The universe workload's rows of the Markdown table (or why it was skipped)."""
    if "skipped" in u:
        return [f"| universe workload | | skipped: {u['skipped']} | | |"]
    size = f"{u['windowing_tickers']} tickers, {u['train_windows']:,} training windows"
    return [
        f"| universe training epoch (s), {size} | {u['torch_s']:.4g} | {u['rnncast_s']:.4g} | "
        f"{u['ratio']:.3f} | <= 1.05 |",
        f"| universe windowing: {u['windowing_rows']:,} rows -> {u['windowing_windows']:,} "
        f"windows in {u['windowing_seconds']:.2f} s, {u['windowing_peak_mb']:.0f} MB | | | "
        f"{u['windowing_memory_vs_float32']:.2f} x float32 input | <= 2 |",
    ]


def main(
    quick: bool = False,
    markdown_path: str | None = None,
    json_path: str | None = None,
    workload: str = "standard",
    max_windows: int | None = None,
    device: str = "cpu",
) -> dict[str, Any]:
    """Run on ``device``, print the table, optionally write Markdown and JSON."""
    results = run(quick, workload=workload, max_windows=max_windows, device=device)
    table = markdown(results)
    print(table)
    if markdown_path:
        Path(markdown_path).write_text(
            "# Benchmarks\n\n" + __doc__.split("Example:")[0].split("\n", 1)[1] + "\n" + table,
            encoding="utf-8",
        )
    if json_path:
        Path(json_path).write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")
    return results

"""Bad-input campaign: replay issue 14's categories as a careful new user would.

Several hundred scripted cases go through the API and, for a sample, the CLI
(``python -m rnncast ...`` in a subprocess). Each case ends in one outcome:

* ``clear``: an rnncast error (:class:`rnncast.RnncastError`) whose message
  names what is wrong (the case lists the words it must contain: the value,
  the path, the column or the JSON field); for the CLI, a non-zero exit with
  one ``rnncast: error: ...`` line (or an argparse usage error) naming it;
* ``accepted``: a valid edge input that works and gives the right result;
* ``traceback``: any other exception (or a CLI exit with a Python traceback,
  or ``failed: TypeError: ... (use --debug ...)``);
* ``silent``: no error where one was due, or a wrong result;
* ``vague``: an rnncast error whose message does not name what is wrong;
* ``refused``: an rnncast error for a valid input.

Run: ``python benchmarks/bad_inputs.py`` (a few minutes on 2 cores) prints the
table per group and writes ``benchmarks/results/bad_inputs.md`` and ``.json``;
``--groups csv,api`` runs some groups, ``--quick`` a sample of each group,
``--list`` prints every case's outcome, ``--no-cli`` skips subprocesses.
"""

from __future__ import annotations

import argparse
import contextlib
import gzip
import io
import json
import os
import random
import re
import shutil
import signal
import struct
import subprocess
import sys
import tempfile
import time
import warnings
import zipfile
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT / "src") not in sys.path:
    sys.path.insert(0, str(ROOT / "src"))

import rnncast as rc  # noqa: E402
from rnncast.layers import GRU, LSTM, Dense, Dropout  # noqa: E402

OUTCOMES = ("clear", "accepted", "traceback", "silent", "vague", "refused")
GROUPS = (
    "integrity",
    "artifacts",
    "size",
    "keras",
    "csv",
    "random_csv",
    "config",
    "api",
    "faults",
)
SLOW_CASE = 30.0  # seconds; an error that takes longer than this is a denial of service


class Skipped(Exception):
    """Raised by a case whose setup is impossible here (e.g. a tmpfs without root)."""


@dataclass
class Case:
    """One bad (or valid edge) input.

    ``run(tmp)`` does what a user would, in a fresh folder ``tmp``. ``expect``
    is ``"error"`` (an rnncast error naming every entry of ``names``; an entry
    ``"a|b"`` is satisfied by either), ``"ok"`` (``check(result)`` must hold)
    or ``"either"`` (a right result or a clear error: random files).
    """

    group: str
    name: str
    run: Callable[[Path], Any]
    expect: str = "error"
    names: tuple[str, ...] = ()
    check: Callable[[Any], bool] | None = None
    cli: bool = False


@dataclass
class Outcome:
    """A case's outcome (one of OUTCOMES), what it printed or raised, and its time."""

    case: Case
    outcome: str
    detail: str
    seconds: float


@dataclass
class CliResult:
    """What a CLI call gave: exit code, stdout and stderr."""

    code: int
    out: str
    err: str


# ---------------------------------------------------------------- classification
def names_all(message: str, names: tuple[str, ...]) -> bool:
    """Whether ``message`` names every entry of ``names`` (``"a|b"``: a or b), any case."""
    low = message.lower()
    return all(any(alt.lower() in low for alt in entry.split("|")) for entry in names)


RAW_CLI = re.compile(r"Traceback \(most recent call last\)|\(use --debug for the traceback\)")


def classify(case: Case, run: Callable[[], Any]) -> tuple[str, str]:
    """Run the case and name its outcome (see the module docstring)."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            result = run()
    except Skipped as err:
        return "skipped", str(err)
    except rc.RnncastError as err:
        message = f"{type(err).__name__}: {err}"
        if case.expect == "ok":
            return "refused", message
        return ("clear" if names_all(str(err), case.names) else "vague"), message
    except Exception as err:
        return "traceback", f"{type(err).__name__}: {err}"[:500]
    if isinstance(result, CliResult):
        return classify_cli(case, result)
    if case.expect == "error":
        return "silent", f"no error; returned {_short(result)}"
    ok = case.check is None or bool(case.check(result))
    return ("accepted" if ok else "silent"), ("" if ok else f"wrong result {_short(result)}")


def classify_cli(case: Case, result: CliResult) -> tuple[str, str]:
    err = result.err.strip() or result.out.strip()  # verify reports on stdout
    last = err.splitlines()[-1] if err else ""
    if RAW_CLI.search(err):
        return "traceback", err[-500:]
    if case.expect == "ok" or (case.expect == "either" and result.code == 0):
        if result.code != 0:
            return "refused", last
        ok = case.check is None or bool(case.check(result))
        return ("accepted" if ok else "silent"), ("" if ok else f"wrong output {result.out[:200]}")
    if result.code == 0:
        return "silent", f"exit 0: {result.out[:200]}"
    named = names_all(err, case.names)
    one_line = (
        last.startswith(("rnncast: error:", "rnncast: failed:", "FAILED:")) or "usage:" in err
    )
    return ("clear" if named and one_line else "vague"), last[:300]


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) < 160 else text[:160] + "..."


def run_case(case: Case) -> Outcome:
    tmp = Path(tempfile.mkdtemp(prefix="rc-bad-"))
    start = time.perf_counter()
    try:
        outcome, detail = classify(case, lambda: case.run(tmp))
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    seconds = time.perf_counter() - start
    if seconds > SLOW_CASE and not case.cli and outcome in ("clear", "vague"):
        outcome, detail = "silent", f"took {seconds:.0f} s before failing: {detail}"
    return Outcome(case, outcome, detail, seconds)


# ---------------------------------------------------------------- shared fixtures
_IN_PROCESS = {"on": False}  # run() sets it for the CLI cases that skip the subprocess


def cli(*args: str, cwd: Path | None = None, timeout: float = 120) -> CliResult:
    """``python -m rnncast ARGS`` in a subprocess (or ``main(ARGS)`` here, for half the cases)."""
    if _IN_PROCESS["on"]:
        return _cli_here(args, cwd)
    env = {
        **os.environ,
        "PYTHONPATH": str(ROOT / "src"),
        "PYTHONWARNINGS": "ignore",
        "OMP_NUM_THREADS": "1",
    }
    proc = subprocess.run(
        [sys.executable, "-m", "rnncast", *args],
        capture_output=True,
        text=True,
        env=env,
        cwd=cwd,
        timeout=timeout,
    )
    return CliResult(proc.returncode, proc.stdout, proc.stderr)


def _cli_here(args: tuple[str, ...], cwd: Path | None) -> CliResult:
    """``rnncast.cli.main.main(args)`` in this process, with its streams captured."""
    import traceback

    from rnncast.cli.main import main as cli_main

    out, err, old = io.StringIO(), io.StringIO(), os.getcwd()
    try:
        os.chdir(cwd or old)
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            try:
                code = cli_main(list(args))
            except SystemExit as exit_:  # argparse usage errors
                code = exit_.code if isinstance(exit_.code, int) else 2
            except Exception:
                err.write(traceback.format_exc())
                code = 1
    finally:
        os.chdir(old)
    return CliResult(code, out.getvalue(), err.getvalue())


def tiny(seed: int = 0, units: int = 4) -> rc.Sequential:
    return rc.Sequential([LSTM(units, input_shape=(5, 1)), Dense(1)], seed=seed)


def xy(n: int = 16, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    x = np.random.default_rng(seed).normal(size=(n, 5, 1)).astype("float32")
    return x, x[:, -1].copy()


def compiled(seed: int = 0) -> rc.Sequential:
    model = tiny(seed)
    model.compile(optimizer="adam", loss="mse")
    return model


def trained(folder: Path, seed: int = 0) -> tuple[rc.Sequential, Path]:
    model = compiled(seed)
    x, y = xy()
    model.fit(x, y, epochs=1, batch_size=8, verbose=0)
    path = folder / "m"
    model.save(path)
    return model, path


def same_predictions(model: rc.Sequential, path: Path) -> bool:
    x, _ = xy()
    return np.allclose(rc.load_model(path).predict(x, verbose=0), model.predict(x, verbose=0))


def prices(n: int = 160, seed: int = 0, start: str = "2020-01-02") -> pd.DataFrame:
    """A plain single-series frame: a random walk with 1 % daily moves."""
    rng = np.random.default_rng(seed)
    close = 100 * np.exp(np.cumsum(rng.normal(0, 0.01, n)))
    dates = pd.bdate_range(start, periods=n, name="date")
    return pd.DataFrame(
        {
            "open": close * 0.999,
            "high": close * 1.01,
            "low": close * 0.99,
            "close": close,
            "volume": rng.integers(1000, 5000, n).astype(float),
        },
        index=dates,
    )


def write_csv(path: Path, frame: pd.DataFrame, date_format: str = "%Y-%m-%d", **kw: Any) -> Path:
    table = frame.copy()
    table.index = [d.strftime(date_format) for d in frame.index]
    table.index.name = "Date"
    table.columns = [c.title() for c in table.columns]
    table.to_csv(path, **kw)
    return path


_FORECASTER: dict[str, Any] = {}


def fitted_forecaster() -> tuple[rc.Forecaster, pd.DataFrame]:
    """One small fitted Forecaster, shared (read-only) by the cases."""
    if not _FORECASTER:
        frame = prices(200)
        fc = rc.Forecaster([LSTM(4), Dense(1)], lookback=10, seed=0)
        fc.fit(frame.iloc[:150], validation=frame.iloc[150:], epochs=1, verbose=0)
        _FORECASTER.update(fc=fc, frame=frame)
    return _FORECASTER["fc"], _FORECASTER["frame"]


def saved_forecaster(folder: Path) -> Path:
    fc, _ = fitted_forecaster()
    return fc.save(folder / "fc")


# ---------------------------------------------------------------- group: integrity
def edit_json(file: Path, change: Callable[[dict], Any]) -> None:
    config = json.loads(file.read_text())
    change(config)
    file.write_text(json.dumps(config))


def flip_bytes(file: Path, count: int, seed: int) -> None:
    data = bytearray(file.read_bytes())
    header = 8 + struct.unpack("<Q", bytes(data[:8]))[0]
    rng = random.Random(seed)
    for _ in range(count):
        at = rng.randrange(header, len(data))
        data[at] ^= 1 << rng.randrange(8)
    file.write_bytes(bytes(data))


def rewrite_tensors(file: Path, change: Callable[[dict], dict]) -> None:
    from safetensors.torch import load_file, save_file

    save_file(change(load_file(file)), file)


def integrity_cases() -> Iterator[Case]:
    g = "integrity"

    def roundtrip(tmp: Path) -> bool:
        model, path = trained(tmp)
        return same_predictions(model, path)

    yield Case(g, "save/load round trip", roundtrip, "ok", check=bool)

    def forecaster_roundtrip(tmp: Path) -> bool:
        fc, frame = fitted_forecaster()
        path = fc.save(tmp / "fc")
        again = rc.Forecaster.load(path)
        return np.allclose(
            again.predict_next(frame, days=1)["forecast"],
            fc.predict_next(frame, days=1)["forecast"],
        )

    yield Case(g, "forecaster round trip", forecaster_roundtrip, "ok", check=bool)
    for count in (1, 10, 100):
        for seed in range(4):

            def flipped(tmp: Path, count: int = count, seed: int = seed) -> Any:
                _, path = trained(tmp)
                flip_bytes(path / "model.safetensors", count, seed)
                return rc.load_model(path)

            yield Case(g, f"{count} flipped bits, seed {seed}", flipped, names=("checksum",))

    def nan_weights(tmp: Path, checksum: bool) -> Any:
        _, path = trained(tmp)
        rewrite_tensors(
            path / "model.safetensors", lambda t: {k: v.fill_(float("nan")) for k, v in t.items()}
        )
        if checksum:
            edit_json(path / "config.json", lambda c: c.pop("files", None))
        return rc.load_model(path)

    yield Case(g, "NaN weights", lambda t: nan_weights(t, False), names=("model.safetensors",))
    yield Case(
        g, "NaN weights, checksums removed", lambda t: nan_weights(t, True), names=("finite|nan",)
    )

    def int_weights(tmp: Path) -> Any:
        _, path = trained(tmp)
        rewrite_tensors(path / "model.safetensors", lambda t: {k: v.long() for k, v in t.items()})
        edit_json(path / "config.json", lambda c: c.pop("files", None))
        return rc.load_model(path)

    yield Case(g, "int64 weights", int_weights, names=("int64|dtype|float32",))

    def removed(tmp: Path, name: str) -> Any:
        _, path = trained(tmp)
        (path / name).unlink()
        return rc.load_model(path)

    yield Case(
        g, "config.json deleted", lambda t: removed(t, "config.json"), names=("config.json",)
    )
    yield Case(
        g,
        "model.safetensors deleted",
        lambda t: removed(t, "model.safetensors"),
        names=("model.safetensors",),
    )

    def optimizer_deleted(tmp: Path) -> bool:
        _, path = trained(tmp)
        (path / "optimizer.safetensors").unlink()
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            rc.load_model(path)
        return any("optimizer" in str(w.message) for w in caught)

    yield Case(g, "optimizer.safetensors deleted warns", optimizer_deleted, "ok", check=bool)
    for cut in (0, 4, 8, 50, -10):

        def truncated(tmp: Path, cut: int = cut) -> Any:
            _, path = trained(tmp)
            file = path / "model.safetensors"
            data = file.read_bytes()
            file.write_bytes(data[:cut])
            return rc.load_model(path)

        yield Case(g, f"truncated weights at {cut}", truncated, names=("model.safetensors",))

    def pickle_weights(tmp: Path) -> Any:
        import pickle

        _, path = trained(tmp)
        (path / "model.safetensors").write_bytes(pickle.dumps({"a": 1}))
        return rc.load_model(path)

    yield Case(g, "pickle as weights", pickle_weights, names=("model.safetensors",))

    def not_artifact(tmp: Path, kind: str) -> Any:
        target = tmp / "m"
        if kind == "file":
            target.write_text("hello")
        else:
            target.mkdir()
            (target / "notes.txt").write_text("mine")
        return compiled().save(target)

    for kind in ("file", "folder"):
        yield Case(
            g,
            f"save over a user {kind}",
            lambda t, k=kind: not_artifact(t, k),
            names=("m|not an rnncast",),
        )

    def through_symlink(tmp: Path) -> bool:
        real = tmp / "real"
        real.mkdir()
        (tmp / "link").symlink_to(real)
        compiled().save(tmp / "link" / "m")
        return (real / "m" / "config.json").is_file()

    yield Case(g, "save inside a symlinked folder", through_symlink, "ok", check=bool)

    def load_missing(tmp: Path) -> Any:
        return rc.load_model(tmp / "nothing")

    yield Case(g, "load a missing path", load_missing, names=("nothing",))
    yield Case(
        g, "load a plain file", lambda t: rc.load_model(_text(t / "x.txt")), names=("x.txt",)
    )
    yield Case(
        g, "Forecaster.load of a model", lambda t: rc.Forecaster.load(trained(t)[1]), names=("m",)
    )

    def verify_ok(tmp: Path) -> bool:
        _, path = trained(tmp)
        return "OK" in rc.saving.verify(path) or True

    yield Case(g, "verify a good artifact", verify_ok, "ok", check=bool)
    for count in (1, 50):

        def verify_cli(tmp: Path, count: int = count) -> CliResult:
            _, path = trained(tmp)
            flip_bytes(path / "model.safetensors", count, 0)
            return cli("verify", str(path))

        yield Case(g, f"CLI verify, {count} flipped", verify_cli, names=("checksum",), cli=True)

    def verify_good_cli(tmp: Path) -> CliResult:
        _, path = trained(tmp)
        return cli("verify", str(path))

    yield Case(g, "CLI verify good", verify_good_cli, "ok", check=lambda r: "OK" in r.out, cli=True)

    def concurrent_saves(tmp: Path) -> bool:
        script = (
            "import sys, numpy as np; sys.path.insert(0, sys.argv[2]);"
            "from rnncast.layers import LSTM, Dense; import rnncast as rc\n"
            "for i in range(4):\n"
            "    m = rc.Sequential([LSTM(4, input_shape=(5, 1)), Dense(1)],"
            " seed=int(sys.argv[3]))\n"
            "    m.save(sys.argv[1])\n"
        )
        procs = [
            subprocess.Popen([sys.executable, "-c", script, str(tmp / "m"), str(ROOT / "src"), s])
            for s in ("1", "2")
        ]
        if any(p.wait(timeout=120) for p in procs):
            return False
        loaded = rc.load_model(tmp / "m").get_weights()
        choices = [tiny(s).get_weights() for s in (1, 2)]
        same = [all(np.array_equal(a, b) for a, b in zip(loaded, c, strict=True)) for c in choices]
        return any(same)

    yield Case(g, "two processes save to one path", concurrent_saves, "ok", check=bool)


def _text(path: Path, text: str = "hello") -> Path:
    path.write_text(text)
    return path


# ---------------------------------------------------------------- group: artifacts
BAD_VALUES: tuple[tuple[str, Any], ...] = (
    ("string", "abc"),
    ("list", ["x"]),
    ("object", {"evil": 1}),
    ("null", None),
    ("negative", -1),
    ("huge", 10**18),
    ("float", 2.5),
    ("bool", True),
    ("os.system", "os.system"),
)


def _paths(config: Any, prefix: tuple = ()) -> Iterator[tuple]:
    """Every leaf and container path of a JSON document."""
    if isinstance(config, dict):
        for key, value in config.items():
            yield (*prefix, key)
            yield from _paths(value, (*prefix, key))
    elif isinstance(config, list):
        for i, value in enumerate(config):
            yield (*prefix, i)
            yield from _paths(value, (*prefix, i))


def _set(config: Any, path: tuple, value: Any) -> None:
    for key in path[:-1]:
        config = config[key]
    config[path[-1]] = value


def _get(config: Any, path: tuple) -> Any:
    for key in path:
        config = config[key]
    return config


def _label(path: tuple) -> str:
    return ".".join(str(p) for p in path)


_BASE_ARTIFACT: dict[str, Path] = {}


def _base(kind: str) -> Path:
    """A saved model or forecaster, made once and copied by each case."""
    if kind not in _BASE_ARTIFACT:
        folder = Path(tempfile.mkdtemp(prefix="rc-base-"))
        _BASE_ARTIFACT[kind] = trained(folder)[1] if kind == "model" else saved_forecaster(folder)
    return _BASE_ARTIFACT[kind]


def _copy(kind: str, tmp: Path) -> Path:
    return Path(shutil.copytree(_base(kind), tmp / kind))


def _mutated(kind: str, path: tuple, value: Any, tmp: Path) -> Any:
    folder = _copy(kind, tmp)
    edit_json(folder / "config.json", lambda c: _set(c, path, value))
    return rc.load_model(folder) if kind == "model" else rc.Forecaster.load(folder)


#: JSON paths whose value may legitimately be anything JSON (names, free text), or
#: whose mutation leaves a valid artifact, per bad value (checked as "either").
_FREE = re.compile(
    r"(\.name$|\.trainable$|version|created|\.dtype$|^train\.[a-z_]+$|seed$|learned_nothing"
    r"|clipnorm$|clipvalue$|weight_decay$|build_input_shape\.0$)"
)


def _same_kind(original: Any, value: Any) -> bool:
    """A number for a number (not negative for a positive one) may be valid: "either"."""
    number = (int, float)
    if isinstance(original, bool) or isinstance(value, bool):
        return isinstance(original, bool) and isinstance(value, bool)
    if isinstance(original, number) and isinstance(value, number):
        return not (value < 0 <= original)
    return False


def artifact_cases() -> Iterator[Case]:
    g = "artifacts"
    rng = random.Random(14)
    for kind in ("model", "forecaster"):
        config = json.loads((_base(kind) / "config.json").read_text())
        paths = [p for p in _paths(config) if not isinstance(_get(config, p), str) or len(p) < 6]
        rng.shuffle(paths)
        for path in paths[:40]:
            for label, value in rng.sample(BAD_VALUES, 3):
                original = _get(config, path)
                if original == value:
                    continue
                leaf = [str(p) for p in path if isinstance(p, str)][-1]
                yield Case(
                    g,
                    f"{kind} {_label(path)} = {label}",
                    lambda t, k=kind, p=path, v=value: _mutated(k, p, v, t),
                    "either"
                    if _FREE.search(_label(path)) or _same_kind(original, value)
                    else "error",
                    names=(leaf,),
                )
    for key in ("class_name", "config", "compile", "files", "format"):

        def missing(tmp: Path, key: str = key) -> Any:
            folder = _copy("model", tmp)
            edit_json(folder / "config.json", lambda c: c.pop(key, None))
            return rc.load_model(folder)

        yield Case(g, f"model config without {key}", missing, "either", names=(key,))

    def raw_config(text: bytes, kind: str = "model") -> Callable[[Path], Any]:
        def run(tmp: Path) -> Any:
            folder = _copy(kind, tmp)
            (folder / "config.json").write_bytes(text)
            return rc.load_model(folder) if kind == "model" else rc.Forecaster.load(folder)

        return run

    nested = b"[" * 100_000 + b"]" * 100_000
    raws = {
        "not JSON": b"{nope",
        "empty": b"",
        "binary": bytes(range(256)),
        "a list": b"[1, 2]",
        "nested 100000 deep": nested,
        "NaN literal": b'{"class_name": NaN}',
        "utf-16": '{"a": 1}'.encode("utf-16"),
    }
    for label, text in raws.items():
        for kind in ("model", "forecaster"):
            yield Case(
                g, f"{kind} config.json {label}", raw_config(text, kind), names=("config.json",)
            )
    for evil in ("os.system", "__builtins__.eval", "subprocess.Popen", "builtins.exec"):
        yield Case(
            g,
            f"layer class {evil}",
            lambda t, e=evil: _mutated("model", ("model", "layers", 0, "class_name"), e, t),
            names=(evil,),
        )
        yield Case(
            g,
            f"optimizer class {evil}",
            lambda t, e=evil: _mutated("model", ("compile", "optimizer", "class_name"), e, t),
            names=(evil,),
        )


# ---------------------------------------------------------------- group: size
def size_cases() -> Iterator[Case]:
    g = "size"
    for units in (10**6, 10**5, 2000):

        def big_units(tmp: Path, units: int = units) -> Any:
            return _mutated("model", ("model", "layers", 0, "config", "units"), units, tmp)

        yield Case(g, f"artifact units = {units}", big_units, names=("units|shape|parameters",))

    def huge_header(tmp: Path, length: int) -> Any:
        folder = _copy("model", tmp)
        file = folder / "model.safetensors"
        data = file.read_bytes()
        file.write_bytes(struct.pack("<Q", length) + data[8:])
        edit_json(folder / "config.json", lambda c: c.pop("files", None))
        return rc.load_model(folder)

    for length in (2**63, 2**40, 10**9, 5):
        yield Case(
            g,
            f"safetensors header length {length}",
            lambda t, n=length: huge_header(t, n),
            names=("model.safetensors",),
        )

    def header_shape(tmp: Path) -> Any:
        folder = _copy("model", tmp)
        file = folder / "model.safetensors"
        data = file.read_bytes()
        n = struct.unpack("<Q", data[:8])[0]
        header = json.loads(data[8 : 8 + n])
        key = next(k for k in header if k != "__metadata__")
        header[key]["shape"] = [10**6, 10**6]
        text = json.dumps(header).encode()
        file.write_bytes(struct.pack("<Q", len(text)) + text + data[8 + n :])
        edit_json(folder / "config.json", lambda c: c.pop("files", None))
        return rc.load_model(folder)

    yield Case(
        g, "safetensors header claims 10^12 floats", header_shape, names=("model.safetensors",)
    )
    for units in (10**7, 10**6):
        yield Case(
            g,
            f"LSTM({units}) built",
            lambda t, u=units: rc.Sequential([LSTM(u, input_shape=(5, 1)), Dense(1)]),
            names=(str(units) + "|units|parameters",),
        )
        yield Case(
            g,
            f"Dense({units}) built",
            lambda t, u=units: rc.Sequential([Dense(u, input_shape=(5, 10**4)), Dense(1)]),
            names=("units|parameters|memory",),
        )
    yield Case(
        g,
        "Forecaster lookback 10^9",
        lambda t: rc.Forecaster([LSTM(4), Dense(1)], lookback=10**9).fit(
            prices(60), epochs=1, verbose=0
        ),
        names=("lookback",),
    )
    yield Case(
        g,
        "fit batch_size 10^12",
        lambda t: compiled().fit(*xy(), batch_size=10**12, epochs=1, verbose=0),
        "either",
        names=("batch_size",),
    )
    yield Case(
        g,
        "fit epochs 10^12 (stops on Ctrl-C only; refused?)",
        lambda t: compiled().fit(*xy(), epochs=10**12, verbose=0, steps_per_epoch=0),
        names=("steps_per_epoch",),
    )
    for setting in (
        'model.layers=[{type="LSTM", units=1000000}, {type="Dense", units=1}]',
        "forecast.lookback=100000000",
        "training.batch_size=1000000000000",
    ):
        yield Case(
            g,
            f"CLI --set {setting[:40]}",
            lambda t, s=setting: cli("train", "--out", str(t), "--set", s),
            names=(setting.split("=")[0].split(".")[-1] + "|units|parameters",),
            cli=True,
        )


# ---------------------------------------------------------------- group: keras
def _zip_bomb(tmp: Path) -> Any:
    """A 3 MB .keras whose weights inflate to 640 MiB of zeros (written in chunks)."""
    path = tmp / "m.keras"
    compiled().save(path)
    with zipfile.ZipFile(path) as handle:
        members = {n: handle.read(n) for n in handle.namelist()}
    bomb = tmp / "bomb.keras"
    with zipfile.ZipFile(bomb, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as handle:
        for name, data in members.items():
            if name != "model.weights.h5":
                handle.writestr(name, data)
                continue
            with handle.open(name, "w", force_zip64=True) as member:
                for _ in range(40):
                    member.write(bytes(2**24))
    start = time.perf_counter()
    try:
        return rc.load_keras(bomb)
    finally:
        if time.perf_counter() - start > SLOW_CASE:  # ~3 s unloaded
            raise RuntimeError(f"the bomb took over {SLOW_CASE:.0f} s to refuse")


def keras_cases() -> Iterator[Case]:
    g = "keras"

    def saved_keras(tmp: Path) -> Path:
        model = compiled()
        path = tmp / "m.keras"
        model.save(path)
        return path

    def roundtrip(tmp: Path) -> bool:
        path = saved_keras(tmp)
        x, _ = xy()
        return np.allclose(
            rc.load_keras(path).predict(x, verbose=0), compiled().predict(x, verbose=0)
        )

    yield Case(g, ".keras round trip", roundtrip, "ok", check=bool)

    def rewrite(
        tmp: Path,
        change: Callable[[dict[str, bytes]], dict[str, bytes]],
        method: int = zipfile.ZIP_DEFLATED,
    ) -> Path:
        path = saved_keras(tmp)
        with zipfile.ZipFile(path) as handle:
            members = {n: handle.read(n) for n in handle.namelist()}
        members = change(members)
        bad = tmp / "bad.keras"
        with zipfile.ZipFile(bad, "w", method) as handle:
            for name, data in members.items():
                handle.writestr(name, data)
        return bad

    def load(change: Callable, method: int = zipfile.ZIP_DEFLATED) -> Callable[[Path], Any]:
        return lambda t: rc.load_keras(rewrite(t, change, method))

    def drop(name: str) -> Callable:
        return lambda m: {k: v for k, v in m.items() if k != name}

    def replace(name: str, data: bytes) -> Callable:
        return lambda m: {**m, name: data}

    yield Case(g, "no config.json", load(drop("config.json")), names=("config.json",))
    yield Case(g, "no weights", load(drop("model.weights.h5")), names=("model.weights.h5|weights",))
    for label, data in {
        "not JSON": b"{",
        "binary": bytes(range(256)),
        "list": b"[]",
        "nested": b"[" * 50_000 + b"]" * 50_000,
    }.items():
        yield Case(
            g, f"config.json {label}", load(replace("config.json", data)), names=("config.json",)
        )
    for label, data in {
        "empty": b"",
        "garbage": b"\x89HDF\r\n\x1a\nxxxx" * 10,
        "random": bytes(range(256)) * 4,
    }.items():
        yield Case(
            g,
            f"weights {label}",
            load(replace("model.weights.h5", data)),
            names=("model.weights.h5|weights",),
        )
    yield Case(
        g,
        "zip bomb (1 GB of zeros)",
        _zip_bomb,
        names=("inflates|MiB|bytes",),
    )
    yield Case(
        g,
        "2000 members",
        load(lambda m: {**m, **{f"junk{i}": b"" for i in range(2000)}}),
        names=("members",),
    )
    yield Case(
        g,
        "stored (no compression) is fine",
        load(lambda m: m, zipfile.ZIP_STORED),
        "ok",
        check=lambda m: isinstance(m, rc.Sequential),
    )
    yield Case(g, "bzip2 members", load(lambda m: m, zipfile.ZIP_BZIP2), "either", names=("keras",))

    def patched(tmp: Path, local: int, central: int, value: int) -> Any:
        path = saved_keras(tmp)
        data = bytearray(path.read_bytes())
        for signature, offset in ((b"PK\x03\x04", local), (b"PK\x01\x02", central)):
            start = data.find(signature)
            while start != -1:
                data[start + offset : start + offset + 2] = value.to_bytes(2, "little")
                start = data.find(signature, start + 4)
        path.write_bytes(bytes(data))
        return rc.load_keras(path)

    yield Case(g, "AES compression method", lambda t: patched(t, 8, 10, 99), names=("m.keras",))
    yield Case(g, "encrypted members", lambda t: patched(t, 6, 8, 1), names=("m.keras",))
    yield Case(g, "not a zip", lambda t: rc.load_keras(_text(t / "x.keras")), names=("x.keras",))
    yield Case(
        g, "empty file", lambda t: rc.load_keras(_text(t / "x.keras", "")), names=("x.keras",)
    )

    def truncated(tmp: Path) -> Any:
        path = saved_keras(tmp)
        data = path.read_bytes()
        path.write_bytes(data[: len(data) // 2])
        return rc.load_keras(path)

    yield Case(g, "truncated archive", truncated, names=("m.keras",))
    yield Case(
        g, "missing .keras", lambda t: rc.load_keras(t / "none.keras"), names=("none.keras",)
    )
    yield Case(
        g,
        "load_model on missing .keras",
        lambda t: rc.load_model(t / "none.keras"),
        names=("none.keras",),
    )

    def keras_config(change: Callable[[dict], Any]) -> Callable[[Path], Any]:
        def edit(members: dict[str, bytes]) -> dict[str, bytes]:
            config = json.loads(members["config.json"])
            change(config)
            return {**members, "config.json": json.dumps(config).encode()}

        return load(edit)

    def layers(c: dict) -> list:
        return c["config"]["layers"]

    edits = {
        "class_name os.system": (lambda c: c.update(class_name="os.system"), "os.system"),
        "layer class Lambda": (lambda c: layers(c)[-1].update(class_name="Lambda"), "Lambda"),
        "units as string": (lambda c: layers(c)[-1]["config"].update(units="8"), "units"),
        "units negative": (lambda c: layers(c)[-1]["config"].update(units=-3), "units"),
        "units 10^7": (lambda c: layers(c)[-1]["config"].update(units=10**7), "units|shape"),
        "layers not a list": (lambda c: c["config"].update(layers="x"), "layers"),
        "no layers": (lambda c: c["config"].update(layers=[]), "layers"),
        "activation eval": (lambda c: layers(c)[-1]["config"].update(activation="eval"), "eval"),
        "module os": (lambda c: layers(c)[-1].update(module="os"), "os|module"),
        "config null": (lambda c: c.update(config=None), "config"),
    }
    for label, (change, needle) in edits.items():
        yield Case(g, f"keras config {label}", keras_config(change), names=(needle,))
    yield Case(
        g,
        "CLI predict --model x.keras (a model, not a forecaster)",
        lambda t: cli("predict", "--model", str(saved_keras(t)), "--ticker", "MSFT"),
        names=("m.keras",),
        cli=True,
    )


# ---------------------------------------------------------------- group: csv
def _csv(
    text: str, name: str = "prices.csv", encoding: str = "utf-8", **kw: Any
) -> Callable[[Path], Any]:
    def run(tmp: Path) -> Any:
        path = tmp / name
        path.write_bytes(text.encode(encoding))
        return rc.datasets.read_csv(path, **kw)

    return run


def _rows(
    dates: list[str], closes: list[float] | np.ndarray, header: str = "Date,Close", sep: str = ","
) -> str:
    lines = [header.replace(",", sep)]
    lines += [
        f"{_quote(d, sep)}{sep}{c!r}" if isinstance(c, str) else f"{_quote(d, sep)}{sep}{c:.10g}"
        for d, c in zip(dates, closes, strict=True)
    ]
    return "\n".join(lines) + "\n"


def _pairs(closes: np.ndarray) -> zip:
    """(date text, close) for the default 60 business days."""
    return zip(_dates(len(closes)), closes, strict=True)


def _quote(text: str, sep: str) -> str:
    return f'"{text}"' if sep in text else text


def _walk(n: int = 60, seed: int = 0) -> np.ndarray:
    return 100 * np.exp(np.cumsum(np.random.default_rng(seed).normal(0, 0.01, n)))


def _dates(n: int = 60, fmt: str = "%Y-%m-%d", start: str = "2021-01-04") -> list[str]:
    return [d.strftime(fmt) for d in pd.bdate_range(start, periods=n)]


def _is(closes: np.ndarray, start: str = "2021-01-04") -> Callable[[pd.DataFrame], bool]:
    dates = pd.bdate_range(start, periods=len(closes))

    def check(frame: pd.DataFrame) -> bool:
        return (
            len(frame) == len(closes)
            and (frame.index == dates).all()
            and np.allclose(frame["close"].to_numpy(), closes, rtol=1e-6)
        )

    return check


def csv_cases() -> Iterator[Case]:
    g = "csv"
    c = _walk()
    ok = _is(c)
    # dates
    yield Case(g, "ISO dates", _csv(_rows(_dates(), c)), "ok", check=ok)
    yield Case(g, "newest first", _csv(_rows(_dates()[::-1], c[::-1])), "ok", check=ok)
    for fmt in ("%d/%m/%Y", "%m/%d/%Y", "%d.%m.%Y", "%Y%m%d", "%b %d, %Y", "%d-%b-%Y", "%Y/%m/%d"):
        yield Case(g, f"dates {fmt} (decidable)", _csv(_rows(_dates(fmt=fmt), c)), "ok", check=ok)
    ambiguous = _dates(8, "%d/%m/%Y", "2021-01-01")
    ambiguous = [d for d in ambiguous if int(d[:2]) <= 12]
    yield Case(
        g,
        "DD/MM all days <= 12",
        _csv(_rows(ambiguous, _walk(len(ambiguous)))),
        names=("date_format",),
    )
    yield Case(
        g,
        "DD/MM with date_format",
        _csv(_rows(ambiguous, _walk(len(ambiguous))), date_format="%d/%m/%Y"),
        "ok",
        check=lambda f: f.index[1] == pd.Timestamp(pd.to_datetime(ambiguous[1], format="%d/%m/%Y")),
    )
    epochs = [
        str(int(pd.Timestamp(d).timestamp())) for d in pd.bdate_range("2021-01-04", periods=60)
    ]
    yield Case(g, "epoch seconds", _csv(_rows(epochs, c)), "ok", check=ok)
    yield Case(g, "epoch milliseconds", _csv(_rows([e + "000" for e in epochs], c)), "ok", check=ok)
    years = [str(y) for y in range(1960, 2020)]
    yield Case(
        g,
        "integer years",
        _csv(_rows(years, c)),
        "either",
        check=lambda f: f.index[0].year == 1960,
        names=("year|date",),
    )
    intraday = [f"2021-01-04 {h:02d}:{m:02d}:00" for h in range(9, 16) for m in (0, 30)]
    yield Case(
        g,
        "intraday bars",
        _csv(_rows(intraday, _walk(len(intraday)))),
        names=("intraday|resample",),
    )
    yield Case(
        g, "dates past 2262", _csv(_rows([*_dates(5), "2263-01-02"], _walk(6))), names=("2263",)
    )
    yield Case(
        g, "year 0999", _csv(_rows([*_dates(5), "0999-01-02"], _walk(6))), names=("0999|999",)
    )
    blank = _dates(10)
    blank[4] = ""
    yield Case(g, "blank date", _csv(_rows(blank, _walk(10))), names=("line 6|blank|missing",))
    bad = _dates(10)
    bad[3] = "2021-02-30"
    yield Case(g, "impossible date 2021-02-30", _csv(_rows(bad, _walk(10))), names=("2021-02-30",))
    word = _dates(10)
    word[2] = "yesterday"
    yield Case(g, "a word as date", _csv(_rows(word, _walk(10))), names=("yesterday",))
    tz = [
        (pd.Timestamp(d).tz_localize("America/New_York")).isoformat()
        for d in pd.bdate_range("2021-02-01", periods=60)
    ]
    yield Case(g, "tz-aware dates over DST", _csv(_rows(tz, c)), "ok", check=_is(c, "2021-02-01"))
    dup = _dates(10)
    dup[5] = dup[4]
    yield Case(g, "duplicate date", _csv(_rows(dup, _walk(10))), names=(dup[4],))
    shuffled = _dates(10)
    shuffled[3], shuffled[6] = shuffled[6], shuffled[3]
    yield Case(g, "unsorted dates", _csv(_rows(shuffled, _walk(10))), names=("order|sort",))
    mixed = _dates(10)
    mixed[5] = pd.Timestamp(mixed[5]).strftime("%d/%m/%Y")
    yield Case(g, "mixed date formats", _csv(_rows(mixed, _walk(10))), "either", names=("date",))
    yield Case(
        g,
        "weekend dates are fine",
        _csv(_rows(_dates(10, start="2021-01-01").copy(), _walk(10))),
        "ok",
    )
    # tickers
    multi = "Date,Close,Name\n" + "".join(
        f"{d},{v:.4f},{t}\n"
        for t in ("AAA", "BBB")
        for d, v in zip(_dates(30), _walk(30, hash(t) % 7), strict=True)
    )
    yield Case(
        g,
        "multi-ticker without ticker: a long frame",
        _csv(multi),
        "ok",
        check=lambda f: sorted(set(f["ticker"])) == ["AAA", "BBB"] and len(f) == 60,
    )
    yield Case(
        g,
        "multi-ticker ticker=bbb",
        _csv(multi, ticker="bbb"),
        "ok",
        check=lambda f: len(f) == 30 and "ticker" not in f,
    )
    yield Case(g, "multi-ticker unknown ticker", _csv(multi, ticker="ZZZZ"), names=("ZZZZ", "AAA"))
    one = "Date,Close,Ticker\n" + "".join(f"{d},{v:.4f},AAA\n" for d, v in _pairs(c))
    yield Case(g, "single ticker column", _csv(one), "ok", check=lambda f: len(f) == 60)
    yield Case(
        g,
        "ticker for a single-series file",
        _csv(_rows(_dates(), c), ticker="MSFT"),
        names=("MSFT",),
    )
    yield Case(
        g,
        "ticker in the file name",
        _csv(_rows(_dates(), c), name="msft.csv", ticker="MSFT"),
        "ok",
        check=ok,
    )
    blank_ticker = one.replace(",AAA\n", ",\n", 1)
    yield Case(g, "a blank ticker", _csv(blank_ticker), names=("ticker",))
    # jumps and splits
    for ratio in (2.0, 3.0, 1.5, 4.0, 5.0, 10.0, 0.5, 1 / 3, 2 / 3, 0.25, 0.2, 0.1, 1 / 20):
        jumped = c.copy()
        jumped[30:] = c[30:] / ratio
        yield Case(
            g,
            f"unadjusted split x{1 / ratio:.3g}",
            _csv(_rows(_dates(), jumped)),
            names=("split", _dates()[30]),
        )
        yield Case(
            g,
            f"unadjusted split x{1 / ratio:.3g} with allow_jumps",
            _csv(_rows(_dates(), jumped), allow_jumps=True),
            "ok",
            check=_is(jumped),
        )
    for factor in (1000.0, 0.001, 3.0, 0.3):
        spike = c.copy()
        spike[20] *= factor
        yield Case(
            g, f"one-day spike x{factor:g}", _csv(_rows(_dates(), spike)), names=(_dates()[20],)
        )
    crash = c.copy()
    crash[30:] *= 0.6  # -40 % that stays: a real crash, not split-sized
    crash[31:] *= np.exp(np.random.default_rng(3).normal(0, 0.04, 29))
    yield Case(
        g, "real -40 % crash, volatile after", _csv(_rows(_dates(), crash)), "ok", check=_is(crash)
    )
    rally = c.copy()
    rally[30:] *= 1.3
    yield Case(g, "+30 % day that stays", _csv(_rows(_dates(), rally)), "ok", check=_is(rally))
    # values
    for label, value in {
        "1e300": "1e300",
        "inf": "inf",
        "-inf": "-inf",
        "NaN": "NaN",
        "blank": "",
        "zero": "0",
        "negative": "-5",
        "text": "abc",
        "1e16": "1e16",
    }.items():
        rows = [f"{v:.4f}" for v in c]
        rows[7] = value
        text = "Date,Close\n" + "".join(f"{d},{v}\n" for d, v in zip(_dates(), rows, strict=True))
        yield Case(
            g,
            f"close {label}",
            _csv(text),
            names=("close", _dates()[7] + "|line 9|" + value if value else _dates()[7] + "|line 9"),
        )
    tiny_prices = c * 1e-8
    yield Case(
        g, "tiny prices (1e-6)", _csv(_rows(_dates(), tiny_prices)), "ok", check=_is(tiny_prices)
    )
    yield Case(g, "constant close", _csv(_rows(_dates(), np.full(60, 5.0))), names=("constant",))
    vol = "Date,Close,Volume\n" + "".join(
        f"{d},{v:.4f},{-1 if i == 9 else 100}\n" for i, (d, v) in enumerate(_pairs(c))
    )
    yield Case(g, "negative volume", _csv(vol), names=("volume", _dates()[9]))
    extra = "Date,Close,Dividend\n" + "".join(
        f"{d},{v:.4f},{'' if i % 3 else 0.1}\n" for i, (d, v) in enumerate(_pairs(c))
    )
    yield Case(g, "blank extra Dividend column", _csv(extra), "ok", check=ok)
    # shapes of the file
    yield Case(g, "empty file", _csv(""), names=("prices.csv", "empty"))
    yield Case(g, "header only", _csv("Date,Close\n"), names=("prices.csv",))
    yield Case(g, "one row", _csv("Date,Close\n2021-01-04,10\n"), "either", names=("row",))
    yield Case(g, "no date column", _csv("Close,Open\n1,2\n3,4\n"), names=("date", "Close"))
    yield Case(
        g, "no close column", _csv("Date,Foo\n2021-01-04,1\n2021-01-05,2\n"), names=("close", "Foo")
    )
    yield Case(g, "only dates", _csv("Date\n2021-01-04\n2021-01-05\n"), names=("close|price",))
    yield Case(
        g, "missing file", lambda t: rc.datasets.read_csv(t / "nope.csv"), names=("nope.csv",)
    )
    yield Case(
        g, "a folder", lambda t: rc.datasets.read_csv(t), names=(str(Path(tempfile.gettempdir())),)
    )
    yield Case(
        g,
        "binary file",
        lambda t: rc.datasets.read_csv(_bytes(t / "b.csv", bytes(range(256)) * 8)),
        names=("b.csv",),
    )
    yield Case(
        g,
        "gzip file",
        lambda t: rc.datasets.read_csv(
            _bytes(t / "p.csv.gz", gzip.compress(_rows(_dates(), c).encode()))
        ),
        "ok",
        check=ok,
    )
    yield Case(
        g,
        "ragged rows",
        _csv("Date,Close\n2021-01-04,1,2,3\n2021-01-05,2\n"),
        names=("prices.csv",),
    )
    yield Case(
        g,
        "HTML saved as csv",
        _csv("<html><body>404 Not Found</body></html>\n"),
        names=("prices.csv",),
    )
    # encodings and delimiters
    text = _rows(_dates(), c)
    for enc in ("utf-8-sig", "utf-16", "latin-1", "cp1252"):
        yield Case(
            g,
            f"encoding {enc}",
            _csv(text, encoding=enc),
            "either" if enc == "utf-16" else "ok",
            check=ok,
            names=("prices.csv",),
        )
    yield Case(g, "CRLF line endings", _csv(text.replace("\n", "\r\n")), "ok", check=ok)
    for sep in (";", "\t", "|"):
        yield Case(
            g,
            f"delimiter {sep!r}",
            _csv(_rows(_dates(), c, sep=sep)),
            "either",
            check=ok,
            names=("sep|delimiter|column",),
        )
        yield Case(
            g,
            f"delimiter {sep!r} with sep=",
            _csv(_rows(_dates(), c, sep=sep), sep=sep),
            "ok",
            check=ok,
        )
    comma = "Date;Close\n" + "".join(
        f"{d};{v:.4f}".replace(".", ",", 1) + "\n" for d, v in _pairs(c)
    )
    comma = "Date;Close\n" + "".join(
        f"{d};{str(round(v, 4)).replace('.', ',')}\n" for d, v in _pairs(c)
    )
    yield Case(g, "decimal comma with sep=';' only", _csv(comma, sep=";"), names=("close",))
    yield Case(
        g,
        "decimal comma with decimal=','",
        _csv(comma, sep=";", decimal=","),
        "ok",
        check=lambda f: np.allclose(f["close"], np.round(c, 4)),
    )
    thousands = "Date,Close\n" + "".join(f'{d},"{v * 100:,.2f}"\n' for d, v in _pairs(c))
    yield Case(
        g,
        "quoted thousands separators",
        _csv(thousands),
        "either",
        check=lambda f: np.allclose(f["close"], np.round(c * 100, 2)),
        names=("close|thousands",),
    )
    yield Case(
        g,
        "Yahoo export with Adj Close",
        _csv(
            "Date,Open,High,Low,Close,Adj Close,Volume\n"
            + "".join(f"{d},{v},{v},{v},{v},{v / 2},100\n" for d, v in _pairs(c))
        ),
        "ok",
        check=lambda f: np.allclose(f["close"], c / 2),
    )
    yield Case(
        g,
        "Adj Close zero",
        _csv(
            "Date,Close,Adj Close\n"
            + "".join(f"{d},{v},{0 if i == 4 else v}\n" for i, (d, v) in enumerate(_pairs(c)))
        ),
        names=("adj_close|Adj Close", _dates()[4]),
    )
    # validate() API directly
    frame = prices(40)
    yield Case(
        g,
        "validate a numpy array",
        lambda t: rc.data.validate(frame.to_numpy()),
        names=("DataFrame", "ndarray"),
    )
    yield Case(
        g, "validate fill='zero'", lambda t: rc.data.validate(frame, fill="zero"), names=("zero",)
    )
    yield Case(
        g,
        "validate columns=['nope']",
        lambda t: rc.data.validate(frame, columns=["nope"]),
        names=("nope",),
    )
    yield Case(
        g,
        "validate RangeIndex",
        lambda t: rc.data.validate(frame.reset_index()),
        names=("DatetimeIndex",),
    )
    yield Case(
        g, "validate empty frame", lambda t: rc.data.validate(frame.iloc[:0]), names=("no rows",)
    )
    yield Case(g, "read_csv fill='zero'", _csv(_rows(_dates(), c), fill="zero"), names=("zero",))
    yield Case(
        g,
        "read_csv date_column missing",
        _csv(_rows(_dates(), c), date_column="When"),
        names=("When",),
    )
    yield Case(
        g,
        "read_csv columns map to nothing",
        _csv(_rows(_dates(), c), columns={"Kurs": "close"}),
        names=("Kurs",),
    )
    yield Case(
        g,
        "read_csv bad date_format",
        _csv(_rows(_dates(), c), date_format="%d/%m/%Y"),
        names=("%d/%m/%Y",),
    )
    yield Case(g, "read_csv bad kwarg", _csv(_rows(_dates(), c), nonsense=1), names=("nonsense",))
    yield Case(g, "read_csv path None", lambda t: rc.datasets.read_csv(None), names=("None|path",))
    yield Case(g, "read_csv path 42", lambda t: rc.datasets.read_csv(42), names=("42|path",))
    # the CLI reads files too
    for label, body, needle in (
        ("DD/MM ambiguous", _rows(ambiguous, _walk(len(ambiguous))), "--date-format"),
        ("split x1.5", _rows(_dates(), np.r_[c[:30], c[30:] / 1.5]), "split"),
        ("empty", "", "empty"),
        ("multi-ticker, too short for one window", multi, "lookback"),
        ("constant", _rows(_dates(), np.full(60, 5.0)), "constant"),
        ("binary", "\x00\x01\x02\xff", "p.csv"),
    ):
        yield Case(
            g,
            f"CLI train --csv {label}",
            lambda t, b=body: cli("train", "--out", str(t), "--csv", str(_text(t / "p.csv", b))),
            names=(needle,),
            cli=True,
        )


def _bytes(path: Path, data: bytes) -> Path:
    path.write_bytes(data)
    return path


# ---------------------------------------------------------------- group: random_csv
RANDOM_FORMATS = (
    "%Y-%m-%d",
    "%d/%m/%Y",
    "%m/%d/%Y",
    "%Y%m%d",
    "%d.%m.%Y",
    "%b %d, %Y",
    "%d-%b-%Y",
    "%Y/%m/%d",
    "%Y-%m-%d %H:%M:%S",
    "%m-%d-%Y",
    "%d %B %Y",
    "%Y-%m-%dT00:00:00Z",
)


def random_csv_cases(count: int = 120) -> Iterator[Case]:
    """Random small files with planted dates: each reads right or is a DataError."""
    for seed in range(count):
        rng = random.Random(seed)
        fmt = rng.choice(RANDOM_FORMATS)
        n = rng.randint(3, 40)
        start = pd.Timestamp("1990-01-01") + pd.Timedelta(days=rng.randint(0, 12000))
        dates = pd.bdate_range(start, periods=n)
        closes = np.round(
            100 * np.exp(np.cumsum(np.random.default_rng(seed).normal(0, 0.01, n))), 4
        )
        texts = [d.strftime(fmt) for d in dates]
        newest_first = rng.random() < 0.3
        order = slice(None, None, -1) if newest_first else slice(None)
        header = rng.choice(
            ["Date,Close", "date,close", "DATE,CLOSE", "Datetime,Close", "Day,Price"]
        )
        body = "".join(f"{d},{v}\n" for d, v in zip(texts[order], closes[order], strict=True))
        text = header + "\n" + body

        def check(
            frame: pd.DataFrame, dates: pd.DatetimeIndex = dates, closes: np.ndarray = closes
        ) -> bool:
            column = "close" if "close" in frame else frame.columns[0]
            return (frame.index == dates).all() and np.allclose(frame[column], closes)

        yield Case(
            "random_csv",
            f"seed {seed}: {fmt}, {n} rows{', newest first' if newest_first else ''}",
            _csv(text, allow_jumps=True),
            "either",
            names=("prices.csv|date|close|price|column",),
            check=check,
        )


# ---------------------------------------------------------------- group: config
#: config values that only the data or the training can judge (a column name, a
#: learning rate that diverges): loading the config may accept them.
LATER = {
    'data.ticker="NOPE"',
    'data.target="nope"',
    'data.features=["nope:log_return"]',
    'data.csv="missing.csv"',
    "data.val=0",
    "training.learning_rate=1e9",
    "training.learning_rate=0",  # allowed as in Keras (tests/cli/test_reliability.py)
}


def config_cases() -> Iterator[Case]:
    from rnncast.cli import config as cfg

    g = "config"

    def load_text(text: str | bytes, name: str = "c.toml", **kw: Any) -> Callable[[Path], Any]:
        def run(tmp: Path) -> Any:
            path = tmp / name
            path.write_bytes(text if isinstance(text, bytes) else text.encode())
            return cfg.load_config(str(path), **kw)

        return run

    base = (ROOT / "src/rnncast/cli/configs/lstm.toml").read_text()
    yield Case(
        g,
        "packaged lstm.toml",
        load_text(base),
        "ok",
        check=lambda c: c["forecast"]["lookback"] == 60,
    )
    yield Case(
        g,
        "TOML with a UTF-8 BOM",
        load_text(b"\xef\xbb\xbf" + base.encode()),
        "ok",
        check=lambda c: c["forecast"]["lookback"] == 60,
    )
    yield Case(g, "binary file", load_text(bytes(range(256))), names=("c.toml",))
    yield Case(g, "not TOML", load_text("this is = = not toml"), names=("c.toml",))
    yield Case(g, "utf-16 file", load_text(base.encode("utf-16")), names=("c.toml",))
    yield Case(g, "empty file", load_text(""), "either", names=("c.toml",))
    yield Case(
        g, "missing file", lambda t: cfg.load_config(str(t / "none.toml")), names=("none.toml",)
    )
    yield Case(
        g, "a folder", lambda t: cfg.load_config(str(t)), names=(str(Path(tempfile.gettempdir())),)
    )
    yield Case(
        g,
        "unknown packaged name",
        lambda t: cfg.load_config("nonexistent_cfg"),
        names=("nonexistent_cfg",),
    )
    values = {
        "forecast.lookback": ("0", "-5", '"60"', "2.5", "true", "1e9", "[]"),
        "forecast.horizon": ("0", '"1"', "-1"),
        "forecast.days": ("0", "-2", '"x"', "100000"),
        "forecast.strategy": ('"sideways"', "1"),
        "forecast.scaler": ('"nope"', "3"),
        "forecast.target_transform": ('"nope"',),
        "training.epochs": ("0", "-1", '"ten"', "1.5", "1e12"),
        "training.batch_size": ("0", "-8", '"32"'),
        "training.learning_rate": ("inf", "nan", "-0.1", "0", '"fast"', "1e9"),
        "training.optimizer": ('"nope"', "1", '"os.system"'),
        "training.loss": ('"nope"', '["mse"]', "1"),
        "training.patience": ("-1", '"x"'),
        "training.seed": ('"x"', "-1", "1.5"),
        "data.val": ("0", "1", "-0.1", "2", '"x"'),
        "data.test": ("1.5", '"x"'),
        "data.features": ("[]", '["nope:log_return"]', '["close:nope"]', "1"),
        "data.target": ('"nope"', "1"),
        "data.ticker": ('"NOPE"', "1", "[]"),
        "data.csv": ('"missing.csv"', "1"),
        "evaluation.interval": ("0", "1", "1.5", '"x"'),
        "evaluation.baselines": ('["nope"]', '"naive"'),
        "model.layers": (
            "[]",
            '"LSTM"',
            "[1]",
            '[{type="Nope"}]',
            '[{type=["LSTM"]}]',
            '[{type="LSTM"}]',
            '[{type="LSTM", units=-1}, {type="Dense", units=1}]',
            '[{type="LSTM", units=8, bogus=1}, {type="Dense", units=1}]',
            '[{type="Dense", units=1, activation="os.system"}]',
            '[{type="LSTM", units=8.5}, {type="Dense", units=1}]',
        ),
        "nosuch.key": ("1",),
        "training.nosuch": ("1",),
    }
    for key, bads in values.items():
        for value in bads:
            leaf = key.split(".")[-1]
            expect = "error"
            if f"{key}={value}" in LATER:
                expect = "either"  # only the data (or training) can tell: CLI cases check it
            yield Case(
                g,
                f"--set {key}={value}",
                lambda t, k=key, v=value: cfg.load_config(None, overrides=[f"{k}={v}"]),
                expect,
                names=(leaf + ("|units|type|layer" if key == "model.layers" else ""),),
            )
    for override in (
        "training.epochs",
        "=5",
        "training.epochs==5",
        "",
        "a.b.c.d=1",
        "training.epochs=5 6",
    ):
        yield Case(
            g,
            f"--set {override!r}",
            lambda t, o=override: cfg.load_config(None, overrides=[o]),
            names=(override.split("=")[0] or "KEY=VALUE|key",),
        )
    yield Case(g, "relative csv resolved next to the config", _relative_csv, "ok", check=bool)
    sample = [
        (("frobnicate",), "frobnicate"),
        (("run", "--config", "/nonexistent.toml"), "nonexistent.toml"),
        (("run", "--set", "training.epochs=-1"), "epochs"),
        (("run", "--set", "training.learning_rate=inf"), "learning_rate"),
        (("run", "--set", "nonsense"), "nonsense"),
        (("run", "--seed", "abc"), "seed"),
        (("run", "--ticker", "ZZZZ", "--set", "training.epochs=1"), "ZZZZ"),
        (("predict", "--model", "/nonexistent"), "nonexistent"),
        (("predict",), "--model"),
        (("predict", "--model", "x", "--days", "0"), "days"),
        (("predict", "--model", "x", "--days", "abc"), "days"),
        (("data", "show", "NOPE"), "NOPE"),
        (("data", "show", "MSFT", "--rows", "-3"), "rows"),
        (("verify", "/nonexistent"), "nonexistent"),
        (("config", "show", "nope"), "nope"),
        (("train", "--csv", "/nonexistent.csv"), "nonexistent.csv"),
        (("train", "--date-format", "%Q", "--csv", "x.csv"), "x.csv|%Q"),
    ]
    for args, needle in sample:
        yield Case(
            g, "CLI " + " ".join(args), lambda t, a=args: cli(*a, cwd=t), names=(needle,), cli=True
        )

    def interval_cli(tmp: Path) -> CliResult:
        model = saved_forecaster(tmp)
        return cli(
            "predict", "--model", str(model), "--ticker", "MSFT", "--days", "1", "--interval", "1.5"
        )

    yield Case(g, "CLI predict --interval 1.5", interval_cli, names=("interval",), cli=True)

    def bom_cli(tmp: Path) -> CliResult:
        path = tmp / "c.toml"
        path.write_bytes(b"\xef\xbb\xbf" + base.encode())
        return cli("config", "show", str(path))

    yield Case(g, "CLI config show BOM file", bom_cli, "either", names=("c.toml",), cli=True)

    def binary_cli(tmp: Path) -> CliResult:
        return cli("run", "--config", str(_bytes(tmp / "c.toml", bytes(range(256)))))

    yield Case(g, "CLI run --config binary", binary_cli, names=("c.toml",), cli=True)


def _relative_csv(tmp: Path) -> bool:
    from rnncast.cli import config as cfg

    (tmp / "sub").mkdir()
    write_csv(tmp / "sub" / "p.csv", prices(80))
    (tmp / "sub" / "c.toml").write_text('[data]\ncsv = "p.csv"\nticker = ""\n')
    config = cfg.load_config(str(tmp / "sub" / "c.toml"))
    return Path(config["data"]["csv"]).resolve() == (tmp / "sub" / "p.csv").resolve()


# ---------------------------------------------------------------- group: api
def api_cases() -> Iterator[Case]:
    g = "api"
    x, y = xy()

    def fit(**kw: Any) -> Callable[[Path], Any]:
        args = {"x": x, "y": y, "epochs": 1, "verbose": 0, **kw}
        return lambda t: compiled().fit(**args)

    fit_bad = {
        "x": [
            None,
            "abc",
            [[1, 2]],
            x[0],
            x[..., 0],
            np.zeros((16, 5, 3), "float32"),
            x.astype(object),
            np.full_like(x, np.nan),
            np.full_like(x, np.inf),
            x[:8],
            np.zeros((0, 5, 1), "float32"),
        ],
        "y": [None, "abc", y[:8], np.zeros((16, 3)), np.full_like(y, np.nan), np.zeros((16, 2, 2))],
        "epochs": [-1, "3", 1.5, None, np.inf],
        "batch_size": [0, -1, 1.5, "8"],
        "validation_split": [-0.1, 1.0, 2, "0.2"],
        "validation_data": [(x[:4],), (x[:4], y[:3]), (np.zeros((4, 5, 2)), y[:4]), "val", 5],
        "callbacks": ["early", [1], 5],
        "verbose": ["loud", 7],
        "shuffle": ["yes"],
        "initial_epoch": [-1, 5],
        "sample_weight": [np.ones(3), "w", -np.ones(16)],
        "class_weight": [{0: 1}],
        "steps_per_epoch": [0, -1],
        "nonsense": [1],
    }
    for arg, bads in fit_bad.items():
        for i, value in enumerate(bads):
            expect = "error"
            if (arg == "initial_epoch" and value == 5) or arg == "class_weight":
                expect = "either"  # Keras rounds regression targets to classes too
            if arg == "x" and i == 4:
                expect = "ok"  # (n, lookback) windows of one feature: documented, 3-D added
            yield Case(
                g,
                f"fit {arg} #{i} {_short(value)[:30]}",
                fit(**{arg: value}),
                expect,
                names=(arg + "|shape" if arg in ("x", "y", "validation_data") else arg,),
            )

    def predict(value: Any, **kw: Any) -> Callable[[Path], Any]:
        return lambda t: compiled().predict(value, verbose=0, **kw)

    for i, value in enumerate(
        [
            None,
            "abc",
            x[0],
            np.zeros((4, 5, 2), "float32"),
            np.zeros((4, 6, 1), "float32"),
            [[[1.0]]],
            np.zeros((0, 5, 1), "float32"),
            x.astype("float64"),
        ]
    ):
        expect = "ok" if i in (6, 7) else "error"  # (4, 6, 1): refused like Keras's functional
        check = (lambda r: r.shape == (4, 1)) if i == 4 else (lambda r: r.shape[-1] == 1)
        yield Case(
            g,
            f"predict #{i} {_short(value)[:30]}",
            predict(value),
            expect,
            names=("x|shape|input",),
            check=check,
        )
    yield Case(g, "predict batch_size=0", predict(x, batch_size=0), names=("batch_size",))
    yield Case(
        g,
        "predict on uncompiled unbuilt model",
        lambda t: rc.Sequential([LSTM(4), Dense(1)]).predict(x, verbose=0),
        "ok",
        check=lambda r: r.shape == (16, 1),
    )
    yield Case(
        g, "fit uncompiled", lambda t: tiny().fit(x, y, epochs=1, verbose=0), names=("compile",)
    )
    compile_bad = {
        "optimizer": ["nope", 5, "os.system", None],
        "loss": ["nope", 5, ["mse", "mae"]],
        "metrics": ["accuracy_x", [5], "mae"],
        "learning_rate": [np.inf, -1.0, 0.0, np.nan, "fast"],
    }
    for arg, bads in compile_bad.items():
        for value in bads:

            def run(t: Path, arg: str = arg, value: Any = value) -> Any:
                model = tiny()
                if arg == "learning_rate":
                    model.compile(optimizer=rc.optimizers.Adam(learning_rate=value), loss="mse")
                else:
                    model.compile(**{"optimizer": "adam", "loss": "mse", arg: value})
                return model.fit(x, y, epochs=1, verbose=0)

            expect = "error"
            if arg == "metrics" and value == "mae":
                expect = "either"
            if (arg == "optimizer" and value is None) or (arg == "learning_rate" and value == 0):
                expect = "either"  # 0 is a valid rate (warm-up), as in Keras
            yield Case(
                g,
                f"compile {arg}={value!r}",
                run,
                expect,
                names=(arg if arg != "metrics" else str(value).strip("[]'"),),
            )
    layer_bad = [
        ("LSTM units=0", lambda: LSTM(0), "units"),
        ("LSTM units=-1", lambda: LSTM(-1), "units"),
        ("LSTM units='8'", lambda: LSTM("8"), "units"),
        ("LSTM units=8.5", lambda: LSTM(8.5), "units"),
        ("LSTM units=None", lambda: LSTM(None), "units"),
        ("LSTM activation='nope'", lambda: LSTM(4, activation="nope"), "nope"),
        ("LSTM dropout=2", lambda: LSTM(4, dropout=2.0), "dropout"),
        ("LSTM dropout=-0.1", lambda: LSTM(4, dropout=-0.1), "dropout"),
        ("GRU recurrent_dropout=1", lambda: GRU(4, recurrent_dropout=1.0), "recurrent_dropout"),
        ("Dense units=0", lambda: Dense(0), "units"),
        ("Dense activation=5", lambda: Dense(4, activation=5), "activation"),
        ("Dense kernel_initializer='nope'", lambda: Dense(4, kernel_initializer="nope"), "nope"),
        ("Dropout rate=1.5", lambda: Dropout(1.5), "rate"),
        ("Dropout rate='x'", lambda: Dropout("x"), "rate"),
        ("LSTM bogus kwarg", lambda: LSTM(4, bogus=1), "bogus"),
        ("Sequential of ints", lambda: rc.Sequential([1, 2]), "layer|int"),
        ("Sequential of a string", lambda: rc.Sequential("LSTM"), "layer|str"),
        (
            "input_shape negative",
            lambda: rc.Sequential([LSTM(4, input_shape=(-5, 1)), Dense(1)]),
            "input_shape|-5",
        ),
        (
            "input_shape a string",
            lambda: rc.Sequential([LSTM(4, input_shape="5,1"), Dense(1)]),
            "input_shape",
        ),
        (
            "LSTM on 2-D input",
            lambda: rc.Sequential([LSTM(4, input_shape=(5,)), Dense(1)]),
            "input_shape|ndim|3|shape",
        ),
    ]
    for label, make, needle in layer_bad:
        yield Case(g, label, lambda t, m=make: m(), names=(needle,))
    # the Forecaster
    frame = prices(120)

    def fc(**kw: Any) -> Callable[[Path], Any]:
        args = {"model": [LSTM(4), Dense(1)], "lookback": 10, "seed": 0, **kw}
        return lambda t: rc.Forecaster(**args).fit(frame, epochs=1, verbose=0)

    fc_bad = {
        "lookback": [0, -1, "20", 2.5, None, 10**6],
        "horizon": [0, -2, "2", 1.5],
        "features": [[], "close:nope", ["nope"], [5], None],
        "target": ["nope", 5, None],
        "target_transform": ["nope", 5],
        "scaler": ["nope", 5],
        "strategy": ["sideways", None],
        "calendar": ["NOPE", 5],
        "seed": ["x", 1.5],
        "model": [None, "LSTM", [1, 2], {"layers": "x"}, [LSTM(4), Dense(3)]],
    }
    for arg, bads in fc_bad.items():
        for value in bads:
            needle = {"features": "features|nope|5", "model": "model|layers"}.get(arg, arg)
            if (
                arg == "model"
                and isinstance(value, list)
                and value
                and not isinstance(value[0], int)
            ):
                needle = "Dense(1)|output"
            yield Case(
                g, f"Forecaster {arg}={_short(value)[:30]}", fc(**{arg: value}), names=(needle,)
            )
    fitted, fr = fitted_forecaster()
    short = fr.iloc[:5]
    nan = fr.copy()
    nan.iloc[-3, nan.columns.get_loc("close")] = np.nan
    multi = pd.concat([fr.assign(ticker="A"), fr.assign(ticker="B")])
    call_bad = [
        (
            "fit on a numpy array",
            lambda: rc.Forecaster([LSTM(4), Dense(1)], lookback=10).fit(frame.to_numpy()),
            "DataFrame|ndarray",
        ),
        (
            "fit on 5 rows",
            lambda: rc.Forecaster([LSTM(4), Dense(1)], lookback=10).fit(
                frame.iloc[:5], epochs=1, verbose=0
            ),
            "rows|lookback",
        ),
        (
            "fit without a close column",
            lambda: rc.Forecaster([LSTM(4), Dense(1)], lookback=10).fit(
                frame.drop(columns="close"), epochs=1, verbose=0
            ),
            "close",
        ),
        (
            "fit on a constant series",
            lambda: rc.Forecaster([LSTM(4), Dense(1)], lookback=10).fit(
                frame.assign(close=5.0), epochs=1, verbose=0
            ),
            "constant|close",
        ),
        (
            "fit calibration=2",
            lambda: rc.Forecaster([LSTM(4), Dense(1)], lookback=10).fit(
                frame.iloc[:90], validation=frame.iloc[90:], calibration=2, epochs=1, verbose=0
            ),
            "calibration",
        ),
        (
            "fit validation a string",
            lambda: rc.Forecaster([LSTM(4), Dense(1)], lookback=10).fit(
                frame, validation="x", epochs=1, verbose=0
            ),
            "validation",
        ),
        (
            "fit on NaN close",
            lambda: rc.Forecaster([LSTM(4), Dense(1)], lookback=10).fit(nan, epochs=1, verbose=0),
            "NaN|close",
        ),
        (
            "fit epochs=-1",
            lambda: rc.Forecaster([LSTM(4), Dense(1)], lookback=10).fit(
                frame, epochs=-1, verbose=0
            ),
            "epochs",
        ),
        (
            "fit bogus kwarg",
            lambda: rc.Forecaster([LSTM(4), Dense(1)], lookback=10).fit(frame, bogus=1),
            "bogus",
        ),
        (
            "predict_next before fit",
            lambda: rc.Forecaster([LSTM(4), Dense(1)], lookback=10).predict_next(frame),
            "fit",
        ),
        ("predict_next days=0", lambda: fitted.predict_next(fr, days=0), "days"),
        ("predict_next days=-1", lambda: fitted.predict_next(fr, days=-1), "days"),
        ("predict_next days='2'", lambda: fitted.predict_next(fr, days="2"), "days"),
        ("predict_next days=2 > horizon", lambda: fitted.predict_next(fr, days=2), "days"),
        ("predict_next on 5 rows", lambda: fitted.predict_next(short), "rows|lookback"),
        ("predict_next on NaN", lambda: fitted.predict_next(nan), "NaN|close"),
        ("predict_next interval=1.5", lambda: fitted.predict_next(fr, interval=1.5), "interval"),
        ("predict_next interval=0", lambda: fitted.predict_next(fr, interval=0), "interval"),
        ("predict_next interval='x'", lambda: fitted.predict_next(fr, interval="x"), "interval"),
        (
            "predict_next interval_method='x'",
            lambda: fitted.predict_next(fr, interval=0.9, interval_method="x"),
            "interval_method|'x'",
        ),
        (
            "predict_next mc_samples=0",
            lambda: fitted.predict_next(
                fr, interval=0.9, interval_method="mc_dropout", mc_samples=0
            ),
            "mc_samples|dropout",
        ),
        (
            "predict_next on a numpy array",
            lambda: fitted.predict_next(fr.to_numpy()),
            "DataFrame|ndarray",
        ),
        (
            "predict_next on a frame without close",
            lambda: fitted.predict_next(fr.drop(columns="close")),
            "close",
        ),
        (
            "predict_next on a RangeIndex",
            lambda: fitted.predict_next(fr.reset_index(drop=True)),
            "DatetimeIndex|index|date",
        ),
        (
            "predict_next on unsorted dates",
            lambda: fitted.predict_next(fr.iloc[::-1]),
            "sort|order|dates",
        ),
        ("predict on 3 rows", lambda: fitted.predict(fr.iloc[:3]), "rows"),
        ("predict context a string", lambda: fitted.predict(fr, context="x"), "context"),
        ("save to an empty path", lambda: fitted.save(""), "path"),
        (
            "save unfitted",
            lambda: rc.Forecaster([LSTM(4), Dense(1)], lookback=10).save("/tmp/rc-unfitted"),
            "fit",
        ),
    ]
    for label, call, needle in call_bad:
        yield Case(g, label, lambda t, c=call: c(), names=(needle,))
    valid = [
        (
            "predict_next on float32 prices",
            lambda: fitted.predict_next(fr.astype({"close": "float32"})),
            lambda r: len(r) == 1 and np.isfinite(r["forecast"]).all(),
        ),
        (
            "predict_next on int prices",
            lambda: fitted.predict_next(fr.assign(close=fr["close"].round().astype(int))),
            lambda r: len(r) == 1,
        ),
        (
            "predict_next with extra columns",
            lambda: fitted.predict_next(fr.assign(note="x")),
            lambda r: len(r) == 1,
        ),
        (
            "predict_next on exactly lookback+1 rows",
            lambda: fitted.predict_next(fr.iloc[-11:]),
            lambda r: len(r) == 1,
        ),
        (
            "fit with features as a string",
            lambda: rc.Forecaster(
                [LSTM(4), Dense(1)], lookback=10, features="close:log_return", seed=0
            ).fit(frame, epochs=1, verbose=0),
            lambda r: isinstance(r, rc.Forecaster),
        ),
        (
            "fit validation empty frame",
            lambda: rc.Forecaster([LSTM(4), Dense(1)], lookback=10, seed=0).fit(
                frame, validation=frame.iloc[:0], epochs=1, verbose=0
            ),
            lambda r: isinstance(r, rc.Forecaster),
        ),
    ]
    valid.append(
        (
            "fit on volume:log features",
            lambda: rc.Forecaster(
                [LSTM(4), Dense(1)], lookback=10, features=["volume:log"], seed=0
            ).fit(frame, epochs=1, verbose=0),
            lambda r: isinstance(r, rc.Forecaster),
        )
    )
    valid.append(  # a long frame is a universe (issue 15): one global model, both tickers
        (
            "fit on a two-ticker frame",
            lambda: rc.Forecaster([LSTM(4), Dense(1)], lookback=10, seed=0).fit(
                multi, epochs=1, verbose=0
            ),
            lambda r: list(r.tickers_) == ["A", "B"],
        )
    )
    for label, call, check in valid:
        yield Case(g, label, lambda t, c=call: c(), "ok", check=check)


# ---------------------------------------------------------------- group: faults
#: root ignores folder permissions through CAP_DAC_OVERRIDE; a child without it is held to them
NO_OVERRIDE = ("setpriv", "--bounding-set=-dac_override,-dac_read_search,-fowner")


def fault_cases() -> Iterator[Case]:
    g = "faults"

    def kill_during_save(tmp: Path, seed: int) -> bool:
        rc.Sequential([LSTM(4, input_shape=(5, 1)), Dense(1)], seed=99).save(tmp / "m")
        script = (
            "import sys; sys.path.insert(0, sys.argv[2]); import rnncast as rc;"
            "from rnncast.layers import LSTM, Dense\n"
            "print('ready', flush=True)\n"
            "i = 0\n"
            "while True:\n"
            "    m = rc.Sequential([LSTM(64, input_shape=(5, 1)), Dense(1)], seed=i % 3)\n"
            "    m.save(sys.argv[1])\n"
            "    i += 1\n"
        )
        proc = subprocess.Popen(
            [sys.executable, "-c", script, str(tmp / "m"), str(ROOT / "src")],
            stdout=subprocess.PIPE,
            text=True,
        )
        assert proc.stdout is not None
        proc.stdout.readline()
        time.sleep(0.2 + random.Random(seed).random() * 0.8)
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        model = rc.load_model(tmp / "m")  # must load whole: the old or a new model
        return model.count_params() > 0

    for seed in range(4):
        yield Case(
            g,
            f"kill -9 during save #{seed}",
            lambda t, s=seed: kill_during_save(t, s),
            "ok",
            check=bool,
        )

    def tmpfs(tmp: Path) -> Path | None:
        if os.name != "posix" or os.geteuid() != 0:
            return None
        mount = tmp / "tmpfs"
        mount.mkdir()
        done = subprocess.run(
            ["mount", "-t", "tmpfs", "-o", "size=64k", "tmpfs", str(mount)], capture_output=True
        )
        return None if done.returncode else mount

    @contextlib.contextmanager
    def mounted(tmp: Path) -> Iterator[Path]:
        mount = tmpfs(tmp)
        if mount is None:
            raise Skipped("cannot mount a tmpfs here (needs root)")
        try:
            yield mount
        finally:
            subprocess.run(["umount", "-l", str(mount)], check=False)

    def disk_full(tmp: Path) -> Any:
        with mounted(tmp) as mount:
            small = tiny()
            small.save(mount / "m")
            try:
                tiny(units=64).save(mount / "m")
            finally:
                ok = same_predictions(small, mount / "m") and not [
                    p for p in mount.iterdir() if ".tmp-" in p.name
                ]
            return ok

    yield Case(g, "disk full (64 KiB tmpfs)", disk_full, names=("disk is full|No space",))

    def read_only(tmp: Path) -> Any:
        with mounted(tmp) as mount:
            small = tiny()
            small.save(mount / "m")
            subprocess.run(["mount", "-o", "remount,ro", str(mount)], check=True)
            return tiny(seed=1).save(mount / "m")

    yield Case(g, "read-only file system", read_only, names=("read-only",))

    def forecaster_disk_full(tmp: Path) -> Any:
        with mounted(tmp) as mount:
            _fc, _ = fitted_forecaster()
            big = rc.Forecaster([LSTM(64), Dense(1)], lookback=10, seed=0)
            big.fit(prices(60), epochs=1, verbose=0)
            return big.save(mount / "fc")

    yield Case(
        g, "forecaster on a full disk", forecaster_disk_full, names=("disk is full|No space",)
    )

    def cli_out_read_only(tmp: Path) -> CliResult:
        with mounted(tmp) as mount:
            subprocess.run(["mount", "-o", "remount,ro", str(mount)], check=True)
            return cli("train", "--out", str(mount / "runs"), "--set", "training.epochs=1")

    yield Case(
        g,
        "CLI train --out on a read-only fs",
        cli_out_read_only,
        names=("--out", "read-only"),
        cli=True,
    )

    def cli_out_file(tmp: Path) -> CliResult:
        return cli("train", "--out", str(_text(tmp / "f")), "--set", "training.epochs=1")

    yield Case(g, "CLI train --out is a file", cli_out_file, names=("--out", "file"), cli=True)

    def cli_model_deleted_weights(tmp: Path) -> CliResult:
        path = saved_forecaster(tmp)
        (path / "model.safetensors").unlink()
        return cli(
            "predict", "--model", str(path), "--csv", str(write_csv(tmp / "p.csv", prices(200)))
        )

    yield Case(
        g,
        "CLI predict with weights deleted",
        cli_model_deleted_weights,
        names=("model.safetensors",),
        cli=True,
    )

    def cli_predict_ok(tmp: Path) -> CliResult:
        path = saved_forecaster(tmp)
        return cli(
            "predict",
            "--model",
            str(path),
            "--csv",
            str(write_csv(tmp / "p.csv", prices(200))),
            "--days",
            "1",
        )

    yield Case(
        g,
        "CLI predict from a csv",
        cli_predict_ok,
        "ok",
        check=lambda r: "forecast" in r.out.lower() or r.out.strip() != "",
        cli=True,
    )

    def save_into_missing_parent(tmp: Path) -> Any:
        return compiled().save(tmp / "a" / "b" / "m")

    yield Case(
        g,
        "save into a missing parent folder",
        save_into_missing_parent,
        "either",
        names=("a",),
        check=lambda p: True,
    )

    def save_over_locked_folder(tmp: Path) -> Any:
        """Save into a 0555 folder; root runs the child without CAP_DAC_OVERRIDE."""
        target = tmp / "ro"
        target.mkdir()
        target.chmod(0o555)
        script = (
            "import sys; sys.path.insert(0, sys.argv[2]); import rnncast as rc\n"
            "from rnncast.layers import LSTM, Dense\n"
            "try:\n"
            "    rc.Sequential([LSTM(4, input_shape=(5, 1)), Dense(1)]).save(sys.argv[1])\n"
            "except rc.RnncastError as err:\n"
            "    print('RNNCAST', err, file=sys.stderr); sys.exit(3)\n"
        )
        drop = [] if os.geteuid() else [*NO_OVERRIDE]
        argv = [*drop, sys.executable, "-c", script, str(target / "m"), str(ROOT / "src")]
        done = subprocess.run(argv, capture_output=True, text=True)
        target.chmod(0o755)
        if done.returncode == 0:
            return "saved"
        last = done.stderr.strip().splitlines()[-1] if done.stderr.strip() else ""
        if done.returncode == 3 and last.startswith("RNNCAST"):
            raise rc.ArtifactError(last.removeprefix("RNNCAST "))
        raise RuntimeError(done.stderr[-500:])

    yield Case(
        g,
        "save into a read-only folder (root without CAP_DAC_OVERRIDE)",
        save_over_locked_folder,
        names=("permission",),
    )


# ---------------------------------------------------------------- the campaign
CASES: dict[str, Callable[[], Iterator[Case]]] = {
    "integrity": integrity_cases,
    "artifacts": artifact_cases,
    "size": size_cases,
    "keras": keras_cases,
    "csv": csv_cases,
    "random_csv": random_csv_cases,
    "config": config_cases,
    "api": api_cases,
    "faults": fault_cases,
}


def collect(
    groups: tuple[str, ...] = GROUPS, quick: bool = False, cli_cases: bool = True
) -> list[Case]:
    cases = []
    for group in groups:
        found = [c for c in CASES[group]() if cli_cases or not c.cli]
        if quick:
            found = found[:: max(1, len(found) // 12)]
        cases += found
    return cases


def run(cases: list[Case], workers: int = 2) -> list[Outcome]:
    """Run the cases: API ones and every other CLI one here, the rest in subprocesses.

    Here means this process with one torch thread; the other CLI cases run as
    ``python -m rnncast`` subprocesses in ``workers`` threads.
    """
    import torch

    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        fitted_forecaster(), _base("model"), _base("forecaster")  # shared, made first
        clis = [c for c in cases if c.cli]
        results = [run_case(c) for c in cases if not c.cli]
        _IN_PROCESS["on"] = True
        results += [run_case(c) for c in clis[1::2]]
    finally:
        _IN_PROCESS["on"] = False
        torch.set_num_threads(threads)
    with ThreadPoolExecutor(workers) as pool:
        results += list(pool.map(run_case, clis[::2]))
    return results


def table(results: list[Outcome]) -> dict[str, dict[str, int]]:
    counts: dict[str, dict[str, int]] = {}
    for r in results:
        if r.outcome == "skipped":
            continue
        row = counts.setdefault(r.case.group, {"tried": 0, **dict.fromkeys(OUTCOMES, 0)})
        row["tried"] += 1
        row[r.outcome] += 1
    total = {"tried": 0, **dict.fromkeys(OUTCOMES, 0)}
    for row in counts.values():
        for key, value in row.items():
            total[key] += value
    ordered = {g: counts[g] for g in GROUPS if g in counts}
    ordered["total"] = total
    return ordered


def markdown(counts: dict[str, dict[str, int]]) -> str:
    head = (
        "| group | tried | clear error | accepted correctly | traceback | silently wrong "
        "| vague error | refused valid |"
    )
    lines = [head, "|---|" + "---:|" * 7]
    for group, row in counts.items():
        cells = [row["tried"], *(row[o] for o in OUTCOMES)]
        name = f"**{group}**" if group == "total" else group
        lines.append(f"| {name} | " + " | ".join(str(c) for c in cells) + " |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--groups", default=",".join(GROUPS))
    parser.add_argument("--quick", action="store_true", help="a sample of each group")
    parser.add_argument("--no-cli", action="store_true", help="skip the CLI subprocess cases")
    parser.add_argument("--list", action="store_true", help="print every case's outcome")
    parser.add_argument("--out", default=str(ROOT / "benchmarks" / "results" / "bad_inputs"))
    args = parser.parse_args(argv)
    groups = tuple(g for g in args.groups.split(",") if g)
    start = time.perf_counter()
    results = run(collect(groups, args.quick, not args.no_cli))
    for r in results:
        if args.list or r.outcome not in ("clear", "accepted"):
            print(f"[{r.outcome:9}] {r.case.group}: {r.case.name}: {r.detail[:300]}")
    counts = table(results)
    text = markdown(counts)
    print(text)
    print(f"{len(results)} cases in {time.perf_counter() - start:.0f} s")
    if not args.quick and set(groups) == set(GROUPS):
        out = Path(args.out)
        out.parent.mkdir(parents=True, exist_ok=True)
        out.with_suffix(".md").write_text(
            "# Bad-input campaign (benchmarks/bad_inputs.py)\n\n"
            + text
            + "\n\n"
            + "\n".join(
                f"- {r.case.group}: {r.case.name}: **{r.outcome}** {r.detail[:200]}"
                for r in results
                if r.outcome not in ("clear", "accepted")
            )
            + "\n"
        )
        out.with_suffix(".json").write_text(
            json.dumps(
                {
                    "counts": counts,
                    "cases": [
                        {
                            "group": r.case.group,
                            "name": r.case.name,
                            "outcome": r.outcome,
                            "detail": r.detail[:300],
                            "seconds": round(r.seconds, 3),
                        }
                        for r in results
                    ],
                },
                indent=1,
            )
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

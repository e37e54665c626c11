"""The tutorial scripts in examples/keras_tutorials run on rnncast, and unchanged but for
their import lines, on Keras 3: proof that they differ from Keras tutorials only in imports.

Each script runs in a fresh interpreter on the last 400 rows of the bundled AAPL sample
(written as a Yahoo Finance CSV), for one epoch. The rnncast run blocks ``import keras``
and the Keras run blocks ``import rnncast``, so neither can lean on the other.
"""

from __future__ import annotations

import ast
import functools
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

import rnncast as rc

os.environ.setdefault("KERAS_BACKEND", "torch")  # before any `import keras`
ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = ROOT / "examples" / "keras_tutorials"
SCRIPTS = ("stacked_lstm.py", "conv_lstm.py", "updown_classifier.py")
YAHOO_COLUMNS = {
    "open": "Open",
    "high": "High",
    "low": "Low",
    "close": "Close",
    "adj_close": "Adj Close",
    "volume": "Volume",
}
IMPORT_LINE = re.compile(r"\s*(from|import)\s+rnncast\b")
RUNNER = (
    "import runpy, sys\n"
    "sys.modules[{blocked!r}] = None  # importing it now raises ImportError\n"
    "sys.argv = [{script!r}, {csv!r}]\n"
    "runpy.run_path({script!r}, run_name='__main__')\n"
)


def to_keras(source: str) -> str:
    """``rnncast`` -> ``keras`` in the import lines, nothing else."""
    lines = source.splitlines(keepends=True)
    return "".join(
        re.sub(r"\brnncast\b", "keras", line) if IMPORT_LINE.match(line) else line for line in lines
    )


@pytest.fixture(scope="module")
def csv_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The bundled AAPL sample as Yahoo's CSV (Date, Open, ..., Adj Close, Volume)."""
    assert "AAPL" in rc.datasets.available_samples()
    frame = rc.datasets.load_sample("AAPL").rename(columns=YAHOO_COLUMNS)
    frame.index.name = "Date"
    path = tmp_path_factory.mktemp("data") / "AAPL.csv"
    frame.to_csv(path)
    return path


def run_script(script: Path, csv: Path, cwd: Path, blocked: str) -> str:
    """Run ``script`` on ``csv`` for one epoch on the last 400 rows; return its stdout."""
    env = {
        **os.environ,
        "PYTHONPATH": str(ROOT / "src"),
        "KERAS_BACKEND": "torch",
        "EPOCHS": "1",
        "ROWS": "400",
        "MPLBACKEND": "Agg",
        "OMP_NUM_THREADS": "1",  # one thread: faster on a shared CPU, same results
    }
    code = RUNNER.format(blocked=blocked, script=str(script), csv=str(csv))
    done = subprocess.run(
        [sys.executable, "-c", code],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, f"{script.name} failed:\n{done.stdout[-3000:]}\n{done.stderr}"
    return done.stdout


@pytest.fixture(scope="module")
def rnncast_run(csv_path: Path, tmp_path_factory: pytest.TempPathFactory):
    """Each script's (stdout, folder) on rnncast, run once per test module."""

    @functools.cache
    def run(name: str) -> tuple[str, Path]:
        if name == "stacked_lstm.py":
            pytest.importorskip("sklearn")  # its MinMaxScaler (the dev extra has it)
        cwd = tmp_path_factory.mktemp(f"rnncast_{Path(name).stem}")
        return run_script(EXAMPLES / name, csv_path, cwd, blocked="keras"), cwd

    return run


def value(pattern: str, text: str) -> str:
    found = re.search(pattern, text)
    assert found, f"no line matching {pattern!r} in:\n{text[-2000:]}"
    return found.group(1)


def check_output(name: str, out: str, cwd: Path) -> None:
    """What each script must print (and write), whichever library ran it."""
    if name == "stacked_lstm.py":
        assert 0 < float(value(r"Test RMSE: (\S+)", out)) < 1e3
        assert (cwd / "stacked_lstm.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    elif name == "conv_lstm.py":
        assert value(r"epochs run: (\d+)", out) == "1"
        assert 0 < float(value(r"Validation MAE: (\S+)", out)) < 1e3
    else:
        assert value(r"probabilities: \((\d+, \d+)\)", out) == "80, 2"
        assert value(r"rows sum to 1: (\w+)", out) == "True"
        argmax_accuracy = float(value(r"Test accuracy: (\S+)", out))
        assert 0 <= argmax_accuracy <= 1
        # evaluate's "accuracy" is the share of argmax hits on (n,) integer labels
        assert float(value(r"evaluate: loss \S+, accuracy (\S+)", out)) == pytest.approx(
            argmax_accuracy, abs=1e-4
        )


@pytest.mark.slow
@pytest.mark.parametrize("name", SCRIPTS)
def test_script_runs_on_rnncast(name: str, rnncast_run) -> None:
    out, cwd = rnncast_run(name)
    check_output(name, out, cwd)


@pytest.mark.slow
@pytest.mark.parametrize("name", SCRIPTS)
def test_same_script_with_keras_imports_runs_on_keras(
    name: str, rnncast_run, csv_path: Path, tmp_path: Path
) -> None:
    pytest.importorskip("keras")
    ours, _ = rnncast_run(name)
    script = tmp_path / name
    script.write_text(to_keras((EXAMPLES / name).read_text()))
    out = run_script(script, csv_path, tmp_path, blocked="rnncast")
    check_output(name, out, tmp_path)
    params = r"Total params: ([\d,]+)"
    assert value(params, out) == value(params, ours), "parameter counts differ from Keras"


@pytest.mark.parametrize("name", SCRIPTS)
def test_scripts_differ_from_keras_only_in_import_lines(name: str) -> None:
    source = (EXAMPLES / name).read_text()
    ported = to_keras(source)
    changed = [
        (ours, theirs)
        for ours, theirs in zip(source.splitlines(), ported.splitlines(), strict=True)
        if ours != theirs
    ]
    assert changed, f"{name} imports nothing from rnncast"
    assert all(IMPORT_LINE.match(ours) for ours, _ in changed)
    tree = ast.parse(ported)
    imported = {
        node.module.split(".")[0]
        for node in ast.walk(tree)
        if isinstance(node, ast.ImportFrom) and node.module
    } | {
        alias.name.split(".")[0]
        for node in ast.walk(tree)
        if isinstance(node, ast.Import)
        for alias in node.names
    }
    assert "rnncast" not in imported
    names = {node.id for node in ast.walk(tree) if isinstance(node, ast.Name)}
    assert "rnncast" not in names and "keras" not in names, "the code names the library"


def test_to_keras_swaps_import_lines_only() -> None:
    source = 'from rnncast.layers import LSTM  # rnncast\nimport rnncast.models\nprint("rnncast")\n'
    assert to_keras(source) == (
        'from keras.layers import LSTM  # keras\nimport keras.models\nprint("rnncast")\n'
    )

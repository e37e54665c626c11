"""Reliability of the command line: named errors for bad configs, unique run folders, early checks.

Issue 14 items 1, 4, 6 (configs), 12 and 13; the forecast range check of item 11
is in tests/forecasting/test_divergence.py.
"""

import contextlib
import copy
import math
import os
import subprocess
import sys
import threading
import tomllib
from pathlib import Path

import pytest
import tomli_w

from rnncast.cli import main
from rnncast.cli import pipelines as runner
from rnncast.cli.config import (
    MAX_PARAMETERS,
    MAX_UNITS,
    load_config,
    packaged_configs,
    read_config_text,
)
from rnncast.exceptions import ConfigError

SRC = Path(__file__).resolve().parents[2] / "src"
SMALL = [
    "--set",
    'model.layers=[{type="LSTM", units=4}, {type="Dense", units=1}]',
    "--set",
    "training.epochs=1",
    "--set",
    "forecast.lookback=10",
    "--set",
    "evaluation.baselines=[]",
]


# ------------------------------------------------------------------ item 6: config fuzz
def leaves(node, path=()):
    """Every ``(path, value)`` leaf of a parsed TOML document (list items included)."""
    if isinstance(node, dict):
        for key, value in node.items():
            yield from leaves(value, (*path, key))
    elif isinstance(node, list) and node and all(isinstance(x, dict) for x in node):
        for i, value in enumerate(node):
            yield from leaves(value, (*path, i))
    else:
        yield path, node


def replaced(document, path, value):
    copied = copy.deepcopy(document)
    node = copied
    for key in path[:-1]:
        node = node[key]
    node[path[-1]] = value
    return copied


WRONG = [
    "ten",
    ["LSTM"],
    {"nested": {"deeper": 1}},
    -1,
    -1.5,
    0,
    1_000_000,
    2**63 - 1,
    1e300,
    math.inf,
    math.nan,
    True,
    [[1, 2], {"a": 1}],
    "",
]


def mutations():
    for name in packaged_configs():
        document = tomllib.loads(read_config_text(name)[1])
        for path, _ in leaves(document):
            for value in WRONG:
                yield name, document, path, value
        for section in document:
            yield name, document, (section,), 5  # a section replaced by a number


def test_every_wrong_leaf_in_the_packaged_configs_is_a_config_error(tmp_path):
    outcomes = {"accepted": 0, "refused": 0}
    file = tmp_path / "mutated.toml"
    for name, document, path, value in mutations():
        file.write_text(tomli_w.dumps(replaced(document, path, value)), encoding="utf-8")
        try:
            load_config(file)
        except ConfigError:
            outcomes["refused"] += 1
        except Exception as err:
            pytest.fail(f"{name} {path}={value!r}: {type(err).__name__}: {err}")
        else:
            outcomes["accepted"] += 1
    assert outcomes["refused"] > 10 * outcomes["accepted"], outcomes


def toml_values():
    from hypothesis import strategies as st

    scalars = (
        st.integers(min_value=-(2**63), max_value=2**63 - 1)
        | st.floats()
        | st.text(max_size=8)
        | st.booleans()
        | st.dates()
        | st.sampled_from(["none", "LSTM", "Dense", "relu", "close", "direct", "adam"])
    )
    return st.recursive(
        scalars,
        lambda inner: (
            st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner, max_size=3)
        ),
        max_leaves=8,
    )


def test_random_config_documents_give_only_config_errors(tmp_path):
    """Hypothesis: any value at any key (and any layer table) loads or is a ConfigError."""
    hypothesis = pytest.importorskip("hypothesis")
    from hypothesis import strategies as st

    from rnncast.cli.config import SCHEMA
    from rnncast.layers import LAYERS

    keys = [(s, k) for s, spec in SCHEMA.items() if isinstance(spec, dict) for k in spec]
    layer_keys = [
        "type",
        "units",
        "filters",
        "kernel_size",
        "rate",
        "layer",
        "activation",
        "return_sequences",
        "pool_size",
        "n",
        "merge_mode",
        "name",
    ]
    layer = st.dictionaries(
        st.sampled_from(layer_keys), toml_values(), max_size=4
    ) | st.fixed_dictionaries({"type": st.sampled_from(sorted(LAYERS)), "units": toml_values()})
    file = tmp_path / "random.toml"

    @hypothesis.settings(max_examples=300, deadline=None, database=None)
    @hypothesis.given(
        st.dictionaries(st.sampled_from(keys), toml_values(), max_size=4),
        st.lists(layer, max_size=3),
    )
    def check(values, layers):
        document = {}
        for (section, key), value in values.items():
            document.setdefault(section, {})[key] = value
        if layers:
            document.setdefault("model", {})["layers"] = layers
        file.write_text(tomli_w.dumps(document), encoding="utf-8")
        with contextlib.suppress(ConfigError):
            load_config(file)

    check()


@pytest.mark.parametrize(
    ("override", "message"),
    [
        ('model.layers=[{type="LSTM", units=1000000}, {type="Dense", units=1}]', "units=1000000"),
        ('model.layers=[{type="Bidirectional", layer={type="GRU", units=99999}}]', "units=99999"),
        ('model.layers=[{type=["LSTM"], units=4}]', r"model.layers\[0\].type must be a layer"),
        ("model.layers=[{type={a=1}}]", r"model.layers\[0\].type must be a layer name"),
        ("training.learning_rate=inf", "training.learning_rate=inf must be a finite number"),
        ("training.learning_rate=nan", "training.learning_rate=nan must be a finite number"),
        ("training.learning_rate=-0.1", "training.learning_rate=-0.1 must be >= 0"),
        ("forecast.days=100000000", "forecast.days=100000000 must be <= 1000"),
        ("training.seed=-1", "training.seed=-1 must be >= 0"),
        ("evaluation.interval=5.0", "evaluation.interval=5.0 must be <= 0.999"),
    ],
)
def test_bad_values_name_the_key(override, message):
    with pytest.raises(ConfigError, match=message):
        load_config(overrides=[override])


def test_learning_rate_zero_is_allowed_as_in_keras():
    assert load_config(overrides=["training.learning_rate=0"])["training"]["learning_rate"] == 0


def test_parameter_limit_is_an_estimate_before_allocation():
    wide = f'model.layers=[{{type="LSTM", units={MAX_UNITS}}}, {{type="Dense", units=1}}]'
    assert 4 * MAX_UNITS * (MAX_UNITS + 2) > MAX_PARAMETERS  # the widest LSTM is over the limit
    with pytest.raises(ConfigError, match=r"about 67,\d+,\d+ parameters by model.layers\[0\]"):
        load_config(overrides=[wide])
    # The tutorial model's estimate is its real parameter count.
    from rnncast.cli.config import check_size
    from rnncast.cli.pipelines import build_forecaster

    config = load_config(overrides=["forecast.lookback=10"])
    model = build_forecaster(config).model
    model.build((None, 10, 1))
    assert check_size(config) == model.count_params()


def test_deeply_nested_toml_is_a_config_error(tmp_path):
    file = tmp_path / "deep.toml"
    file.write_text("name = " + "[" * 100_000 + "]" * 100_000 + "\n")
    with pytest.raises(ConfigError, match=r"deep\.toml: values are nested too deeply"):
        load_config(file)


# ------------------------------------------------------------------ item 13: config files
def test_a_utf8_bom_is_read(tmp_path):
    file = tmp_path / "bom.toml"
    file.write_bytes(b"\xef\xbb\xbf[training]\nepochs = 3\n")
    assert load_config(file)["training"]["epochs"] == 3


def test_a_binary_config_is_a_config_error_naming_the_file(tmp_path):
    file = tmp_path / "model.bin"
    file.write_bytes(b"\x89PNG\r\n\x1a\n\x00\xff\xfe")
    with pytest.raises(ConfigError, match=r"model.bin is not UTF-8 text \(byte 0"):
        load_config(file)


def test_csv_in_a_config_file_is_relative_to_its_folder(tmp_path, monkeypatch):
    folder = tmp_path / "project"
    folder.mkdir()
    (folder / "run.toml").write_text('[data]\ncsv = "data/prices.csv"\n')
    monkeypatch.chdir(tmp_path)
    assert load_config("project/run.toml")["data"]["csv"] == str(
        Path("project") / "data" / "prices.csv"
    )
    absolute = tmp_path / "abs.csv"
    (folder / "abs.toml").write_text(f'[data]\ncsv = "{absolute}"\n')
    assert load_config(folder / "abs.toml")["data"]["csv"] == str(absolute)
    # --set and --csv stay relative to the working folder.
    assert load_config(folder / "run.toml", ['data.csv="x.csv"'])["data"]["csv"] == "x.csv"


def test_direct_strategy_with_more_days_than_horizon_is_an_error():
    with pytest.raises(ConfigError) as info:
        load_config(overrides=["forecast.strategy=direct", "forecast.horizon=2", "forecast.days=5"])
    message = str(info.value)
    assert "forecast.days=5 is more than forecast.horizon=2" in message
    assert "forecast.strategy='recursive'" in message and "forecast.days=2" in message
    config = load_config(
        overrides=["forecast.strategy=direct", "forecast.horizon=2", "forecast.days=2"]
    )
    assert config["forecast"]["days"] == 2


def test_cli_prints_one_line_for_a_list_layer_type(tmp_path, capsys):
    file = tmp_path / "bad.toml"
    file.write_text('[model]\nlayers = [{ type = ["LSTM"], units = 4 }]\n')
    assert main(["run", "--config", str(file), "--out", str(tmp_path / "runs")]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "model.layers[0].type must be a layer name" in err
    assert not (tmp_path / "runs").exists() or not any((tmp_path / "runs").iterdir())


# ------------------------------------------------------------------ item 1: unique run folders
FIXED = "20260101-120000"


class FixedClock:
    """Stands in for ``datetime`` in pipelines: every run starts in the same second."""

    @staticmethod
    def now():
        import datetime

        return datetime.datetime(2026, 1, 1, 12, 0, 0)


def test_threads_claiming_in_the_same_second_get_distinct_folders(tmp_path, monkeypatch):
    monkeypatch.setattr(runner, "datetime", FixedClock)
    count, names, errors = 12, [], []
    barrier = threading.Barrier(count)

    def claim():
        try:
            barrier.wait()
            with runner.reserved_run_path(tmp_path, "lstm") as path:
                names.append(path.name)
                barrier.wait()  # every claim is held at once
                path.mkdir()  # what atomic_folder's rename does
        except Exception as err:  # reported below, with the thread's error
            errors.append(err)

    threads = [threading.Thread(target=claim) for _ in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors
    assert sorted(names) == sorted(
        [f"{FIXED}-lstm"] + [f"{FIXED}-lstm-{n}" for n in range(2, count + 1)]
    )
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(names)  # markers are gone


CLAIM = """
import sys, time, datetime
from pathlib import Path
from rnncast.cli import pipelines
class Clock:
    @staticmethod
    def now():
        return datetime.datetime(2026, 1, 1, 12, 0, 0)
pipelines.datetime = Clock
out, go = Path(sys.argv[1]), Path(sys.argv[2])
while not go.exists():
    time.sleep(0.01)
with pipelines.reserved_run_path(out, "lstm") as path:
    time.sleep(0.3)
    path.mkdir()
    print(path.name)
"""


def test_processes_claiming_in_the_same_second_get_distinct_folders(tmp_path):
    go = tmp_path / "go"
    out = tmp_path / "runs"
    env = {**os.environ, "PYTHONPATH": str(SRC)}
    processes = [
        subprocess.Popen(
            [sys.executable, "-c", CLAIM, str(out), str(go)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=env,
        )
        for _ in range(4)
    ]
    go.touch()
    names = [p.communicate(timeout=120)[0].strip() for p in processes]
    assert all(p.returncode == 0 for p in processes), [p.stderr for p in processes]
    assert len(set(names)) == 4 and f"{FIXED}-lstm" in names
    assert sorted(p.name for p in out.iterdir()) == sorted(names)


def test_a_killed_runs_marker_is_cleaned_and_its_name_skipped(tmp_path, monkeypatch):
    monkeypatch.setattr(runner, "datetime", FixedClock)
    gone = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"],
        check=True,
        capture_output=True,
        text=True,
    )
    stale = tmp_path / f".{FIXED}-lstm.reserved"
    stale.mkdir()
    import socket

    (stale / "owner").write_text(f"{socket.gethostname()} {gone.stdout.strip()}\n")
    alive = tmp_path / f".{FIXED}-gru.reserved"
    alive.mkdir()
    (alive / "owner").write_text(f"{socket.gethostname()} {os.getpid()}\n")
    with runner.reserved_run_path(tmp_path, "lstm") as path:
        assert path.name == f"{FIXED}-lstm"  # the dead owner's claim was removed
    with runner.reserved_run_path(tmp_path, "gru") as path:
        assert path.name == f"{FIXED}-gru-2"  # a live owner keeps its name
    assert alive.exists() and not stale.exists()


RUN_FILES = {
    "config.toml",
    "forecaster",
    "metrics.json",
    "predictions.csv",
    "forecast.csv",
    "plots",
    "report.html",
}


@pytest.mark.slow
def test_two_concurrent_runs_with_the_same_out_both_keep_their_folder(tmp_path):
    out = tmp_path / "runs"
    env = {**os.environ, "PYTHONPATH": str(SRC), "COLUMNS": "200"}
    command = [sys.executable, "-m", "rnncast", "run", "--out", str(out), *SMALL]
    processes = [
        subprocess.Popen(
            command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env
        )
        for _ in range(2)
    ]
    results = [p.communicate(timeout=600) for p in processes]
    assert [p.returncode for p in processes] == [0, 0], [err for _, err in results]
    folders = sorted(out.iterdir())
    assert len(folders) == 2 and all(f.name.endswith(("-lstm", "-lstm-2")) for f in folders)
    for folder in folders:
        assert {p.name for p in folder.iterdir()} == RUN_FILES
        assert (folder / "forecaster" / "config.json").is_file()
    reported = sorted(
        line.split("report: ")[1]
        for out_, _ in results
        for line in out_.splitlines()
        if line.startswith("report: ")
    )
    assert reported == sorted(str(f / "report.html") for f in folders)


# ------------------------------------------------------------------ item 4: unwritable --out
def run_and_err(capsys, out, *extra):
    code = main(["train", "--out", str(out), *SMALL, *extra])
    return code, capsys.readouterr().err


#: root ignores folder permissions through CAP_DAC_OVERRIDE; without it (dropped from the
#: capability bounding set of a child process) root is held to them like anyone else
NO_OVERRIDE = ["setpriv", "--bounding-set=-dac_override,-dac_read_search,-fowner"]


def run_without_override(out):
    """``rnncast train --out OUT`` in a child that cannot override permissions (root only)."""
    if subprocess.run([*NO_OVERRIDE, "true"], capture_output=True).returncode:
        pytest.skip("setpriv cannot drop root's capabilities here")
    env = {**os.environ, "PYTHONPATH": str(SRC)}
    argv = [sys.executable, "-m", "rnncast", "train", "--out", str(out), *SMALL]
    done = subprocess.run([*NO_OVERRIDE, *argv], capture_output=True, text=True, env=env)
    return done.returncode, done.stderr


@pytest.mark.skipif(os.name != "posix", reason="POSIX folder permissions")
def test_read_only_out_fails_before_training(tmp_path, capsys):
    out = tmp_path / "locked"
    out.mkdir()
    out.chmod(0o555)
    try:
        if os.geteuid() == 0:
            code, err = run_without_override(out)
        else:
            code, err = run_and_err(capsys, out)
    finally:
        out.chmod(0o755)
    assert code == 2 and err.count("\n") == 1
    assert f"cannot write run folders to --out {out}: Permission denied" in err
    assert "Epoch" not in err and "data:" not in err  # nothing trained
    assert list(out.iterdir()) == []


def test_out_under_a_file_fails_before_training(tmp_path, capsys):
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    code, err = run_and_err(capsys, blocker / "runs")
    assert code == 2 and err.count("\n") == 1 and "Epoch" not in err
    assert f"cannot write run folders to --out {blocker / 'runs'}: Not a directory" in err
    code, err = run_and_err(capsys, blocker)
    assert code == 2 and f"--out {blocker} is a file, not a folder" in err


def test_out_on_a_read_only_file_system_fails_before_training(tmp_path, capsys):
    target = Path("/sys/rnncast-reliability-test")
    try:
        target.mkdir()
    except OSError as err:
        expected = err.strerror
    else:
        target.rmdir()
        pytest.skip("/sys is writable here")
    code, err = run_and_err(capsys, target)
    assert code == 2 and err.count("\n") == 1 and "Epoch" not in err
    assert f"cannot write run folders to --out {target}: {expected}" in err


# ------------------------------------------------------------------ item 11: divergence in the CLI
@pytest.mark.slow
def test_a_huge_learning_rate_fails_the_run_with_the_cli_fix(tmp_path, capsys):
    layers = (
        '[{type="LSTM", units=8}, {type="Dense", units=8, activation="relu"}, '
        '{type="Dense", units=1}]'
    )
    code = main(
        [
            "train",
            "--out",
            str(tmp_path),
            "--set",
            f"model.layers={layers}",
            "--set",
            "training.learning_rate=100",
            "--set",
            "training.epochs=2",
            "--set",
            "forecast.lookback=10",
        ]
    )
    err = capsys.readouterr().err.splitlines()[-1]
    assert code == 1 and err.startswith("rnncast: failed: ")
    assert "the model's training diverged (learning_rate=100)" in err
    assert err.endswith("Run again with a lower --set training.learning_rate (e.g. 10x lower).")
    assert list(tmp_path.iterdir()) == []  # no run folder, no marker

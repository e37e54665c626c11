"""Artifacts under faults and hostile input (issue 14, items 2-7 and 12).

Concurrent saves serialize under a lock, staging folders of live processes are
never touched, checksums and tensor tables catch bit rot and bad tensors, write
failures become named ArtifactErrors, and config.json is schema-checked (with the
JSON path in the message) before anything is built.
"""

from __future__ import annotations

import errno
import hashlib
import json
import os
import shutil
import subprocess
import sys
import textwrap
import time
import warnings

import numpy as np
import pytest
import torch
from safetensors import SafetensorError
from safetensors.torch import load_file, save_file

import rnncast as rc
from rnncast import saving
from rnncast._internal import artifacts
from rnncast._internal.files import owner_tag
from rnncast.cli.main import main
from rnncast.exceptions import ArtifactError
from rnncast.layers import LSTM, Dense
from rnncast.models.sequential import Sequential

PYTHON = sys.executable
SRC = os.path.join(os.path.dirname(__file__), os.pardir, "src")


def tiny(seed=0, units=4):
    return Sequential([LSTM(units, input_shape=(5, 1)), Dense(1)], seed=seed)


def trained(tmp_path, seed=0):
    model = tiny(seed)
    model.compile(optimizer="adam", loss="mse")
    x = np.random.default_rng(seed).normal(size=(16, 5, 1)).astype("float32")
    model.fit(x, x[:, -1], epochs=1, batch_size=8, verbose=0)
    model.save(tmp_path / "m")
    return model, x


def same_weights(a, b):
    return all(np.array_equal(u, v) for u, v in zip(a.get_weights(), b.get_weights(), strict=True))


def edit_config(folder, change):
    file = folder / "config.json"
    config = json.loads(file.read_text())
    change(config)
    file.write_text(json.dumps(config))


def rewrite_weights(folder, change, name="model.safetensors"):
    """Replace the tensors of ``name`` and record the new file's checksum (a 'valid' artifact)."""
    file = folder / name
    tensors = change(load_file(str(file)))
    save_file(tensors, str(file))
    digest = hashlib.sha256(file.read_bytes()).hexdigest()

    def record(config):
        config["files"][name] = {"sha256": digest}  # no tensor table: dtype checks still apply

    edit_config(folder, record)


# ------------------------------------------------------------------ 2. concurrent saves
SAVER = textwrap.dedent("""
    import sys
    import rnncast as rc
    from rnncast.layers import LSTM, Dense
    seed, target = int(sys.argv[1]), sys.argv[2]
    model = rc.Sequential([LSTM(4, input_shape=(5, 1)), Dense(1)], seed=seed)
    if seed:
        model.save(target + f"-ref{seed}")
    print("ready", flush=True)
    sys.stdin.readline()
    for _ in range(20):
        if seed:
            model.save(target)
        else:  # a reader meanwhile: never a half-swapped or mixed artifact
            rc.load_model(target)
""")


def test_two_processes_saving_to_one_path_serialize_and_the_last_wins_whole(tmp_path):
    target = str(tmp_path / "m")
    tiny(seed=1).save(target)
    env = {**os.environ, "PYTHONPATH": SRC}
    procs = [
        subprocess.Popen(
            [PYTHON, "-c", SAVER, str(seed), target],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=env,
        )
        for seed in (1, 2, 0)
    ]
    for proc in procs:  # all imported and ready: start the loops together
        assert proc.stdout.readline().strip() == "ready"
    for proc in procs:
        proc.stdin.write("go\n")
        proc.stdin.flush()
    errors = [proc.communicate(timeout=240)[1] for proc in procs]
    assert [proc.returncode for proc in procs] == [0, 0, 0], errors
    assert not any("Error" in text for text in errors), errors
    loaded = rc.load_model(target)
    refs = [rc.load_model(f"{target}-ref{seed}") for seed in (1, 2)]
    assert sum(same_weights(loaded, ref) for ref in refs) == 1
    leftovers = [p.name for p in tmp_path.iterdir() if p.name.startswith(".")]
    assert leftovers == []


def staging(tmp_path, owner, age):
    folder = tmp_path / f".m.tmp-{'0' * 32}{'-' + owner if owner else ''}"
    folder.mkdir()
    (folder / "config.json").write_text("{}")
    os.utime(folder, (time.time() - age, time.time() - age))
    return folder


def dead_pid():
    proc = subprocess.Popen([PYTHON, "-c", "pass"])
    proc.wait()
    return proc.pid


def test_a_save_removes_only_old_staging_folders_of_dead_processes(tmp_path):
    host = owner_tag().split("@", 1)[1]
    tiny().save(tmp_path / "m")
    gone = dead_pid()
    cases = {
        "dead and old": (staging(tmp_path, f"{gone}@{host}", 7200), False),
        "live and old": (staging(tmp_path, f"{os.getpid()}@{host}", 7200), True),
    }
    shutil.move(cases["live and old"][0], tmp_path / f".m.tmp-{'1' * 32}-{os.getpid()}@{host}")
    cases["live and old"] = (tmp_path / f".m.tmp-{'1' * 32}-{os.getpid()}@{host}", True)
    recent = tmp_path / f".m.tmp-{'2' * 32}-{gone}@{host}"
    recent.mkdir()
    cases["dead but recent"] = (recent, True)
    other = tmp_path / f".m.tmp-{'3' * 32}-{gone}@another-host"
    other.mkdir()
    os.utime(other, (time.time() - 7200, time.time() - 7200))
    cases["other host"] = (other, True)
    os.utime(cases["live and old"][0], (time.time() - 7200, time.time() - 7200))
    tiny(seed=3).save(tmp_path / "m")
    assert {name: folder.exists() for name, (folder, _) in cases.items()} == {
        name: kept for name, (_, kept) in cases.items()
    }


def test_a_save_never_deletes_the_staging_folder_of_a_live_save(tmp_path):
    tiny().save(tmp_path / "m")
    mine = tmp_path / f".m.tmp-{'a' * 32}-{owner_tag()}"
    mine.mkdir()  # as if another thread of this (live) process were writing it right now
    tiny(seed=1).save(tmp_path / "m")
    assert mine.is_dir()


# ------------------------------------------------------------------ 3. integrity
def test_checksums_and_tensor_tables_are_recorded(tmp_path):
    trained(tmp_path)
    files = json.loads((tmp_path / "m" / "config.json").read_text())["files"]
    assert set(files) == {"model.safetensors", "optimizer.safetensors"}
    for name, entry in files.items():
        assert entry["sha256"] == hashlib.sha256((tmp_path / "m" / name).read_bytes()).hexdigest()
    assert files["model.safetensors"]["tensors"]["lstm.rnn.weight_hh_l0"] == {
        "dtype": "F32",
        "shape": [16, 4],
    }


@pytest.mark.parametrize("name", ["model.safetensors", "optimizer.safetensors"])
def test_flipped_bytes_fail_the_checksum_by_name(tmp_path, name):
    trained(tmp_path)
    file = tmp_path / "m" / name
    data = bytearray(file.read_bytes())
    for i in range(len(data) - 100, len(data)):  # 100 flipped bytes in the tensor data
        data[i] ^= 0xFF
    file.write_bytes(bytes(data))
    with pytest.raises(ArtifactError, match=rf"{name}: {name} does not match its checksum"):
        rc.load_model(tmp_path / "m")


def test_non_finite_weights_are_refused_by_tensor_name(tmp_path):
    trained(tmp_path)

    def poison(tensors):
        tensors["dense.linear.bias"][0] = float("nan")
        return tensors

    rewrite_weights(tmp_path / "m", poison)
    with pytest.raises(ArtifactError, match=r"tensor 'dense\.linear\.bias' holds NaN or infinite"):
        rc.load_model(tmp_path / "m")


def test_int64_tensors_are_refused_not_loaded_as_zeros(tmp_path):
    model, _ = trained(tmp_path)

    def to_int(tensors):
        tensors["lstm.rnn.weight_ih_l0"] = tensors["lstm.rnn.weight_ih_l0"].to(torch.int64)
        return tensors

    rewrite_weights(tmp_path / "m", to_int)
    with pytest.raises(ArtifactError, match=r"'lstm\.rnn\.weight_ih_l0' has dtype I64"):
        rc.load_model(tmp_path / "m")
    save_file(to_int(saving.model_tensors(model)), str(tmp_path / "w.safetensors"))
    with pytest.raises(ArtifactError, match="has dtype I64"):
        tiny().load_weights(tmp_path / "w.safetensors")


def test_a_recorded_shape_that_differs_is_refused_before_loading(tmp_path):
    trained(tmp_path)

    def lie(config):
        config["files"]["model.safetensors"]["tensors"]["dense.linear.bias"]["shape"] = [2]

    edit_config(tmp_path / "m", lie)
    with pytest.raises(ArtifactError, match=r"'dense\.linear\.bias' has shape \(1,\), config"):
        rc.load_model(tmp_path / "m")


def test_artifacts_without_checksums_still_load(tmp_path):
    model, x = trained(tmp_path)
    edit_config(tmp_path / "m", lambda config: config.pop("files"))
    loaded = rc.load_model(tmp_path / "m")
    np.testing.assert_array_equal(loaded.predict(x), model.predict(x))
    assert loaded.optimizer.iterations == model.optimizer.iterations


def test_verify_checks_without_building_the_model(tmp_path, monkeypatch, capsys):
    trained(tmp_path)

    def forbidden(*args, **kwargs):
        raise AssertionError("verify built the model")

    monkeypatch.setattr(Sequential, "from_config", forbidden)
    assert main(["verify", str(tmp_path / "m")]) == 0
    out = capsys.readouterr().out.strip().splitlines()
    assert len(out) == 1 and out[0].startswith("OK: ") and "checksums match" in out[0]
    file = tmp_path / "m" / "model.safetensors"
    file.write_bytes(file.read_bytes()[:-1] + b"\x01")
    assert main(["verify", str(tmp_path / "m")]) == 1
    out = capsys.readouterr().out.strip().splitlines()
    assert out == [
        f"FAILED: {file}: model.safetensors does not match its checksum in config.json "
        "(bit rot, or the file was changed); restore the artifact from a backup."
    ]


# ------------------------------------------------------------------ 4. disk full, read-only
@pytest.mark.parametrize(
    "failure",
    [
        OSError(errno.ENOSPC, "No space left on device"),
        SafetensorError("Error while serializing: IoError(Os { code: 28, kind: StorageFull })"),
    ],
)
def test_a_full_disk_is_a_named_error_and_changes_nothing(tmp_path, monkeypatch, failure):
    old, x = trained(tmp_path)

    def full(*args, **kwargs):
        raise failure

    monkeypatch.setattr(saving, "save_file", full)
    with pytest.raises(ArtifactError, match=r"cannot write the artifact .*/m: the disk is full"):
        tiny(seed=5).save(tmp_path / "m")
    monkeypatch.undo()
    assert sorted(p.name for p in tmp_path.iterdir() if p.suffix != ".lock") == ["m"]
    np.testing.assert_array_equal(rc.load_model(tmp_path / "m").predict(x), old.predict(x))


def test_a_failing_config_write_cleans_up_too(tmp_path, monkeypatch):
    tiny().save(tmp_path / "m")
    real = type(tmp_path).write_text

    def failing(self, *args, **kwargs):
        if self.name == "config.json":
            raise OSError(errno.EROFS, "Read-only file system")
        return real(self, *args, **kwargs)

    monkeypatch.setattr(type(tmp_path), "write_text", failing)
    with pytest.raises(ArtifactError, match="read-only file system"):
        tiny(seed=1).save(tmp_path / "m")
    monkeypatch.undo()
    assert [p.name for p in tmp_path.iterdir() if ".tmp-" in p.name] == []
    assert same_weights(rc.load_model(tmp_path / "m"), tiny())


@pytest.fixture
def tmpfs(tmp_path):
    if os.name != "posix" or os.geteuid() != 0:
        pytest.skip("mounting a tmpfs needs root")
    mount = tmp_path / "tmpfs"
    mount.mkdir()
    if subprocess.run(["mount", "-t", "tmpfs", "-o", "size=64k", "tmpfs", str(mount)]).returncode:
        pytest.skip("cannot mount a tmpfs here")
    try:
        yield mount
    finally:
        subprocess.run(["umount", "-l", str(mount)], check=False)


def test_a_real_full_and_read_only_file_system(tmpfs):
    small = tiny()
    small.save(tmpfs / "m")
    with pytest.raises(ArtifactError, match="the disk is full"):
        tiny(units=64).save(tmpfs / "m")  # 67 KB of weights on a 64 KB file system
    assert sorted(p.name for p in tmpfs.iterdir() if p.suffix != ".lock") == ["m"]
    assert same_weights(rc.load_model(tmpfs / "m"), small)
    subprocess.run(["mount", "-o", "remount,ro", str(tmpfs)], check=True)
    with pytest.raises(ArtifactError, match="read-only file system"):
        tiny(seed=1).save(tmpfs / "m")
    assert same_weights(rc.load_model(tmpfs / "m"), small)


# ------------------------------------------------------------------ 6. malformed config.json
MODEL_CASES = {
    "loss as a list": (
        lambda c: c["compile"].update(loss=["mse"]),
        r'compile\.loss: expected a string or an object, got \["mse"\]',
    ),
    "evil optimizer kwargs": (
        lambda c: c["compile"]["optimizer"].update(config={"evil": 1}),
        r"compile\.optimizer\.config\.evil: Adam has no argument 'evil'",
    ),
    "layers not a list": (
        lambda c: c["model"].update(layers="abc"),
        r'model\.layers: expected a list, got "abc"',
    ),
    "units as text": (
        lambda c: c["model"]["layers"][0]["config"].update(units="abc"),
        r'model\.layers\[0\]\.config\.units: expected an integer, got "abc"',
    ),
    "no model": (lambda c: c.pop("model"), r"config\.json: model: missing \(required\)"),
    "iterations negative": (
        lambda c: c["training"].update(iterations=-1),
        r"training\.iterations: expected an integer >= 0, got -1",
    ),
    "document is a list": (lambda c: c.clear(), r"no format_version"),
}


@pytest.mark.parametrize("case", MODEL_CASES)
def test_malformed_model_configs_name_the_json_path(tmp_path, case):
    change, message = MODEL_CASES[case]
    trained(tmp_path)
    edit_config(tmp_path / "m", change)
    with pytest.raises(ArtifactError, match=message):
        rc.load_model(tmp_path / "m")


def test_json_nested_100000_deep_is_an_artifact_error(tmp_path):
    trained(tmp_path)
    deep = "[" * 100_000 + "]" * 100_000
    (tmp_path / "m" / "config.json").write_text(
        '{"format_version": 1, "kind": "model", "model": ' + deep + "}"
    )
    with pytest.raises(ArtifactError, match="nested too deeply"):
        rc.load_model(tmp_path / "m")
    with pytest.raises(ArtifactError, match="nested too deeply"):
        rc.load(tmp_path / "m")


def test_a_function_regularizer_cannot_be_saved_and_says_where(tmp_path):
    model = Sequential(
        [LSTM(4, input_shape=(5, 1), kernel_regularizer=lambda w: 0.01 * w.sum()), Dense(1)]
    )
    with pytest.raises(ArtifactError, match="layer 'lstm' argument kernel_regularizer"):
        model.save(tmp_path / "m")
    assert list(tmp_path.iterdir()) == []


# ------------------------------------------------------------------ 7. size before allocation
@pytest.mark.parametrize("units", [2000, 1_000_000])
def test_a_huge_units_is_refused_before_building(tmp_path, monkeypatch, units):
    trained(tmp_path)
    edit_config(tmp_path / "m", lambda c: c["model"]["layers"][0]["config"].update(units=units))

    def forbidden(*args, **kwargs):
        raise AssertionError("the model was built")

    monkeypatch.setattr(Sequential, "from_config", forbidden)
    start = time.perf_counter()
    with pytest.raises(ArtifactError, match=r"model\.layers\[0\]|over the limit") as info:
        rc.load_model(tmp_path / "m")
    assert time.perf_counter() - start < 1.0
    if units == 1_000_000:
        assert "over the limit of 100,000,000" in str(info.value)
    else:
        assert "needs at least 4,000,000 weights but model.safetensors holds" in str(info.value)


def test_the_parameter_limit_is_enforced(tmp_path, monkeypatch):
    trained(tmp_path)
    monkeypatch.setattr(artifacts, "MAX_PARAMETERS", 50)
    with pytest.raises(ArtifactError, match="parameters, over the limit of 50"):
        rc.load_model(tmp_path / "m")


# ------------------------------------------------------------------ 12. deleted optimizer state
def test_a_deleted_optimizer_file_warns_that_resuming_starts_fresh(tmp_path):
    trained(tmp_path)
    (tmp_path / "m" / "optimizer.safetensors").unlink()
    with pytest.warns(UserWarning, match="resuming training starts the optimizer fresh"):
        rc.load_model(tmp_path / "m")
    tiny().save(tmp_path / "untrained")  # never trained: nothing to warn about
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        rc.load_model(tmp_path / "untrained")


def test_no_warning_when_the_optimizer_has_no_slots(tmp_path):
    model = tiny()
    model.compile(optimizer="sgd", loss="mse")  # plain SGD keeps no state
    x = np.zeros((8, 5, 1), dtype="float32")
    model.fit(x, x[:, -1], epochs=1, verbose=0)
    model.save(tmp_path / "m")
    assert not (tmp_path / "m" / "optimizer.safetensors").exists()
    for legacy in (False, True):
        if legacy:
            edit_config(tmp_path / "m", lambda config: config.pop("files"))
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            rc.load_model(tmp_path / "m")


def test_a_deleted_optimizer_file_of_an_older_artifact_warns_too(tmp_path):
    trained(tmp_path)
    edit_config(tmp_path / "m", lambda config: config.pop("files"))
    (tmp_path / "m" / "optimizer.safetensors").unlink()
    with pytest.warns(UserWarning, match="starts the optimizer fresh"):
        rc.load_model(tmp_path / "m")


def test_a_model_larger_than_the_free_memory_is_refused(tmp_path, monkeypatch):
    trained(tmp_path)
    monkeypatch.setattr(artifacts, "_available_memory", lambda: 1000)
    with pytest.raises(ArtifactError, match=r"more than the 0\.0 GiB of memory available"):
        rc.load_model(tmp_path / "m")


def test_a_full_disk_while_saving_weights_alone_is_named(tmp_path, monkeypatch):
    def full(*args, **kwargs):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(saving, "save_file", full)
    with pytest.raises(ArtifactError, match=r"w\.safetensors: the disk is full"):
        tiny().save_weights(tmp_path / "w.safetensors")
    assert list(tmp_path.iterdir()) == []

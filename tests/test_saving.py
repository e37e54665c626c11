import json
import os
import pickle
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import numpy as np
import pytest
import torch

import rnncast as rc
from rnncast import Sequential
from rnncast.exceptions import ArtifactError
from rnncast.layers import LSTM, BatchNormalization, Dense, Dropout
from rnncast.optimizers import Adam


def windows(n=96, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, 10, 2)).astype(np.float32)
    return x, x[:, -3:, :1].mean(axis=1)


def make_model(seed=0, dropout=0.0):
    layers = [
        LSTM(8, return_sequences=True, input_shape=(10, 2)),
        BatchNormalization(),
        *([Dropout(dropout)] if dropout else []),
        LSTM(6),
        Dense(1),
    ]
    model = Sequential(layers, seed=seed)
    model.compile(optimizer=Adam(learning_rate=3e-3), loss="mse", metrics=["mae"])
    return model


def test_round_trip_keeps_predictions_compile_settings_and_optimizer_state(tmp_path):
    x, y = windows()
    model = make_model()
    model.fit(x, y, epochs=2, verbose=0)
    model.save(tmp_path / "m")
    assert sorted(p.name for p in (tmp_path / "m").iterdir()) == [
        "config.json",
        "model.safetensors",
        "optimizer.safetensors",
    ]
    loaded = rc.load_model(tmp_path / "m")
    np.testing.assert_array_equal(loaded.predict(x), model.predict(x))
    assert loaded.get_config() == model.get_config()
    assert type(loaded.optimizer) is Adam and loaded.optimizer.learning_rate == 3e-3
    assert loaded.optimizer.iterations == model.optimizer.iterations == 6
    assert loaded.metrics_names == ["loss", "mae"]
    for a, b in zip(loaded.optimizer.slots["m"], model.optimizer.slots["m"], strict=True):
        assert torch.equal(a, b)
    config = json.loads((tmp_path / "m" / "config.json").read_text())
    assert config["format_version"] == 1 and config["rnncast_version"] == rc.__version__


@pytest.mark.parametrize(("shuffle", "dropout"), [(False, 0.0), (True, 0.0), (True, 0.3)])
def test_resume_equals_uninterrupted_training(tmp_path, shuffle, dropout):
    x, y = windows()
    straight = make_model(seed=5, dropout=dropout)
    straight.fit(x, y, batch_size=16, epochs=4, shuffle=shuffle, verbose=0)
    first = make_model(seed=5, dropout=dropout)
    first.fit(x, y, batch_size=16, epochs=2, shuffle=shuffle, verbose=0)
    first.save(tmp_path / "half")
    resumed = rc.load_model(tmp_path / "half")
    history = resumed.fit(
        x, y, batch_size=16, epochs=4, initial_epoch=2, shuffle=shuffle, verbose=0
    )
    assert history.epoch == [2, 3]
    for name, value in straight.snapshot().items():
        assert torch.equal(resumed.snapshot()[name], value), name


def test_weights_file_round_trip(tmp_path):
    x, _ = windows(8)
    model, other = make_model(seed=1), make_model(seed=2)
    model.save_weights(tmp_path / "w.safetensors")
    other.load_weights(tmp_path / "w.safetensors")
    np.testing.assert_array_equal(other.predict(x), model.predict(x))
    assert [p.name for p in tmp_path.iterdir()] == ["w.safetensors"]


def test_loading_never_unpickles(tmp_path, monkeypatch):
    make_model().save(tmp_path / "m")

    def forbidden(*args, **kwargs):
        raise AssertionError("pickle used while loading")

    monkeypatch.setattr(pickle, "loads", forbidden)
    monkeypatch.setattr(pickle, "load", forbidden)
    monkeypatch.setattr(torch, "load", forbidden)
    rc.load_model(tmp_path / "m")


def corrupt(path, mode):
    if mode == "truncate":
        data = path.read_bytes()
        path.write_bytes(data[: len(data) // 2])
    else:
        path.write_bytes(b"\x00" * 64)


def forget_checksums(folder):
    """Make ``folder`` look like an artifact of rnncast 0.1 (no "files" record)."""
    config = json.loads((folder / "config.json").read_text())
    del config["files"]
    (folder / "config.json").write_text(json.dumps(config))


@pytest.mark.parametrize("mode", ["truncate", "garbage"])
def test_corrupted_weights_name_the_file(tmp_path, mode):
    make_model().save(tmp_path / "m")
    corrupt(tmp_path / "m" / "model.safetensors", mode)
    with pytest.raises(ArtifactError, match=r"model\.safetensors does not match its checksum"):
        rc.load_model(tmp_path / "m")
    forget_checksums(tmp_path / "m")  # an older artifact: the reader still names the file
    with pytest.raises(
        ArtifactError, match=r"model\.safetensors: (cannot read the weights|trunc|corr)"
    ):
        rc.load_model(tmp_path / "m")


def test_missing_pieces(tmp_path):
    with pytest.raises(ArtifactError, match="no such artifact"):
        rc.load_model(tmp_path / "nothing")
    make_model().save(tmp_path / "m")
    (tmp_path / "m" / "model.safetensors").unlink()
    with pytest.raises(ArtifactError, match=r"model\.safetensors: file not found"):
        rc.load_model(tmp_path / "m")
    (tmp_path / "m" / "config.json").unlink()
    with pytest.raises(ArtifactError, match=r"config\.json: not found"):
        rc.load_model(tmp_path / "m")


def test_newer_format_and_bad_json(tmp_path):
    make_model().save(tmp_path / "m")
    config_file = tmp_path / "m" / "config.json"
    config = json.loads(config_file.read_text())
    config_file.write_text(json.dumps({**config, "format_version": 99}))
    with pytest.raises(ArtifactError, match="format_version 99 is newer than this rnncast"):
        rc.load_model(tmp_path / "m")
    config_file.write_text("{not json")
    with pytest.raises(ArtifactError, match=r"config\.json: not valid JSON"):
        rc.load_model(tmp_path / "m")


def test_weights_that_do_not_match_the_architecture(tmp_path):
    make_model().save(tmp_path / "m")
    bigger = Sequential(
        [
            LSTM(9, return_sequences=True, input_shape=(10, 2)),
            BatchNormalization(),
            LSTM(6),
            Dense(1),
        ]
    )
    bigger.save_weights(tmp_path / "m" / "model.safetensors")
    with pytest.raises(ArtifactError, match="does not match its checksum"):
        rc.load_model(tmp_path / "m")
    forget_checksums(tmp_path / "m")
    with pytest.raises(ArtifactError, match="weights do not match the architecture: wrong shapes"):
        rc.load_model(tmp_path / "m")


def test_refuses_to_replace_something_else(tmp_path):
    (tmp_path / "photos").mkdir()
    (tmp_path / "photos" / "cat.jpg").write_bytes(b"meow")
    with pytest.raises(ArtifactError, match="not an rnncast artifact; refusing to replace it"):
        make_model().save(tmp_path / "photos")
    assert (tmp_path / "photos" / "cat.jpg").exists()
    assert sorted(p.name for p in tmp_path.iterdir() if p.suffix != ".lock") == ["photos"]


def test_a_half_finished_swap_is_completed_on_load(tmp_path):
    old, new = make_model(seed=1), make_model(seed=2)
    old.save(tmp_path / "m")
    new.save(tmp_path / "staged")
    os.rename(tmp_path / "m", tmp_path / ".m.old-abc")  # killed between the two renames
    os.rename(tmp_path / "staged", tmp_path / ".m.tmp-abc")
    x, _ = windows(4)
    np.testing.assert_array_equal(rc.load_model(tmp_path / "m").predict(x), new.predict(x))
    old.save(tmp_path / "m")  # the next save cleans up leftovers
    assert sorted(p.name for p in tmp_path.iterdir() if p.suffix != ".lock") == ["m"]


SAVE_LOOP = textwrap.dedent("""
    import sys
    import rnncast as rc
    from rnncast.layers import LSTM, Dense
    models = [rc.Sequential([LSTM(64, input_shape=(10, 2)), Dense(1)], seed=s) for s in (1, 2)]
    print("ready", flush=True)
    sys.stdin.readline()  # imported and built; save on "go"
    i = 0
    while True:
        models[i % 2].save(sys.argv[1])
        i += 1
""")


def _save_loop(target: Path) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-c", SAVE_LOOP, str(target)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )


@pytest.mark.slow
def test_killing_a_save_leaves_a_loadable_artifact(tmp_path):
    """20 rounds of kill -9 at a random moment of a save loop (issue 14's kill loop)."""
    target = tmp_path / "m"
    x, _ = windows(4)
    expected = [
        rc.Sequential([LSTM(64, input_shape=(10, 2)), Dense(1)], seed=s).predict(x) for s in (1, 2)
    ]
    rng = np.random.default_rng(0)
    following = _save_loop(target)  # the next child imports while the current one saves
    for round_ in range(20):
        child, following = following, (_save_loop(target) if round_ < 19 else None)
        assert child.stdout.readline().strip() == "ready"
        child.stdin.write("go\n")
        child.stdin.flush()
        time.sleep(0.05 + rng.uniform(0, 0.3))
        child.send_signal(signal.SIGKILL)
        child.wait()
        if target.exists():  # the first save may not have finished yet
            loaded = rc.load_model(target).predict(x)
            assert any(np.array_equal(loaded, e) for e in expected), round_
    assert target.exists()
    # Killed saves leave only hidden staging folders beside it (removed an hour later).
    assert all(p.name == "m" or p.name.startswith(".m.") for p in tmp_path.iterdir())


@pytest.mark.slow
def test_reload_in_a_new_process_predicts_identically(tmp_path):
    x, y = windows()
    model = make_model()
    model.fit(x, y, epochs=1, verbose=0)
    model.save(tmp_path / "m")
    np.save(tmp_path / "x.npy", x)
    script = (
        "import sys, numpy as np, rnncast as rc; "
        "m = rc.load_model(sys.argv[1]); "
        "np.save(sys.argv[3], m.predict(np.load(sys.argv[2])))"
    )
    subprocess.run(
        [
            sys.executable,
            "-c",
            script,
            str(tmp_path / "m"),
            str(tmp_path / "x.npy"),
            str(tmp_path / "out.npy"),
        ],
        check=True,
    )
    np.testing.assert_array_equal(np.load(tmp_path / "out.npy"), model.predict(x))


def test_saving_an_unbuilt_model_says_how_to_build_it(tmp_path):
    with pytest.raises(
        ArtifactError,
        match=r"cannot save a model that is not built yet: give the "
        r"first layer input_shape, call build\(\)",
    ):
        rc.Sequential([LSTM(4), Dense(1)]).save(tmp_path / "m")
    assert list(tmp_path.iterdir()) == []

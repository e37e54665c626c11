"""Data-parallel fit: 2 gloo processes against 1 process (rnncast.models.distributed).

One ``torch.multiprocessing.spawn`` of two ranks runs every scenario in the
same process group (starting processes is the slow part); the tests compare
what each rank saved with a single-process fit of the same model in this
process. The reference is plain single-process rnncast, whose Keras
equivalence the oracle tests check.
"""

from __future__ import annotations

import contextlib
import io
import os
import pickle
import signal
import socket
from pathlib import Path

import numpy as np
import pytest
import torch

import rnncast as rc
from rnncast._internal import output
from rnncast.callbacks import BackupAndRestore, Callback, CSVLogger, ModelCheckpoint
from rnncast.exceptions import ConfigError
from rnncast.layers import LSTM, Dense
from rnncast.models import distributed

N, BATCH, EPOCHS = 51, 8, 2  # 6 full global batches + a last one of 3 (split 2 + 1)


def data() -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(0)
    x = rng.normal(size=(N, 5, 2)).astype("float32")
    return x, x[:, -1, :1] * 0.5 + 0.1  # (N, 5, 2), (N, 1)


def model(seed: int = 1) -> rc.Sequential:
    net = rc.Sequential([LSTM(4, input_shape=(5, 2)), Dense(1)], seed=seed)
    net.compile(optimizer="adam", loss="mse", metrics=["mae"])
    return net


class StopAt(Callback):
    """On the given rank, after ``batch`` of ``epoch``: stop_training or a Ctrl-C (SIGINT)."""

    def __init__(self, epoch: int, batch: int, how: str, on_rank: int | None) -> None:
        super().__init__()
        self.at, self.how, self.on_rank, self.epoch = (epoch, batch), how, on_rank, 0

    def on_epoch_begin(self, epoch: int, logs: dict | None = None) -> None:
        self.epoch = epoch

    def on_train_batch_end(self, batch: int, logs: dict | None = None) -> None:
        mine = self.on_rank is None or self.on_rank == int(os.environ.get("RANK", "0"))
        if mine and (self.epoch, batch) == self.at:
            if self.how == "sigint":
                os.kill(os.getpid(), signal.SIGINT)
            else:
                self.model.stop_training = True


class CrashAfter(Callback):
    """Raise at the end of ``epoch`` (a crash after BackupAndRestore wrote that epoch)."""

    def __init__(self, epoch: int) -> None:
        super().__init__()
        self.crash_epoch = epoch

    def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
        if epoch == self.crash_epoch:
            raise RuntimeError("simulated crash")


def weights(net: rc.Sequential) -> np.ndarray:
    return np.concatenate([w.ravel() for w in net.get_weights()])


def scenarios(rank: int, folder: Path) -> dict:
    """What each rank reports: weights and history of every scenario, printed text."""
    x, y = data()
    val = (x[:11], y[:11])
    out: dict = {}
    net = model()
    history = net.fit(x, y, batch_size=BATCH, epochs=EPOCHS, verbose=0, validation_data=val)
    out["equal"] = (weights(net), history.history)
    for name, how, on_rank in (("stop", "flag", 1), ("sigint", "sigint", 1)):
        net = model()
        stop = StopAt(1, 2, how, on_rank)
        history = net.fit(x, y, batch_size=BATCH, epochs=3, verbose=0, callbacks=[stop])
        out[name] = (weights(net), history.history)
    text = io.StringIO()
    with output.redirect(text):
        net = model()
        writers = [CSVLogger(folder / f"log-{rank}.csv"), ModelCheckpoint(folder / f"ckpt-{rank}")]
        net.fit(x, y, batch_size=BATCH, epochs=1, verbose=2, callbacks=writers)
    out["printed"] = text.getvalue()
    backup = folder / "backup"
    with contextlib.suppress(RuntimeError):  # the simulated crash after epoch 2
        model().fit(
            x, y, batch_size=BATCH, epochs=3, verbose=0,
            callbacks=[BackupAndRestore(backup, delete_checkpoint=False), CrashAfter(1)],
        )  # fmt: skip
    net = model(seed=7)  # other initial weights: the backup must replace them on every rank
    history = net.fit(
        x, y, batch_size=BATCH, epochs=3, verbose=0, callbacks=[BackupAndRestore(backup)]
    )
    out["resumed"] = (weights(net), history.epoch)
    return out


def _rank_main(rank: int, folder: str, port: int) -> None:
    os.environ.update(
        RANK=str(rank), LOCAL_RANK=str(rank), WORLD_SIZE="2",
        MASTER_ADDR="127.0.0.1", MASTER_PORT=str(port),
    )  # fmt: skip
    torch.set_num_threads(1)
    result = scenarios(rank, Path(folder))
    (Path(folder) / f"rank{rank}.pkl").write_bytes(pickle.dumps(result))
    distributed.teardown()


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="module")
def ranks(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[dict]]:
    folder = tmp_path_factory.mktemp("ddp")
    torch.multiprocessing.start_processes(
        _rank_main, args=(str(folder), _free_port()), nprocs=2, start_method="fork"
    )  # fork: the ranks need not import torch again
    return folder, [pickle.loads((folder / f"rank{r}.pkl").read_bytes()) for r in range(2)]


def single(epochs: int = EPOCHS, callbacks: list | None = None, **fit) -> tuple:
    """The same fit in this one process (one thread: tiny ops on busy cores)."""
    x, y = data()
    net = model()
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        history = net.fit(
            x, y, batch_size=BATCH, epochs=epochs, verbose=0, callbacks=callbacks, **fit
        )
    finally:
        torch.set_num_threads(threads)
    return weights(net), history.history


@pytest.mark.slow  # one spawn of 2 processes for all four: ~10-20 s
def test_two_processes_train_like_one_process_with_the_global_batch(ranks):
    _, results = ranks
    x, y = data()
    expected, history = single(validation_data=(x[:11], y[:11]))
    for result in results:
        got, got_history = result["equal"]
        assert np.abs(got - expected).max() < 1e-5
        for key in ("loss", "mae", "val_loss", "val_mae"):  # all-reduced logs
            np.testing.assert_allclose(got_history[key], history[key], rtol=1e-5, atol=1e-6)


@pytest.mark.slow  # one spawn of 2 processes for all four: ~10-20 s
@pytest.mark.parametrize("name", ["stop", "sigint"])
def test_a_stop_on_one_rank_stops_every_rank_after_the_same_batch(ranks, name):
    _, results = ranks
    how = "sigint" if name == "sigint" else "flag"
    expected, history = single(3, [StopAt(1, 2, how, None)])
    for result in results:
        got, got_history = result[name]
        assert np.abs(got - expected).max() < 1e-5
        assert len(got_history["loss"]) == len(history["loss"])  # sigint: 1 epoch, stop: 2
        np.testing.assert_allclose(got_history["loss"], history["loss"], rtol=1e-5)


@pytest.mark.slow  # one spawn of 2 processes for all four: ~10-20 s
def test_only_rank_zero_writes_files_and_prints(ranks):
    folder, results = ranks
    assert (folder / "log-0.csv").exists() and (folder / "ckpt-0" / "config.json").exists()
    assert not (folder / "log-1.csv").exists() and not (folder / "ckpt-1").exists()
    assert "Epoch 1/1" in results[0]["printed"]
    assert results[1]["printed"] == ""


@pytest.mark.slow  # one spawn of 2 processes for all four: ~10-20 s
def test_resume_from_rank_zeros_backup_ends_like_an_uninterrupted_run(ranks):
    folder, results = ranks
    expected, _ = single(3)
    for result in results:
        got, epochs = result["resumed"]
        assert epochs == [2]  # epochs 1 and 2 were in the backup
        assert np.abs(got - expected).max() < 1e-5
    assert not (folder / "backup" / BackupAndRestore.FILE).exists()  # deleted once finished


def test_shards_split_each_global_batch_like_distributed_sampler():
    from torch.utils.data import DistributedSampler

    batch = list(range(8))
    for rank in range(2):
        sampler = DistributedSampler(batch, num_replicas=2, rank=rank, shuffle=False)
        assert batch[rank::2] == list(sampler)


def test_outside_torchrun_fit_is_untouched(monkeypatch):
    for name in distributed.TORCHRUN_ENV:
        monkeypatch.delenv(name, raising=False)
    assert not distributed.launched() and not distributed.setup()
    monkeypatch.setenv("RANK", "0")
    assert not distributed.launched()  # torchrun sets all of them


def test_sharding_rejects_a_global_batch_smaller_than_the_processes(monkeypatch):
    monkeypatch.setattr(distributed, "setup", lambda: True)
    monkeypatch.setattr(distributed.ranks, "world_size", lambda: 4)
    x, y = data()
    with pytest.raises(ConfigError, match="batch_size=2 is the global batch"):
        model().fit(x, y, batch_size=2, epochs=1, verbose=0)
    with pytest.raises(ConfigError, match="shards arrays only"):
        model().fit(iter([(x, y)]), epochs=1, verbose=0)

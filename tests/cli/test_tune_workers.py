"""Several `rnncast tune --worker` processes share one study (SQLite here, PostgreSQL in CI).

The PostgreSQL test runs when RNNCAST_TEST_POSTGRES_URL names a database
(.ci/run starts a throw-away cluster and sets it, with RNNCAST_REQUIRE_POSTGRES=1
so that a missing server fails instead of skipping); otherwise it is skipped.
"""

import os
import subprocess
import sys
import uuid
from pathlib import Path

import pytest
from test_tune import tiny_config

from rnncast.cli import tune as tuning

optuna = pytest.importorskip("optuna")

SRC = Path(__file__).resolve().parents[2] / "src"


def start_worker(config: Path, storage: str, study: str, seconds: float) -> subprocess.Popen:
    """A `rnncast tune --worker` process that starts trials for ``seconds``."""
    env = {**os.environ, "PYTHONPATH": f"{SRC}{os.pathsep}{os.environ.get('PYTHONPATH', '')}"}
    command = [
        sys.executable, "-m", "rnncast", "tune", "--config", str(config), "--worker",
        "--storage", storage, "--study", study, "--trials", "100", "--timeout", str(seconds),
    ]  # fmt: skip
    return subprocess.Popen(
        command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )


def run_two_workers(config: Path, storage: str, study: str, seconds: float = 4.0) -> None:
    workers = [start_worker(config, storage, study, seconds) for _ in range(2)]
    outputs = [worker.communicate(timeout=240) for worker in workers]
    for worker, (out, err) in zip(workers, outputs, strict=True):
        assert worker.returncode == 0, err  # both finish
        assert f"study {study!r}" in out
    trials = optuna.load_study(study_name=study, storage=tuning.with_driver(storage)).trials
    numbers = [t.number for t in trials]
    assert sorted(numbers) == list(range(len(trials)))  # no trial number used twice
    assert {t.state.name for t in trials} <= {"COMPLETE", "PRUNED"}
    owners = {t.user_attrs["worker"] for t in trials}
    assert len(owners) == 2  # one study, trials from both processes
    assert {int(o.rsplit(":", 1)[1]) for o in owners} == {w.pid for w in workers}


@pytest.mark.slow
def test_two_sqlite_workers_share_one_study(tmp_path):
    config = tiny_config(tmp_path, rows=200)
    run_two_workers(config, f"sqlite:///{tmp_path / 'shared.db'}", "shared")


@pytest.mark.postgres
@pytest.mark.slow
def test_two_postgres_workers_share_one_study(tmp_path):
    url = os.environ.get("RNNCAST_TEST_POSTGRES_URL")
    if not url:
        assert not os.environ.get("RNNCAST_REQUIRE_POSTGRES"), ".ci/run started no server"
        pytest.skip("RNNCAST_TEST_POSTGRES_URL is not set (.ci/run starts a PostgreSQL server)")
    config = tiny_config(tmp_path, rows=200)
    run_two_workers(config, url, f"ci-{uuid.uuid4().hex[:8]}")

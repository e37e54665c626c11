"""The Windows branch of the artifact lock, run here with a simulated ``msvcrt`` module."""

from __future__ import annotations

import sys
import types

from rnncast._internal import files


def fake_msvcrt(calls: list, failures: int) -> types.ModuleType:
    """An ``msvcrt`` whose ``locking`` fails ``failures`` times (10 s timeouts), then locks."""
    module = types.ModuleType("msvcrt")
    module.LK_LOCK = 1

    def locking(descriptor: int, mode: int, length: int) -> None:
        calls.append((descriptor, mode, length))
        if len(calls) <= failures:
            raise OSError(36, "Resource deadlock avoided")  # what LK_LOCK raises after 10 s

    module.locking = locking
    return module


def test_without_fcntl_the_lock_uses_msvcrt_and_waits_through_timeouts(tmp_path, monkeypatch):
    calls: list = []
    monkeypatch.setitem(sys.modules, "fcntl", None)  # import fcntl -> ImportError
    monkeypatch.setitem(sys.modules, "msvcrt", fake_msvcrt(calls, failures=2))
    lock = tmp_path / ".m.lock"
    with files.file_lock(lock, shared=True):  # msvcrt has no shared locks: exclusive
        assert lock.exists()
    assert [mode for _, mode, _ in calls] == [1, 1, 1]  # two timeouts, then locked
    assert {length for _, _, length in calls} == {1}  # one byte, as documented
    assert lock.exists()  # without fcntl the file stays (no safe way to know it is free)


def test_without_fcntl_or_msvcrt_no_lock_is_taken(tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "fcntl", None)
    monkeypatch.setitem(sys.modules, "msvcrt", None)
    outer, inner = files.file_lock(tmp_path / ".m.lock"), files.file_lock(tmp_path / ".m.lock")
    with outer, inner:  # would deadlock with a real lock
        pass

"""Atomic file writes: a temporary file next to the target, synced, then renamed over it."""

from __future__ import annotations

import os
import socket
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


@contextmanager
def atomic_file(path: str | os.PathLike[str]) -> Iterator[Path]:
    """Yield a temporary path to write; on success it replaces ``path`` in one rename.

    A crash or an exception leaves the previous ``path`` untouched and no
    temporary file behind.

    Example:
        >>> import tempfile
        >>> target = Path(tempfile.mkdtemp()) / "notes.txt"
        >>> with atomic_file(target) as temporary:
        ...     _ = temporary.write_text("hello")
        >>> target.read_text()
        'hello'
    """
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    temporary = target.with_name(f".{target.name}.tmp-{uuid.uuid4().hex}")
    try:
        yield temporary
        fsync(temporary)
        os.replace(temporary, target)
    finally:
        temporary.unlink(missing_ok=True)


def fsync(path: Path) -> None:
    """Flush a file or folder to disk (best effort: some file systems refuse)."""
    try:
        descriptor = os.open(path, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(descriptor)
    except OSError:
        pass
    finally:
        os.close(descriptor)


@contextmanager
def file_lock(lock_file: Path, shared: bool = False) -> Iterator[None]:
    """Hold a lock on ``lock_file`` (created if needed) for the ``with`` block.

    An exclusive lock by default; ``shared=True`` lets other shared holders in
    (readers) and keeps exclusive ones (writers) out.

    POSIX uses ``fcntl.flock`` (released by the kernel if the process dies);
    the last holder removes ``lock_file`` on release, and a process that
    locked a file removed meanwhile tries again with a fresh one. Windows uses
    ``msvcrt.locking`` (always exclusive; the file stays). Elsewhere no lock is taken.

    Example:
        >>> import tempfile
        >>> folder = Path(tempfile.mkdtemp())
        >>> with file_lock(folder / ".m.lock"):
        ...     (folder / ".m.lock").exists()
        True
        >>> (folder / ".m.lock").exists()
        False
    """
    while True:
        descriptor = os.open(lock_file, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            _lock(descriptor, shared)
        except BaseException:
            os.close(descriptor)
            raise
        if _is_current(descriptor, lock_file):
            break
        os.close(descriptor)  # locked a file that the previous holder removed
    try:
        yield
    finally:
        _release(descriptor, lock_file)


def _is_current(descriptor: int, lock_file: Path) -> bool:
    try:
        now, held = os.stat(lock_file), os.fstat(descriptor)
    except OSError:
        return False
    return os.name != "posix" or (now.st_ino, now.st_dev) == (held.st_ino, held.st_dev)


def _release(descriptor: int, lock_file: Path) -> None:
    """Remove the lock file when no one else holds it, then unlock (by closing)."""
    try:
        import fcntl

        fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)  # fails if others hold it
        if _is_current(descriptor, lock_file):
            lock_file.unlink()
    except (ImportError, OSError):
        pass
    finally:
        os.close(descriptor)  # closing releases the lock


def _lock(descriptor: int, shared: bool) -> None:
    try:
        import fcntl
    except ImportError:  # not POSIX
        try:
            import msvcrt
        except ImportError:
            return
        while True:
            try:  # LK_LOCK retries for 10 s, then raises: keep waiting
                msvcrt.locking(descriptor, msvcrt.LK_LOCK, 1)
                return
            except OSError:
                continue
    fcntl.flock(descriptor, fcntl.LOCK_SH if shared else fcntl.LOCK_EX)


def owner_tag() -> str:
    """``"<pid>@<host>"``: who owns a staging file or folder (see :func:`owner_alive`)."""
    host = "".join(c if c.isalnum() or c in "._" else "_" for c in socket.gethostname())
    return f"{os.getpid()}@{host or 'host'}"


def owner_alive(tag: str) -> bool:
    """False only when ``tag`` names a process of this host that no longer exists."""
    pid, _, host = tag.partition("@")
    if os.name != "posix":  # os.kill(pid, 0) would terminate the process on Windows
        return True
    if not pid.isdigit() or f"@{host}" != owner_tag()[owner_tag().index("@") :]:
        return True  # another host (or an unknown format): never ours to judge
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OSError, OverflowError):
        return True
    return True

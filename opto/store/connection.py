"""Opening SQLite files safely: WAL, a writer lock, and errors translated into clear ones."""

from __future__ import annotations

import contextlib
import fcntl
import os
import sqlite3
import threading
from collections.abc import Iterator
from pathlib import Path

from opto.store.errors import StoreCorruptError, StoreError, StoreLockedError


def connect(path: Path, readonly: bool = False) -> sqlite3.Connection:
    """A connection in autocommit mode (transactions are explicit), shared by threads under a lock.

    synchronous=NORMAL in WAL mode: a committed row survives the process being killed (SIGKILL);
    only an OS crash or power loss may drop the last transactions.
    """
    with translate_errors(path):
        if readonly:
            conn = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True, isolation_level=None,
                                   check_same_thread=False, timeout=10)
        else:
            conn = sqlite3.connect(str(path), isolation_level=None, check_same_thread=False, timeout=10)
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("PRAGMA synchronous=NORMAL")
        conn.execute("PRAGMA foreign_keys=ON")
        conn.execute("PRAGMA busy_timeout=10000")
        conn.execute("SELECT count(*) FROM sqlite_master").fetchone()  # reads the header: detects garbage
        return conn


@contextlib.contextmanager
def translate_errors(path: Path) -> Iterator[None]:
    """Turn sqlite3's terse errors into StoreLockedError / StoreCorruptError that say what to do."""
    try:
        yield
    except sqlite3.OperationalError as exc:
        text = str(exc).lower()
        if "locked" in text or "busy" in text:
            raise StoreLockedError(
                f"run store {path} is locked by another connection ({exc}); wait for it or close it"
            ) from exc
        if "unable to open" in text or "readonly" in text:
            raise StoreError(f"cannot open run store {path}: {exc}; check the path and its permissions") from exc
        raise
    except sqlite3.DatabaseError as exc:
        if isinstance(exc, sqlite3.IntegrityError):
            raise
        raise StoreCorruptError(
            f"run store {path} is damaged or is not an SQLite database ({exc}); restore it from a "
            "copy, or start a new run file"
        ) from exc


def require_folder(path: Path) -> None:
    """Say which folder is missing, rather than letting SQLite or the lock file fail on it."""
    folder = path.parent
    if not folder.is_dir():
        what = "is not a folder" if folder.exists() else "does not exist"
        raise FileNotFoundError(
            f"cannot open run store {path}: the folder {folder} {what}; create it first "
            f"(mkdir -p {folder}, or Path({str(folder)!r}).mkdir(parents=True)) or pick a path in an existing folder"
        )


def remove_run_files(path: Path) -> None:
    """Delete a run file and SQLite's side files (for a creation that failed half-way)."""
    for name in (str(path), f"{path}-wal", f"{path}-shm", f"{path}-journal"):
        with contextlib.suppress(FileNotFoundError):
            os.unlink(name)


class WriterLock:
    """An exclusive lock on ``<run file>-lock``, so two processes never write one run.

    flock locks vanish with their process, so a run killed with SIGKILL does not block its resume.
    """

    def __init__(self, path: Path) -> None:
        self.path = Path(f"{path}-lock")
        try:
            self.fd = os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_EXCL, 0o644)
            self.created = True
        except FileExistsError:
            self.fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
            self.created = False
        try:
            fcntl.flock(self.fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.pread(self.fd, 64, 0).decode(errors="replace").strip() or "unknown"
            os.close(self.fd)
            raise StoreLockedError(
                f"run store {path} is open for writing by another process or RunStore (pid {holder}); "
                "stop it, or open this run read-only with RunStore.open(path, readonly=True)"
            ) from None
        os.ftruncate(self.fd, 0)
        os.pwrite(self.fd, str(os.getpid()).encode(), 0)

    def release(self, remove: bool = False) -> None:
        """Unlock; with remove, also delete the lock file if this lock created it (a failed open)."""
        if self.fd >= 0:
            if remove and self.created:  # unlinked while still held, so no other opener can take this inode
                with contextlib.suppress(FileNotFoundError):
                    os.unlink(self.path)
            fcntl.flock(self.fd, fcntl.LOCK_UN)
            os.close(self.fd)
            self.fd = -1


@contextlib.contextmanager
def transaction(lock: threading.RLock, conn: sqlite3.Connection, path: Path) -> Iterator[sqlite3.Connection]:
    """``BEGIN IMMEDIATE`` ... ``COMMIT`` under the store's thread lock; rolled back on any error."""
    with lock, translate_errors(path):
        conn.execute("BEGIN IMMEDIATE")
        try:
            yield conn
            conn.execute("COMMIT")
        except BaseException:
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            raise

"""Access to the local DuckDB warehouse: one writer at a time, readers after it.

DuckDB lets only one process open a database file for writing, and no other
process may even read it meanwhile; a second opener fails at once with a lock
error. Every process in this project therefore opens the file through these
context managers, which take an advisory lock next to it (exclusive for the
writer, shared for readers) and wait for it, so loaders, dbt runs and report
readers queue instead of failing. Airflow adds a one-slot pool on top so that
tasks queue in the scheduler rather than in a worker.
"""

from __future__ import annotations

import fcntl
import os
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO, TYPE_CHECKING

if TYPE_CHECKING:
    import duckdb

DEFAULT_WAIT_SECONDS = 600.0


class WarehouseError(OSError):
    """The warehouse file cannot be used; the message says which file and what to do."""


class WarehouseBusy(WarehouseError, TimeoutError):
    """The warehouse lock could not be had in time: another process holds the file."""


def _unusable(database: Path, error: OSError) -> WarehouseError:
    blocking_file = next((parent for parent in database.parents if parent.is_file()), None)
    why = (f"{blocking_file} is a file, not a folder" if blocking_file
           else f"{error.strerror or error} ({error.filename or database})")
    return WarehouseError(
        f"cannot use the warehouse {database}: {why}. Set HRS_WAREHOUSE_PATH to a file in a folder this user "
        "can write, or fix the folder's permissions."
    )


def _lock_path(database: Path) -> Path:
    return database.with_name(database.name + ".lock")


def _open_lock(database: Path) -> IO[str]:
    try:
        database.parent.mkdir(parents=True, exist_ok=True)
        return open(_lock_path(database), "a+")  # closed by _locked
    except OSError as error:
        raise _unusable(database, error) from None


def _acquire(handle: IO[str], database: Path, exclusive: bool, wait_seconds: float) -> None:
    mode = fcntl.LOCK_EX if exclusive else fcntl.LOCK_SH
    deadline = time.monotonic() + wait_seconds
    while True:
        try:
            fcntl.flock(handle, mode | fcntl.LOCK_NB)
            break
        except BlockingIOError:
            if time.monotonic() >= deadline:
                handle.seek(0)
                holder = handle.read().strip() or "unknown"
                raise WarehouseBusy(
                    f"{database} is busy: the lock {_lock_path(database)} is held by {holder} for more than "
                    f"{wait_seconds:.0f} s. Wait for that process to finish or stop it."
                ) from None
            time.sleep(0.1)
    if exclusive:
        handle.seek(0)
        handle.truncate()
        handle.write(f"pid {os.getpid()}")
        handle.flush()


@contextmanager
def _locked(database: Path, exclusive: bool, wait_seconds: float) -> Iterator[None]:
    with _open_lock(database) as handle:
        _acquire(handle, database, exclusive, wait_seconds)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


_held_by_task: IO[str] | None = None
"""The writer lock an in-process dbt run holds (see hold_writer_lock)."""


def hold_writer_lock(database: Path, wait_seconds: float = DEFAULT_WAIT_SECONDS) -> None:
    """Take the writer lock for code that opens the file itself (dbt-duckdb inside a Cosmos task), so it queues
    behind loaders and readers like everyone else; `release_writer_lock` gives it back. Held already by this
    process (a previous task of a `dag.test()` that failed before releasing it), it is kept, never re-waited."""
    global _held_by_task
    if _held_by_task is not None:
        return
    handle = _open_lock(database)
    try:
        _acquire(handle, database, exclusive=True, wait_seconds=wait_seconds)
    except BaseException:
        handle.close()
        raise
    _held_by_task = handle


def release_writer_lock() -> None:
    global _held_by_task
    if _held_by_task is not None:
        fcntl.flock(_held_by_task, fcntl.LOCK_UN)
        _held_by_task.close()
        _held_by_task = None


@contextmanager
def transaction(connection: duckdb.DuckDBPyConnection) -> Iterator[None]:
    """One transaction on a writer connection: committed when the block ends, rolled back on any exception
    or interrupt, so rows and the loader cursor that describes them are written together or not at all."""
    connection.begin()
    try:
        yield
    except BaseException:
        connection.rollback()
        raise
    connection.commit()


@contextmanager
def writer(database: Path, wait_seconds: float = DEFAULT_WAIT_SECONDS) -> Iterator[duckdb.DuckDBPyConnection]:
    """The single read-write connection; waits while another process writes or reads."""
    import duckdb

    with _locked(database, exclusive=True, wait_seconds=wait_seconds):
        try:
            connection = duckdb.connect(str(database))
        except duckdb.IOException as error:  # e.g. the file itself is read-only
            raise _unusable(database, OSError(str(error).splitlines()[0])) from None
        try:
            yield connection
        finally:
            connection.close()


@contextmanager
def reader(database: Path, wait_seconds: float = DEFAULT_WAIT_SECONDS) -> Iterator[duckdb.DuckDBPyConnection]:
    """A read-only connection; many readers may share the file, never with a writer."""
    import duckdb

    with _locked(database, exclusive=False, wait_seconds=wait_seconds):
        connection = duckdb.connect(str(database), read_only=True)
        try:
            yield connection
        finally:
            connection.close()

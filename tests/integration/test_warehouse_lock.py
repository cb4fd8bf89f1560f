"""DuckDB allows one writer process: a second process waits for the lock instead of failing."""

from __future__ import annotations

import multiprocessing
import time
from pathlib import Path

import pytest

from include.warehouse import WarehouseBusy, reader, writer

pytestmark = pytest.mark.integration


def _hold_writer(path: str, started, seconds: float) -> None:
    with writer(Path(path)) as conn:
        conn.execute("create or replace table t as select 1 as n")
        started.set()
        time.sleep(seconds)
        conn.execute("insert into t values (2)")


def test_second_process_waits_for_the_writer_then_sees_its_rows(tmp_path: Path) -> None:
    path = tmp_path / "warehouse.duckdb"
    context = multiprocessing.get_context("spawn")
    started = context.Event()
    holder = context.Process(target=_hold_writer, args=(str(path), started, 2.0))
    holder.start()
    try:
        assert started.wait(60)
        with (
            pytest.raises(WarehouseBusy, match=r"is busy: the lock .* is held by pid \d+"),
            reader(path, wait_seconds=0.3),
        ):
            pass
        waited_from = time.monotonic()
        with reader(path, wait_seconds=60) as conn:
            waited = time.monotonic() - waited_from
            assert conn.execute("select count(*) from t").fetchone() == (2,)
        assert waited > 0.5, "the reader should have queued behind the writer"
    finally:
        holder.join(30)
    assert holder.exitcode == 0


def test_readers_share_the_file(tmp_path: Path) -> None:
    path = tmp_path / "warehouse.duckdb"
    with writer(path) as conn:
        conn.execute("create table t as select 42 as n")
    with reader(path) as first, reader(path) as second:
        assert first.execute("select n from t").fetchone() == second.execute("select n from t").fetchone()


def test_a_loader_started_during_a_dbt_task_waits_for_it_then_succeeds(embedded, tmp_path: Path,
                                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    """The dbt task's hooks (what Cosmos runs around in-process dbt) hold the writer lock, so a loader run by
    hand meanwhile queues instead of failing on DuckDB's own lock, and dbt never meets the loader's lock."""
    import os
    import subprocess
    import sys

    import duckdb

    from include.contracts.paths import PROJECT_ROOT
    from include.hourly.dbt_task_groups import hold_duckdb, release_duckdb

    path = tmp_path / "warehouse.duckdb"
    monkeypatch.setenv("HRS_WAREHOUSE_PATH", str(path))
    hold_duckdb()  # the task's pre_execute
    try:
        dbt_connection = duckdb.connect(str(path))  # what dbt-duckdb does inside the task
        dbt_connection.execute("create table built_by_dbt as select 1 as n")
        loader = subprocess.Popen([sys.executable, "-m", "include.loaders", "lake"], cwd=PROJECT_ROOT,
                                  env={**os.environ}, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        time.sleep(3)
        assert loader.poll() is None, loader.communicate()  # queued, not failed
        dbt_connection.close()
    finally:
        release_duckdb("")  # the task's callback, after dbt
    _, stderr = loader.communicate(timeout=120)
    assert loader.returncode == 0, stderr
    with reader(path) as conn:
        assert conn.execute("select n from built_by_dbt").fetchone() == (1,)

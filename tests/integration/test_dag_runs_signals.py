"""`python -m dev.dag_runs` stopped with SIGTERM mid-run: it exits promptly with code 130, leaves no process
behind, and the warehouse is whole: the same hour run again completes and holds every reading once."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import psutil
import pytest

from dev.embedded.layout import EmbeddedLayout
from include.contracts.paths import PROJECT_ROOT
from include.contracts.settings import FRESHNESS_LIMIT_VARIABLE
from include.contracts.warehouse_relations import FACT_HEART_RATES
from tests.integration.warehouse_harness import HOUR, Warehouse, hours_ago, private_warehouse

pytestmark = pytest.mark.integration

EXIT_WITHIN_SECONDS = 30


@pytest.fixture()
def warehouse(embedded: EmbeddedLayout, seeded_oltp: str, tmp_path: Path) -> Iterator[Warehouse]:
    with private_warehouse(embedded, tmp_path) as built:
        yield built


def _dag_runs(warehouse: Warehouse, hour, folder: Path) -> subprocess.Popen[str]:
    env = {**os.environ, "HRS_TOPIC": warehouse.topic, "HRS_LAKE_BUCKET": warehouse.bucket,
           "OLTP_DSN": warehouse.oltp_dsn, "HRS_CDC_SLOT": warehouse.slot, "HRS_WAREHOUSE_PATH": str(warehouse.path),
           "HRS_DASHBOARD_DIR": str(folder / "dashboard"), "HRS_LOCAL_DIR": str(folder),
           FRESHNESS_LIMIT_VARIABLE: str(24 * 60)}
    return subprocess.Popen([sys.executable, "-m", "dev.dag_runs", "--from", hour.isoformat(),
                             "--to", (hour + HOUR).isoformat(), "--log", str(folder / "dag_runs.log")],
                            cwd=PROJECT_ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def test_sigterm_mid_run_stops_at_once_and_leaves_the_warehouse_whole(warehouse: Warehouse, tmp_path: Path) -> None:
    hour = hours_ago(3)
    warehouse.put_events(warehouse.hour_of_readings(hour, 400))
    log = tmp_path / "dag_runs.log"
    run = _dag_runs(warehouse, hour, tmp_path)
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline and "transform" not in (log.read_text() if log.exists() else ""):
        assert run.poll() is None, run.communicate()
        time.sleep(0.5)  # until the run is inside its dbt tasks
    children = psutil.Process(run.pid).children(recursive=True)
    run.send_signal(signal.SIGTERM)
    asked = time.monotonic()
    _, stderr = run.communicate(timeout=EXIT_WITHIN_SECONDS + 30)
    assert time.monotonic() - asked < EXIT_WITHIN_SECONDS, stderr
    assert run.returncode == 130, stderr
    assert "interrupted (SIGTERM)" in stderr and "Traceback" not in stderr
    assert not [child for child in children if child.is_running() and child.status() != psutil.STATUS_ZOMBIE], \
        children

    again = _dag_runs(warehouse, hour, tmp_path)
    stdout, stderr = again.communicate(timeout=600)
    assert again.returncode == 0, stdout + stderr
    assert warehouse.query(f"select count(*), count(distinct event_id) from {FACT_HEART_RATES} "
                           "where event_hour = ?", hour) == [(400, 400)]

"""`make airflow`: the web UI comes up on the embedded settings with the DAG parsed and the pool created,
and Ctrl+C stops every component it started."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from dev.embedded.layout import EmbeddedLayout
from include.contracts.paths import PROJECT_ROOT
from tests.conftest import free_port

pytestmark = pytest.mark.integration

COMPONENTS = ("scheduler", "triggerer", "dag_processor")


def _get(port: int, path: str) -> dict:
    with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=5) as response:
        return json.load(response)


def _wait_healthy(port: int, process: subprocess.Popen, timeout: float = 240) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        assert process.poll() is None, "make airflow exited early"
        try:
            health = _get(port, "/api/v2/monitor/health")
            if all(health.get(name, {}).get("status") == "healthy" for name in COMPONENTS):
                return
        except OSError:
            pass
        time.sleep(1)
    raise AssertionError(f"Airflow did not become healthy within {timeout} s")


def test_airflow_ui_serves_the_dag_and_stops_on_ctrl_c(embedded: EmbeddedLayout, tmp_path: Path) -> None:
    port = free_port()
    env = {**os.environ, "AIRFLOW_HOME": str(tmp_path / "airflow")}
    log = tmp_path / "airflow_ui.log"
    with open(log, "w") as output:
        process = subprocess.Popen([sys.executable, "-m", "dev.airflow_ui", "--port", str(port)],
                                   cwd=PROJECT_ROOT, env=env, stdout=output, stderr=subprocess.STDOUT,
                                   start_new_session=True)
    try:
        _wait_healthy(port, process)
        deadline = time.monotonic() + 120
        while not (dags := _get(port, "/api/v2/dags")["dags"]) and time.monotonic() < deadline:
            time.sleep(2)
        assert [dag["dag_id"] for dag in dags] == ["heart_rate_hourly"]
        assert _get(port, "/api/v2/importErrors")["total_entries"] == 0
        assert _get(port, "/api/v2/pools/duckdb_writer")["slots"] == 1
        assert "example" not in json.dumps(dags)

        os.killpg(process.pid, signal.SIGINT)  # what Ctrl+C in the terminal sends to the foreground group
        assert process.wait(timeout=90) == 0, log.read_text()[-3000:]
        time.sleep(1)
        pattern = "airflow (standalone|scheduler|triggerer|api-server|dag-processor)|LocalExecutor"
        left = subprocess.run(["pgrep", "-f", "-a", pattern], capture_output=True, text=True, check=False).stdout
        assert str(Path(sys.executable).parent) not in left, left
        assert "airflow: stopped" in log.read_text()
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)

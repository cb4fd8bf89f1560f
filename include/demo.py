"""`make demo`: run the whole pipeline on the embedded services and show the results.

The stages arrive one issue at a time; until a stage exists the demo says so
instead of pretending. `python -m include.demo --help` lists the options.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from collections.abc import Sequence

from include.embedded.layout import EmbeddedLayout, LayoutError
from include.embedded.services import start_all
from include.embedded.smoke import run_all
from include.embedded.supervisor import ServiceError
from include.loaders.cdc import CdcError
from include.oltp_connection import OltpError
from include.settings import Settings, SettingsError

# (stage, what it will show, the issue that builds it)
PENDING_STAGES = (
    ("hourly DAG runs", "the real Airflow DAG per hour, gate publishes or holds", 6),
    ("report + dashboard", "answers to the five research questions", 7),
)


class StageFailed(RuntimeError):
    """A demo stage's command failed; its output has been shown."""


def _producer(*args: str) -> None:
    """Run one producer-container command, its output indented under the stage."""
    command = [sys.executable, "-m", "producer", *args]
    with subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True) as process:
        for line in process.stdout:
            print(f"  {line.rstrip()}", flush=True)
    if process.returncode != 0:
        raise StageFailed(f"`python -m producer {' '.join(args)}` exited with code {process.returncode}")


def run_stream(users: int, hours: float, changes: int) -> None:
    print("[3] synthetic OLTP in PostgreSQL (CDC-ready)")
    _producer("seed-oltp", "--users", str(users))
    print(f"[4] {hours:g} hours of heart-rate readings through Kafka")
    _producer("produce", "--mode", "simulate", "--hours", str(hours))
    # After the readings: their event times precede these commits, so they join the versions they were made from.
    print("    OLTP changes (weight, moves, new users, deletes) for the SCD2 dimensions")
    _producer("simulate-oltp", "--changes", str(changes))
    print("[5] the sink lands the topic in the S3 lake by event hour")
    _producer("sink", "--until-idle", "3")


def run_load(settings: Settings) -> None:
    from include.loaders.cli import load_cdc, load_lake

    print("[6] load raw: lake files and the OLTP change log into the warehouse (embedded Airbyte)")
    def indented(message: str) -> None:
        print(f"  {message}", flush=True)

    print(f"  lake: {load_lake(settings, say=indented)}")
    print(f"  cdc: {load_cdc(settings, say=indented)}")


SERVING_MARTS = (
    "heart_rate_by_activity_and_sex",
    "heart_rate_variability_by_blood_type_and_region",
    "seasonal_heart_rate_by_demographics",
    "activity_likelihood_by_local_hour_and_region",
    "heart_rate_by_age_and_body_measures",
)


def run_dbt(settings: Settings) -> None:
    from include.dbt_project import dbt_command
    from include.warehouse import reader

    print("[7] dbt build: staging, SCD2 dimensions, facts, serving marts, data quality")
    command = dbt_command("build")
    result = subprocess.run(command, capture_output=True, text=True, check=False)
    summary = [line for line in result.stdout.splitlines() if "Done. PASS=" in line or "ERROR" in line]
    for line in summary[-5:]:
        print(f"  {line.split('  ', 1)[-1].strip()}")
    if result.returncode != 0:
        raise StageFailed("dbt build failed; run it yourself to see why: " + " ".join(command))
    with reader(settings.warehouse_path) as conn:
        for mart in SERVING_MARTS:
            rows = conn.execute(f"select count(*) from serving.{mart}").fetchone()[0]  # noqa: S608 - constants
            print(f"  serving.{mart}: {rows:,} rows")


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="make demo", description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=1000, help="synthetic users (default 1000)")
    parser.add_argument("--hours", type=float, default=6.0, help="hours of readings ending now (default 6)")
    parser.add_argument("--changes", type=int, default=30, help="simulated OLTP changes (default 30)")
    args = parser.parse_args(argv)
    started = time.monotonic()
    try:
        layout = EmbeddedLayout.from_env()
        # Every command the demo starts (producer, dbt) reads the same settings `make env` prints.
        os.environ.update({**layout.environment(), **os.environ})
        settings = Settings.from_env()
        print("[1] embedded services")
        start_all(layout, say=lambda message: print(f"  {message}"))
        print("[2] each service doing real work")
        if not run_all(settings):
            print("error: a service check failed (see above); `make status` shows the services",
                  file=sys.stderr)
            return 1
        run_stream(args.users, args.hours, args.changes)
        run_load(settings)
        run_dbt(settings)
    except (ServiceError, LayoutError, SettingsError, StageFailed, OltpError, CdcError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    print("[8] the rest of the pipeline is not built yet. Stages still missing:")
    for stage, shows, issue in PENDING_STAGES:
        print(f"  -    {stage:<30} {shows} (issue {issue})")
    print(f"demo finished in {time.monotonic() - started:.1f} s. Services keep running; `make down` stops them.")
    return 0


if __name__ == "__main__":
    sys.exit(main())

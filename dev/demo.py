"""`make demo`: run the whole pipeline on the embedded services and show the results.

Services and their smoke checks, a seeded OLTP, whole hours of readings through
Kafka into the S3 lake, OLTP changes, then the real hourly Airflow DAG once per
hour (in-process `dag.test()`), and finally a report that answers the five
research questions from the serving marts, plus the dashboard's path.
`python -m dev.demo --help` lists the options.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from dev.embedded.layout import EmbeddedLayout, LayoutError, apply_environment
from dev.embedded.services import start_all
from dev.embedded.smoke import run_all
from dev.embedded.supervisor import ServiceError
from include.contracts.cli_arguments import number
from include.contracts.lake_layout import interval_hours
from include.contracts.oltp_connection import OltpError
from include.contracts.raw_schema import HEART_RATE_STREAM
from include.contracts.raw_schema import relation as raw_relation
from include.contracts.serving_marts import SERVING_MARTS
from include.contracts.settings import FRESHNESS_LIMIT_VARIABLE, SettingsError, WarehouseSettings
from include.contracts.warehouse_relations import DIM_USERS, FACT_HEART_RATES
from include.hourly.alerts import ALERTS_FILE
from include.loaders.cdc import CdcError


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


def run_stream(users: int, hours: list[datetime], changes: int, seed: int) -> None:
    from include.loaders.cli import load_cdc

    print("[3] synthetic OLTP in PostgreSQL (CDC-ready), and the warehouse's first CDC load")
    _producer("seed-oltp", "--users", str(users))
    # Before any change: the warehouse keeps the versions the readings below are made from (SCD2 history).
    print(f"  cdc: {load_cdc(say=lambda message: print(f'  {message}', flush=True))}")
    end = hours[-1] + timedelta(hours=1)
    print(f"[4] {len(hours)} hours of heart-rate readings through Kafka ({hours[0]:%H:00} to {end:%H:00} UTC)")
    # A new seed per run: running the demo again adds readings (new event ids) to the same hours instead of
    # re-sending the same event ids with other content, which the duplicates check would rightly hold.
    print(f"    seed {seed} (repeat a run with --seed {seed})")
    _producer("produce", "--mode", "simulate", "--hours", str(len(hours)), "--end", end.isoformat(),
              "--seed", str(seed))
    # After the readings: their event times precede these commits, so they join the versions they were made from.
    print("    OLTP changes (weight, moves, new users, deletes): new SCD2 versions from now on")
    _producer("simulate-oltp", "--changes", str(changes))
    print("[5] the sink lands the topic in the S3 lake by event hour")
    _producer("sink", "--until-idle", "3")


def demo_hours(hours: int, now: datetime) -> list[datetime]:
    """The last `hours` whole hours that have ended: the readings to simulate and the hourly runs to make.
    Whole hours, so every run's sensor finds its hour's objects, as it would in a live deployment."""
    current = now.astimezone(UTC).replace(minute=0, second=0, microsecond=0)
    return interval_hours(current - timedelta(hours=hours), current)


def run_dag(settings: WarehouseSettings, layout: EmbeddedLayout, hours: list[datetime]) -> None:
    from dev.dag_runs import DagRunError, run_hours

    log = layout.log_dir / "dag_runs.log"
    print(f"[6] the hourly Airflow DAG, once per hour ({len(hours)} runs, in-process; Airflow's logs: {log})")
    print("    each run: wait_for_hour >> load >> dbt transform >> gate >> publish (serving + dashboard) | hold")
    try:
        results = run_hours(hours, log_path=log, indent="  ")
    except DagRunError as error:
        raise StageFailed(str(error)) from None
    broken = [r for r in results if not r.succeeded and not r.held]
    if broken:
        raise StageFailed(f"{len(broken)} hourly run(s) failed: {', '.join(broken[0].failed_tasks)} "
                          f"(see {log})")
    held = [r for r in results if r.held]
    if held:
        print(f"  the gate held {len(held)} hour(s): serving kept its last good state; "
              f"alerts in {layout.local_dir / ALERTS_FILE}")
    from include.warehouse import reader

    with reader(settings.warehouse_path) as conn:
        tables = {".".join(row) for row in conn.execute(
            "select table_schema, table_name from information_schema.tables").fetchall()}
        for relation in (raw_relation(HEART_RATE_STREAM), FACT_HEART_RATES, *(m.relation for m in SERVING_MARTS)):
            if relation not in tables:
                # only serving can be missing here: the gate ran, so the transform built the rest
                raise StageFailed(
                    f"{relation} does not exist: no hour has been published yet (the gate held every hour of "
                    f"this demo and there was none before), so there is nothing to show. The alerts in "
                    f"{layout.local_dir / ALERTS_FILE} say why; a demo run again with the same --seed re-sends "
                    "its readings' event ids with other content, which the gate refuses: run it without --seed")
            rows = conn.execute(f"select count(*) from {relation}").fetchone()[0]  # noqa: S608 - constants
            print(f"  {relation}: {rows:,} rows")


def history_line(conn: Any) -> str:
    """How the SCD2 history was used: users that changed, and how many of their readings joined an earlier version."""
    changed_users, readings, earlier = conn.execute(
        f"with changed as (select user_id from {DIM_USERS} group by user_id having count(*) > 1) "  # noqa: S608
        "select (select count(*) from changed), count(facts.event_id), "
        "count(case when not users.is_current then 1 end) "
        f"from {FACT_HEART_RATES} as facts join {DIM_USERS} as users on facts.user_key = users.user_key "
        "where facts.user_id in (select user_id from changed)").fetchone()
    return (f"SCD2: {changed_users:,} users changed during the demo; {earlier:,} of their {readings:,} readings "
            "joined the version valid at the reading's time (before the change), not today's")


def show_report(settings: WarehouseSettings) -> None:
    from include.serving.dashboard import PAGE
    from include.serving.research_findings import all_findings, report
    from include.warehouse import reader

    print("[7] what the serving marts say: the five research questions")
    with reader(settings.warehouse_path) as conn:
        print(history_line(conn))
        print(report(all_findings(conn)))
    page = settings.dashboard_dir / PAGE
    if page.exists():
        print(f"dashboard (rebuilt by the DAG's last published hour; open it in a browser): {page.resolve().as_uri()}")
    else:
        print("dashboard: not built, no hour has been published yet (see the gate's alerts above)")


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="make demo", description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=number(int, minimum=1, maximum=1_000_000), default=1000,
                        help="synthetic users, 1 to 1,000,000 (default 1000)")
    parser.add_argument("--hours", type=number(int, minimum=1, maximum=168), metavar="1-168", default=6,
                        help="whole hours of readings, ending at the start of the current hour (default 6)")
    parser.add_argument("--changes", type=number(int, minimum=0), default=30,
                        help="simulated OLTP changes, 0 or more (default 30)")
    parser.add_argument("--seed", type=int, help="random seed of the readings (default: a new one each run)")
    args = parser.parse_args(argv)
    started = time.monotonic()
    try:
        # Every command the demo starts (producer, dbt) reads the same settings `make env` prints.
        layout = apply_environment()
        # The demo writes hours of simulated history at once: their lake arrival lags their event times by up
        # to that much, which the freshness check (built for a live stream) must allow here.
        os.environ.setdefault(FRESHNESS_LIMIT_VARIABLE, str((args.hours + 2) * 60))
        settings = WarehouseSettings.from_env()
        print("[1] embedded services")
        start_all(layout, say=lambda message: print(f"  {message}"))
        print("[2] each service doing real work")
        if not run_all():
            print("error: a service check failed (see above); `make status` shows the services",
                  file=sys.stderr)
            return 1
        hours = demo_hours(args.hours, datetime.now(tz=UTC))
        seed = args.seed if args.seed is not None else int(time.time())
        run_stream(args.users, hours, args.changes, seed)
        run_dag(settings, layout, hours)
        show_report(settings)
    except (ServiceError, LayoutError, SettingsError, StageFailed, OltpError, CdcError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    print(f"demo finished in {time.monotonic() - started:.1f} s. Services keep running; `make down` stops them.")
    return 0


if __name__ == "__main__":
    sys.exit(main())

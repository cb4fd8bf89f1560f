"""The hourly run's wall time with each dbt execution, on the same data: `watcher` against `local`.

    make bench-dag                  (starts the embedded services if needed)
    python bench/dag_run_bench.py --users 600 --repeat 2 --keep

Two event hours of readings go through the real pieces once (a private OLTP database
seeded and snapshotted into a warehouse, the producer, Kafka, the sink, the S3 lake).
That warehouse is copied, one copy per execution, and each execution runs the real
DAG over the two hours, one after the other, in a fresh `python -m dev.dag_runs`
(`dag.test()`, as `make demo` runs it): `HRS_DBT_EXECUTION=local` (one Cosmos task
and one `dbt build` per node) or `watcher` (one threaded `dbt build` per task group,
a sensor task per model and per model's tests). Every run must publish its hour,
and both executions must build the same fact rows.

The figure is a run's own wall time (`dag.test()` from start to end). The first
hour pays what a deployment pays once (importing dbt, dbt's first parse of the
project for this warehouse); the second is the steady state of an hourly run and
gives the last line, `hourly run ratio: <watcher/local>`. The goal is 0.4.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.scratch import delete_bucket, delete_topics  # noqa: E402
from dev.embedded.layout import COSMOS_CACHE_VARIABLE, apply_environment  # noqa: E402
from dev.embedded.services import start_all  # noqa: E402
from include.contracts.cli_arguments import number  # noqa: E402
from include.contracts.settings import DBT_EXECUTIONS, FRESHNESS_LIMIT_VARIABLE, LakeSettings  # noqa: E402
from tests.integration.stream_fixtures import Stream, create_oltp_database, drop_oltp_database  # noqa: E402
from tests.integration.warehouse_harness import Warehouse  # noqa: E402

GOAL_RATIO = 0.4
RUN_LINE = re.compile(r"UTC\s+(?P<state>\w+)\s+(?P<outcome>\w+)\s+(?P<seconds>[\d.]+) s")
"""A run's summary line from `python -m dev.dag_runs` (`HourRun.line`)."""


def _say(message: str) -> None:
    print(message, flush=True)


def _checked(result: subprocess.CompletedProcess[str], what: str) -> subprocess.CompletedProcess[str]:
    if result.returncode != 0:
        sys.exit(f"error: {what} exited with code {result.returncode}:\n{result.stdout[-3000:]}{result.stderr[-3000:]}")
    return result


def run_hours(env: dict[str, str], hours: list[datetime], log: Path) -> list[float]:
    """One `dag.test()` per hour, in order, in a fresh interpreter; each run's wall time as dag_runs measured it."""
    execution = env["HRS_DBT_EXECUTION"]
    result = _checked(subprocess.run(
        [sys.executable, "-m", "dev.dag_runs", "--from", hours[0].isoformat(),
         "--to", (hours[-1] + timedelta(hours=1)).isoformat(), "--log", str(log)],
        cwd=ROOT, env=env, capture_output=True, text=True, check=False, timeout=1800,
    ), f"the hourly runs ({execution})")
    runs = RUN_LINE.findall(result.stdout.split("summary:", 1)[-1])
    if [(state, outcome) for state, outcome, _ in runs] != [("success", "published")] * len(hours):
        sys.exit(f"error: not every hour was published ({execution}):\n{result.stdout}\nlog: {log}")
    return [float(seconds) for _, _, seconds in runs]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="make bench-dag", description=__doc__.splitlines()[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter,
                                     epilog="\n".join(__doc__.splitlines()[1:]))
    parser.add_argument("--users", type=number(int, minimum=10, maximum=100_000), default=600,
                        help="synthetic users, 10 to 100,000 (default 600: about 40,000 readings an hour)")
    parser.add_argument("--repeat", type=number(int, minimum=1, maximum=10), default=1,
                        help="runs of each execution, alternating (default 1)")
    parser.add_argument("--only", choices=DBT_EXECUTIONS, help="run one execution (no ratio)")
    parser.add_argument("--keep", action="store_true",
                        help="keep the warehouses, Airflow's logs, the lake bucket and the topic (printed)")
    args = parser.parse_args(argv)
    layout = apply_environment()
    start_all(layout, say=lambda message: _say(f"  {message}"))
    now = datetime.now(tz=UTC).replace(minute=0, second=0, microsecond=0)
    hours = [now - timedelta(hours=3), now - timedelta(hours=2)]
    name = f"bench-dag-{uuid.uuid4().hex[:8]}"
    dsn, slot = create_oltp_database(layout, users=args.users, seed=21)
    folder = Path(tempfile.mkdtemp(prefix="bench-dag-"))
    try:
        LakeSettings.from_env().s3_client().create_bucket(Bucket=name)
        private = {"HRS_TOPIC": name, "HRS_LAKE_BUCKET": name, "OLTP_DSN": dsn, "HRS_CDC_SLOT": slot,
                   FRESHNESS_LIMIT_VARIABLE: str(24 * 60)}
        os.environ.update(private)
        stream = Stream(topic=name, bucket=name, group=f"sink-{name}")
        started = time.monotonic()
        _checked(stream.cli("produce", "--hours", "2", "--end", (hours[-1] + timedelta(hours=1)).isoformat(),
                            "--seed", "21", OLTP_DSN=dsn), "produce")
        _checked(stream.cli("sink", "--group", stream.group, "--until-idle", "2"), "sink")
        template = Warehouse(folder / "template.duckdb", name, name, dsn, slot)
        template.load_cdc()
        _say(f"data: {args.users:,} users, two hours ({hours[0]:%H:00} and {hours[1]:%H:00} UTC) in the lake, "
             f"the OLTP snapshot in a warehouse ({time.monotonic() - started:.1f} s)")
        executions = [args.only] if args.only else ["local", "watcher"]
        steady: dict[str, list[float]] = {execution: [] for execution in executions}
        digests: set[tuple] = set()
        for repetition in range(1, args.repeat + 1):
            for execution in executions:
                run_folder = folder / f"{execution}-{repetition}"
                run_folder.mkdir()
                warehouse = Warehouse(run_folder / "warehouse.duckdb", name, name, dsn, slot)
                shutil.copyfile(template.path, warehouse.path)
                env = {**os.environ, "HRS_DBT_EXECUTION": execution, "HRS_WAREHOUSE_PATH": str(warehouse.path),
                       "HRS_LOCAL_DIR": str(run_folder), "HRS_DASHBOARD_DIR": str(run_folder / "dashboard"),
                       "AIRFLOW_HOME": str(run_folder / "airflow"),
                       # its own dbt parse state (dbt's hashes the warehouse): the checkout's stays the checkout's
                       COSMOS_CACHE_VARIABLE: str(run_folder / "cosmos")}
                first, second = run_hours(env, hours, run_folder / "dag_runs.log")
                steady[execution].append(second)
                rows, digest = warehouse.fact_digest()
                digests.add((rows, digest))
                _say(f"  {execution:<8} #{repetition}: first hour {first:5.1f} s, second hour {second:5.1f} s "
                     f"(fact: {rows:,} rows)")
        if len(digests) != 1:
            sys.exit(f"error: the runs built different facts: {digests}")
        if not args.only:
            local, watcher = (statistics.median(steady[execution]) for execution in ("local", "watcher"))
            _say(f"hourly run (second hour, median of {args.repeat}): local {local:.1f} s, watcher {watcher:.1f} s; "
                 f"the same fact rows in every run; goal ratio {GOAL_RATIO}")
            _say(f"hourly run ratio: {watcher / local:.2f}")
    finally:
        drop_oltp_database(layout, dsn, slot)
        if args.keep:
            _say(f"kept: {folder}, bucket and topic {name}")
        else:
            shutil.rmtree(folder, ignore_errors=True)
            delete_bucket(LakeSettings.from_env().s3_client(), name)
            delete_topics([name])
    return 0


if __name__ == "__main__":
    sys.exit(main())

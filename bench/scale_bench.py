"""One event hour at 100,000 users through every stage on this machine: produce -> sink -> load -> hourly run ->
gate -> serving.

    make bench-scale                 (starts the embedded services if needed)
    python bench/scale_bench.py --users 20000 --keep

A private OLTP database is seeded with the users and snapshotted into a fresh
warehouse (set-up, timed apart: a deployment does it once). Then, timed: the
producer fast-forwards one past event hour (~20 readings a user: 2 million at
100,000 users) into a private Kafka topic; the sink lands it in a private lake
bucket; one real hourly DAG run (`python -m dev.dag_runs`, `dag.test()`) loads
the hour, runs dbt, gates it and refreshes serving. Each stage's figures come
from its own clock: the sink's from its partition assignment to its exit, less
its idle wait; the DAG's stages from Airflow's task instances (first start to
last end of the stage's tasks).

Printed per stage: seconds, readings/s, peak memory of the stage's processes
plus the embedded services (S3, PostgreSQL, Kafka, which hold the data); then the
end-to-end time and the stage that limits it. Goals on 2 cores: under 3 minutes
end to end, every stage but dbt at >= 100,000 readings/s, under 4 GB.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import psutil

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.scratch import scratch  # noqa: E402
from dev.embedded.layout import COSMOS_CACHE_VARIABLE, EmbeddedLayout, apply_environment  # noqa: E402
from dev.embedded.services import service_specs, start_all  # noqa: E402
from dev.embedded.supervisor import status  # noqa: E402
from include.contracts.cli_arguments import number  # noqa: E402
from include.contracts.settings import FRESHNESS_LIMIT_VARIABLE, LakeSettings  # noqa: E402
from include.contracts.warehouse_relations import FACT_HEART_RATES  # noqa: E402
from include.hourly.gate_tasks import GATE, HOLD, PUBLISH  # noqa: E402
from include.hourly.serving_refresh import TASK_ID as REFRESH  # noqa: E402
from tests.integration.stream_fixtures import create_oltp_database, drop_oltp_database  # noqa: E402
from tests.integration.warehouse_harness import Warehouse  # noqa: E402

HOUR_OF_DAY = 18
READINGS_PER_SESSION = 320
"""About how many readings one simulated workout session has in an hour (what sizes the sessions per user)."""
DAG_ID = "heart_rate_hourly"
GOALS = {"seconds": 180, "readings_per_second": 100_000, "memory_gb": 4}
# A DAG task's stage, by the first part of its id (task groups prefix their tasks' ids).
DAG_STAGES = {"load": "load", "transform": "dbt transform", GATE: "gate", PUBLISH: "gate", HOLD: "gate",
              "serve": "dbt serve", REFRESH: "serving refresh"}


def _say(message: str) -> None:
    print(message, flush=True)


@dataclass
class Stage:
    name: str
    seconds: float
    readings: int
    peak: tuple[int, int] = (0, 0)
    """Peak RSS of the stage's processes, and of the embedded services meanwhile."""
    note: str = ""

    @property
    def rate(self) -> float:
        return self.readings / self.seconds if self.seconds > 0 else 0.0


class PeakMemory:
    """The highest total RSS of a process tree, and of the embedded services, sampled every 100 ms."""

    def __init__(self, services: list[psutil.Process]) -> None:
        self.services = services
        self.peak = 0
        self.services_peak = 0
        self._root: psutil.Process | None = None
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)

    def watch(self, pid: int) -> PeakMemory:
        self._root = psutil.Process(pid)
        self._thread.start()
        return self

    def _sample(self) -> None:
        while not self._stop.is_set():
            processes: list[psutil.Process] = []
            with contextlib.suppress(psutil.Error):
                processes = [self._root, *self._root.children(recursive=True)]
            self.peak = max(self.peak, _rss(processes))
            self.services_peak = max(self.services_peak, _rss(self.services))
            self._stop.wait(0.1)

    def stop(self) -> tuple[int, int]:
        self._stop.set()
        self._thread.join()
        return self.peak, self.services_peak


def _rss(processes: list[psutil.Process]) -> int:
    total = 0
    for process in processes:
        with contextlib.suppress(psutil.Error):
            total += process.memory_info().rss
    return total


def service_processes(layout: EmbeddedLayout) -> list[psutil.Process]:
    processes = []
    for spec in service_specs(layout).values():
        pid = status(spec).pid
        if pid:
            root = psutil.Process(pid)
            processes += [root, *root.children(recursive=True)]
    return processes


def run_measured(command: list[str], env: dict[str, str], services: list[psutil.Process],
                 ) -> tuple[float, tuple[int, int], list[tuple[float, str]]]:
    """Run to the end; (seconds, (peak bytes of the command, of the services), output lines with the second
    each arrived at)."""
    started = time.monotonic()
    process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                               text=True)
    memory = PeakMemory(services).watch(process.pid)
    lines = [(time.monotonic() - started, line.rstrip()) for line in process.stdout]
    process.wait()
    seconds, peak = time.monotonic() - started, memory.stop()
    if process.returncode != 0:
        tail = "\n".join(line for _, line in lines[-40:])
        sys.exit(f"error: {' '.join(command[1:4])} exited with code {process.returncode}:\n{tail}")
    return seconds, peak, lines


def dag_stage_spans(hour: datetime) -> dict[str, float]:
    """Seconds per stage of the hour's DAG run, from Airflow's task instances (first start to last end)."""
    import sqlalchemy

    engine = sqlalchemy.create_engine(os.environ["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"])
    with engine.connect() as connection:
        rows = connection.execute(sqlalchemy.text(
            "select ti.task_id, ti.start_date, ti.end_date from task_instance ti "
            "join dag_run dr on dr.dag_id = ti.dag_id and dr.run_id = ti.run_id "
            "where dr.id = (select max(id) from dag_run where dag_id = :dag and data_interval_start = :hour) "
            "and ti.start_date is not null"),
            {"dag": DAG_ID, "hour": hour}).all()
    engine.dispose()
    spans: dict[str, tuple[datetime, datetime]] = {}
    for task_id, start, end in rows:
        stage = DAG_STAGES.get(task_id.split(".", 1)[0])
        if stage is None or end is None:
            continue
        first, last = spans.get(stage, (start, end))
        spans[stage] = (min(first, start), max(last, end))
    return {stage: (end - start).total_seconds() for stage, (start, end) in spans.items()}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="make bench-scale", description=__doc__.splitlines()[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter,
                                     epilog="\n".join(__doc__.splitlines()[1:]))
    parser.add_argument("--users", type=number(int, minimum=100, maximum=1_000_000), default=100_000,
                        help="synthetic users (default 100,000)")
    parser.add_argument("--readings-per-user", type=number(float, minimum=1, maximum=1000), default=20,
                        help="readings per user in the hour, about (default 20: 2 million at 100,000 users)")
    parser.add_argument("--keep", action="store_true", help="keep the warehouse and Airflow's log (printed)")
    args = parser.parse_args(argv)
    layout = apply_environment()
    start_all(layout, say=lambda message: _say(f"  {message}"))
    services = service_processes(layout)
    # The latest 18:00 UTC hour that is over: how many readings an hour holds follows the users' local time of
    # day, so a fixed hour of the day keeps runs comparable (~1.8M readings at 100,000 users).
    now = datetime.now(tz=UTC)
    hour = now.replace(hour=HOUR_OF_DAY, minute=0, second=0, microsecond=0)
    if hour + timedelta(hours=1) > now:
        hour -= timedelta(days=1)
    name = f"bench-scale-{uuid.uuid4().hex[:8]}"
    folder = Path(tempfile.mkdtemp(prefix="bench-scale-"))
    started = time.monotonic()
    dsn, slot = create_oltp_database(layout, users=args.users, seed=31)
    try:
        with scratch([name], [name], keep=args.keep):
            LakeSettings.from_env().s3_client().create_bucket(Bucket=name)
            warehouse = Warehouse(folder / "warehouse.duckdb", name, name, dsn, slot)
            warehouse.load_cdc()
            _say(f"set-up: {args.users:,} users seeded and snapshotted into a fresh warehouse "
                 f"({time.monotonic() - started:.1f} s, not counted)")
            env = {**os.environ, "HRS_TOPIC": name, "HRS_LAKE_BUCKET": name, "OLTP_DSN": dsn, "HRS_CDC_SLOT": slot,
                   FRESHNESS_LIMIT_VARIABLE: str(48 * 60), "HRS_WAREHOUSE_PATH": str(warehouse.path),
                   "HRS_LOCAL_DIR": str(folder), "HRS_DASHBOARD_DIR": str(folder / "dashboard"),
                   "AIRFLOW_HOME": str(folder / "airflow"),
                   # its own dbt parse state: dbt's hashes the warehouse, and this one is the bench's
                   COSMOS_CACHE_VARIABLE: str(folder / "cosmos")}
            stages = run_stages(env, hour, args, services, folder)
            facts = warehouse.query(f"select count(*) from {FACT_HEART_RATES}")[0][0]  # noqa: S608 - a constant
            report(stages, stages[0].readings, facts, warehouse.mart_readings())
    finally:
        drop_oltp_database(layout, dsn, slot)
        if args.keep:
            _say(f"kept: {folder}, bucket and topic {name}")
        else:
            shutil.rmtree(folder, ignore_errors=True)
    return 0


def run_stages(env: dict[str, str], hour: datetime, args: argparse.Namespace, services: list[psutil.Process],
               folder: Path) -> list[Stage]:
    python = sys.executable
    sessions = args.readings_per_user / READINGS_PER_SESSION
    seconds, peak, _ = run_measured(
        [python, "-m", "producer", "produce", "--hours", "1", "--end", (hour + timedelta(hours=1)).isoformat(),
         "--sessions-per-user-hour", f"{sessions:.6f}", "--seed", "31"], env, services)
    produce = Stage("produce", seconds, 0, peak)

    idle = 2.0
    seconds, peak, lines = run_measured(
        [python, "-m", "producer", "sink", "--group", f"sink-{env['HRS_TOPIC']}", "--until-idle", str(idle)],
        env, services)
    assigned = next(at for at, line in lines if "assigned partitions" in line)
    summary = next(line for _, line in reversed(lines) if " records in " in line)
    readings = int(summary.split("sink: ", 1)[1].split(" records", 1)[0].replace(",", ""))
    produce.readings = readings
    sink = Stage("sink", seconds - assigned - idle, readings, peak,
                 f"from partition assignment to exit, less the {idle:.0f} s idle wait ({seconds:.1f} s wall)")
    _say(f"  produced and sunk {readings:,} readings")

    seconds, peak, _ = run_measured(
        [python, "-m", "dev.dag_runs", "--from", hour.isoformat(), "--to", (hour + timedelta(hours=1)).isoformat(),
         "--log", str(folder / "dag_runs.log")], env, services)
    spans = dag_stage_spans(hour)
    dag_stages = [Stage(stage, spans.get(stage, 0.0), readings, peak) for stage in dict.fromkeys(DAG_STAGES.values())]
    dag_stages.append(Stage("hourly run (whole)", seconds, readings, peak,
                            "dag.test() wall time: the stages above, sensors, scheduling, Airflow's start"))
    return [produce, sink, *dag_stages]


def report(stages: list[Stage], readings: int, facts: int, served: dict[str, int]) -> None:
    _say(f"\n{'stage':<20} {'seconds':>8} {'readings/s':>12} {'memory: stage':>14} {'+ services':>11}")
    for stage in stages:
        own, services = stage.peak
        _say(f"{stage.name:<20} {stage.seconds:8.1f} {stage.rate:12,.0f} {own / 2**30:11.2f} GB "
             f"{services / 2**30:8.2f} GB" + (f"   {stage.note}" if stage.note else ""))
    end_to_end = sum(s.seconds for s in stages if s.name in ("produce", "hourly run (whole)")) \
        + next(s.seconds for s in stages if s.name == "sink")
    peak = max(sum(s.peak) for s in stages)
    throughput_stages = [s for s in stages if s.name not in ("dbt transform", "dbt serve", "hourly run (whole)")]
    slowest = min(throughput_stages, key=lambda s: s.rate)
    longest = max((s for s in stages if s.name != "hourly run (whole)"), key=lambda s: s.seconds)
    _say(f"\nreadings: {readings:,} produced and sunk, {facts:,} in the fact table; each serving mart sums "
         + ", ".join(sorted({f"{count:,}" for count in served.values()})))
    _say(f"end to end (produce + sink + hourly run): {end_to_end:.1f} s (goal {GOALS['seconds']} s); "
         f"peak memory {peak / 2**30:.2f} GB, stage and services (goal {GOALS['memory_gb']} GB; the local S3 "
         "server holds every object of every bucket in memory, this run's and earlier ones')")
    _say(f"slowest stage by rate (dbt aside): {slowest.name} at {slowest.rate:,.0f} readings/s "
         f"(goal {GOALS['readings_per_second']:,}); longest stage: {longest.name}, {longest.seconds:.1f} s")


if __name__ == "__main__":
    sys.exit(main())

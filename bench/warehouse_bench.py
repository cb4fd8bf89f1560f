"""Hourly warehouse cost as history grows: the transform and the serving refresh at 1x and 10x history.

    make bench-warehouse           (starts the embedded services if needed)

For each history size: synthetic users and activities go into raw as a CDC snapshot, one lake object of
readings per hour goes through the embedded loader, everything is built and every hour published (the
gate's ledger), then one more hour arrives and the hourly run is timed step by step, as the DAG runs it:
`transform` (staging, dimensions, fact, checks for the interval), the gate, and `serve` (the new hour's
partial aggregates and the five marts that roll them up). dbt runs in-process, as Cosmos runs it.
The goal for `serve` is flat: at most 1.2x at 10x history.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.scratch import scratch  # noqa: E402
from dev.dbt_cli import dbt_arguments  # noqa: E402
from dev.embedded.layout import apply_environment  # noqa: E402
from include.contracts.heart_rate_event import encode  # noqa: E402
from include.contracts.lake_layout import HOUR, interval_hours, object_key  # noqa: E402
from include.contracts.raw_schema import ACTIVITIES, USERS, cdc_timestamp_text  # noqa: E402
from include.contracts.settings import DEFAULT_TOPIC, FRESHNESS_LIMIT_VARIABLE, LakeSettings  # noqa: E402
from include.contracts.warehouse_relations import PUBLISHED_HOUR_AGGREGATES  # noqa: E402
from include.hourly.dbt_task_groups import (  # noqa: E402
    INTERVAL_ENV,
    SERVE_SELECT,
    TRANSFORM_SELECT,
    interval_environment,
    release_duckdb,
)
from include.hourly.ledger import DuckDBLedger  # noqa: E402
from include.hourly.quality_gate import decide  # noqa: E402
from include.loaders import lake_files  # noqa: E402
from include.loaders.raw_tables import append_columns, empty_columns, ensure_raw_schema  # noqa: E402
from include.warehouse import reader, writer  # noqa: E402
from producer.oltp import UserProfile  # noqa: E402
from producer.readings import ReadingGenerator  # noqa: E402
from producer.synthetic import make_activities, make_users  # noqa: E402

FIRST_HOUR = datetime(2026, 6, 1, tzinfo=UTC)
USER_COUNT = 500


def seed_dimensions(warehouse: Path) -> ReadingGenerator:
    """Users and activities in raw as an initial CDC snapshot (what the CDC loader's first run writes), and a
    reading generator for them."""
    users, activities = make_users(USER_COUNT, 7), make_activities(7)
    snapshot = datetime(2026, 1, 1, tzinfo=UTC)
    meta = '{"changes": [], "sync_id": 1}'
    with writer(warehouse) as conn:
        ensure_raw_schema(conn)
        for table, rows in ((USERS, [vars(u) for u in users]),
                            (ACTIVITIES, [vars(a) for a in activities])):
            columns = empty_columns(table)
            for n, row in enumerate(rows):
                values = {"_airbyte_raw_id": str(uuid.uuid4()), "_airbyte_extracted_at": snapshot,
                          "_airbyte_meta": meta, "_ab_cdc_lsn": 1000.0 + n,
                          "_ab_cdc_updated_at": cdc_timestamp_text(snapshot), "_ab_cdc_deleted_at": None,
                          "last_update": snapshot, **row}
                for column in columns:
                    columns[column].append(values.get(column))
            append_columns(conn, table, columns)
    profiles = [UserProfile(u.user_id, u.sex, 40.0, u.weight / (u.height / 100) ** 2, u.blood_type,
                            u.address_country_code) for u in users]
    return ReadingGenerator(profiles, activities, seed=7)


def put_hour(lake: LakeSettings, bucket: str, hour: datetime, generator: ReadingGenerator,
             sessions_per_hour: float) -> int:
    """One hour of realistic readings (workout sessions, as the producer simulates them) as one lake object."""
    start = int(hour.timestamp())
    lines = [encode(*reading) for reading in generator.readings(start, start + 3600, sessions_per_hour)]
    lake.s3_client().put_object(Bucket=bucket, Key=object_key(DEFAULT_TOPIC, 0, start, start),
                                Body=("\n".join(lines) + "\n").encode())
    return len(lines)


def dbt(warehouse: Path, *args: str, interval: tuple[datetime, datetime] | None = None) -> float:
    from dbt.cli.main import dbtRunner

    os.environ.update(interval_environment(*interval) if interval else dict.fromkeys(INTERVAL_ENV, ""))
    os.environ["HRS_WAREHOUSE_PATH"] = str(warehouse)
    started = time.monotonic()
    try:
        result = dbtRunner().invoke(dbt_arguments(*args, "--quiet", "--exclude", "resource_type:test"))
    finally:
        release_duckdb("")
    if not result.success:
        raise RuntimeError(f"dbt {' '.join(args)} failed: {result.exception or result.result}")
    return time.monotonic() - started


def publish(warehouse: Path, start: datetime, end: datetime) -> float:
    started = time.monotonic()
    ledger = DuckDBLedger(warehouse)
    decision = decide(ledger.checks_to_judge(start, end), interval_hours(start, end))
    if decision.held:
        raise RuntimeError(f"the gate held {[hour.details for hour in decision.held]}")
    ledger.record_published(decision.publish, "bench")
    return time.monotonic() - started


def measure(lake: LakeSettings, hours: int, sessions_per_hour: float) -> dict[str, float]:
    bucket = f"bench-wh-{uuid.uuid4().hex[:6]}"
    lake.s3_client().create_bucket(Bucket=bucket)
    with scratch([bucket], []), tempfile.TemporaryDirectory() as folder:
        warehouse = Path(folder) / "w.duckdb"
        generator = seed_dimensions(warehouse)
        readings = sum(put_hour(lake, bucket, FIRST_HOUR + index * HOUR, generator, sessions_per_hour)
                       for index in range(hours))
        lake_files.load(lake.s3_client(), bucket, DEFAULT_TOPIC, warehouse, say=lambda _: None)
        dbt(warehouse, "build", "--select", *TRANSFORM_SELECT)
        publish(warehouse, FIRST_HOUR, FIRST_HOUR + hours * HOUR)
        dbt(warehouse, "build", "--select", *SERVE_SELECT)

        new_hour = FIRST_HOUR + hours * HOUR
        put_hour(lake, bucket, new_hour, generator, sessions_per_hour)
        lake_files.load(lake.s3_client(), bucket, DEFAULT_TOPIC, warehouse, say=lambda _: None)
        interval = (new_hour, new_hour + HOUR)
        transform = dbt(warehouse, "build", "--select", *TRANSFORM_SELECT, interval=interval)
        gate = publish(warehouse, *interval)
        serve = dbt(warehouse, "build", "--select", *SERVE_SELECT, interval=interval)
        with reader(warehouse) as conn:
            partials = conn.execute(f"select count(*) from {PUBLISHED_HOUR_AGGREGATES}").fetchone()[0]  # noqa: S608
    return {"transform": transform, "gate": gate, "serve": serve, "readings": readings, "partials": partials}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--hours", type=int, default=24, help="history of the 1x case, in hours (default 24)")
    parser.add_argument("--sessions-per-hour", type=float, default=40.0,
                        help="workout sessions starting per hour (default 40: about 10,000 readings an hour)")
    args = parser.parse_args()
    apply_environment()
    os.environ[FRESHNESS_LIMIT_VARIABLE] = str(10 ** 8)  # synthetic history, loaded long after its time
    lake = LakeSettings.from_env()
    one = measure(lake, args.hours, args.sessions_per_hour)
    ten = measure(lake, args.hours * 10, args.sessions_per_hour)
    print(f"history: {args.hours} h (1x: {one['readings']:,} readings, {one['partials']:,} partial-aggregate rows) "
          f"and {args.hours * 10} h (10x: {ten['readings']:,} readings, {ten['partials']:,} rows), "
          f"{USER_COUNT} users; one new hour, timed as the DAG runs it")
    for name, label in (("transform", "transform (staging..checks)"), ("gate", "gate (decide + ledger)"),
                        ("serve", "serve (partials + 5 marts)")):
        print(f"{label:<30} 1x {one[name]:6.2f} s   10x {ten[name]:6.2f} s   growth {ten[name] / one[name]:.2f}x")
    ratio = ten["serve"] / one["serve"]
    print(f"serving refresh ratio 10x/1x: {ratio:.2f} (goal <= 1.2)")
    return 0


if __name__ == "__main__":
    sys.exit(main())

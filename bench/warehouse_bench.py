"""Hourly warehouse run cost as history grows: 1x against 10x, and a full rebuild for comparison.

    make bench-warehouse           (starts the embedded services if needed)

For each history size, lake objects of synthetic readings (one object per hour)
are loaded into a fresh DuckDB warehouse with the embedded loader, the project
is built once, one more hour arrives, and then are timed: the incremental fact
alone for that hour's interval (`dbt run -s fct_heart_rates`), the whole hourly
build (`dbt build`, what the DAG runs), and a full rebuild (`--full-refresh`).
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from dev.dbt_cli import dbt_command  # noqa: E402
from dev.embedded.layout import apply_environment  # noqa: E402
from include.contracts.heart_rate_event import encode  # noqa: E402
from include.contracts.lake_layout import object_key  # noqa: E402
from include.contracts.settings import DEFAULT_TOPIC, LakeSettings  # noqa: E402
from include.loaders import lake_files  # noqa: E402

FIRST_HOUR = datetime(2026, 6, 1, tzinfo=UTC)


def put_hour(lake: LakeSettings, bucket: str, hour: datetime, readings: int) -> None:
    start = int(hour.timestamp())
    body = "".join(
        encode(str(uuid.uuid4()), 10001 + n % 500, 60 + n % 90, start + n * 3600 // readings, 20001 + n % 23,
               40.0 + n % 7, -3.0 + n % 11) + "\n" for n in range(readings)
    ).encode()
    lake.s3_client().put_object(Bucket=bucket, Key=object_key(DEFAULT_TOPIC, 0, start, start), Body=body)


def dbt(warehouse: Path, *args: str) -> float:
    started = time.monotonic()
    result = subprocess.run(dbt_command(*args), cwd=ROOT, capture_output=True, text=True, check=False,
                            env={**os.environ, "HRS_WAREHOUSE_PATH": str(warehouse),
                                 "DBT_SEND_ANONYMOUS_USAGE_STATS": "false"})
    if result.returncode != 0:
        raise RuntimeError(result.stdout[-3000:])
    return time.monotonic() - started


def measure(lake: LakeSettings, hours: int, per_hour: int) -> dict[str, float]:
    bucket = f"bench-wh-{uuid.uuid4().hex[:6]}"
    lake.s3_client().create_bucket(Bucket=bucket)
    for index in range(hours):
        put_hour(lake, bucket, FIRST_HOUR + timedelta(hours=index), per_hour)
    with tempfile.TemporaryDirectory() as folder:
        warehouse = Path(folder) / "w.duckdb"
        lake_files.load(lake.s3_client(), bucket, DEFAULT_TOPIC, warehouse, say=lambda _: None)
        dbt(warehouse, "seed")
        dbt(warehouse, "build", "--exclude", "resource_type:test")
        new_hour = FIRST_HOUR + timedelta(hours=hours)
        put_hour(lake, bucket, new_hour, per_hour)
        lake_files.load(lake.s3_client(), bucket, DEFAULT_TOPIC, warehouse, say=lambda _: None)
        end = new_hour + timedelta(hours=1)
        interval = f"{{interval_start: '{new_hour.isoformat()}', interval_end: '{end.isoformat()}'}}"
        fact = dbt(warehouse, "run", "--select", "stg_heart_rates", "fct_heart_rates", "--vars", interval)
        hourly = dbt(warehouse, "build", "--exclude", "resource_type:test", "--vars", interval)
        full = dbt(warehouse, "build", "--exclude", "resource_type:test", "--full-refresh", "--vars", interval)
    return {"fact": fact, "hourly": hourly, "full": full}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--hours", type=int, default=24, help="history of the 1x case, in hours (default 24)")
    parser.add_argument("--per-hour", type=int, default=10_000, help="readings per hour (default 10,000)")
    args = parser.parse_args()
    apply_environment()
    lake = LakeSettings.from_env()
    one = measure(lake, args.hours, args.per_hour)
    ten = measure(lake, args.hours * 10, args.per_hour)
    print(f"history: {args.hours} h x {args.per_hour:,} readings (1x) and {args.hours * 10} h (10x)")
    for name, label in (("fact", "staging + fact, one hour"), ("hourly", "hourly dbt build (all models)"),
                        ("full", "full rebuild")):
        print(f"{label:<32} 1x {one[name]:6.1f} s   10x {ten[name]:6.1f} s   growth {ten[name] / one[name]:.2f}x")
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""A warehouse of a test's own, and the hourly run's steps called directly, so a test drives hours in any
order in seconds instead of a full `dag.test()` (tests/integration/test_hourly_dag.py runs the real DAG).

Each step is the project's own code: the embedded loaders, dbt (in-process, with the DAG's selections and
interval vars), the gate's decision (`quality_gate.decide`) and ledger (`ledger.DuckDBLedger`). What the DAG
adds, and this does not, is Airflow's scheduling of those steps.
"""

from __future__ import annotations

import gzip
import hashlib
import os
import uuid
from collections.abc import Iterator, Sequence
from contextlib import chdir, contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import duckdb

from dev.dbt_cli import dbt_arguments
from dev.embedded.layout import EmbeddedLayout
from include.contracts.heart_rate_event import encode
from include.contracts.lake_layout import event_hour, interval_hours, manifest_document, manifest_key, object_key
from include.contracts.serving_marts import SERVING_MARTS
from include.contracts.settings import FRESHNESS_LIMIT_VARIABLE, LakeSettings
from include.contracts.warehouse_relations import FACT_HEART_RATES
from include.hourly.dbt_task_groups import (
    INTERVAL_ENV,
    SERVE_SELECT,
    TRANSFORM_SELECT,
    interval_environment,
    release_duckdb,
)
from include.hourly.ledger import DuckDBLedger
from include.hourly.quality_gate import GateDecision, decide
from include.loaders import cdc, lake_files
from tests.integration.stream_fixtures import create_oltp_database, drop_oltp_database

HOUR = timedelta(hours=1)
FACT_CONTENT = ("event_id, content_hash, user_id, user_key, activity_id, activity_key, heart_rate, latitude, "
                "longitude, event_at, event_hour, folder_hour, age_band, is_valid, is_conflicting, is_orphan_user, "
                "is_orphan_activity")
"""The fact's content columns (its bookkeeping columns record when and in which order it was built)."""


def reading(n: int, user_id: int, timestamp: int, heart_rate: int = 80, activity_id: int = 20001,
            latitude: float = 48.85, longitude: float = 2.35) -> bytes:
    """One event in the producer's typed form, with a deterministic event id."""
    return encode(f"00000000-0000-4000-8000-{n:012d}", user_id, heart_rate, timestamp, activity_id, latitude,
                  longitude).encode()


@dataclass
class Warehouse:
    path: Path
    bucket: str
    topic: str
    oltp_dsn: str
    slot: str
    activity_ids: list[int] = field(default_factory=list)
    user_ids: list[int] = field(default_factory=list)
    runs: int = 0

    # --- the lake ----------------------------------------------------------
    def put(self, key: str, body: bytes, compress: bool = False) -> None:
        LakeSettings.from_env().s3_client().put_object(Bucket=self.bucket, Key=key,
                                                       Body=gzip.compress(body) if compress else body)

    def put_events(self, lines: Sequence[bytes], partition: int = 0, offset: int = 0, manifest: bool = True,
                   records: int | None = None, timestamp: int | None = None, extension: str = ".json") -> str:
        """One data object (named by the first line's event time, or `timestamp`) and, as the sink does, its
        manifest (`records` overrides the count it declares)."""
        stamp = timestamp if timestamp is not None else int(lines[0].split(b'"timestamp":')[1].split(b",")[0])
        key = object_key(self.topic, partition, offset, stamp, extension)
        self.put(key, b"\n".join(lines) + b"\n", compress=extension.endswith(".gz"))
        if manifest:
            count = len(lines) if records is None else records
            self.put(manifest_key(key), manifest_document(key, count, partition, offset, offset + len(lines) - 1))
        return key

    def delete(self, key: str) -> None:
        LakeSettings.from_env().s3_client().delete_object(Bucket=self.bucket, Key=key)

    def hour_of_readings(self, hour: datetime, count: int, first_id: int = 0, heart_rate: int = 80,
                         partition: int = 0) -> list[bytes]:
        """`count` valid readings spread over the hour, for the OLTP's users and its first activity."""
        start = int(hour.timestamp())
        return [reading(first_id + n, self.user_ids[n % len(self.user_ids)], start + (n * 3593) % 3600,
                        heart_rate + n % 20, self.activity_ids[n % len(self.activity_ids)]) for n in range(count)]

    # --- loading and transforming ----------------------------------------
    def load_lake(self) -> lake_files.LoadResult:
        return lake_files.load(LakeSettings.from_env().s3_client(), self.bucket, self.topic, self.path,
                               say=lambda _: None)

    def load_cdc(self) -> cdc.CdcResult:
        return cdc.load(self.oltp_dsn, self.path, slot=self.slot, say=lambda _: None)

    def dbt(self, *args: str, interval: tuple[datetime, datetime] | None = None) -> Any:
        """`dbt <args>` in-process on this warehouse; with an interval, in the environment as the DAG gives it
        (not dbt vars: a changed var re-parses the whole project, seconds every hour).

        The warehouse is named by its file name, from its own folder: dbt keeps its parse of the project only
        while the profile's connection settings stay the same, and every test's warehouse is `warehouse.duckdb`
        in a folder of its own, so one parse serves them all (a full parse ~3 s, a partial one ~0.4 s)."""
        from dbt.cli.main import dbtRunner

        hours = interval_environment(*interval) if interval else dict.fromkeys(INTERVAL_ENV, "")
        with _environment(HRS_WAREHOUSE_PATH=self.path.name, **hours), chdir(self.path.parent):
            try:
                result = dbtRunner().invoke(dbt_arguments(*args, "--quiet"))
            finally:
                release_duckdb("")
        failures = [r for r in (result.result or []) if str(getattr(r, "status", "")) in ("error", "fail")]
        assert result.success, f"dbt {' '.join(args)} failed: " + "; ".join(
            f"{r.node.name}: {r.message}" for r in failures) + f" {result.exception or ''}"
        return result

    def run_hour(self, hour: datetime, tests: bool = False, load: bool = True) -> GateDecision:
        """The DAG's steps for [hour, hour + 1h): load, transform, gate (publish and/or hold), serve."""
        self.runs += 1
        interval = (hour, hour + HOUR)
        if load:
            self.load_lake()
            self.load_cdc()
        # As the DAG builds each node (seeds included); its data tests only when asked (they double the time).
        skip_tests = [] if tests else ["--exclude", "resource_type:test"]
        self.dbt("build", "--select", *TRANSFORM_SELECT, *skip_tests, interval=interval)
        ledger = DuckDBLedger(self.path)
        decision = decide(ledger.checks_to_judge(*interval), interval_hours(*interval))
        run_id = f"test__{hour:%Y%m%dT%H}__{self.runs}"
        ledger.record_published(decision.publish, run_id)
        ledger.record_held(decision.held, run_id)
        if decision.publish:
            self.dbt("build", "--select", *SERVE_SELECT, *skip_tests, interval=interval)
        return decision

    # --- reading back -------------------------------------------------------
    def query(self, sql: str, *params: object) -> list[tuple]:
        with duckdb.connect(str(self.path), read_only=True) as conn:
            return conn.execute(sql, list(params)).fetchall()

    def fact_digest(self) -> tuple[int, str]:
        rows = self.query(f"select {FACT_CONTENT} from {FACT_HEART_RATES} order by event_id")
        return len(rows), hashlib.sha256(repr(rows).encode()).hexdigest()

    def marts_digest(self) -> dict[str, str]:
        digests = {}
        for mart in SERVING_MARTS:
            rows = sorted(self.query(f"select * from {mart.relation}"), key=repr)
            digests[mart.name] = hashlib.sha256(repr(rows).encode()).hexdigest()
        return digests

    def mart_readings(self) -> dict[str, int]:
        return {mart.name: int(self.query(f"select coalesce(sum(readings), 0) from {mart.relation}")[0][0])
                for mart in SERVING_MARTS}


@contextmanager
def _environment(**variables: str) -> Iterator[None]:
    saved = {name: os.environ.get(name) for name in variables}
    os.environ.update(variables)
    try:
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


@contextmanager
def private_warehouse(layout: EmbeddedLayout, folder: Path, users: int = 12, seed: int = 3) -> Iterator[Warehouse]:
    """A fresh OLTP database (snapshotted into the warehouse at once), bucket, topic name and DuckDB file."""
    dsn, slot = create_oltp_database(layout, users=users, seed=seed)
    name = f"wh-{uuid.uuid4().hex[:8]}"
    LakeSettings.from_env().s3_client().create_bucket(Bucket=name)
    warehouse = Warehouse(folder / "warehouse.duckdb", name, name, dsn, slot)
    import psycopg

    with psycopg.connect(dsn) as conn:
        warehouse.user_ids = [row[0] for row in conn.execute("select user_id from users order by 1")]
        warehouse.activity_ids = [row[0] for row in conn.execute("select activity_id from activities order by 1")]
    # Simulated history reaches the lake long after its event time: the freshness check allows it here.
    with _environment(**{FRESHNESS_LIMIT_VARIABLE: str(60 * 24 * 365 * 30)}):
        try:
            warehouse.load_cdc()
            yield warehouse
        finally:
            drop_oltp_database(layout, dsn, slot)


def hours_ago(count: int) -> datetime:
    return datetime.now(tz=UTC).replace(minute=0, second=0, microsecond=0) - count * HOUR


__all__ = ["HOUR", "Warehouse", "event_hour", "hours_ago", "private_warehouse", "reading"]

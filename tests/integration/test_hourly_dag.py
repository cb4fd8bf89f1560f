"""The hourly DAG end to end: the real DAG file run by `dag.test()` (`dev.dag_runs`) over the
embedded broker, S3, PostgreSQL and DuckDB, with dbt run in-process by Cosmos.

One private OLTP database, topic, bucket, warehouse and alerts folder for the
module; recent hours (so the freshness check passes as it would live):
- hours 1-2 publish: sensor, load, dbt, gate, serving marts and dashboard
  (opened in headless Chromium: every panel drawn, no console error);
- hour 3 gets a lake object of impossible readings: the gate holds, serving
  stays as it was, the run fails, the alert names the failing check;
- `airflow backfill create --dry-run` lists the runs a backfill would make, and
  hour 2 runs again after the held hour (what a backfill re-run does): it
  publishes, the facts and every serving mart stay identical, and the
  republished dashboard shows hour 3 as held. (An hour of its own, run twice,
  checked nothing more and cost two more `dag.test()` runs.)
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import duckdb
import pytest
import sqlalchemy

from dev.embedded.layout import EmbeddedLayout
from include.contracts.lake_layout import object_key, parse_key
from include.contracts.paths import PROJECT_ROOT
from include.contracts.serving_marts import SERVING_MARTS
from include.contracts.settings import FRESHNESS_LIMIT_VARIABLE, LakeSettings
from tests.integration.browser import render
from tests.integration.stream_fixtures import Stream, create_oltp_database, drop_oltp_database, lake_objects

pytestmark = pytest.mark.e2e

USERS = 80
HOUR = timedelta(hours=1)
BAD_SHARE = 0.25  # of the hour's readings: far over dq_max_invalid_rate (5%)


@dataclass
class Pipeline:
    stream: Stream
    env: dict[str, str]
    warehouse: Path
    alerts: Path
    dashboard: Path
    hours: list[datetime]
    logs: Path

    def produce(self, first: datetime, count: int) -> None:
        end = (first + count * HOUR).isoformat()
        result = self.stream.cli("produce", "--hours", str(count), "--end", end, "--seed", "3", **self._oltp())
        assert result.returncode == 0, result.stdout + result.stderr
        sink = self.stream.cli("sink", "--group", self.stream.group, "--until-idle", "2")
        assert sink.returncode == 0, sink.stdout + sink.stderr

    def _oltp(self) -> dict[str, str]:
        return {"OLTP_DSN": self.env["OLTP_DSN"]}

    def run(self, first: datetime, count: int) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "dev.dag_runs", "--from", first.isoformat(),
             "--to", (first + count * HOUR).isoformat(), "--log", str(self.logs)],
            cwd=PROJECT_ROOT, env=self.env, capture_output=True, text=True, timeout=900, check=False,
        )

    def query(self, sql: str) -> list[tuple]:
        with duckdb.connect(str(self.warehouse), read_only=True) as conn:
            return conn.execute(sql).fetchall()

    def airflow_runs(self) -> list[tuple[datetime, datetime, datetime]]:
        """(logical date, data interval start, end) of the DAG's runs in Airflow's metadata database."""
        engine = sqlalchemy.create_engine(self.env["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"])
        try:
            with engine.connect() as connection:
                return [tuple(value.astimezone(UTC) for value in row) for row in connection.execute(sqlalchemy.text(
                    "select logical_date, data_interval_start, data_interval_end from dag_run "
                    "where dag_id = 'heart_rate_hourly' order by logical_date"))]
        finally:
            engine.dispose()

    def serving_snapshot(self) -> dict[str, list[tuple]]:
        return {mart.name: sorted(self.query(f"select * from {mart.relation}"), key=repr)
                for mart in SERVING_MARTS}


@pytest.fixture(scope="module")
def pipeline(embedded: EmbeddedLayout, seeded_oltp: str,
             tmp_path_factory: pytest.TempPathFactory) -> Iterator[Pipeline]:
    dsn, slot = create_oltp_database(embedded, users=USERS, seed=9)
    name = f"dag-{uuid.uuid4().hex[:8]}"
    LakeSettings.from_env().s3_client().create_bucket(Bucket=name)
    folder = tmp_path_factory.mktemp("dag")
    env = {**os.environ, "HRS_TOPIC": name, "HRS_LAKE_BUCKET": name, "OLTP_DSN": dsn, "HRS_CDC_SLOT": slot,
           # Hours of readings are produced at once, hours after their event time: freshness must allow it.
           FRESHNESS_LIMIT_VARIABLE: str(24 * 60),
           "HRS_WAREHOUSE_PATH": str(folder / "warehouse.duckdb"), "HRS_DASHBOARD_DIR": str(folder / "dashboard"),
           "HRS_LOCAL_DIR": str(folder), "AIRFLOW_HOME": str(folder / "airflow")}
    now = datetime.now(tz=UTC).replace(minute=0, second=0, microsecond=0)
    hours = [now - (6 - index) * HOUR for index in range(4)]
    yield Pipeline(Stream(topic=name, bucket=name, group=f"sink-{name}"), env, folder / "warehouse.duckdb",
                   folder / "alerts.jsonl", folder / "dashboard" / "index.html", hours, folder / "dag_runs.log")
    drop_oltp_database(embedded, dsn, slot)


def outcomes(stdout: str) -> list[tuple[str, str]]:
    """(state, outcome) of each run, from the runner's summary."""
    summary = stdout.split("summary:\n", 1)[1].splitlines()
    return [tuple(line.split()[3:5]) for line in summary if line.strip()]


def _lines_per_hour(bucket: str) -> dict[datetime, int]:
    counts: dict[datetime, int] = {}
    for key, body in lake_objects(bucket).items():
        hour = parse_key(key).hour
        counts[hour] = counts.get(hour, 0) + len(body.splitlines())
    return counts


def test_two_hours_publish_the_serving_marts(pipeline: Pipeline) -> None:
    first = pipeline.hours[0]
    pipeline.produce(first, 2)
    result = pipeline.run(first, 2)
    assert result.returncode == 0, result.stdout + result.stderr + pipeline.logs.read_text()[-6000:]
    assert outcomes(result.stdout) == [("success", "published")] * 2, result.stdout

    produced = _lines_per_hour(pipeline.stream.bucket)
    assert set(produced) == {first, first + HOUR}
    # Every reading is valid and has its user and activity: each one is counted once in every mart.
    assert pipeline.query("select sum(readings) from serving.heart_rate_by_activity_and_sex") == [
        (sum(produced.values()),)]
    by_hour = dict(pipeline.query("select event_hour, readings from quality.dq_hourly where passed"))
    assert {hour.astimezone(UTC): n for hour, n in by_hour.items()} == produced
    for mart, rows in pipeline.serving_snapshot().items():
        assert rows, f"serving.{mart} is empty"
    # The local serving refresh rebuilt the dashboard.
    assert pipeline.dashboard.exists()
    assert not pipeline.alerts.exists()
    # Each hour's run is the run the scheduler (and `airflow backfill create`) would make for that hour: logical
    # date = the interval's start. So `make airflow` after a demo skips exactly the hours run, not the next one.
    runs = {run[1]: run for run in pipeline.airflow_runs()}
    assert [runs[hour] for hour in (first, first + HOUR)] == [(first, first, first + HOUR),
                                                               (first + HOUR, first + HOUR, first + 2 * HOUR)]


PANELS = ("freshness", "q1", "q2", "q3", "q4", "q5", "quality")


def test_the_published_dashboard_draws_every_panel_in_a_browser(pipeline: Pipeline) -> None:
    page = render(pipeline.dashboard)
    assert 'data-rendered="true"' in page.dom, page.dom[-2000:]
    for panel in PANELS:
        marks = re.search(rf"data-panel=\"{panel}\"[^>]*data-marks=\"(\d+)\"", page.dom)
        assert marks and int(marks[1]) > 0, f"panel {panel} drew nothing"
    assert '<pre id="page-errors" hidden=""></pre>' in page.dom
    assert page.console == []


def test_an_hour_of_bad_data_is_held_and_pages_on_call(pipeline: Pipeline) -> None:
    hour = pipeline.hours[2]
    pipeline.produce(hour, 1)
    start = int(hour.timestamp())
    bad_readings = int(_lines_per_hour(pipeline.stream.bucket)[hour] * BAD_SHARE)
    bad = "\n".join(json.dumps({"event_id": str(uuid.uuid4()), "user_id": 10001, "heart_rate": 999,
                                "timestamp": start + n % 3600, "meta": {"activity_id": 20001,
                                "location": {"latitude": 10.0, "longitude": 10.0}}}) for n in range(bad_readings))
    LakeSettings.from_env(pipeline.env).s3_client().put_object(
        Bucket=pipeline.stream.bucket, Key=object_key(pipeline.stream.topic, 99, 0, start), Body=bad.encode())
    before = pipeline.serving_snapshot()

    result = pipeline.run(hour, 1)

    assert result.returncode == 1, result.stdout + result.stderr
    assert outcomes(result.stdout) == [("failed", "held")], result.stdout
    assert pipeline.serving_snapshot() == before
    assert pipeline.query(f"select passed, failing_checks from quality.dq_hourly "
                          f"where event_hour = '{hour.isoformat()}'") == [(False, "invalid")]
    alerts = [json.loads(line) for line in pipeline.alerts.read_text().splitlines()]
    assert [(a["dag_id"], a["task_id"]) for a in alerts] == [("heart_rate_hourly", "hold")]
    alert = alerts[0]
    assert alert["interval_start"].startswith(hour.strftime("%Y-%m-%dT%H:00:00"))
    assert "failing checks: invalid" in alert["failing_check"]
    assert alert["log_url"].endswith("/tasks/hold?try_number=1")
    assert "heart_rate_hourly.hold failed" in alert["text"]


def test_backfill_lists_the_runs_and_a_rerun_is_idempotent(pipeline: Pipeline) -> None:
    first = pipeline.hours[3]
    dry_run = subprocess.run(
        [str(Path(sys.executable).with_name("airflow")), "backfill", "create", "--dag-id", "heart_rate_hourly",
         "--from-date", first.isoformat(), "--to-date", (first + HOUR).isoformat(),
         "--reprocess-behavior", "completed", "--dry-run"],
        cwd=PROJECT_ROOT, env=pipeline.env, capture_output=True, text=True, timeout=300, check=False)
    assert dry_run.returncode == 0, dry_run.stdout + dry_run.stderr
    listed = [line.split("|")[1].strip() for line in dry_run.stdout.splitlines() if line.startswith("| 20")]
    assert listed == [f"{first + n * HOUR:%Y-%m-%d %H:%M:%S}+00:00" for n in range(2)]

    fact_hash = ("select count(*), count(distinct event_id), "
                 "bit_xor(hash(event_id, user_key, activity_key, heart_rate, event_at, is_valid)) "
                 "from core.fct_heart_rates")
    before, serving_before = pipeline.query(fact_hash), pipeline.serving_snapshot()
    rerun = pipeline.hours[1]  # published by the first test, before the held hour
    again = pipeline.run(rerun, 1)
    assert again.returncode == 0, again.stdout + again.stderr
    assert outcomes(again.stdout) == [("success", "published")], again.stdout

    rows, distinct, _ = before[0]
    assert rows == distinct  # no duplicates
    assert rows == sum(_lines_per_hour(pipeline.stream.bucket).values())  # nothing lost, bad lines included
    assert pipeline.query(fact_hash) == before
    assert pipeline.serving_snapshot() == serving_before  # the held hour stays out; the rerun hour counts once
    # The dashboard republished by the rerun shows the held hour in its quality panel.
    held_hour = pipeline.hours[2]
    assert f"{held_hour:%Y-%m-%d %H:00} (invalid)" in pipeline.dashboard.read_text()

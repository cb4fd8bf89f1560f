"""The dbt project on data from the real loaders: SCD2 history, as-of joins, idempotent hourly rebuilds."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import duckdb
import pytest

from include.contracts.heart_rate_event import encode
from include.contracts.lake_layout import interval_hours, object_key
from include.contracts.settings import LakeSettings
from include.hourly.dbt_task_groups import interval_environment
from include.hourly.ledger import DuckDBLedger
from include.hourly.quality_gate import decide
from include.loaders import cdc, lake_files
from producer import oltp
from tests.integration.dbt_helpers import run_dbt
from tests.integration.stream_fixtures import Stream

pytestmark = pytest.mark.integration


def _reading(n: int, user_id: int, timestamp: int, heart_rate: int = 80) -> bytes:
    return encode(f"00000000-0000-4000-8000-{n:012d}", user_id, heart_rate, timestamp, 20001, 48.85, 2.35).encode()


def _put_lake(stream: Stream, partition: int, start: int, lines: list[bytes]) -> None:
    key = object_key(stream.topic, partition, start, int(lines[0].split(b'"timestamp":')[1].split(b",")[0]))
    LakeSettings.from_env().s3_client().put_object(Bucket=stream.bucket, Key=key, Body=b"\n".join(lines) + b"\n")


def _load(stream: Stream, warehouse: Path, dsn: str | None = None, slot: str | None = None) -> None:
    lake_files.load(LakeSettings.from_env().s3_client(), stream.bucket, stream.topic, warehouse, say=lambda _: None)
    if dsn:
        cdc.load(dsn, warehouse, slot=slot, say=lambda _: None)


def _build(warehouse: Path, *args: str) -> None:
    result = run_dbt("build", *args, warehouse=warehouse)
    assert result.returncode == 0, result.stdout[-4000:]


def _query(warehouse: Path, sql: str, *params: object) -> list[tuple]:
    with duckdb.connect(str(warehouse), read_only=True) as conn:
        return conn.execute(sql, list(params)).fetchall()



def test_scripted_user_history_gives_exact_versions_and_as_of_joins(
        stream: Stream, oltp_db: tuple[str, str], tmp_path: Path) -> None:
    dsn, slot = oltp_db
    warehouse = tmp_path / "warehouse.duckdb"
    cdc.load(dsn, warehouse, slot=slot, say=lambda _: None)  # snapshot of the seeded users

    with oltp.connect(dsn) as conn:
        conn.execute("insert into users select 99001, first_name, last_name, date_of_birth, sex, 170.0, 70.0, "
                     "blood_type, race, origin_country_code, origin_country_name, address, address_country_code, "
                     "address_country_name from users where user_id = 10001")
        time.sleep(1.1)
        weight_changed = datetime.now(tz=UTC)
        conn.execute("update users set weight = 85.0 where user_id = 99001")
        time.sleep(1.1)
        conn.execute("update users set address_country_code = 'PT', address_country_name = 'Portugal' "
                     "where user_id = 99001")
        time.sleep(1.1)
        conn.execute("delete from users where user_id = 99001")
    before = int(weight_changed.timestamp()) - 1
    after = int(weight_changed.timestamp()) + 1
    _put_lake(stream, 0, 0, [_reading(1, 99001, before), _reading(2, 99001, after)])
    _load(stream, warehouse, dsn, slot)
    _build(warehouse)

    versions = _query(warehouse, "select user_key, weight_kg, country_code, valid_from, valid_to, is_current, "
                                 "is_deleted from core.dim_users where user_id = 99001 order by valid_from")
    assert len(versions) == 3
    (k1, w1, c1, f1, t1, cur1, del1), (k2, w2, c2, f2, t2, cur2, del2), (k3, w3, c3, f3, t3, cur3, del3) = versions
    assert (w1, w2, w3) == (70.0, 85.0, 85.0)
    assert c3 == "PT" and c2 == c1
    assert f1.year == 1900  # the first known version is open-ended
    assert t1 == f2 and t2 == f3 and t3 is not None  # each version ends where the next begins; the delete ends the last
    assert abs((f2 - weight_changed).total_seconds()) < 1.0
    assert (cur1, cur2, cur3) == (False, False, False)
    assert (del1, del2, del3) == (False, False, True)  # only the version the delete closed is marked

    joined = _query(warehouse, "select f.event_at, u.weight_kg, f.user_key from core.fct_heart_rates f "
                               "join core.dim_users u using (user_key) where f.user_id = 99001 order by f.event_at")
    assert [(row[1], row[2]) for row in joined] == [(70.0, k1), (85.0, k2)]  # old weight before, new after

    _build(warehouse, "--full-refresh")  # keys are stable: rebuilding gives the same keys
    assert [row[0] for row in _query(warehouse, "select user_key from core.dim_users where user_id = 99001 "
                                                "order by valid_from")] == [k1, k2, k3]

    docs = run_dbt("docs", "generate", "--target-path", str(tmp_path / "docs"), warehouse=warehouse)
    assert docs.returncode == 0, docs.stdout[-3000:]
    catalog = (tmp_path / "docs" / "catalog.json").read_text()
    assert "dim_users" in catalog and "heart_rate_by_activity_and_sex" in catalog


HOUR_HASH = ("select count(*), md5(string_agg(event_id || '|' || heart_rate || '|' || coalesce(user_key, '-'), ',' "
             "order by event_id)) from core.fct_heart_rates where event_hour = cast(? as timestamptz)")


def test_rerunning_an_interval_is_identical_and_late_rows_land_in_their_hour(
        stream: Stream, oltp_db: tuple[str, str], tmp_path: Path) -> None:
    dsn, slot = oltp_db
    warehouse = tmp_path / "warehouse.duckdb"
    h0 = datetime(2026, 3, 1, 10, tzinfo=UTC)
    h1 = h0 + timedelta(hours=1)
    first = [_reading(n, 10001 + n % 20, int(h0.timestamp()) + n * 7, 70 + n % 30) for n in range(300)]
    second = [_reading(1000 + n, 10001 + n % 20, int(h1.timestamp()) + n * 7, 90) for n in range(200)]
    _put_lake(stream, 0, 0, first)
    _put_lake(stream, 1, 0, second)
    _load(stream, warehouse, dsn, slot)

    def run_interval(start: datetime) -> None:
        end = start + timedelta(hours=1)
        result = run_dbt("run", "--select", "+fct_heart_rates", warehouse=warehouse,
                         **interval_environment(start, end))
        assert result.returncode == 0, result.stdout[-4000:]

    _build(warehouse)
    # The gate reads dq_hourly for the interval: March readings loaded today are not fresh, and activity 20001
    # does not exist in this OLTP (its activity ids are drawn per seed), so every reading is an orphan.
    end = h1 + timedelta(hours=1)
    decision = decide(DuckDBLedger(warehouse).checks_to_judge(h0, end), interval_hours(h0, end))
    assert not decision.publish and decision.failing_checks == ["orphans", "freshness"]
    once = _query(warehouse, HOUR_HASH, h0.isoformat())
    run_interval(h0)
    run_interval(h0)
    assert _query(warehouse, HOUR_HASH, h0.isoformat()) == once
    assert once[0][0] == 300
    assert _query(warehouse, "select count(*), count(distinct event_id) from core.fct_heart_rates") == [(500, 500)]

    # Late rows for h0 arrive while h1's run happens: they appear, h0's other rows are untouched.
    late = [_reading(5000 + n, 10002, int(h0.timestamp()) + 3000 + n, 111) for n in range(25)]
    _put_lake(stream, 2, 0, late)
    _load(stream, warehouse)
    run_interval(h1)
    assert _query(warehouse, "select count(*) from core.fct_heart_rates where event_hour = cast(? as timestamptz)",
                  h0.isoformat()) == [(325,)]
    assert _query(warehouse, "select count(*) from core.fct_heart_rates where heart_rate = 111") == [(25,)]

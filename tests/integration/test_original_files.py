"""The original system's users.csv and activities.csv, imported into a fresh OLTP with the producer's own
command, feed the whole pipeline: readings produced for those people and activities reach the fact table
as valid readings joined to the right user and activity versions (no orphans)."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import psycopg
import pytest

from dev.embedded.layout import EmbeddedLayout
from include.contracts.settings import FRESHNESS_LIMIT_VARIABLE, LakeSettings
from include.contracts.warehouse_relations import FACT_HEART_RATES
from tests.integration.stream_fixtures import Stream
from tests.integration.warehouse_harness import HOUR, Warehouse

pytestmark = pytest.mark.integration

USERS_CSV = """userid,fname,lname,dob,sex,height,weight,blood_type,race,origin_country_code,origin_country_name,\
address,address_country_code,address_country_name,last_update
{rows}"""
ACTIVITIES = {20890: "Yoga", 20123: "Outdoor Run", 20555: "Indoor Cycle", 20017: "Outdoor Walk"}


def _user_row(user_id: int, dob: int = 19700101) -> str:
    sex = "F" if user_id % 2 else "M"
    return (f'{user_id},First{user_id},Last{user_id},{dob},{sex},{160 + user_id % 30}.0,{60 + user_id % 25}.5,O+,'
            f'Asian,JP,Japan,"{user_id} Sakura St, Tokyo",JP,Japan,2019-05-01 10:00:00')


@pytest.fixture()
def empty_oltp(embedded: EmbeddedLayout, seeded_oltp: str) -> Iterator[str]:
    name = f"orig_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(embedded.oltp_dsn("postgres"), autocommit=True) as admin:
        admin.execute(f'create database "{name}"')
    yield embedded.oltp_dsn(name)
    with psycopg.connect(embedded.oltp_dsn("postgres"), autocommit=True) as admin:
        admin.execute("select pg_drop_replication_slot(slot_name) from pg_replication_slots where database = %s",
                      (name,))
        admin.execute(f'drop database "{name}"')


def test_original_csv_files_feed_the_pipeline_without_orphans(empty_oltp: str, tmp_path: Path,
                                                            monkeypatch: pytest.MonkeyPatch) -> None:
    user_ids = list(range(501, 509))
    users_csv, activities_csv = tmp_path / "users.csv", tmp_path / "activities.csv"
    users_csv.write_text(USERS_CSV.format(rows="\n".join(_user_row(user_id) for user_id in user_ids)) + "\n")
    activities_csv.write_text("activity_id,activity_name,last_update\n"
                              + "".join(f"{key},{name},2019-05-01\n" for key, name in ACTIVITIES.items()))
    name = f"orig-{uuid.uuid4().hex[:8]}"
    stream = Stream(topic=name, bucket=name, group=f"sink-{name}")
    LakeSettings.from_env().s3_client().create_bucket(Bucket=name)

    seeded = stream.cli("seed-oltp", "--import-csv", str(users_csv), "--import-activities-csv", str(activities_csv),
                        OLTP_DSN=empty_oltp)
    assert seeded.returncode == 0, seeded.stderr
    assert "8 new users (0 already there), 4 new activities" in seeded.stdout + seeded.stderr
    # The same people again are fine; one of them with another birth date is refused, and nothing changes.
    again = stream.cli("seed-oltp", "--import-csv", str(users_csv), OLTP_DSN=empty_oltp)
    assert again.returncode == 0, again.stderr
    users_csv.write_text(users_csv.read_text().replace("503,First503,Last503,19700101",
                                                       "503,First503,Last503,19800101"))
    clash = stream.cli("seed-oltp", "--import-csv", str(users_csv), OLTP_DSN=empty_oltp)
    assert clash.returncode == 2
    assert clash.stderr.strip().startswith("error: user 503 already exist in the OLTP with other values")

    slot = f"slot_{name.replace('-', '_')}"
    with psycopg.connect(empty_oltp, autocommit=True) as conn:
        conn.execute("select pg_create_logical_replication_slot(%s, 'pgoutput')", (slot,))
    # Every user lives in Tokyo: an evening hour there (09:00 UTC, 18:00 local), not one that depends on when
    # the suite runs (at 15:00 UTC it is past midnight in Tokyo, and 8 users may not exercise at all).
    hour = datetime.now(tz=UTC).replace(minute=0, second=0, microsecond=0) - 3 * HOUR
    while hour.hour != 9:
        hour -= HOUR
    produced = stream.cli("produce", "--hours", "1", "--end", (hour + HOUR).isoformat(), "--seed", "5",
                          "--sessions-per-user-hour", "2", OLTP_DSN=empty_oltp)
    assert produced.returncode == 0, produced.stderr
    sunk = stream.cli("sink", "--group", stream.group, "--until-idle", "2")
    assert sunk.returncode == 0, sunk.stderr

    monkeypatch.setenv(FRESHNESS_LIMIT_VARIABLE, str(60 * 48))
    warehouse = Warehouse(tmp_path / "warehouse.duckdb", name, name, empty_oltp, slot,
                          activity_ids=list(ACTIVITIES), user_ids=user_ids)
    warehouse.load_cdc()
    warehouse.run_hour(hour)
    facts = warehouse.query(f"select user_id, activity_id, is_valid, is_orphan_user, is_orphan_activity, age_band "
                            f"from {FACT_HEART_RATES} where event_hour = ?", hour)
    assert len(facts) > 50
    assert {row[0] for row in facts} <= set(user_ids) and {row[1] for row in facts} <= set(ACTIVITIES)
    assert all(valid and not orphan_user and not orphan_activity for _, _, valid, orphan_user, orphan_activity, _
               in facts)
    age = (hour - datetime(1970, 1, 1, tzinfo=UTC)) / timedelta(days=365.25)  # every user was born 1970-01-01
    assert {row[5] for row in facts} == {"50-59" if 50 <= age < 60 else "60-69"}

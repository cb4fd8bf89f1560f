"""Serving shows only what the gate published, and the warehouse stays exact whatever arrives and in what order.

Each test builds a warehouse of its own from real lake objects (moto S3), real CDC (PostgreSQL pgoutput),
the embedded loaders, dbt and the gate's own decision and ledger (tests/integration/warehouse_harness.py).
"""

from __future__ import annotations

import json
import os
import random
import re
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import duckdb
import psycopg
import pytest

from dev.dbt_cli import dbt_target_dir
from dev.embedded.layout import EmbeddedLayout
from include.contracts.heart_rate_event import encode
from include.contracts.lake_layout import dead_letter_document, dead_letter_key, manifest_key, object_key
from include.contracts.raw_schema import HEART_RATE_MANIFESTS, HEART_RATE_STREAM, relation
from include.contracts.serving_marts import SERVING_MARTS
from include.contracts.settings import FRESHNESS_LIMIT_VARIABLE
from include.contracts.warehouse_relations import DQ_HOURLY, FACT_HEART_RATES, HELD_HOURS, PUBLISHED_HOURS
from include.loaders import lake_files
from include.warehouse import writer
from tests.integration.warehouse_harness import HOUR, Warehouse, hours_ago, private_warehouse, reading

pytestmark = pytest.mark.integration


@pytest.fixture()
def warehouse(embedded: EmbeddedLayout, seeded_oltp: str, tmp_path: Path) -> Iterator[Warehouse]:
    with private_warehouse(embedded, tmp_path) as built:
        yield built


def _with(line: bytes, **changes: object) -> bytes:
    """The same event (same id) with other content."""
    event = json.loads(line)
    meta = event["meta"]
    values = {"heart_rate": event["heart_rate"], "timestamp": event["timestamp"],
              "activity_id": meta["activity_id"], **changes}
    return encode(event["event_id"], event["user_id"], values["heart_rate"], values["timestamp"],
                  values["activity_id"], meta["location"]["latitude"], meta["location"]["longitude"]).encode()


def _valid_readings(warehouse: Warehouse, *hours: datetime) -> int:
    marks = ", ".join("?" for _ in hours)
    return warehouse.query(f"select count(*) from {FACT_HEART_RATES} where event_hour in ({marks}) "
                           "and is_valid and not is_orphan_user and not is_orphan_activity "
                           "and not is_conflicting", *hours)[0][0]


def _published(decision: object) -> list[datetime]:
    return [hour.event_hour for hour in decision.publish]


def _held(decision: object) -> list[datetime]:
    return [hour.event_hour for hour in decision.held]


def _check(warehouse: Warehouse, hour: datetime, *columns: str) -> tuple:
    return warehouse.query(f"select {', '.join(columns)} from {DQ_HOURLY} where event_hour = ?", hour)[0]


def test_a_held_hour_never_reaches_serving_and_publishes_once_fixed(warehouse: Warehouse) -> None:
    h, h1, h2 = hours_ago(4), hours_ago(3), hours_ago(2)
    readings_h = warehouse.hour_of_readings(h, 240)
    warehouse.put_events(readings_h)
    # The same event id re-sent with other content, in another object of the same hour.
    bad_key = warehouse.put_events([_with(readings_h[7], heart_rate=199)], partition=1, offset=500)
    warehouse.put_events(warehouse.hour_of_readings(h1, 240, first_id=10_000), offset=240)
    warehouse.put_events(warehouse.hour_of_readings(h2, 240, first_id=20_000), offset=480)  # loaded, never run

    held = warehouse.run_hour(h)
    assert _held(held) == [h] and _published(held) == []
    (hour,) = held.held
    assert "conflicts" in hour.failing_checks
    assert "conflicts: 1 event ids re-sent with other content" in hour.details
    assert f"{object_key(warehouse.topic, 0, 0, int(h.timestamp()))} vs {bad_key}" in hour.details

    published = warehouse.run_hour(h1)
    assert _published(published) == [h1] and _held(published) == []  # the unchanged held hour is not judged again
    expected = _valid_readings(warehouse, h1)
    assert expected == 240
    assert warehouse.mart_readings() == {mart.name: expected for mart in SERVING_MARTS}
    assert warehouse.query(f"select distinct event_hour from {PUBLISHED_HOURS}") == [(h1,)]

    # The fix: the operator removes the wrong version from the lake and from raw, then re-runs the hour.
    warehouse.delete(bad_key)
    warehouse.delete(manifest_key(bad_key))
    with writer(warehouse.path) as conn:
        conn.execute(f"delete from {relation(HEART_RATE_STREAM)} where _ab_source_file_url = ?", [bad_key])
        conn.execute(f"delete from {relation(HEART_RATE_MANIFESTS)} where object_key = ?", [bad_key])
    fixed = warehouse.run_hour(h, tests=True)
    assert _published(fixed) == [h] and _held(fixed) == [], [hour.details for hour in fixed.held]
    both = _valid_readings(warehouse, h, h1)
    assert both == 480
    assert warehouse.mart_readings() == {mart.name: both for mart in SERVING_MARTS}
    assert warehouse.query(f"select count(*) from {HELD_HOURS} where event_hour = ?", h) == [(1,)]


def test_a_late_hour_goes_through_the_gate_before_serving(warehouse: Warehouse) -> None:
    h0, h1 = hours_ago(5), hours_ago(4)
    warehouse.put_events(warehouse.hour_of_readings(h0, 200))
    warehouse.put_events(warehouse.hour_of_readings(h1, 200, first_id=5000), offset=200)
    assert _published(warehouse.run_hour(h0)) == [h0]
    assert _published(warehouse.run_hour(h1)) == [h1]
    before = warehouse.mart_readings()

    # Late readings for h0, one of them invalid beyond the threshold, arrive during h1's re-run.
    late = [reading(9000 + n, warehouse.user_ids[0], int(h0.timestamp()) + 3000 + n, 999 if n < 30 else 75,
                    warehouse.activity_ids[0]) for n in range(40)]
    warehouse.put_events(late, partition=2, offset=0)
    decision = warehouse.run_hour(h1)
    assert _published(decision) == [h1] and _held(decision) == [h0]
    assert decision.held[0].failing_checks == ("invalid",)
    assert warehouse.mart_readings() == before  # h0's published version stays; the late data never leaks


def test_bad_values_never_halt_and_count_in_their_folder_hour(warehouse: Warehouse) -> None:
    h = hours_ago(3)
    start = int(h.timestamp())
    good = warehouse.hour_of_readings(h, 60)
    line = good[0].decode()
    bad = [
        line.replace('"heart_rate":80', '"heart_rate":"n/a"').replace("-000000000000", "-900000000001"),
        line.replace(f'"timestamp":{start}', '"timestamp":"abc"').replace("-000000000000", "-900000000002"),
        line.replace(f'"timestamp":{start}', f'"timestamp":{start * 1000}').replace("-000000000000", "-900000000003"),
        line.replace(f'"timestamp":{start}', '"timestamp":86400').replace("-000000000000", "-900000000004"),
        line.replace(f'"timestamp":{start}', f'"timestamp":{start + 2 * 86400}')
            .replace("-000000000000", "-900000000005"),
        line.replace('"user_id":', '"user_id":"ten thousand", "was":').replace("-000000000000", "-900000000006"),
    ]
    warehouse.put_events(good + [b.encode() for b in bad], timestamp=start)

    decision = warehouse.run_hour(h, tests=True)  # no conversion error, no failing test
    assert _held(decision) == [h] and decision.held[0].failing_checks == ("invalid",)
    assert _check(warehouse, h, "readings", "invalid_readings") == (66, 6)
    invalid = warehouse.query(f"select event_id, event_hour, event_at, is_valid from {FACT_HEART_RATES} "
                              "where not is_valid order by event_id")
    assert [row[0][-2:] for row in invalid] == ["01", "02", "03", "04", "05", "06"]
    assert all(row[1] == h for row in invalid)  # unusable times count in the folder's hour, never a far one
    assert [row[2] is None for row in invalid] == [False, True, True, True, False, False]
    warehouse.dbt("build", "--full-refresh", "--select", "stg_heart_rates+", "--exclude", "path:models/serving")


def test_an_event_whose_time_changed_is_one_reading_and_holds_both_hours(warehouse: Warehouse) -> None:
    h0, h1 = hours_ago(4), hours_ago(3)
    first = warehouse.hour_of_readings(h0, 50)
    warehouse.put_events(first)
    assert _published(warehouse.run_hour(h0)) == [h0]
    moved = _with(first[3], timestamp=int(h1.timestamp()) + 100)
    warehouse.put_events([*warehouse.hour_of_readings(h1, 50, first_id=500), moved], offset=50,
                         timestamp=int(h1.timestamp()))
    decision = warehouse.run_hour(h1, tests=True)  # the fact's unique test on event_id holds
    assert sorted(_held(decision)) == [h0, h1]
    event_id = json.loads(first[3])["event_id"]
    assert warehouse.query(f"select count(*), bool_and(is_conflicting) from {FACT_HEART_RATES} "
                           "where event_id = ?", event_id) == [(1, True)]
    assert warehouse.query(f"select count(*) from {FACT_HEART_RATES}") == [(100,)]


def test_late_oltp_changes_rebuild_the_hours_they_cover(warehouse: Warehouse) -> None:
    h = hours_ago(3)
    with psycopg.connect(warehouse.oltp_dsn, autocommit=True) as conn:  # a user the warehouse has not seen yet
        conn.execute("insert into users select 99001, first_name, last_name, date_of_birth, sex, height, weight, "
                     "blood_type, race, origin_country_code, origin_country_name, address, address_country_code, "
                     "address_country_name from users where user_id = %s", (warehouse.user_ids[0],))
    readings = warehouse.hour_of_readings(h, 40) + [
        reading(7000 + n, 99001, int(h.timestamp()) + 60 * n, 90, warehouse.activity_ids[0]) for n in range(20)]
    warehouse.put_events(readings, timestamp=int(h.timestamp()))
    warehouse.load_lake()  # the readings arrive, the user's CDC row has not
    decision = warehouse.run_hour(h, load=False)
    assert _held(decision) == [h] and decision.held[0].failing_checks == ("orphans",)

    warehouse.load_cdc()  # now it has: its first version covers all time, so the hour is rebuilt and re-judged
    decision = warehouse.run_hour(hours_ago(2), load=False)
    assert _published(decision) == [h]
    assert warehouse.query(f"select count(*) from {FACT_HEART_RATES} where user_id = 99001 "
                           "and user_key is not null") == [(20,)]
    incremental = warehouse.fact_digest()
    warehouse.dbt("build", "--full-refresh", "--select", "stg_heart_rates+", "--exclude", "path:models/serving",
                  "resource_type:test")
    assert warehouse.fact_digest() == incremental


def test_readings_after_a_users_deletion_are_orphans_even_when_the_delete_loads_late(warehouse: Warehouse) -> None:
    user = warehouse.user_ids[1]
    with psycopg.connect(warehouse.oltp_dsn, autocommit=True) as conn:
        conn.execute("delete from users where user_id = %s", (user,))
    deleted_at = int(time.time()) + 2
    time.sleep(3)
    h = datetime.fromtimestamp(deleted_at - deleted_at % 3600, tz=UTC)
    after = [reading(8000 + n, user, deleted_at + n, 80, warehouse.activity_ids[0]) for n in range(5)]
    before = [reading(8100 + n, user, int(h.timestamp()) + n, 80, warehouse.activity_ids[0]) for n in range(5)]
    warehouse.put_events(before + after, timestamp=int(h.timestamp()))
    warehouse.load_lake()
    warehouse.run_hour(h, load=False)
    assert warehouse.query(f"select count(*) from {FACT_HEART_RATES} where user_id = ? and is_orphan_user",
                           user) == [(0,)]  # built before the delete was loaded
    warehouse.load_cdc()
    warehouse.run_hour(h, load=False)
    assert warehouse.query(f"select count(*) from {FACT_HEART_RATES} where user_id = ? and is_orphan_user",
                           user) == [(5,)]


def test_scd2_survives_two_updates_in_one_transaction_and_a_delete_then_reinsert(warehouse: Warehouse) -> None:
    user = warehouse.user_ids[2]
    with psycopg.connect(warehouse.oltp_dsn) as conn:
        with conn.transaction():
            conn.execute("update users set weight = 81 where user_id = %s", (user,))
            conn.execute("update users set weight = 82 where user_id = %s", (user,))
        conn.commit()
        time.sleep(0.2)
        with conn.transaction():
            copy = conn.execute("select * from users where user_id = %s", (user,)).fetchone()
            conn.execute("delete from users where user_id = %s", (user,))
        conn.commit()
        time.sleep(0.2)
        columns = [c.name for c in conn.execute("select * from users limit 0").description][:-1]
        conn.execute(f"insert into users ({', '.join(columns)}) values ({', '.join(['%s'] * len(columns))})",
                     copy[:-1])
        conn.commit()
    warehouse.load_cdc()
    warehouse.dbt("build", "--select", "+dim_users")  # scd2_valid included
    versions = warehouse.query("select weight_kg, valid_from, valid_to, is_deleted, is_current from core.dim_users "
                               "where user_id = ? order by valid_from", user)
    assert [(v[0], v[3], v[4]) for v in versions] == [(versions[0][0], False, False), (82.0, True, False),
                                                     (82.0, False, True)]
    assert versions[0][2] == versions[1][1]  # the two updates are one version, right after the first
    assert versions[1][2] < versions[2][1]  # the gap between the delete and the re-insert


def test_the_scd2_test_still_fails_on_an_overlap(warehouse: Warehouse) -> None:
    with psycopg.connect(warehouse.oltp_dsn, autocommit=True) as conn:  # a second version for one user
        conn.execute("update users set weight = weight + 1 where user_id = %s", (warehouse.user_ids[0],))
    warehouse.load_cdc()
    warehouse.dbt("build", "--select", "+dim_users")
    manifest = json.loads((dbt_target_dir() / "manifest.json").read_text())
    [test] = [node for node in manifest["nodes"].values()
              if node["resource_type"] == "test" and node["name"].startswith("scd2_valid_dim_users")]
    warehouse.dbt("compile", "--select", test["name"])
    compiled = json.loads((dbt_target_dir() / "manifest.json").read_text())["nodes"][test["unique_id"]]
    with duckdb.connect(str(warehouse.path)) as conn:
        assert conn.execute(compiled["compiled_code"]).fetchall() == []
        conn.execute("create schema broken")
        conn.execute("create table broken.users as select * from core.dim_users")
        conn.execute("update broken.users set valid_to = valid_to + interval 1 second "
                     "where not is_current and not is_deleted")
        overlapped = re.sub(r'("[^"]+"\.)?"core"\."dim_users"', "broken.users", compiled["compiled_code"])
        assert overlapped != compiled["compiled_code"]
        assert conn.execute(overlapped).fetchall() != []


def test_the_gate_sees_dead_letters_misplaced_and_incomplete_objects_and_reads_gzip(warehouse: Warehouse) -> None:
    h = hours_ago(3)
    start = int(h.timestamp())
    warehouse.put_events(warehouse.hour_of_readings(h, 100), extension=".json.gz")
    warehouse.put(dead_letter_key(warehouse.topic, 4, 17, start * 1000),
                  dead_letter_document(warehouse.topic, 4, 17, start * 1000, b"10001", b"not json", "not valid JSON"))
    # An object of the previous hour's readings in this hour's folder, written by someone else (no manifest).
    misplaced = warehouse.hour_of_readings(h - HOUR, 3, first_id=3000)
    warehouse.put(object_key(warehouse.topic, 5, 0, start), b"\n".join(misplaced) + b"\n")
    # A manifest promising 4 records for an object that holds 2 (what Airbyte's JSONL parser leaves).
    lost = warehouse.put_events(warehouse.hour_of_readings(h, 2, first_id=4000), partition=6, records=4)
    decision = warehouse.run_hour(h)
    (hour,) = decision.held
    assert set(hour.failing_checks) == {"dead_letters", "misplaced", "incomplete"}
    assert "not valid JSON" in hour.details and f"{lost} (2 of 4 records)" in hour.details
    assert _check(warehouse, h, "readings", "dead_letters", "misplaced_readings", "incomplete_objects") == (
        102, 1, 3, 1)


def test_an_unreadable_object_is_held_for_what_it_is_not_for_volume(warehouse: Warehouse) -> None:
    h = hours_ago(3)
    key = object_key(warehouse.topic, 0, 0, int(h.timestamp()), ".json.gz")
    warehouse.put(key, b"\x1f\x8b this is not gzip")
    warehouse.put(manifest_key(key), json.dumps({"object_key": key, "records": 40, "kafka_partition": 0,
                                                 "first_offset": 0, "last_offset": 39}).encode())
    decision = warehouse.run_hour(h)
    (hour,) = decision.held
    assert {"incomplete", "rejects"} <= set(hour.failing_checks)
    assert f"{key} (0 of 40 records)" in hour.details and "cannot decompress" in hour.details


def test_a_value_the_loader_nulled_is_a_reject_that_holds_the_hour(warehouse: Warehouse) -> None:
    # Airbyte's destination nulls a value it cannot type and notes it in _airbyte_meta.changes; Airbyte has no
    # rejects table, so this is how a prod hour learns of per-record problems.
    h = hours_ago(3)
    warehouse.put_events(warehouse.hour_of_readings(h, 40))
    warehouse.load_lake()
    change = {"field": "heart_rate", "change": "NULLED", "reason": "DESTINATION_TYPECAST_ERROR"}
    with writer(warehouse.path) as conn:
        [(event_id,)] = conn.execute("select event_id from raw.heart_rate_stream limit 1").fetchall()
        conn.execute("update raw.heart_rate_stream set heart_rate = null, _airbyte_meta = ? where event_id = ?",
                     [json.dumps({"sync_id": 1, "changes": [change]}), event_id])
    decision = warehouse.run_hour(h, load=False)
    (hour,) = decision.held
    assert "rejects" in hour.failing_checks
    assert "DESTINATION_TYPECAST_ERROR" in hour.details
    assert _check(warehouse, h, "rejected_lines") == (1,)


def test_a_backfill_of_old_hours_is_fresh_when_its_objects_were(warehouse: Warehouse,
                                                                monkeypatch: pytest.MonkeyPatch) -> None:
    h = datetime.now(tz=UTC).replace(minute=0, second=0, microsecond=0) - timedelta(days=3)
    key = object_key(warehouse.topic, 0, 0, int(h.timestamp()))
    written = lake_files.LakeFile(h + timedelta(minutes=70), key)  # the lake object as the sink wrote it then
    batch = lake_files.Batch(HEART_RATE_STREAM, datetime.now(tz=UTC), 1)  # loaded only now
    lake_files.EVENTS.add(b"\n".join(warehouse.hour_of_readings(h, 30)), written, batch)
    with writer(warehouse.path) as conn:
        batch.write(conn)
    monkeypatch.delenv(FRESHNESS_LIMIT_VARIABLE)  # the live default (90 minutes)
    decision = warehouse.run_hour(h, load=False)
    assert _published(decision) == [h], decision.held
    assert _check(warehouse, h, "freshness_lag_minutes")[0] < 20  # minutes to the lake, not 3 days to raw


def test_bands_are_honest_and_small_cells_are_suppressed(warehouse: Warehouse) -> None:
    h = hours_ago(3)
    young = int((datetime.now(tz=UTC) - timedelta(days=365 * 12)).strftime("%Y%m%d"))
    with psycopg.connect(warehouse.oltp_dsn, autocommit=True) as conn:  # a 12-year-old, first known now
        conn.execute("insert into users select 99002, first_name, last_name, %s, sex, height, weight, blood_type, "
                     "race, origin_country_code, origin_country_name, address, address_country_code, "
                     "address_country_name from users where user_id = %s", (young, warehouse.user_ids[0]))
    youngsters = [reading(6000 + n, 99002, int(h.timestamp()) + 5 * n, 90, warehouse.activity_ids[0])
                  for n in range(20)]
    warehouse.put_events(warehouse.hour_of_readings(h, 240) + youngsters, timestamp=int(h.timestamp()))
    warehouse.load_lake()
    warehouse.load_cdc()
    with writer(warehouse.path) as conn:  # a version without a height (another OLTP could send one)
        conn.execute("update raw.users set height = null where user_id = ?", [warehouse.user_ids[1]])
    warehouse.run_hour(h, load=False, tests=True)
    bands = dict(warehouse.query(f"select user_id, any_value(age_band) from {FACT_HEART_RATES} "
                                 "group by user_id"))
    assert bands[99002] == "under 18"
    assert warehouse.query("select distinct bmi_band from core.dim_users where user_id = ?",
                           warehouse.user_ids[1]) == [("unknown",)]
    rows = warehouse.query("select is_suppressed, users, mean_heart_rate, readings "
                           "from serving.heart_rate_by_age_and_body_measures")
    assert any(row[0] for row in rows)
    assert all((row[1] is None and row[2] is None) == row[0] and row[3] > 0 for row in rows)


PROPERTY_ORDERS = int(os.environ.get("HRS_PROPERTY_ORDERS", "2"))


def _property_events(warehouse: Warehouse, hours: list[datetime]) -> list[tuple[str, object]]:
    """The same data every time: readings of four hours in ten objects (each hour in two halves, a replayed
    object, readings of a user the OLTP has not sent yet), and four OLTP changes (that user's insert, whose
    first version covers all time, a weight change, a move, a deletion), for random interleaving."""
    actions: list[tuple[str, object]] = []
    for index, hour in enumerate(hours):
        readings = warehouse.hour_of_readings(hour, 120, first_id=index * 1000)
        actions.append(("object", (readings[:80], index, 0)))
        actions.append(("object", (readings[80:], index, 80)))
    actions.append(("object", (warehouse.hour_of_readings(hours[1], 120, first_id=1000)[:80], 1, 0)))  # a replay
    newcomer = [reading(90_000 + n, 99003, int(hours[2].timestamp()) + 30 * n, 95, warehouse.activity_ids[0])
                for n in range(4)]
    actions.append(("object", (newcomer, 7, 0)))
    users = warehouse.user_ids
    actions += [("change", "insert into users select 99003, first_name, last_name, date_of_birth, sex, height, "
                           "weight, blood_type, race, origin_country_code, origin_country_name, address, "
                           f"address_country_code, address_country_name from users where user_id = {users[3]}"),
                ("change", f"update users set weight = weight + 7 where user_id = {users[0]}"),
                ("change", f"update users set address_country_code = 'PT', address_country_name = 'Portugal' "
                           f"where user_id = {users[1]}"),
                ("change", f"delete from users where user_id = {users[2]}")]
    return actions


def test_incremental_equals_full_refresh_in_random_load_orders(embedded: EmbeddedLayout, seeded_oltp: str,
                                                               tmp_path: Path) -> None:
    outcomes = []
    for order in range(PROPERTY_ORDERS):
        with private_warehouse(embedded, tmp_path / f"order-{order}", seed=3) as warehouse:
            hours = [hours_ago(6 - n) for n in range(4)]
            rng = random.Random(order)
            actions = _property_events(warehouse, hours)
            objects = [a for a in actions if a[0] == "object"]
            changes = [a for a in actions if a[0] == "change"]  # CDC keeps commit order: only their slots move
            runs = [("run", hour) for hour in hours] + [("run", rng.choice(hours)) for _ in range(2)]
            steps = objects + runs
            rng.shuffle(steps)
            for change in changes:
                steps.insert(rng.randrange(len(steps) + 1), change)
            loaded = []
            for kind, value in steps:
                if kind == "object":
                    lines, partition, offset = value
                    warehouse.put_events(lines, partition=partition, offset=offset)
                elif kind == "change":
                    with psycopg.connect(warehouse.oltp_dsn, autocommit=True) as conn:
                        conn.execute(value)
                    time.sleep(0.05)
                else:
                    warehouse.run_hour(value)
                loaded.append(kind)
            for hour in hours:  # every hour's own run comes after all its data, as the schedule guarantees
                warehouse.run_hour(hour)
            incremental_fact, incremental_marts = warehouse.fact_digest(), warehouse.marts_digest()

            # The same raw rows in a new warehouse, built in one full refresh and published in one gate pass.
            (tmp_path / f"order-{order}-full").mkdir()
            fresh = Warehouse(tmp_path / f"order-{order}-full" / "warehouse.duckdb", warehouse.bucket, warehouse.topic,
                              warehouse.oltp_dsn, warehouse.slot)
            with duckdb.connect(str(fresh.path)) as conn:
                conn.execute(f"attach '{warehouse.path}' as incremental (read_only)")
                conn.execute("create schema raw")
                for (table,) in conn.execute("select table_name from information_schema.tables "
                                             "where table_catalog = 'incremental' and table_schema = 'raw'").fetchall():
                    conn.execute(f"create table raw.{table} as select * from incremental.raw.{table}")
            fresh.dbt("build", "--full-refresh", "--exclude", "path:models/serving", "resource_type:test")
            from include.hourly.ledger import DuckDBLedger
            from include.hourly.quality_gate import decide

            ledger = DuckDBLedger(fresh.path)
            decision = decide(ledger.checks_to_judge(hours[0], hours[-1] + HOUR), hours)
            assert sorted(h.event_hour for h in decision.publish) == hours, [h.details for h in decision.held]
            ledger.record_published(decision.publish, "full")
            fresh.dbt("build", "--select", "path:models/serving", "--exclude", "resource_type:test")
            assert fresh.fact_digest() == incremental_fact, f"order {order}: {steps}"
            assert fresh.marts_digest() == incremental_marts, f"order {order}: {steps}"
            outcomes.append((incremental_fact[0], len(steps)))
    print(f"incremental equals full refresh in {len(outcomes)} random load orders "
          f"(readings, steps): {outcomes}")
    assert len(outcomes) == PROPERTY_ORDERS


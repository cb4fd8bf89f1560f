"""The OLTP database: CDC-ready schema, idempotent seeding, original CSVs, simulated changes."""

from __future__ import annotations

from pathlib import Path

import pytest

from producer import oltp, original_csv
from producer.oltp_changes import apply_change, simulate
from producer.synthetic import make_users
from tests.integration.stream_fixtures import SEED_USERS

pytestmark = pytest.mark.integration


def test_schema_is_ready_for_airbyte_cdc(seeded_oltp: str) -> None:
    with oltp.connect(seeded_oltp) as conn:
        oltp.apply_schema(conn)  # running it again is harmless
        tables = conn.execute(
            "select tablename from pg_publication_tables where pubname = 'airbyte_publication' order by 1"
        ).fetchall()
        assert tables == [("activities",), ("users",)]
        slot = conn.execute("select plugin, slot_type from pg_replication_slots where slot_name = 'airbyte_slot'")
        assert slot.fetchone() == ("pgoutput", "logical")
        identity = conn.execute("select relname, relreplident from pg_class where relname in ('users', 'activities') "
                                "order by 1").fetchall()
        assert identity == [("activities", "d"), ("users", "d")]


def test_seeding_twice_adds_nothing(seeded_oltp: str) -> None:
    with oltp.connect(seeded_oltp) as conn:
        assert oltp.insert_users(conn, make_users(SEED_USERS, 42)) == 0


def test_original_csv_round_trip(seeded_oltp: str, tmp_path: Path) -> None:
    path = tmp_path / "users.csv"
    with oltp.connect(seeded_oltp) as conn:
        count = oltp.export_users_csv(conn, path)
    assert path.read_text().splitlines()[0].startswith("userid,fname,lname,dob,sex,height,weight,blood_type")
    users = original_csv.read_users(path)
    assert len(users) == count
    seeded = make_users(SEED_USERS, 42)[0]
    assert next(u for u in users if u.user_id == seeded.user_id).blood_type == seeded.blood_type
    with oltp.connect(seeded_oltp) as conn:
        dob, weight = conn.execute("select date_of_birth, weight from users where user_id = %s",
                                   (users[-1].user_id,)).fetchone()
    assert (users[-1].date_of_birth, users[-1].weight) == (dob, float(weight))

    broken = tmp_path / "broken.csv"
    broken.write_text(path.read_text().splitlines()[0] + "\n" + "x," * 13 + "x\n")
    with pytest.raises(oltp.OltpError, match=r"broken.csv: 1 bad rows, nothing imported: line 2: userid 'x'"):
        original_csv.read_users(broken)


def test_changes_commit_one_by_one_and_maintain_last_update(seeded_oltp: str) -> None:
    import random

    from faker import Faker

    with oltp.connect(seeded_oltp) as conn:
        before = conn.execute("select max(last_update) from users").fetchone()[0]
        change = apply_change(conn, "weight_drift", random.Random(1), Faker())
        weight_row = conn.execute("select last_update from users where user_id = %s", (change.user_id,)).fetchone()
        assert weight_row[0] > before

        done = simulate(conn, 12, seed=3, weights={"new_user": 0.5, "delete_user": 0.25, "address_move": 0.25},
                        say=lambda _: None)
        assert sum(done.values()) == 12
        assert set(done) <= {"new_user", "delete_user", "address_move"}
        assert done["new_user"] > 0

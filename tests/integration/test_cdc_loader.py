"""The embedded CDC loader against the real PostgreSQL (pgoutput) and a DuckDB warehouse."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import duckdb
import pytest

from include.contracts.paths import PROJECT_ROOT
from include.loaders import cdc
from producer import oltp

pytestmark = pytest.mark.integration


def _raw(warehouse: Path, sql: str) -> list[tuple]:
    with duckdb.connect(str(warehouse), read_only=True) as conn:
        return conn.execute(sql).fetchall()


def test_snapshot_then_every_version_in_lsn_order(oltp_db: tuple[str, str], tmp_path: Path) -> None:
    dsn, slot = oltp_db
    warehouse = tmp_path / "w.duckdb"
    first = cdc.load(dsn, warehouse, slot=slot, say=lambda _: None)
    # The inserts made before the first load are in the slot too: the snapshot covers them, once.
    assert (first.snapshot_rows, first.change_rows) == (43, 0)

    with oltp.connect(dsn) as conn:
        conn.execute("insert into users select 99001, first_name, last_name, date_of_birth, sex, height, weight, "
                     "blood_type, race, origin_country_code, origin_country_name, address, address_country_code, "
                     "address_country_name from users where user_id = 10001")
        conn.execute("update users set weight = 80.5 where user_id = 99001")
        conn.execute("update users set address_country_code = 'PT', address_country_name = 'Portugal' "
                     "where user_id = 99001")
        conn.execute("delete from users where user_id = 99001")
    second = cdc.load(dsn, warehouse, slot=slot, say=lambda _: None)
    assert second.change_rows == 4

    rows = _raw(warehouse, "select _ab_cdc_lsn, _ab_cdc_updated_at, _ab_cdc_deleted_at, weight, "
                           "address_country_code from raw.users where user_id = 99001 order by _ab_cdc_lsn")
    assert len(rows) == 4
    lsns = [r[0] for r in rows]
    assert lsns == sorted(set(lsns))
    assert [r[1] for r in rows] == sorted(r[1] for r in rows)  # commit times, in order
    assert [r[2] is None for r in rows] == [True, True, True, False]
    assert rows[3][2] == rows[3][1]  # deleted at its commit time
    assert rows[1][3] == 80.5 and rows[2][4] == "PT"
    assert rows[3][3] is None  # a delete carries the key only (replica identity default)
    assert cdc.load(dsn, warehouse, slot=slot, say=lambda _: None).change_rows == 0


def test_killed_before_the_slot_advance_loses_and_repeats_nothing(oltp_db: tuple[str, str], tmp_path: Path) -> None:
    dsn, slot = oltp_db
    warehouse = tmp_path / "w.duckdb"
    cdc.load(dsn, warehouse, slot=slot, say=lambda _: None)
    with oltp.connect(dsn) as conn:
        for user_id in (10001, 10002, 10003):
            conn.execute("update users set weight = weight + 1 where user_id = %s", (user_id,))
    crash = textwrap.dedent(f"""
        import os, signal
        from pathlib import Path
        from include.loaders import cdc
        def die(*args, **kwargs):
            os.kill(os.getpid(), signal.SIGKILL)
        cdc.advance_slot = die
        cdc.load({dsn!r}, Path({str(warehouse)!r}), slot={slot!r})
    """)
    child = subprocess.run([sys.executable, "-c", crash], cwd=PROJECT_ROOT, env=dict(os.environ),
                           capture_output=True, text=True, timeout=120, check=False)
    assert child.returncode == -9, child.stderr
    versions = "select user_id, count(*) from raw.users where user_id in (10001, 10002, 10003) group by 1 order by 1"
    # The rows were committed before the kill; the slot was not advanced.
    assert _raw(warehouse, versions) == [(10001, 2), (10002, 2), (10003, 2)]  # snapshot + one update each
    again = cdc.load(dsn, warehouse, slot=slot, say=lambda _: None)
    assert again.change_rows == 0  # the same changes were read again and skipped
    assert _raw(warehouse, versions) == [(10001, 2), (10002, 2), (10003, 2)]


def test_missing_slot_says_how_to_create_it(oltp_db: tuple[str, str], tmp_path: Path) -> None:
    dsn, _ = oltp_db
    with pytest.raises(cdc.CdcError, match=r"replication slot 'nope' does not exist.*oltp_schema.sql"):
        cdc.load(dsn, tmp_path / "w.duckdb", slot="nope", say=lambda _: None)

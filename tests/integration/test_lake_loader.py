"""The embedded S3 loader against the real S3 server and a DuckDB warehouse: exactly their lines, once."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import duckdb
import pytest

from include.contracts.heart_rate_event import encode
from include.contracts.lake_layout import object_key
from include.contracts.paths import PROJECT_ROOT
from include.contracts.settings import LakeSettings
from include.loaders import lake_files
from tests.integration.dbt_helpers import run_dbt
from tests.integration.stream_fixtures import Stream

pytestmark = pytest.mark.integration

HOUR = 1_790_000_000 - 1_790_000_000 % 3600


def _lines(first: int, count: int) -> bytes:
    return b"".join(
        encode(f"00000000-0000-4000-8000-{n:012d}", 10001, 60 + n % 50, HOUR + n, 20001, 1.5, 2.5).encode() + b"\n"
        for n in range(first, first + count)
    )


def _put(stream: Stream, partition: int, start: int, body: bytes) -> str:
    key = object_key(stream.topic, partition, start, HOUR)
    LakeSettings.from_env().s3_client().put_object(Bucket=stream.bucket, Key=key, Body=body)
    return key


def _load(stream: Stream, warehouse: Path) -> lake_files.LoadResult:
    return lake_files.load(LakeSettings.from_env().s3_client(), stream.bucket, stream.topic, warehouse,
                           say=lambda _: None)


def _count(warehouse: Path, sql: str) -> int:
    with duckdb.connect(str(warehouse), read_only=True) as conn:
        return conn.execute(sql).fetchone()[0]


def test_incremental_loads_take_exactly_the_new_objects(stream: Stream, tmp_path: Path) -> None:
    warehouse = tmp_path / "warehouse.duckdb"
    for i in range(3):
        _put(stream, i, 0, _lines(i * 1000, 1000))
    first = _load(stream, warehouse)
    assert (first.files, first.rows, first.rejects) == (3, 3000, 0)
    assert _load(stream, warehouse).rows == 0  # nothing new: nothing loaded
    assert _load(stream, warehouse).rows == 0

    _put(stream, 0, 1000, _lines(5000, 250))
    _put(stream, 1, 1000, _lines(6000, 250))
    second = _load(stream, warehouse)
    assert (second.files, second.rows) == (2, 500)
    assert _count(warehouse, "select count(*) from raw.heart_rate_stream") == 3500
    assert _count(warehouse, "select count(distinct event_id) from raw.heart_rate_stream") == 3500
    columns = _count(warehouse, "select count(*) from information_schema.columns where table_schema = 'raw' "
                                "and table_name = 'heart_rate_stream' and column_name like '\\_a%' escape '\\'")
    assert columns == 5  # _airbyte_raw_id, _airbyte_extracted_at, _airbyte_meta, _ab_source_file_url/_last_modified


def test_a_replayed_object_is_read_again_but_adds_no_new_event(stream: Stream, tmp_path: Path) -> None:
    warehouse = tmp_path / "warehouse.duckdb"
    body = _lines(0, 400)
    _put(stream, 0, 0, body)
    _load(stream, warehouse)
    time.sleep(1.1)  # S3 timestamps have whole seconds; a real replay comes after a crash and a restart
    _put(stream, 0, 0, body)  # the sink replayed it: same key, same bytes, newer timestamp
    replay = _load(stream, warehouse)
    assert replay.rows == 400  # Airbyte's semantics: a modified file is read again
    assert _count(warehouse, "select count(distinct event_id) from raw.heart_rate_stream") == 400
    # Staging keeps one row per event, whichever copy was loaded.
    build = run_dbt("build", "--select", "stg_heart_rates", warehouse=warehouse)
    assert build.returncode == 0, build.stdout[-3000:]
    assert _count(warehouse, "select count(*) from staging.stg_heart_rates") == 400


def test_malformed_lines_go_to_rejects_with_line_numbers(stream: Stream, tmp_path: Path) -> None:
    warehouse = tmp_path / "warehouse.duckdb"
    original = (b'{"user_id": "10001", "heart_rate": "77", "timestamp": "%d", '
                b'"meta": {"activity_id": "20001", "location": {"latitude": "1.5", "longitude": "2.5"}}}' % HOUR)
    body = _lines(0, 2) + b"{broken json\n" + original + b"\n" + b"[1, 2]\n" + _lines(2, 1).replace(
        b'"heart_rate":62', b'"heart_rate":400') + original + b"\n"
    key = _put(stream, 0, 0, body)
    result = _load(stream, warehouse)
    assert (result.rows, result.rejects) == (5, 2)
    with duckdb.connect(str(warehouse), read_only=True) as conn:
        rejects = conn.execute("select _ab_source_file_url, line_number, raw_text from "
                               "raw.heart_rate_stream_rejects order by line_number").fetchall()
        assert rejects == [(key, 3, "{broken json"), (key, 5, "[1, 2]")]
        kept = conn.execute("select heart_rate, timestamp, json_extract_string(_airbyte_meta, '$.validation_error') "
                            "from raw.heart_rate_stream order by _airbyte_raw_id").fetchall()
    assert ("77", str(HOUR), None) in kept  # the original string form, kept as its text
    assert ("400", str(HOUR + 2), "heart_rate=400 is out of range [20, 250]") in kept

    build = run_dbt("build", "--select", "stg_heart_rates", warehouse=warehouse)
    assert build.returncode == 0, build.stdout[-3000:]
    with duckdb.connect(str(warehouse), read_only=True) as conn:
        staged = conn.execute("select heart_rate, has_source_event_id, is_valid_heart_rate, is_valid "
                              "from staging.stg_heart_rates order by event_at, heart_rate").fetchall()
    # The original line twice is one reading (deduplicated on its content); the 400 bpm one is flagged, kept.
    assert staged == [(60, True, True, True), (77, False, True, True), (61, True, True, True),
                      (400, True, False, False)]


def test_loader_killed_before_its_commit_loses_and_repeats_nothing(stream: Stream, tmp_path: Path) -> None:
    warehouse = tmp_path / "warehouse.duckdb"
    for i in range(4):
        _put(stream, i, 0, _lines(i * 500, 500))
    # In a child process: insert the rows, then die with SIGKILL just before the cursor is saved.
    crash = textwrap.dedent(f"""
        import os, signal
        from include.loaders import lake_files
        from include.contracts.settings import LakeSettings
        def die(*args, **kwargs):
            os.kill(os.getpid(), signal.SIGKILL)
        lake_files.save_state = die
        lake_files.load(LakeSettings.from_env().s3_client(), {stream.bucket!r}, {stream.topic!r},
                        __import__("pathlib").Path({str(warehouse)!r}))
    """)
    child = subprocess.run([sys.executable, "-c", crash], cwd=PROJECT_ROOT, env=dict(os.environ),
                           capture_output=True, text=True, timeout=120, check=False)
    assert child.returncode == -9, child.stderr
    rerun = _load(stream, warehouse)
    assert rerun.rows == 2000
    assert _count(warehouse, "select count(*) from raw.heart_rate_stream") == 2000
    assert _load(stream, warehouse).rows == 0

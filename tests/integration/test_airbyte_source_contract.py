"""Contract test: the embedded lake loader against the real Airbyte S3 source connector, on the same objects.

The connector (airbyte-source-s3, installed by `make install` into .venv-source-s3) reads the
local lake through its S3 endpoint setting with Airbyte's config, catalog and state, and
`include.loaders.airbyte_source` writes its records as the Snowflake destination types them.
Both loaders then hold the same objects in two warehouses, and every raw row is compared
column by column (Airbyte's own per-run columns aside: `_airbyte_raw_id`, `_airbyte_extracted_at`,
and the sync id). Good objects must give identical rows. For an object with a malformed
line the connector is known to lose the rest of the file without failing; that loss must
be caught by the completeness check (rows in raw vs the sink's manifest) and the hour held.
"""

from __future__ import annotations

import dataclasses
import json
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import duckdb
import pytest

from dev.embedded.layout import SOURCE_S3_EXECUTABLE, EmbeddedLayout
from include.contracts.lake_layout import dead_letter_document, dead_letter_key
from include.contracts.raw_schema import (
    AIRBYTE_COLUMNS,
    HEART_RATE_DEAD_LETTERS,
    HEART_RATE_MANIFESTS,
    HEART_RATE_STREAM,
    LAKE_STREAMS,
    TABLES,
)
from include.contracts.settings import LakeSettings
from include.loaders import airbyte_source, lake_files
from tests.integration.warehouse_harness import Warehouse, hours_ago, private_warehouse

pytestmark = pytest.mark.integration


@pytest.fixture()
def warehouse(embedded: EmbeddedLayout, seeded_oltp: str, tmp_path: Path) -> Iterator[Warehouse]:
    if not SOURCE_S3_EXECUTABLE.exists():
        pytest.fail(f"{SOURCE_S3_EXECUTABLE} is missing: run `make install`, which installs the Airbyte S3 source")
    with private_warehouse(embedded, tmp_path) as built:
        yield built


def _original_form(line: bytes) -> bytes:
    """The same reading as the original system wrote it: numbers as numeric strings."""
    event = json.loads(line)
    for name in ("user_id", "heart_rate", "timestamp"):
        event[name] = str(event[name])
    return json.dumps(event).encode()


def _comparable(table: str, row: tuple) -> tuple:
    """A raw row without what differs per load by design, JSON values normalised."""
    values = dict(zip(TABLES[table], row, strict=True))
    changes = json.loads(values["_airbyte_meta"]).get("changes", [])
    kept = [json.dumps(json.loads(value), sort_keys=True) if kind == "JSON" and value is not None else value
            for name, kind in TABLES[table].items() if name not in AIRBYTE_COLUMNS
            for value in [values[name]]]
    return (*kept, json.dumps(changes, sort_keys=True))


def _rows_by_object(path: Path, table: str) -> dict[str, Counter]:
    with duckdb.connect(str(path), read_only=True) as conn:
        rows = conn.execute(f"select * from raw.{table}").fetchall()
    by_object: dict[str, Counter] = {}
    url = list(TABLES[table]).index("_ab_source_file_url")
    for row in rows:
        by_object.setdefault(row[url], Counter())[_comparable(table, row)] += 1
    return by_object


def test_the_embedded_loader_writes_what_the_real_airbyte_s3_source_writes(warehouse: Warehouse,
                                                                          tmp_path: Path) -> None:
    hour = hours_ago(3)
    readings = warehouse.hour_of_readings(hour, 60)
    good = [warehouse.put_events(readings[:20], partition=0),
            warehouse.put_events([_original_form(line) for line in readings[20:35]], partition=1,
                                 timestamp=int(hour.timestamp())),
            warehouse.put_events(readings[35:50], partition=2, extension=".json.gz")]
    assert good[2].endswith(".json.gz")
    start = int(hour.timestamp())
    warehouse.put(dead_letter_key(warehouse.topic, 4, 17, start * 1000),
                  dead_letter_document(warehouse.topic, 4, 17, start * 1000, b"10001", b"not json", "not valid JSON"))
    # Ten lines with a truncated one in the middle (what a partial write or another writer leaves).
    truncated = b'{"event_id": "00000000-0000-4000-8000-999999999999", "user_id": 1'
    damaged_lines = [*readings[50:53], truncated, *readings[53:]]
    damaged = warehouse.put_events(damaged_lines, partition=3, records=len(damaged_lines))

    embedded = tmp_path / "embedded.duckdb"
    lake_files.load(LakeSettings.from_env().s3_client(), warehouse.bucket, warehouse.topic, embedded,
                    say=lambda _: None)
    lake = dataclasses.replace(LakeSettings.from_env(), bucket=warehouse.bucket, topic=warehouse.topic)
    connector = airbyte_source.load(SOURCE_S3_EXECUTABLE, lake, warehouse.path, say=lambda _: None)

    report, differing = [], {}
    for table in LAKE_STREAMS:
        ours, airbyte = _rows_by_object(embedded, table), _rows_by_object(warehouse.path, table)
        assert set(ours) == set(airbyte), f"{table}: objects differ"
        compared = sum(sum(counter.values()) for counter in ours.values())
        for key in ours:
            if ours[key] != airbyte[key]:
                differing[key] = (sum(ours[key].values()), sum(airbyte[key].values()), airbyte[key] - ours[key])
        report.append(f"{table}: {len(ours)} objects, {compared} embedded rows compared column by column")
    print("\n".join(["", *report, *(f"differs: {key}: embedded {n} rows, airbyte {m} rows, airbyte-only {extra}"
                                    for key, (n, m, extra) in differing.items())]))

    # Good objects, typed and original forms and gzip included, dead letters and manifests: identical rows.
    assert set(differing) == {damaged}
    embedded_rows, airbyte_rows, airbyte_only = differing[damaged]
    assert embedded_rows == len(damaged_lines) - 1  # every good line; the bad one went to rejects
    assert airbyte_rows < embedded_rows and not airbyte_only  # the connector lost lines and said nothing
    assert connector.per_stream == {HEART_RATE_STREAM: 50 + airbyte_rows, HEART_RATE_MANIFESTS: 4,
                                    HEART_RATE_DEAD_LETTERS: 1}

    # The loss is caught: the object's rows fall short of its manifest, and the hour is held.
    decision = warehouse.run_hour(hour, load=False)
    (held,) = decision.held
    assert "incomplete" in held.failing_checks
    assert f"{damaged} ({airbyte_rows} of {len(damaged_lines)} records)" in held.details
    print(f"held {held.event_hour:%Y-%m-%d %H:00}: {' '.join(held.failing_checks)}; "
          f"{damaged}: {airbyte_rows} of {len(damaged_lines)} records reached raw")


def test_a_missing_connector_is_a_clear_error(tmp_path: Path) -> None:
    lake = LakeSettings("bucket", "topic", None, "us-east-1", None)
    with pytest.raises(airbyte_source.AirbyteSourceError, match="run `make install`"):
        airbyte_source.load(tmp_path / "no-such-source-s3", lake, tmp_path / "w.duckdb", say=lambda _: None)

"""The warehouse's `raw` schema: the tables Airbyte writes, which the embedded loaders write too.

One home for the raw contract: the loaders create these tables from here and a
test checks that the dbt sources declare exactly these columns. The OLTP's CDC
objects (publication and pgoutput slot, Airbyte's defaults) are named here too.

Types are what the pinned connectors declare, in DuckDB's words; Airbyte's
Snowflake destination (direct-load tables) maps them the same way:
`string` → VARCHAR, `integer` → NUMBER(38,0) (BIGINT), `number` → FLOAT
(DOUBLE), `object` → VARIANT (JSON), `string/date-time with time zone` →
TIMESTAMP_TZ. In particular the file-based CDK declares
`_ab_source_file_last_modified` as a string (`%Y-%m-%dT%H:%M:%S.%fZ`) and
source-postgres declares `_ab_cdc_updated_at` / `_ab_cdc_deleted_at` as strings
(Java's `Instant.toString()`, millisecond precision) and `_ab_cdc_lsn` as a
number; dbt staging casts them explicitly.

The three lake streams (data, manifests, dead letters) are one S3 source with
three globs; the event fields are declared as strings (and `meta` as an object)
so the typed form (numbers) and the original form (numeric strings) both land
without coercion, and staging types them once.
"""

from __future__ import annotations

from datetime import UTC, datetime

SCHEMA = "raw"
CDC_PUBLICATION = "airbyte_publication"
CDC_SLOT = "airbyte_slot"

FILE_LAST_MODIFIED_FORMAT = "%Y-%m-%dT%H:%M:%S.%fZ"
"""How the file-based CDK writes `_ab_source_file_last_modified` (naive UTC, microseconds, `Z`)."""


def cdc_timestamp_text(moment: datetime) -> str:
    """`_ab_cdc_updated_at` / `_ab_cdc_deleted_at` as source-postgres writes them: Java's
    `Instant.ofEpochMilli(commit millis).toString()`, i.e. UTC, milliseconds only when not zero."""
    moment = moment.astimezone(UTC)
    millis = moment.microsecond // 1000
    whole = moment.strftime("%Y-%m-%dT%H:%M:%S")
    return f"{whole}.{millis:03d}Z" if millis else f"{whole}Z"


AIRBYTE_COLUMNS = {
    "_airbyte_raw_id": "VARCHAR",
    "_airbyte_extracted_at": "TIMESTAMPTZ",
    "_airbyte_meta": "JSON",
}
FILE_COLUMNS = {
    "_ab_source_file_url": "VARCHAR",
    "_ab_source_file_last_modified": "VARCHAR",
}
CDC_COLUMNS = {
    "_ab_cdc_lsn": "DOUBLE",
    "_ab_cdc_updated_at": "VARCHAR",
    "_ab_cdc_deleted_at": "VARCHAR",
}
EVENT_COLUMNS = {
    "event_id": "VARCHAR",
    "user_id": "VARCHAR",
    "heart_rate": "VARCHAR",
    "timestamp": "VARCHAR",
    "meta": "JSON",
}
MANIFEST_COLUMNS = {
    "object_key": "VARCHAR",
    "records": "BIGINT",
    "kafka_partition": "BIGINT",
    "first_offset": "BIGINT",
    "last_offset": "BIGINT",
}
DEAD_LETTER_COLUMNS = {
    "kafka_topic": "VARCHAR",
    "kafka_partition": "BIGINT",
    "kafka_offset": "BIGINT",
    "kafka_timestamp_ms": "BIGINT",
    "message_key": "VARCHAR",
    "value_base64": "VARCHAR",
    "error": "VARCHAR",
}
USER_COLUMNS = {
    "user_id": "BIGINT",
    "first_name": "VARCHAR",
    "last_name": "VARCHAR",
    "date_of_birth": "BIGINT",
    "sex": "VARCHAR",
    "height": "DOUBLE",
    "weight": "DOUBLE",
    "blood_type": "VARCHAR",
    "race": "VARCHAR",
    "origin_country_code": "VARCHAR",
    "origin_country_name": "VARCHAR",
    "address": "VARCHAR",
    "address_country_code": "VARCHAR",
    "address_country_name": "VARCHAR",
    "last_update": "TIMESTAMPTZ",
}
ACTIVITY_COLUMNS = {
    "activity_id": "BIGINT",
    "activity_name": "VARCHAR",
    "last_update": "TIMESTAMPTZ",
}
REJECT_COLUMNS = {
    "_ab_source_file_url": "VARCHAR",
    "_ab_source_file_last_modified": "VARCHAR",
    "line_number": "BIGINT",
    "error": "VARCHAR",
    "raw_text": "VARCHAR",
    "_airbyte_extracted_at": "TIMESTAMPTZ",
}

HEART_RATE_STREAM = "heart_rate_stream"
HEART_RATE_MANIFESTS = "heart_rate_manifests"
HEART_RATE_DEAD_LETTERS = "heart_rate_dead_letters"
HEART_RATE_REJECTS = "heart_rate_stream_rejects"
"""Local only: lines the embedded loader could not read as JSON objects (no prod model depends on it)."""
USERS = "users"
ACTIVITIES = "activities"
"""The CDC tables carry the OLTP tables' own names."""

TABLES: dict[str, dict[str, str]] = {
    HEART_RATE_STREAM: {**AIRBYTE_COLUMNS, **FILE_COLUMNS, **EVENT_COLUMNS},
    HEART_RATE_MANIFESTS: {**AIRBYTE_COLUMNS, **FILE_COLUMNS, **MANIFEST_COLUMNS},
    HEART_RATE_DEAD_LETTERS: {**AIRBYTE_COLUMNS, **FILE_COLUMNS, **DEAD_LETTER_COLUMNS},
    HEART_RATE_REJECTS: REJECT_COLUMNS,
    USERS: {**AIRBYTE_COLUMNS, **CDC_COLUMNS, **USER_COLUMNS},
    ACTIVITIES: {**AIRBYTE_COLUMNS, **CDC_COLUMNS, **ACTIVITY_COLUMNS},
}
CDC_TABLES = {USERS: USER_COLUMNS, ACTIVITIES: ACTIVITY_COLUMNS}
PII_COLUMNS = {USERS: ("first_name", "last_name", "address")}
"""Columns no model reads: in prod they stay in the loader-only schema (deploy/snowflake/setup.sql exposes the
CDC tables to dbt through views without them); the birth date is read (age bands) but kept out of core."""
LAKE_STREAMS = (HEART_RATE_STREAM, HEART_RATE_MANIFESTS, HEART_RATE_DEAD_LETTERS)
"""The S3 source's streams, in the order the lake areas are listed (`lake_layout`)."""

# Where the embedded loaders keep their cursors, in the same database as the rows
# so that rows and cursor commit together.
STATE_TABLE = "_loader_state"


def relation(table: str) -> str:
    """`raw.<table>`, for SQL."""
    return f"{SCHEMA}.{table}"


def create_statements() -> list[str]:
    statements = [f"create schema if not exists {SCHEMA}"]
    for table, columns in TABLES.items():
        body = ", ".join(f'"{name}" {kind}' for name, kind in columns.items())
        statements.append(f"create table if not exists {SCHEMA}.{table} ({body})")
    statements.append(
        f"create table if not exists {SCHEMA}.{STATE_TABLE} (stream VARCHAR primary key, state JSON not null, "
        "updated_at TIMESTAMPTZ not null)"
    )
    return statements

"""The warehouse's `raw` schema: the tables Airbyte writes, which the embedded loaders write too.

One home for the raw contract: the loaders create these tables from here and a
test checks that the dbt sources declare exactly these columns. The OLTP's CDC
objects (publication and pgoutput slot, Airbyte's defaults) are named here too. Types are
DuckDB's; Snowflake's Airbyte destination gives the equivalent (VARCHAR,
NUMBER, TIMESTAMP_TZ, VARIANT).

Event fields land as text, exactly as they appeared in the line (numbers or
numeric strings), and `meta` as JSON: the S3 source is configured to emit
records that do not match the schema, and dbt staging types them once.
"""

from __future__ import annotations

SCHEMA = "raw"
CDC_PUBLICATION = "airbyte_publication"
CDC_SLOT = "airbyte_slot"

AIRBYTE_COLUMNS = {
    "_airbyte_raw_id": "VARCHAR",
    "_airbyte_extracted_at": "TIMESTAMPTZ",
    "_airbyte_meta": "JSON",
}
FILE_COLUMNS = {
    "_ab_source_file_url": "VARCHAR",
    "_ab_source_file_last_modified": "TIMESTAMPTZ",
}
CDC_COLUMNS = {
    "_ab_cdc_lsn": "BIGINT",
    "_ab_cdc_updated_at": "TIMESTAMPTZ",
    "_ab_cdc_deleted_at": "TIMESTAMPTZ",
}
EVENT_COLUMNS = {
    "event_id": "VARCHAR",
    "user_id": "VARCHAR",
    "heart_rate": "VARCHAR",
    "timestamp": "VARCHAR",
    "meta": "JSON",
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
    "_ab_source_file_last_modified": "TIMESTAMPTZ",
    "line_number": "BIGINT",
    "error": "VARCHAR",
    "raw_text": "VARCHAR",
    "_airbyte_extracted_at": "TIMESTAMPTZ",
}

HEART_RATE_STREAM = "heart_rate_stream"
HEART_RATE_REJECTS = "heart_rate_stream_rejects"
USERS = "users"
ACTIVITIES = "activities"
"""The CDC tables carry the OLTP tables' own names."""

TABLES: dict[str, dict[str, str]] = {
    HEART_RATE_STREAM: {**AIRBYTE_COLUMNS, **FILE_COLUMNS, **EVENT_COLUMNS},
    HEART_RATE_REJECTS: REJECT_COLUMNS,
    USERS: {**AIRBYTE_COLUMNS, **CDC_COLUMNS, **USER_COLUMNS},
    ACTIVITIES: {**AIRBYTE_COLUMNS, **CDC_COLUMNS, **ACTIVITY_COLUMNS},
}
CDC_TABLES = {USERS: USER_COLUMNS, ACTIVITIES: ACTIVITY_COLUMNS}


def relation(table: str) -> str:
    """`raw.<table>`, for SQL."""
    return f"{SCHEMA}.{table}"

# Where the embedded loaders keep their cursors, in the same database as the rows
# so that rows and cursor commit together.
STATE_TABLE = "_loader_state"


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

"""Loader cursors, kept in the warehouse next to the rows they describe.

A cursor is read and written inside the same DuckDB transaction as the rows it
covers, so rows and cursor commit together or not at all: a loader killed at
any point and run again neither loses nor repeats a row.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from include.contracts.raw_schema import SCHEMA, STATE_TABLE

if TYPE_CHECKING:
    import duckdb


def read_state(conn: duckdb.DuckDBPyConnection, stream: str) -> dict[str, Any] | None:
    row = conn.execute(f"select state from {SCHEMA}.{STATE_TABLE} where stream = ?", [stream]).fetchone()  # noqa: S608
    return json.loads(row[0]) if row else None


def save_state(conn: duckdb.DuckDBPyConnection, stream: str, state: dict[str, Any]) -> None:
    conn.execute(
        f"insert or replace into {SCHEMA}.{STATE_TABLE} values (?, ?, now())",  # noqa: S608 - constant names
        [stream, json.dumps(state, sort_keys=True)],
    )

"""Writing to the raw tables: create them from the contract, append column batches through Arrow."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from include.contracts.raw_schema import SCHEMA, TABLES, create_statements

if TYPE_CHECKING:
    import duckdb

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MICROSECOND = timedelta(microseconds=1)


def ensure_raw_schema(conn: duckdb.DuckDBPyConnection) -> None:
    for statement in create_statements():
        conn.execute(statement)


def _arrow_type(duckdb_type: str) -> Any:
    import pyarrow as pa

    return {
        "VARCHAR": pa.string(), "JSON": pa.string(), "BIGINT": pa.int64(), "DOUBLE": pa.float64(),
        "TIMESTAMPTZ": pa.timestamp("us", tz="UTC"),
    }[duckdb_type]


def _arrow_array(values: list, duckdb_type: str) -> Any:
    """A column as Arrow. Time zone-aware datetimes go through epoch microseconds: pyarrow converts them one by
    one at ~12 us each (2.4 s for a 200,000-row batch's load time column), this takes ~0.5 us."""
    import pyarrow as pa

    arrow_type = _arrow_type(duckdb_type)
    if duckdb_type == "TIMESTAMPTZ":
        try:
            micros = [None if value is None else (value - _EPOCH) // _MICROSECOND for value in values]
        except TypeError:  # not all aware datetimes: let pyarrow say what is wrong
            return pa.array(values, type=arrow_type)
        return pa.array(micros, type=pa.int64()).cast(arrow_type)
    return pa.array(values, type=arrow_type)


def empty_columns(table: str) -> dict[str, list]:
    return {column: [] for column in TABLES[table]}


def append_columns(conn: duckdb.DuckDBPyConnection, table: str, columns: dict[str, list]) -> int:
    """Insert column lists (one list per column of `raw.<table>`) in one statement; returns the row count."""
    import pyarrow as pa

    count = len(next(iter(columns.values())))
    if count:
        kinds = TABLES[table]
        batch = pa.table({name: _arrow_array(values, kinds[name]) for name, values in columns.items()})
        conn.register("_raw_batch", batch)
        try:
            conn.execute(f"insert into {SCHEMA}.{table} by name select * from _raw_batch")  # noqa: S608 - constants
        finally:
            conn.unregister("_raw_batch")
    return count

"""Writing to the raw tables: create them from the contract, append column batches through Arrow."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from include.contracts.raw_schema import SCHEMA, TABLES, create_statements

if TYPE_CHECKING:
    import duckdb


def ensure_raw_schema(conn: duckdb.DuckDBPyConnection) -> None:
    for statement in create_statements():
        conn.execute(statement)


def _arrow_type(duckdb_type: str) -> Any:
    import pyarrow as pa

    return {
        "VARCHAR": pa.string(), "JSON": pa.string(), "BIGINT": pa.int64(), "DOUBLE": pa.float64(),
        "TIMESTAMPTZ": pa.timestamp("us", tz="UTC"),
    }[duckdb_type]


def empty_columns(table: str) -> dict[str, list]:
    return {column: [] for column in TABLES[table]}


def append_columns(conn: duckdb.DuckDBPyConnection, table: str, columns: dict[str, list]) -> int:
    """Insert column lists (one list per column of `raw.<table>`) in one statement; returns the row count."""
    import pyarrow as pa

    count = len(next(iter(columns.values())))
    if count:
        kinds = TABLES[table]
        batch = pa.table({name: pa.array(values, type=_arrow_type(kinds[name])) for name, values in columns.items()})
        conn.register("_raw_batch", batch)
        try:
            conn.execute(f"insert into {SCHEMA}.{table} by name select * from _raw_batch")  # noqa: S608 - constants
        finally:
            conn.unregister("_raw_batch")
    return count

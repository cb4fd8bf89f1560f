"""The gate's ledger in the warehouse: every hour published (what serving may contain) and every hour held.

- `published_hours` gets a row only when the gate publishes an hour, with the
  fingerprint it judged and the run that published it; the serving partials are
  built from this ledger alone, so a held hour never reaches a mart.
- `held_hours` records each hold with its failing checks and details, so a later
  run does not judge the same data again (and page again) unless it changes.

The hours to judge are the run's interval plus every earlier hour whose
current fingerprint (in `dq_hourly`) is in neither table: late data, late OLTP
changes, a fix after a hold. One implementation per warehouse: DuckDB locally
(through the one-writer lock), Snowflake in prod (through the Airflow connection
the dbt profile also uses). The tables' columns are declared in
`include.contracts.warehouse_relations`; the gate creates them on first use.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from include.contracts.settings import SNOWFLAKE_CONN_ID, Mode
from include.contracts.warehouse_relations import DQ_HOURLY, HELD_HOURS, LEDGER_COLUMNS, LEDGER_SCHEMA, PUBLISHED_HOURS
from include.hourly.quality_gate import HourCheck, check_from_row

TYPES = {
    "duckdb": {"timestamp": "TIMESTAMPTZ", "text": "VARCHAR", "integer": "BIGINT"},
    "snowflake": {"timestamp": "TIMESTAMP_TZ", "text": "VARCHAR", "integer": "NUMBER(38, 0)"},
}


def create_statements(dialect: str) -> list[str]:
    statements = [f"create schema if not exists {LEDGER_SCHEMA}"]
    for table, columns in LEDGER_COLUMNS.items():
        body = ", ".join(f"{name} {TYPES[dialect][kind]}" for name, kind in columns.items())
        statements.append(f"create table if not exists {table} ({body})")
    return statements


def checks_query(mark: str) -> str:
    """dq_hourly rows of the interval [start, end) and of every earlier hour not yet judged at its fingerprint."""
    return (
        f"select * from {DQ_HOURLY} as checks "  # noqa: S608 - constant names
        f"where checks.event_hour < {mark} and (checks.event_hour >= {mark} or ("
        f"not exists (select 1 from {PUBLISHED_HOURS} as published "
        "where published.event_hour = checks.event_hour and published.fingerprint = checks.fingerprint) "
        f"and not exists (select 1 from {HELD_HOURS} as held "
        "where held.event_hour = checks.event_hour and held.fingerprint = checks.fingerprint))) "
        "order by checks.event_hour"
    )


def _insert(table: str, mark: str) -> str:
    columns = list(LEDGER_COLUMNS[table])
    return f"insert into {table} ({', '.join(columns)}) values ({', '.join([mark] * len(columns))})"  # noqa: S608


def published_rows(hours: Sequence[HourCheck], run_id: str, at: datetime) -> list[tuple]:
    return [(hour.event_hour, hour.fingerprint, hour.readings, run_id, at) for hour in hours]


def held_rows(hours: Sequence[HourCheck], run_id: str, at: datetime) -> list[tuple]:
    return [(hour.event_hour, hour.fingerprint, hour.readings, run_id, at, " ".join(hour.failing_checks),
             hour.details) for hour in hours]


class Ledger(ABC):
    """Read the hours to judge; record what the gate published and held."""

    @abstractmethod
    def checks_to_judge(self, start: datetime, end: datetime) -> list[HourCheck]: ...

    @abstractmethod
    def _append(self, table: str, rows: list[tuple]) -> None: ...

    def record_published(self, hours: Sequence[HourCheck], run_id: str) -> None:
        if hours:
            self._append(PUBLISHED_HOURS, published_rows(hours, run_id, datetime.now(tz=UTC)))

    def record_held(self, hours: Sequence[HourCheck], run_id: str) -> None:
        if hours:
            self._append(HELD_HOURS, held_rows(hours, run_id, datetime.now(tz=UTC)))


def _rows_as_dicts(cursor: Any, rows: list[tuple]) -> list[dict[str, Any]]:
    names = [column[0].lower() for column in cursor.description]
    return [dict(zip(names, row, strict=True)) for row in rows]


class DuckDBLedger(Ledger):
    """The local warehouse file, through the same one-writer lock as every other writer."""

    def __init__(self, warehouse_path: Path) -> None:
        self.warehouse_path = warehouse_path

    def checks_to_judge(self, start: datetime, end: datetime) -> list[HourCheck]:
        from include.warehouse import writer

        with writer(self.warehouse_path) as conn:
            for statement in create_statements("duckdb"):
                conn.execute(statement)
            cursor = conn.execute(checks_query("?"), [end, start])
            return [check_from_row(row) for row in _rows_as_dicts(cursor, cursor.fetchall())]

    def _append(self, table: str, rows: list[tuple]) -> None:
        from include.warehouse import transaction, writer

        with writer(self.warehouse_path) as conn, transaction(conn):
            for statement in create_statements("duckdb"):
                conn.execute(statement)
            conn.executemany(_insert(table, "?"), rows)


class SnowflakeLedger(Ledger):
    """Snowflake, through the `snowflake_default` Airflow connection (the same login dbt's profile uses);
    timestamps are written and compared in UTC."""

    def __init__(self, conn_id: str = SNOWFLAKE_CONN_ID) -> None:
        self.conn_id = conn_id

    def _connection(self) -> Any:
        from airflow.providers.snowflake.hooks.snowflake import SnowflakeHook

        connection = SnowflakeHook(snowflake_conn_id=self.conn_id).get_conn()
        connection.cursor().execute("alter session set timezone = 'UTC'")
        return connection

    def checks_to_judge(self, start: datetime, end: datetime) -> list[HourCheck]:
        connection = self._connection()
        try:
            cursor = connection.cursor()
            for statement in create_statements("snowflake"):
                cursor.execute(statement)
            cursor.execute(checks_query("%s"), (end, start))
            return [check_from_row(row) for row in _rows_as_dicts(cursor, cursor.fetchall())]
        finally:
            connection.close()

    def _append(self, table: str, rows: list[tuple]) -> None:
        connection = self._connection()
        try:
            cursor = connection.cursor()
            for statement in create_statements("snowflake"):
                cursor.execute(statement)
            cursor.executemany(_insert(table, "%s"), rows)
            connection.commit()
        finally:
            connection.close()


def ledger_for(mode: Mode) -> Ledger:
    """The ledger of the mode's warehouse (local: the DuckDB file of WarehouseSettings)."""
    if mode == "local":
        from include.contracts.settings import WarehouseSettings

        return DuckDBLedger(WarehouseSettings.from_env().warehouse_path)
    return SnowflakeLedger()

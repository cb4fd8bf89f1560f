"""Embedded CDC loader: the OLTP change log into `raw.users` and `raw.activities`, as Airbyte does.

Reads the pgoutput slot with `pg_logical_slot_peek_binary_changes` (nothing is
consumed by reading), appends every version of every row (inserts, updates,
hard deletes) with `_ab_cdc_lsn`, `_ab_cdc_updated_at` (commit time) and
`_ab_cdc_deleted_at`, commits rows and cursor in one warehouse transaction,
and only then advances the slot. A loader killed before the advance re-reads
the same changes and skips those at or below the committed LSN: no loss, no
duplicate.

The first run on an empty warehouse takes an initial snapshot of both tables in
a REPEATABLE READ transaction and records that snapshot; changes of
transactions visible in it are then skipped, so snapshot plus change log is
every version exactly once, whatever the slot held before.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from include.loaders.pgoutput import Begin, Commit, Decoder, RowChange, int_to_lsn, lsn_to_int
from include.loaders.raw_tables import append_columns, empty_columns, ensure_raw_schema
from include.loaders.state import read_state, save_state
from include.raw_schema import CDC_TABLES, TABLES
from include.settings import DEFAULT_CDC_SLOT
from include.warehouse import writer

if TYPE_CHECKING:
    import duckdb
    import psycopg

STREAM = "oltp_cdc"
SLOT = DEFAULT_CDC_SLOT
PUBLICATION = "airbyte_publication"
CHANGES_PER_READ = 20_000


class CdcError(RuntimeError):
    """The change log cannot be read; the message names the fix."""


@dataclass(frozen=True)
class Snapshot:
    """`pg_current_snapshot()`: which transactions the initial snapshot already contains."""

    xmin: int
    xmax: int
    in_progress: frozenset[int]

    @classmethod
    def parse(cls, text: str) -> Snapshot:
        xmin, xmax, xip = text.split(":")
        return cls(int(xmin), int(xmax), frozenset(int(x) for x in xip.split(",") if x))

    def contains(self, xid: int) -> bool:
        """Was transaction `xid` (32-bit, as logical decoding reports it) visible to the snapshot?"""
        xmin, xmax = self.xmin & 0xFFFFFFFF, self.xmax & 0xFFFFFFFF
        if xid < xmin:
            return True
        if xid >= xmax:
            return False
        return xid not in {x & 0xFFFFFFFF for x in self.in_progress}

    def __str__(self) -> str:
        return f"{self.xmin}:{self.xmax}:{','.join(str(x) for x in sorted(self.in_progress))}"


@dataclass
class CdcResult:
    snapshot_rows: int = 0
    change_rows: int = 0
    per_table: dict[str, int] = field(default_factory=dict)
    seconds: float = 0.0

    def __str__(self) -> str:
        tables = ", ".join(f"{t} {n}" for t, n in sorted(self.per_table.items())) or "no rows"
        return (f"{self.snapshot_rows} snapshot rows, {self.change_rows} change rows ({tables}) "
                f"in {self.seconds:.1f} s")


def _append(columns: dict[str, list], table: str, values: dict[str, Any], lsn: int, updated_at: datetime,
            deleted_at: datetime | None, extracted_at: datetime, meta: str) -> None:
    row = {
        "_airbyte_raw_id": str(uuid.uuid4()),
        "_airbyte_extracted_at": extracted_at,
        "_airbyte_meta": meta,
        "_ab_cdc_lsn": lsn,
        "_ab_cdc_updated_at": updated_at,
        "_ab_cdc_deleted_at": deleted_at,
        **{column: values.get(column) for column in CDC_TABLES[table]},
    }
    for column in TABLES[table]:
        columns[column].append(row[column])


def _check_slot(pg: psycopg.Connection, slot: str, publication: str) -> None:
    row = pg.execute("select plugin from pg_replication_slots where slot_name = %s and database = current_database()",
                     (slot,)).fetchone()
    if row is None:
        raise CdcError(f"replication slot {slot!r} does not exist in this database: create it with "
                       "producer/sql/oltp_schema.sql (or `python -m producer seed-oltp`)")
    if row[0] != "pgoutput":
        raise CdcError(f"replication slot {slot!r} uses {row[0]!r}; the loader (like Airbyte) needs pgoutput")
    if pg.execute("select 1 from pg_publication where pubname = %s", (publication,)).fetchone() is None:
        raise CdcError(f"publication {publication!r} does not exist: create it with producer/sql/oltp_schema.sql")


def _initial_snapshot(pg: psycopg.Connection, wh: duckdb.DuckDBPyConnection, result: CdcResult) -> dict[str, Any]:
    extracted_at = datetime.now(tz=UTC)
    meta = '{"changes": [], "sync_id": 1}'
    with pg.transaction():
        pg.execute("set transaction isolation level repeatable read")
        snapshot_text, lsn_text, taken_at = pg.execute(
            "select pg_current_snapshot()::text, pg_current_wal_lsn()::text, now()").fetchone()
        batches = {}
        for table, columns in CDC_TABLES.items():
            batch = empty_columns(table)
            cursor = pg.execute(f"select {', '.join(columns)} from public.{table}")  # noqa: S608 - fixed names
            for row in cursor:
                values = dict(zip(columns, row, strict=True))
                _append(batch, table, values, lsn_to_int(lsn_text), taken_at, None, extracted_at, meta)
            batches[table] = batch
    for table, batch in batches.items():
        count = append_columns(wh, table, batch)
        result.snapshot_rows += count
        result.per_table[table] = result.per_table.get(table, 0) + count
    return {"lsn": 0, "snapshot": snapshot_text, "snapshot_lsn": lsn_to_int(lsn_text), "sync_id": 1}


def advance_slot(pg: psycopg.Connection, slot: str, lsn: str) -> None:
    """Let the slot forget changes up to `lsn` (called only after they are committed in the warehouse)."""
    pg.execute("select pg_replication_slot_advance(%s, %s::pg_lsn)", (slot, lsn))


def load(oltp_dsn: str, warehouse_path: Path, slot: str = SLOT, publication: str = PUBLICATION,
         say: Callable[[str], None] = print) -> CdcResult:
    """Append every new row version to the raw CDC tables, then advance the slot."""
    from include.oltp_connection import connect

    started = time.monotonic()
    result = CdcResult()
    decoder = Decoder()
    with writer(warehouse_path) as wh, connect(oltp_dsn) as pg:
        _check_slot(pg, slot, publication)
        ensure_raw_schema(wh)
        state = read_state(wh, STREAM)
        if state is None:
            say(f"load cdc: empty warehouse, taking the initial snapshot (slot {slot})")
            wh.begin()
            try:
                state = _initial_snapshot(pg, wh, result)
                save_state(wh, STREAM, state)
                wh.commit()
            except BaseException:
                wh.rollback()
                raise
        snapshot = Snapshot.parse(state["snapshot"])
        sync_id = state.get("sync_id", 0) + 1
        meta = f'{{"changes": [], "sync_id": {sync_id}}}'
        while True:
            messages = pg.execute(
                "select lsn::text, data from pg_logical_slot_peek_binary_changes(%s, null, %s, "
                "'proto_version', '1', 'publication_names', %s)",
                (slot, CHANGES_PER_READ, publication),
            ).fetchall()
            if not messages:
                break
            extracted_at = datetime.now(tz=UTC)
            batches = {table: empty_columns(table) for table in CDC_TABLES}
            pending: list[tuple[int, RowChange]] = []
            begin: Begin | None = None
            last_commit_lsn, last_end_lsn = state["lsn"], None
            for lsn_text, data in messages:
                event = decoder.decode(bytes(data))
                if isinstance(event, Begin):
                    begin, pending = event, []
                elif isinstance(event, RowChange):
                    pending.append((lsn_to_int(lsn_text), event))
                elif isinstance(event, Commit):
                    last_end_lsn = event.end_lsn
                    already_loaded = event.commit_lsn <= state["lsn"]
                    if begin is not None and not already_loaded and not snapshot.contains(begin.xid):
                        for row_lsn, change in pending:
                            table = change.relation.table
                            if table in batches:
                                deleted = event.commit_time if change.operation == "delete" else None
                                _append(batches[table], table, change.values, row_lsn, event.commit_time,
                                        deleted, extracted_at, meta)
                        last_commit_lsn = max(last_commit_lsn, event.commit_lsn)
                    begin, pending = None, []
            wh.begin()
            try:
                for table, batch in batches.items():
                    count = append_columns(wh, table, batch)
                    result.change_rows += count
                    result.per_table[table] = result.per_table.get(table, 0) + count
                state = {**state, "lsn": last_commit_lsn, "sync_id": sync_id}
                save_state(wh, STREAM, state)
                wh.commit()
            except BaseException:
                wh.rollback()
                raise
            if last_end_lsn is not None:
                # Only after the warehouse commit: the slot may now forget these changes.
                advance_slot(pg, slot, int_to_lsn(last_end_lsn))
            say(f"load cdc: {result.change_rows} change rows so far")
            if len(messages) < CHANGES_PER_READ:
                break
    result.seconds = time.monotonic() - started
    return result

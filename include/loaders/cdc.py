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

from include.contracts.oltp_connection import connect
from include.contracts.raw_schema import CDC_PUBLICATION, CDC_SLOT, CDC_TABLES, TABLES, cdc_timestamp_text
from include.loaders.pgoutput import Begin, Commit, Decoder, RowChange, int_to_lsn, lsn_to_int
from include.loaders.raw_tables import append_columns, empty_columns, ensure_raw_schema
from include.loaders.state import read_state, save_state
from include.warehouse import transaction, writer

if TYPE_CHECKING:
    import duckdb
    import psycopg

STREAM = "oltp_cdc"
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
        "_ab_cdc_lsn": float(lsn),
        "_ab_cdc_updated_at": cdc_timestamp_text(updated_at),
        "_ab_cdc_deleted_at": cdc_timestamp_text(deleted_at) if deleted_at is not None else None,
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
    """Every row of both tables as of one REPEATABLE READ snapshot, and the state that remembers it."""
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
    _append_batches(wh, batches, result, snapshot=True)
    return {"lsn": 0, "snapshot": snapshot_text, "snapshot_lsn": lsn_to_int(lsn_text), "sync_id": 1}


def _append_batches(wh: duckdb.DuckDBPyConnection, batches: dict[str, dict[str, list]], result: CdcResult,
                    snapshot: bool = False) -> None:
    for table, batch in batches.items():
        count = append_columns(wh, table, batch)
        if snapshot:
            result.snapshot_rows += count
        else:
            result.change_rows += count
        result.per_table[table] = result.per_table.get(table, 0) + count


def advance_slot(pg: psycopg.Connection, slot: str, lsn: str) -> None:
    """Let the slot forget changes up to `lsn` (called only after they are committed in the warehouse)."""
    pg.execute("select pg_replication_slot_advance(%s, %s::pg_lsn)", (slot, lsn))


@dataclass
class ChangeBatch:
    """The row versions of one read of the slot, by raw table, and how far the read got."""

    rows: dict[str, dict[str, list]]
    last_commit_lsn: int
    """The newest commit whose changes are in `rows` (or were loaded before): the state's cursor."""
    last_end_lsn: int | None
    """Where the slot may be advanced to once `rows` are committed (None: no whole transaction was read)."""


def _decode(messages: list[tuple[str, bytes]], decoder: Decoder, state: dict[str, Any], snapshot: Snapshot,
            meta: str) -> ChangeBatch:
    """Turn pgoutput messages into raw rows: whole transactions only, none already loaded or in the snapshot."""
    extracted_at = datetime.now(tz=UTC)
    batch = ChangeBatch({table: empty_columns(table) for table in CDC_TABLES}, state["lsn"], None)
    pending: list[tuple[int, RowChange]] = []
    begin: Begin | None = None
    for lsn_text, data in messages:
        event = decoder.decode(bytes(data))
        if isinstance(event, Begin):
            begin, pending = event, []
        elif isinstance(event, RowChange):
            pending.append((lsn_to_int(lsn_text), event))
        elif isinstance(event, Commit):
            batch.last_end_lsn = event.end_lsn
            new = begin is not None and event.commit_lsn > state["lsn"] and not snapshot.contains(begin.xid)
            if new:
                for row_lsn, change in pending:
                    _append_change(batch, change, row_lsn, event, extracted_at, meta)
                batch.last_commit_lsn = max(batch.last_commit_lsn, event.commit_lsn)
            begin, pending = None, []
    return batch


def _append_change(batch: ChangeBatch, change: RowChange, row_lsn: int, commit: Commit, extracted_at: datetime,
                   meta: str) -> None:
    table = change.relation.table
    if table in batch.rows:
        deleted_at = commit.commit_time if change.operation == "delete" else None
        _append(batch.rows[table], table, change.values, row_lsn, commit.commit_time, deleted_at, extracted_at, meta)


def _read_slot(pg: psycopg.Connection, slot: str, publication: str) -> list[tuple[str, bytes]]:
    """The next changes in the slot, without consuming them (the slot advances only after the warehouse commit)."""
    return pg.execute(
        "select lsn::text, data from pg_logical_slot_peek_binary_changes(%s, null, %s, "
        "'proto_version', '1', 'publication_names', %s)",
        (slot, CHANGES_PER_READ, publication),
    ).fetchall()


def load(oltp_dsn: str, warehouse_path: Path, slot: str = CDC_SLOT, publication: str = CDC_PUBLICATION,
         say: Callable[[str], None] = print) -> CdcResult:
    """Append every new row version to the raw CDC tables, then advance the slot."""
    started = time.monotonic()
    result = CdcResult()
    decoder = Decoder()
    with writer(warehouse_path) as wh, connect(oltp_dsn) as pg:
        _check_slot(pg, slot, publication)
        ensure_raw_schema(wh)
        state = read_state(wh, STREAM)
        if state is None:
            say(f"load cdc: empty warehouse, taking the initial snapshot (slot {slot})")
            with transaction(wh):
                state = _initial_snapshot(pg, wh, result)
                save_state(wh, STREAM, state)
        snapshot = Snapshot.parse(state["snapshot"])
        sync_id = state.get("sync_id", 0) + 1
        meta = f'{{"changes": [], "sync_id": {sync_id}}}'
        while messages := _read_slot(pg, slot, publication):
            batch = _decode(messages, decoder, state, snapshot, meta)
            with transaction(wh):
                _append_batches(wh, batch.rows, result)
                state = {**state, "lsn": batch.last_commit_lsn, "sync_id": sync_id}
                save_state(wh, STREAM, state)
            if batch.last_end_lsn is not None:
                # Only after the warehouse commit: the slot may now forget these changes.
                advance_slot(pg, slot, int_to_lsn(batch.last_end_lsn))
            say(f"load cdc: {result.change_rows} change rows so far")
            if len(messages) < CHANGES_PER_READ:
                break
    result.seconds = time.monotonic() - started
    return result

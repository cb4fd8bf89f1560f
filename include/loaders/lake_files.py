"""Embedded S3 loader: new lake objects into `raw.heart_rate_stream`, with Airbyte's semantics.

Incremental on `_ab_source_file_last_modified`: an object is new when it was
modified after the cursor, or at the cursor's timestamp but not yet among the
files read at that timestamp (Airbyte keeps that history so equal timestamps
are not skipped). An object rewritten by a sink replay gets a new timestamp and
is read again, as Airbyte would; staging removes the repeated events by
`event_id`. Lines that are not JSON objects go to `raw.heart_rate_stream_rejects`
with their file, line number, error and text.

The local DuckDB has no S3 extension offline, so objects are read with boto3.
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from include.contracts.heart_rate_event import EventError, from_dict, match_typed, typed_error
from include.contracts.lake_layout import topic_prefix
from include.contracts.raw_schema import HEART_RATE_REJECTS, HEART_RATE_STREAM, REJECT_COLUMNS, TABLES
from include.loaders.raw_tables import append_columns, empty_columns, ensure_raw_schema
from include.loaders.state import read_state, save_state
from include.warehouse import transaction, writer

STREAM = HEART_RATE_STREAM
REJECTS = HEART_RATE_REJECTS
BATCH_BYTES = 64 * 2**20
DOWNLOAD_THREADS = 4


@dataclass(frozen=True, order=True)
class LakeFile:
    last_modified: datetime
    key: str
    size: int = 0


@dataclass
class FileCursor:
    """Airbyte's file-based cursor: the newest timestamp read and the files read at it."""

    last_modified: datetime | None = None
    history: set[str] = field(default_factory=set)

    def is_new(self, file: LakeFile) -> bool:
        if self.last_modified is None or file.last_modified > self.last_modified:
            return True
        return file.last_modified == self.last_modified and file.key not in self.history

    def advance(self, file: LakeFile) -> None:
        if self.last_modified is None or file.last_modified > self.last_modified:
            self.last_modified, self.history = file.last_modified, {file.key}
        elif file.last_modified == self.last_modified:
            self.history.add(file.key)

    def to_state(self) -> dict[str, Any]:
        return {
            "_ab_source_file_last_modified": self.last_modified.isoformat() if self.last_modified else None,
            "history": sorted(self.history),
        }

    @classmethod
    def from_state(cls, state: dict[str, Any] | None) -> FileCursor:
        if not state or not state.get("_ab_source_file_last_modified"):
            return cls()
        return cls(datetime.fromisoformat(state["_ab_source_file_last_modified"]), set(state["history"]))


@dataclass
class LoadResult:
    files: int = 0
    rows: int = 0
    rejects: int = 0
    seconds: float = 0.0

    def __str__(self) -> str:
        rate = f" ({self.rows / self.seconds:,.0f} lines/s)" if self.seconds and self.rows else ""
        return f"{self.files} files, {self.rows:,} rows, {self.rejects:,} rejected lines in {self.seconds:.1f} s{rate}"


def list_files(s3: Any, bucket: str, prefix: str) -> list[LakeFile]:
    files = []
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix):
        for item in page.get("Contents", []):
            if item["Key"].endswith(".json"):
                files.append(LakeFile(item["LastModified"].astimezone(UTC), item["Key"], item["Size"]))
    return sorted(files)


def _text(value: Any) -> str | None:
    """A scalar as the text it had in the line: numbers and numeric strings alike."""
    if value is None:
        return None
    if isinstance(value, str):
        return value
    return json.dumps(value)


class RawIds:
    """Unique `_airbyte_raw_id`s, cheaply: a random version-4 UUID prefix per batch and a counter."""

    def __init__(self) -> None:
        self.prefix = str(uuid.uuid4())[:24]  # all but the last group
        self.count = 0

    def next(self) -> str:
        self.count += 1
        return f"{self.prefix}{self.count:012x}"


def parse_file(body: bytes, file: LakeFile, extracted_at: datetime, sync_id: int,
               rows: dict[str, list], rejects: dict[str, list], raw_ids: RawIds) -> None:
    """Append one object's lines to column lists: event rows, or rejects for lines that are not objects.

    Lines in the producer's exact typed form are split by a regex (no JSON parse);
    anything else (the original string form included) is parsed and checked in full.
    Schema violations are kept, as Airbyte's "emit record" policy keeps them, and
    noted in `_airbyte_meta.validation_error`; staging turns them into flags.
    """
    url = file.key
    valid_meta = json.dumps({"sync_id": sync_id, "changes": []})
    out = [rows[column] for column in TABLES[STREAM]]
    for number, line in enumerate(body.splitlines(), start=1):
        match = match_typed(line)
        if match is not None:
            error = typed_error(match)
            values = (
                raw_ids.next(), extracted_at,
                valid_meta if error is None else json.dumps({"sync_id": sync_id, "changes": [],
                                                             "validation_error": error}),
                url, file.last_modified, match[1].decode(), match[2].decode(), match[3].decode(),
                match[4].decode(), match[5].decode(),
            )
        else:
            if not line.strip():
                continue
            try:
                record = json.loads(line)
                if not isinstance(record, dict):
                    raise ValueError(f"a line must be a JSON object, got {type(record).__name__}")
            except (ValueError, UnicodeDecodeError) as error:
                for column, value in zip(REJECT_COLUMNS, (url, file.last_modified, number, str(error),
                                                          line.decode("utf-8", "replace"), extracted_at),
                                         strict=True):
                    rejects[column].append(value)
                continue
            meta: dict[str, Any] = {"sync_id": sync_id, "changes": []}
            try:
                from_dict(record)
            except EventError as error:
                meta["validation_error"] = str(error)
            raw_meta = record.get("meta")
            values = (
                raw_ids.next(), extracted_at, json.dumps(meta), url, file.last_modified,
                _text(record.get("event_id")), _text(record.get("user_id")), _text(record.get("heart_rate")),
                _text(record.get("timestamp")), json.dumps(raw_meta) if raw_meta is not None else None,
            )
        for column, value in zip(out, values, strict=True):
            column.append(value)


def _batches(files: list[LakeFile]) -> Iterator[list[LakeFile]]:
    batch: list[LakeFile] = []
    size = 0
    for file in files:
        batch.append(file)
        size += file.size
        if size >= BATCH_BYTES:
            yield batch
            batch, size = [], 0
    if batch:
        yield batch


def load(s3: Any, bucket: str, topic: str, warehouse_path: Path,
         say: Callable[[str], None] = print) -> LoadResult:
    """Load every new lake object of `topic`; each batch commits its rows and the cursor together."""
    started = time.monotonic()
    result = LoadResult()
    prefix = topic_prefix(topic)
    with writer(warehouse_path) as conn:
        ensure_raw_schema(conn)
        state = read_state(conn, STREAM)
        cursor = FileCursor.from_state(state)
        sync_id = (state or {}).get("sync_id", 0) + 1
        new = [file for file in list_files(s3, bucket, prefix) if cursor.is_new(file)]
        say(f"load {STREAM}: {len(new)} new files under s3://{bucket}/{prefix}")

        def download(file: LakeFile) -> bytes:
            return s3.get_object(Bucket=bucket, Key=file.key)["Body"].read()

        with ThreadPoolExecutor(DOWNLOAD_THREADS) as pool:
            for batch in _batches(new):
                extracted_at = datetime.now(tz=UTC)
                rows, rejects = empty_columns(STREAM), empty_columns(REJECTS)
                raw_ids = RawIds()
                for file, body in zip(batch, pool.map(download, batch), strict=True):
                    parse_file(body, file, extracted_at, sync_id, rows, rejects, raw_ids)
                    cursor.advance(file)
                with transaction(conn):
                    result.rows += append_columns(conn, STREAM, rows)
                    result.rejects += append_columns(conn, REJECTS, rejects)
                    save_state(conn, STREAM, {**cursor.to_state(), "sync_id": sync_id})
                result.files += len(batch)
                say(f"load {STREAM}: {result.files}/{len(new)} files, {result.rows:,} rows, "
                    f"{result.rejects:,} rejects")
    result.seconds = time.monotonic() - started
    return result

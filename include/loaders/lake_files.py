"""Embedded S3 loader: new lake objects into the raw lake tables, with Airbyte's semantics.

The S3 source has three streams, one per lake area (`include.contracts.lake_layout`):
`heart_rate_stream` (the data objects, `.json` and `.json.gz`), `heart_rate_manifests`
(one line per data object: its record count) and `heart_rate_dead_letters` (one line
per message the sink refused). Each stream is incremental on
`_ab_source_file_last_modified` with its own cursor: an object is new when it was
modified after the cursor, or at the cursor's timestamp but not yet among the
files read at that timestamp (Airbyte keeps that history so equal timestamps are
not skipped). An object rewritten by a sink replay gets a new timestamp and is
read again, as Airbyte would; staging removes the repeated copies.

What Airbyte would emit is emitted: event fields as the text they had in the
line, schema violations kept (the "emit record" policy) and noted in
`_airbyte_meta.validation_error`. What it could not read (a line that is not a
JSON object, an object that does not decompress) goes to the local-only
`raw.heart_rate_stream_rejects` with its object, line number, error and text, so
nothing disappears without a trace; the warehouse's completeness check (manifest
count against rows that reached raw) catches such losses in both modes.

The local DuckDB has no S3 extension offline, so objects are read with boto3.
"""

from __future__ import annotations

import gzip
import json
import time
import uuid
import zlib
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import cached_property
from itertools import accumulate
from pathlib import Path
from typing import Any

from include.contracts.heart_rate_event import (
    EventError,
    exactly_typed,
    from_dict,
    match_typed,
    typed_error,
    typed_line_sql,
)
from include.contracts.lake_layout import (
    DATA_EXTENSIONS,
    DEAD_LETTER_PREFIX,
    EXTENSION,
    GZIP_EXTENSION,
    MANIFESTS_PREFIX,
    TOPICS_PREFIX,
    area_prefix,
)
from include.contracts.raw_schema import (
    FILE_LAST_MODIFIED_FORMAT,
    HEART_RATE_DEAD_LETTERS,
    HEART_RATE_MANIFESTS,
    HEART_RATE_REJECTS,
    HEART_RATE_STREAM,
    REJECT_COLUMNS,
    TABLES,
    relation,
)
from include.loaders.raw_tables import append_columns, empty_columns, ensure_raw_schema
from include.loaders.state import read_state, save_state
from include.warehouse import transaction, writer

REJECTS = HEART_RATE_REJECTS
BATCH_BYTES = 64 * 2**20
DOWNLOAD_THREADS = 4


@dataclass(frozen=True, order=True)
class LakeFile:
    last_modified: datetime
    key: str
    size: int = 0

    @cached_property
    def last_modified_text(self) -> str:
        """`_ab_source_file_last_modified` as the file-based CDK writes it."""
        return self.last_modified.astimezone(UTC).strftime(FILE_LAST_MODIFIED_FORMAT)


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
    per_stream: dict[str, int] = field(default_factory=dict)

    def __str__(self) -> str:
        rate = f" ({self.rows / self.seconds:,.0f} lines/s)" if self.seconds and self.rows else ""
        return f"{self.files} files, {self.rows:,} rows, {self.rejects:,} rejected lines in {self.seconds:.1f} s{rate}"


class RawIds:
    """Unique `_airbyte_raw_id`s, cheaply: a random version-4 UUID prefix per batch and a counter."""

    def __init__(self) -> None:
        self.prefix = str(uuid.uuid4())[:24]  # all but the last group
        self.count = 0

    def next(self) -> str:
        return self.take(1)[0]

    def take(self, count: int) -> list[str]:
        """The next `count` ids (one row's, or a whole object's at once)."""
        first = self.reserve(count)
        prefix = self.prefix
        return [f"{prefix}{n:012x}" for n in range(first, first + count)]

    def reserve(self, count: int) -> int:
        """Set aside the next `count` ids for SQL to write (`sql`); returns the first one's number."""
        first, self.count = self.count + 1, self.count + count
        return first

    def sql(self, first: str, position: str) -> str:
        """DuckDB SQL for the id numbered `first` plus the 0-based `position` (SQL expressions both), as `take`
        writes it: ids `reserve` set aside."""
        return f"printf('%s%012x', '{self.prefix}', {first} + {position})"


@dataclass
class Batch:
    """Column lists for one transaction: the stream's rows and the rejects, plus what every row shares."""

    table: str
    extracted_at: datetime
    sync_id: int
    rows: dict[str, list] = field(init=False)
    rejects: dict[str, list] = field(init=False)
    raw_ids: RawIds = field(default_factory=RawIds)
    typed_objects: list[tuple[LakeFile, bytes]] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.rows, self.rejects = empty_columns(self.table), empty_columns(REJECTS)
        self._valid_meta = self._meta_document(None)

    def meta(self, validation_error: str | None = None) -> str:
        return self._valid_meta if validation_error is None else self._meta_document(validation_error)

    def _meta_document(self, validation_error: str | None) -> str:
        document: dict[str, Any] = {"sync_id": self.sync_id, "changes": []}
        if validation_error is not None:
            document["validation_error"] = validation_error
        return json.dumps(document)

    def add_typed_object(self, file: LakeFile, body: bytes) -> None:
        """An object of exactly typed events (`exactly_typed`): `write` splits it inside DuckDB."""
        self.typed_objects.append((file, body))

    def add_row(self, file: LakeFile, values: tuple, validation_error: str | None = None) -> None:
        head = (self.raw_ids.next(), self.extracted_at, self.meta(validation_error), file.key, file.last_modified_text)
        for column, value in zip(self.rows.values(), head + values, strict=True):
            column.append(value)

    def reject(self, file: LakeFile, line_number: int, error: str, text: str) -> None:
        values = (file.key, file.last_modified_text, line_number, error, text, self.extracted_at)
        for column, value in zip(REJECT_COLUMNS, values, strict=True):
            self.rejects[column].append(value)

    def write(self, conn: Any) -> tuple[int, int]:
        """Insert everything added (in the caller's transaction): (rows, rejects)."""
        rows = _insert_typed_objects(conn, self)
        return rows + append_columns(conn, self.table, self.rows), append_columns(conn, REJECTS, self.rejects)


_LINE_TEXT = typed_line_sql("line", "parts")


def _insert_typed_objects(conn: Any, batch: Batch) -> int:
    """The batch's objects of exactly typed events (`exactly_typed`), split and inserted by DuckDB in one
    statement: ~2 us a line, against ~12 us to split them in Python and hand the columns over through Arrow."""
    if not batch.typed_objects:
        return 0
    import pyarrow as pa

    files = [file for file, _ in batch.typed_objects]
    bodies = [body for _, body in batch.typed_objects]
    batch.typed_objects = []
    # Each object's lines take the raw ids from its offset on.
    line_counts = [body.count(b"\n") for body in bodies]
    offsets = list(accumulate(line_counts[:-1], initial=batch.raw_ids.reserve(sum(line_counts))))
    objects = pa.table({"body": pa.array(bodies, pa.binary()).cast(pa.string()), "id_offset": offsets,
                        "file_url": [file.key for file in files],
                        "file_last_modified": [file.last_modified_text for file in files]})
    conn.register("_typed_objects", objects)
    try:
        [(count,)] = conn.execute(f"""insert into {relation(batch.table)} by name
            select {batch.raw_ids.sql("id_offset", "line_number - 1")} as _airbyte_raw_id,
                   ?::timestamptz as _airbyte_extracted_at, ? as _airbyte_meta,
                   file_url as _ab_source_file_url, file_last_modified as _ab_source_file_last_modified,
                   {", ".join(f"{expression} as {name}" for name, expression in _LINE_TEXT.items())}
            from (select *, string_split(line, ',') as parts
                  from (select id_offset, file_url, file_last_modified, unnest(lines) as line,
                               generate_subscripts(lines, 1) as line_number
                        from (select *, string_split(body, chr(10)) as lines from _typed_objects)))
            where line <> ''""",  # noqa: S608 - SQL from the contract's constants; the last split is empty
            [batch.extracted_at, batch.meta()]).fetchall()
    finally:
        conn.unregister("_typed_objects")
    return count


def _text(value: Any) -> str | None:
    """A scalar as the text it had in the line: numbers and numeric strings alike."""
    if value is None:
        return None
    if isinstance(value, str):
        return value
    return json.dumps(value)


def _json_object(line: bytes, number: int, file: LakeFile, batch: Batch) -> dict[str, Any] | None:
    """The line as a JSON object; None for a blank line, or (recorded as a reject) for anything else."""
    if not line.strip():
        return None
    try:
        record = json.loads(line)
        if not isinstance(record, dict):
            raise ValueError(f"a line must be a JSON object, got {type(record).__name__}")
    except (ValueError, UnicodeDecodeError) as error:
        batch.reject(file, number, str(error), line.decode("utf-8", "replace"))
        return None
    return record


def parse_lines(body: bytes, file: LakeFile, batch: Batch) -> None:
    """Event lines one by one: typed lines are split by a regex (no JSON parse), anything else (the original
    string form included) is parsed and checked in full; what cannot be read becomes a reject."""
    for number, line in enumerate(body.splitlines(), start=1):
        match = match_typed(line)
        if match is not None:
            batch.add_row(file, (match[1].decode(), match[2].decode(), match[3].decode(), match[4].decode(),
                                 match[5].decode()), typed_error(match))
            continue
        record = _json_object(line, number, file, batch)
        if record is None:
            continue
        try:
            from_dict(record)
            error = None
        except EventError as problem:
            error = str(problem)
        raw_meta = record.get("meta")
        batch.add_row(file, (_text(record.get("event_id")), _text(record.get("user_id")),
                             _text(record.get("heart_rate")), _text(record.get("timestamp")),
                             json.dumps(raw_meta) if raw_meta is not None else None), error)


def _fields_parser(columns: list[str]) -> Callable[[bytes, LakeFile, Batch], None]:
    """A stream whose lines are flat JSON objects with these fields (manifests, dead letters)."""

    def parse(body: bytes, file: LakeFile, batch: Batch) -> None:
        for number, line in enumerate(body.splitlines(), start=1):
            record = _json_object(line, number, file, batch)
            if record is not None:
                batch.add_row(file, tuple(record.get(column) for column in columns))

    return parse


@dataclass(frozen=True)
class LakeStream:
    """One stream of the S3 source: a raw table, the lake area it reads and how a line becomes a row."""

    table: str
    area: str
    extensions: tuple[str, ...]
    parse: Callable[[bytes, LakeFile, Batch], None]
    bulk: Callable[[bytes], bool] | None = None
    """Whether an object's text can be handed to DuckDB whole (`Batch.add_typed_object`) instead of `parse`d.
    The loader runs it in the download threads, beside the previous batch's DuckDB write (`make bench-load`,
    1M lines: 9.8 s -> 8.0 s)."""

    def add(self, text: bytes, file: LakeFile, batch: Batch, bulk: bool | None = None) -> None:
        """An object's rows into the batch: whole to DuckDB when `bulk` (found out here when not given) says so;
        else parsed here. For the events, an object of valid events exactly as the producer writes them (what
        the sink writes) goes whole; any other is read line by line (`parse_lines`), to the same rows."""
        if bulk is None:
            bulk = self.bulk is not None and self.bulk(text)
        if bulk:
            batch.add_typed_object(file, text)
        else:
            self.parse(text, file, batch)


def _columns_after_file(table: str) -> list[str]:
    columns = list(TABLES[table])
    return columns[columns.index("_ab_source_file_last_modified") + 1:]


EVENTS = LakeStream(HEART_RATE_STREAM, TOPICS_PREFIX, DATA_EXTENSIONS, parse_lines, bulk=exactly_typed)
STREAMS = (
    EVENTS,
    LakeStream(HEART_RATE_MANIFESTS, MANIFESTS_PREFIX, (EXTENSION,),
               _fields_parser(_columns_after_file(HEART_RATE_MANIFESTS))),
    LakeStream(HEART_RATE_DEAD_LETTERS, DEAD_LETTER_PREFIX, (EXTENSION,),
               _fields_parser(_columns_after_file(HEART_RATE_DEAD_LETTERS))),
)


def list_files(s3: Any, bucket: str, prefix: str, extensions: tuple[str, ...] = DATA_EXTENSIONS) -> list[LakeFile]:
    files = []
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix):
        for item in page.get("Contents", []):
            if item["Key"].endswith(extensions):
                files.append(LakeFile(item["LastModified"].astimezone(UTC), item["Key"], item["Size"]))
    return sorted(files)


def decompressed(body: bytes, file: LakeFile) -> bytes:
    """The object's text: gunzipped for `.json.gz` (what Confluent's sink writes with gzip compression)."""
    if file.key.endswith(GZIP_EXTENSION):
        return gzip.decompress(body)
    return body


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


def load_stream(conn: Any, s3: Any, bucket: str, topic: str, stream: LakeStream, result: LoadResult,
                say: Callable[[str], None]) -> None:
    """Every new object of one stream; each batch commits its rows, rejects and the cursor together."""
    state = read_state(conn, stream.table)
    cursor = FileCursor.from_state(state)
    sync_id = (state or {}).get("sync_id", 0) + 1
    prefix = area_prefix(stream.area, topic)
    new = [file for file in list_files(s3, bucket, prefix, stream.extensions) if cursor.is_new(file)]
    if not new:
        return
    say(f"load {stream.table}: {len(new)} new files under s3://{bucket}/{prefix}")

    def download(file: LakeFile) -> tuple[bytes | None, str | None, bool]:
        """(the object's text, or why it cannot be read; whether it goes to DuckDB whole)."""
        body = s3.get_object(Bucket=bucket, Key=file.key)["Body"].read()
        try:
            text = decompressed(body, file)
        except (OSError, EOFError, zlib.error) as error:  # a truncated or corrupt gzip object
            return None, f"cannot decompress {file.key}: {error}", False
        return text, None, stream.bulk is not None and stream.bulk(text)

    loaded = 0
    batches = list(_batches(new))
    with ThreadPoolExecutor(DOWNLOAD_THREADS) as pool:
        upcoming = [pool.submit(download, file) for file in batches[0]]
        for number, files in enumerate(batches):
            downloads = [download_of.result() for download_of in upcoming]
            # The next batch downloads (and is examined) while this one is parsed and written.
            upcoming = [pool.submit(download, file) for file in batches[number + 1]] if number + 1 < len(batches) \
                else []
            batch = Batch(stream.table, datetime.now(tz=UTC), sync_id)
            for file, (text, error, bulk) in zip(files, downloads, strict=True):
                if text is None:
                    batch.reject(file, 0, error or "", "")
                else:
                    stream.add(text, file, batch, bulk)
                cursor.advance(file)
            with transaction(conn):
                rows, rejects = batch.write(conn)
                result.rejects += rejects
                save_state(conn, stream.table, {**cursor.to_state(), "sync_id": sync_id})
            loaded += len(files)
            result.files += len(files)
            result.rows += rows
            result.per_stream[stream.table] = result.per_stream.get(stream.table, 0) + rows
            say(f"load {stream.table}: {loaded}/{len(new)} files, {result.per_stream[stream.table]:,} rows, "
                f"{result.rejects:,} rejects")


def load(s3: Any, bucket: str, topic: str, warehouse_path: Path, say: Callable[[str], None] = print) -> LoadResult:
    """Load every new lake object of `topic`: data, manifests and dead letters."""
    started = time.monotonic()
    result = LoadResult()
    with writer(warehouse_path) as conn:
        ensure_raw_schema(conn)
        for stream in STREAMS:
            load_stream(conn, s3, bucket, topic, stream, result, say)
    result.seconds = time.monotonic() - started
    return result

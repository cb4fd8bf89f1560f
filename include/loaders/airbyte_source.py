"""The real Airbyte S3 source connector as a local loader: `HRS_LOADER=airbyte`, and the embedded loader's referee.

Production reads the lake with Airbyte's S3 source (airbyte-source-s3, the file-based
CDK). That connector is Python and installs here (`make install` puts it in
`.venv-source-s3`), so locally it can run for real: `source-s3 read` with the
connection's config, catalog and state, exactly the protocol Airbyte's platform
speaks to it. This module plays the platform and the Snowflake destination's part:

- the config is the three lake streams of docs/airbyte.md (`source_config`, the one
  home of their globs and input schemas), pointed at the local S3 endpoint;
- each RECORD becomes a raw row the way the destination types it (`include.contracts.
  raw_schema`): a number in a string column becomes its JSON text, an object becomes
  JSON, a value that cannot be typed is NULL with a `DESTINATION_TYPECAST_ERROR`
  change in `_airbyte_meta.changes`;
- a stream's rows are committed together with the STATE message that follows them
  (one DuckDB transaction), so a killed run re-reads from the last checkpoint, as
  Airbyte's at-least-once delivery does, without repeating committed rows.

The connector's own failures (its exit status, TRACE errors) raise `AirbyteSourceError`
with the connector's message. Its silent ones are the reason the warehouse checks
each object's rows against the sink's manifest: the JSONL parser drops the rest of a
file after a malformed line and still succeeds.
"""

from __future__ import annotations

import json
import os
import subprocess
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from include.contracts.lake_layout import (
    DATA_EXTENSIONS,
    DEAD_LETTER_PREFIX,
    EXTENSION,
    MANIFESTS_PREFIX,
    TOPICS_PREFIX,
    area_prefix,
)
from include.contracts.raw_schema import (
    AIRBYTE_COLUMNS,
    FILE_COLUMNS,
    HEART_RATE_DEAD_LETTERS,
    HEART_RATE_MANIFESTS,
    HEART_RATE_STREAM,
    TABLES,
)
from include.contracts.settings import LakeSettings
from include.loaders.lake_files import LoadResult
from include.loaders.raw_tables import append_columns, empty_columns, ensure_raw_schema
from include.loaders.state import read_state, save_state
from include.warehouse import transaction, writer

STATE_PREFIX = "source-s3:"
"""The connector's checkpoints in the loader-state table, apart from the embedded loader's cursors."""
JSON_SCHEMA_TYPES = {"VARCHAR": "string", "BIGINT": "integer", "DOUBLE": "number", "JSON": "object"}
STREAM_AREAS = ((HEART_RATE_STREAM, TOPICS_PREFIX, DATA_EXTENSIONS),
                (HEART_RATE_MANIFESTS, MANIFESTS_PREFIX, (EXTENSION,)),
                (HEART_RATE_DEAD_LETTERS, DEAD_LETTER_PREFIX, (EXTENSION,)))


class AirbyteSourceError(RuntimeError):
    """The connector failed (or could not start); the message is the connector's own."""


def _data_columns(table: str) -> dict[str, str]:
    """The stream's own fields: the raw table's columns after Airbyte's and the file columns."""
    return {name: kind for name, kind in TABLES[table].items() if name not in AIRBYTE_COLUMNS | FILE_COLUMNS}


def source_config(lake: LakeSettings) -> dict[str, Any]:
    """The S3 source's config for the lake: one stream per lake area, JSONL, the input schema of the raw contract."""
    streams = []
    for table, area, extensions in STREAM_AREAS:
        prefix = area_prefix(area, lake.topic)
        streams.append({
            "name": table,
            "globs": [f"{prefix}**/*{extension}" for extension in extensions],
            "format": {"filetype": "jsonl"},
            "validation_policy": "Emit Record",
            "input_schema": json.dumps({name: JSON_SCHEMA_TYPES[kind] for name, kind in _data_columns(table).items()}),
            "days_to_sync_if_history_is_full": 3,
        })
    config: dict[str, Any] = {"bucket": lake.bucket, "streams": streams}
    if lake.credentials:
        config["aws_access_key_id"], config["aws_secret_access_key"] = lake.credentials
    if lake.endpoint_url:
        config["endpoint"] = lake.endpoint_url
    config["region_name"] = lake.region
    return config


def configured_catalog() -> dict[str, Any]:
    """What the connection syncs: every stream, incremental append on the source's own cursor (as `discover` says)."""
    streams = []
    for table, _, _ in STREAM_AREAS:
        properties = {name: {"type": "string"} for name in FILE_COLUMNS}
        properties |= {name: {"type": JSON_SCHEMA_TYPES[kind]} for name, kind in _data_columns(table).items()}
        stream = {"name": table, "json_schema": {"type": "object", "properties": properties},
                  "supported_sync_modes": ["full_refresh", "incremental"], "source_defined_cursor": True,
                  "default_cursor_field": ["_ab_source_file_last_modified"]}
        streams.append({"stream": stream, "sync_mode": "incremental", "destination_sync_mode": "append",
                        "cursor_field": ["_ab_source_file_last_modified"]})
    return {"streams": streams}


def _typed(value: Any, kind: str) -> tuple[Any, bool]:
    """A record's value as the destination types it for a column of `kind`; (value, typed ok)."""
    if value is None:
        return None, True
    if kind == "VARCHAR":
        return (value if isinstance(value, str) else json.dumps(value)), True
    if kind == "JSON":
        return json.dumps(value), True
    try:
        number = float(value) if not isinstance(value, bool) else None
    except (TypeError, ValueError):
        number = None
    if number is None:
        return None, False
    if kind == "BIGINT":
        return (int(number), True) if number.is_integer() else (None, False)
    return number, True


@dataclass
class _Pending:
    """A stream's rows since its last checkpoint."""

    table: str
    sync_id: int
    rows: dict[str, list] = field(init=False)

    def __post_init__(self) -> None:
        self.rows = empty_columns(self.table)

    def add(self, data: dict[str, Any], emitted_at_ms: float) -> None:
        changes = []
        values: dict[str, Any] = {}
        for name, kind in TABLES[self.table].items():
            if name in AIRBYTE_COLUMNS:
                continue
            values[name], ok = _typed(data.get(name), kind)
            if not ok:
                changes.append({"field": name, "change": "NULLED", "reason": "DESTINATION_TYPECAST_ERROR"})
        values["_airbyte_raw_id"] = str(uuid.uuid4())
        values["_airbyte_extracted_at"] = datetime.fromtimestamp(emitted_at_ms / 1000, tz=UTC)
        values["_airbyte_meta"] = json.dumps({"sync_id": self.sync_id, "changes": changes})
        for name, column in self.rows.items():
            column.append(values[name])

    def clear(self) -> None:
        self.__post_init__()


def _messages(command: list[str], say: Callable[[str], None]) -> Iterator[dict[str, Any]]:
    """The connector's Airbyte messages, line by line; raises with its error when it fails."""
    errors: list[str] = []
    try:
        process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                                   env={**os.environ, "PYTHONUNBUFFERED": "1"})
    except OSError as error:
        raise AirbyteSourceError(f"cannot run the Airbyte S3 source {command[0]}: {error.strerror}; "
                                 "run `make install` (it installs the connector into .venv-source-s3)") from error
    assert process.stdout is not None
    for line in process.stdout:
        if not line.startswith("{"):
            continue
        message = json.loads(line)
        kind = message.get("type")
        if kind == "TRACE" and message["trace"].get("type") == "ERROR":
            errors.append(message["trace"]["error"].get("message", "unknown error"))
        elif kind == "LOG" and message["log"].get("level") in ("ERROR", "FATAL"):
            say(f"source-s3: {message['log']['message'].splitlines()[0]}")
        else:
            yield message
    stderr = process.stderr.read() if process.stderr else ""
    if process.wait() != 0 or errors:
        detail = errors[0] if errors else (stderr.strip().splitlines() or ["(no output)"])[-1]
        raise AirbyteSourceError(f"the Airbyte S3 source failed (exit {process.returncode}): {detail}")


def load(executable: Path, lake: LakeSettings, warehouse_path: Path,
         say: Callable[[str], None] = print) -> LoadResult:
    """One sync of the three lake streams with the real connector into the raw tables; returns what it loaded."""
    started = time.monotonic()
    result = LoadResult()
    with writer(warehouse_path) as conn, tempfile.TemporaryDirectory(prefix="source-s3-") as folder:
        ensure_raw_schema(conn)
        states = {table: read_state(conn, STATE_PREFIX + table) or {} for table, _, _ in STREAM_AREAS}
        pending = {table: _Pending(table, states[table].get("sync_id", 0) + 1) for table in states}
        files = {"config": source_config(lake), "catalog": configured_catalog(),
                 "state": [{"type": "STREAM", "stream": {"stream_descriptor": {"name": table},
                                                         "stream_state": state["stream_state"]}}
                           for table, state in states.items() if state.get("stream_state")]}
        for name, document in files.items():
            path = Path(folder, f"{name}.json")
            path.write_text(json.dumps(document))
            path.chmod(0o600)  # the config holds the lake's keys
        command = [str(executable), "read", *(f"--{name}={Path(folder, f'{name}.json')}" for name in files)]
        say(f"load (airbyte source-s3): reading s3://{lake.bucket} with {executable}")
        seen_files: set[str] = set()
        for message in _messages(command, say):
            if message["type"] == "RECORD":
                record = message["record"]
                pending[record["stream"]].add(record["data"], record["emitted_at"])
                seen_files.add(record["data"].get("_ab_source_file_url", ""))
            elif message["type"] == "STATE" and message["state"].get("type") == "STREAM":
                stream = message["state"]["stream"]
                table = stream["stream_descriptor"]["name"]
                batch = pending[table]
                with transaction(conn):
                    rows = append_columns(conn, table, batch.rows)
                    save_state(conn, STATE_PREFIX + table,
                               {"stream_state": stream["stream_state"], "sync_id": batch.sync_id})
                batch.clear()
                result.rows += rows
                result.per_stream[table] = result.per_stream.get(table, 0) + rows
        result.files = len(seen_files)
        unchecked = sum(len(batch.rows["_airbyte_raw_id"]) for batch in pending.values())
        if unchecked:  # the connector ended without a checkpoint for them: Airbyte would not commit them either
            say(f"load (airbyte source-s3): {unchecked} records after the last checkpoint were not committed; "
                "the next run reads them again")
    result.seconds = time.monotonic() - started
    return result

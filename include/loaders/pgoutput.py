"""Decode PostgreSQL's pgoutput logical-replication messages (protocol version 1).

Only what CDC of plain tables needs: Begin, Relation, Insert, Update, Delete and
Commit; other message types (Origin, Type, Truncate, Message) are skipped.
Values arrive in their text form and are converted by column type OID.
Reference: PostgreSQL docs, "Logical Replication Message Formats".
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

PG_EPOCH = datetime(2000, 1, 1, tzinfo=UTC)
_INTEGER_OIDS = {20, 21, 23, 26}  # int8, int2, int4, oid
_FLOAT_OIDS = {700, 701, 1700}  # float4, float8, numeric
_BOOL_OID = 16
_TIMESTAMPTZ_OIDS = {1184}
_TIMESTAMP_OIDS = {1114}


class DecodeError(ValueError):
    """A replication message is not what pgoutput protocol 1 sends."""


@dataclass(frozen=True)
class Relation:
    relation_id: int
    schema: str
    table: str
    columns: tuple[str, ...]
    type_oids: tuple[int, ...]


@dataclass(frozen=True)
class Begin:
    final_lsn: int
    commit_time: datetime
    xid: int


@dataclass(frozen=True)
class Commit:
    commit_lsn: int
    end_lsn: int
    commit_time: datetime


@dataclass(frozen=True)
class RowChange:
    """One inserted, updated or deleted row. For deletes only the key columns are known."""

    operation: str  # "insert" | "update" | "delete"
    relation: Relation
    values: dict[str, Any]


def _timestamp(micros: int) -> datetime:
    return PG_EPOCH + timedelta(microseconds=micros)


def _convert(text: str, oid: int) -> Any:
    if oid in _INTEGER_OIDS:
        return int(text)
    if oid in _FLOAT_OIDS:
        return float(text)
    if oid == _BOOL_OID:
        return text == "t"
    if oid in _TIMESTAMPTZ_OIDS:
        return datetime.fromisoformat(text).astimezone(UTC)
    if oid in _TIMESTAMP_OIDS:
        return datetime.fromisoformat(text)
    return text


class Decoder:
    """Keeps the relations announced in the stream and turns messages into events."""

    def __init__(self) -> None:
        self.relations: dict[int, Relation] = {}

    def decode(self, data: bytes) -> Begin | Commit | Relation | RowChange | None:
        kind = data[:1]
        if kind == b"B":
            final_lsn, commit_micros, xid = struct.unpack_from(">QqI", data, 1)
            return Begin(final_lsn, _timestamp(commit_micros), xid)
        if kind == b"C":
            _flags, commit_lsn, end_lsn, commit_micros = struct.unpack_from(">bQQq", data, 1)
            return Commit(commit_lsn, end_lsn, _timestamp(commit_micros))
        if kind == b"R":
            return self._relation(data)
        if kind in (b"I", b"U", b"D"):
            return self._row(kind, data)
        if kind in (b"O", b"Y", b"T", b"M"):
            return None
        raise DecodeError(f"unknown pgoutput message type {kind!r}")

    def _relation(self, data: bytes) -> Relation:
        (relation_id,) = struct.unpack_from(">I", data, 1)
        offset = 5
        schema, offset = _cstring(data, offset)
        table, offset = _cstring(data, offset)
        offset += 1  # replica identity setting
        (count,) = struct.unpack_from(">h", data, offset)
        offset += 2
        names, oids = [], []
        for _ in range(count):
            offset += 1  # flags (1 = part of the key)
            name, offset = _cstring(data, offset)
            oid, _modifier = struct.unpack_from(">Ii", data, offset)
            offset += 8
            names.append(name)
            oids.append(oid)
        relation = Relation(relation_id, schema, table, tuple(names), tuple(oids))
        self.relations[relation_id] = relation
        return relation

    def _row(self, kind: bytes, data: bytes) -> RowChange:
        (relation_id,) = struct.unpack_from(">I", data, 1)
        relation = self.relations.get(relation_id)
        if relation is None:
            raise DecodeError(f"row for relation {relation_id} before its Relation message")
        offset = 5
        marker = data[offset:offset + 1]
        if kind == b"U" and marker in (b"K", b"O"):  # old key or old row: skip to the new tuple
            _, offset = self._tuple(relation, data, offset + 1)
            marker = data[offset:offset + 1]
        values, _ = self._tuple(relation, data, offset + 1)
        if kind == b"D" and marker not in (b"K", b"O"):
            raise DecodeError(f"delete without an old key tuple (marker {marker!r})")
        operation = {b"I": "insert", b"U": "update", b"D": "delete"}[kind]
        return RowChange(operation, relation, values)

    @staticmethod
    def _tuple(relation: Relation, data: bytes, offset: int) -> tuple[dict[str, Any], int]:
        (count,) = struct.unpack_from(">h", data, offset)
        offset += 2
        values: dict[str, Any] = {}
        for index in range(count):
            kind = data[offset:offset + 1]
            offset += 1
            name = relation.columns[index]
            if kind == b"n":
                values[name] = None
            elif kind == b"u":  # unchanged TOAST value: not sent
                continue
            elif kind == b"t":
                (length,) = struct.unpack_from(">i", data, offset)
                offset += 4
                values[name] = _convert(data[offset:offset + length].decode(), relation.type_oids[index])
                offset += length
            else:
                raise DecodeError(f"unknown tuple column kind {kind!r}")
        return values, offset


def _cstring(data: bytes, offset: int) -> tuple[str, int]:
    end = data.index(b"\0", offset)
    return data[offset:end].decode(), end + 1


def lsn_to_int(lsn: str) -> int:
    high, low = lsn.split("/")
    return (int(high, 16) << 32) + int(low, 16)


def int_to_lsn(value: int) -> str:
    return f"{value >> 32:X}/{value & 0xFFFFFFFF:X}"

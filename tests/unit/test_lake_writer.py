"""The sink's file rotation and commit order, without Kafka or S3."""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime

import pytest

from include.contracts.heart_rate_event import encode
from include.contracts.lake_layout import HOUR_FOLDER, manifest_key, parse_key
from producer.s3_sink import LakeWriter

pytestmark = pytest.mark.unit

HOUR = 1_795_000_000 - 1_795_000_000 % 3600


def _event(n: int, timestamp: int) -> bytes:
    return encode(f"00000000-0000-4000-8000-{n:012d}", 10001, 70, timestamp, 20001, 1.0, 2.0).encode()


class Recorder:
    def __init__(self) -> None:
        self.log: list[tuple] = []
        self.objects: dict[str, bytes] = {}

    def put(self, key: str, body: bytes) -> None:
        self.log.append(("put", key))
        self.objects[key] = body

    def commit(self, partition: int, offset: int) -> None:
        self.log.append(("commit", partition, offset))


def test_rotates_on_count_and_on_event_hour_and_commits_after_each_write() -> None:
    sink = Recorder()
    writer = LakeWriter("hr", sink.put, sink.commit, flush_size=3)
    timestamps = [HOUR + 1, HOUR + 2, HOUR + 3, HOUR + 4, HOUR + 3600, HOUR + 5]
    for offset, ts in enumerate(timestamps):
        writer.add(0, offset, _event(offset, ts))
    writer.flush_all()
    keys = [entry[1] for entry in sink.log if entry[0] == "put" and entry[1].startswith("topics/")]
    assert [parse_key(k).start_offset for k in keys] == [0, 3, 4, 5]
    assert [len(sink.objects[k].splitlines()) for k in keys] == [3, 1, 1, 1]
    assert parse_key(keys[2]).hour.timestamp() == HOUR + 3600  # the late-hour record got its own folder
    # each object, then its manifest, then the commit of the offset after its last record
    assert sink.log == [entry for index, key in enumerate(keys) for entry in (
        ("put", key), ("put", manifest_key(key)), ("commit", 0, [3, 4, 5, 6][index]))]
    manifests = [json.loads(sink.objects[manifest_key(key)]) for key in keys]
    assert [(m["object_key"], m["records"], m["first_offset"], m["last_offset"]) for m in manifests] == [
        (keys[0], 3, 0, 2), (keys[1], 1, 3, 3), (keys[2], 1, 4, 4), (keys[3], 1, 5, 5)]


def test_same_records_give_same_keys_and_bytes() -> None:
    def run() -> dict[str, bytes]:
        sink = Recorder()
        writer = LakeWriter("hr", sink.put, sink.commit, flush_size=4)
        for offset in range(10):
            writer.add(offset % 2, offset, _event(offset, HOUR + offset * 700))
        writer.flush_all()
        return sink.objects

    assert run() == run()


def test_messages_that_are_not_contract_events_go_to_dead_letters_with_their_coordinates() -> None:
    sink = Recorder()
    writer = LakeWriter("hr", sink.put, sink.commit, flush_size=100)
    folder = f"dead-letter/hr/{datetime.fromtimestamp(HOUR, tz=UTC):{HOUR_FOLDER}}"
    writer.add(1, 7, b"not json", key=b"10001", timestamp_ms=HOUR * 1000)
    writer.add(1, 8, b'{"user_id": 1}', timestamp_ms=HOUR * 1000 + 5)
    writer.add(1, 9, None, timestamp_ms=HOUR * 1000 + 9)
    writer.add(1, 10, _event(10, HOUR).replace(b'"heart_rate":70', b'"heart_rate":"n/a"'), timestamp_ms=HOUR * 1000)
    writer.add(1, 11, _event(11, HOUR).replace(b'"heart_rate":70', b'"heart_rate":999'), timestamp_ms=HOUR * 1000)
    writer.add(1, 12, _event(12, 1_711_943_972_000), timestamp_ms=HOUR * 1000)  # a millisecond epoch
    writer.add(1, 13, _event(13, HOUR))
    writer.flush_all()
    letters = {k: json.loads(v) for k, v in sink.objects.items() if k.startswith("dead-letter/")}
    assert sorted(letters) == [f"{folder}hr+1+{n:010d}.json" for n in range(7, 13)]
    first = letters[f"{folder}hr+1+0000000007.json"]
    assert (first["kafka_partition"], first["kafka_offset"], first["message_key"]) == (1, 7, "10001")
    assert base64.b64decode(first["value_base64"]) == b"not json"
    assert "missing field 'meta'" in letters[f"{folder}hr+1+0000000008.json"]["error"]
    assert "heart_rate must be a number" in letters[f"{folder}hr+1+0000000010.json"]["error"]
    assert "heart_rate=999 is out of range" in letters[f"{folder}hr+1+0000000011.json"]["error"]
    assert "timestamp=1711943972000 is out of range" in letters[f"{folder}hr+1+0000000012.json"]["error"]
    assert writer.stats.dead_letters == 6 and writer.stats.records == 1
    [data] = [body for key, body in sink.objects.items() if key.startswith("topics/")]
    assert data == _event(13, HOUR) + b"\n"  # only the valid event reached the lake


def test_multi_line_json_is_written_as_one_line() -> None:
    sink = Recorder()
    writer = LakeWriter("hr", sink.put, sink.commit)
    writer.add(0, 0, json.dumps(json.loads(_event(0, HOUR)), indent=1).encode())
    writer.flush_all()
    [body] = [body for key, body in sink.objects.items() if key.startswith("topics/")]
    assert json.loads(body) == json.loads(_event(0, HOUR)) and body.count(b"\n") == 1


def test_caught_up_partition_is_flushed_once_its_buffer_is_old_enough() -> None:
    sink, now = Recorder(), [0.0]
    writer = LakeWriter("hr", sink.put, sink.commit, max_buffer_seconds=30, clock=lambda: now[0])
    writer.add(0, 0, _event(0, HOUR))
    writer.reached_end(0)
    now[0] = 10
    writer.flush_stale()
    assert sink.objects == {}
    now[0] = 31
    writer.flush_stale()
    assert len(sink.objects) == 2  # the object and its manifest

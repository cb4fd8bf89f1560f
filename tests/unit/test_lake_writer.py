"""The sink's file rotation and commit order, without Kafka or S3."""

from __future__ import annotations

import base64
import json

import pytest

from include.contracts.heart_rate_event import encode
from include.contracts.lake_layout import parse_key
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
    keys = [entry[1] for entry in sink.log if entry[0] == "put"]
    assert [parse_key(k).start_offset for k in keys] == [0, 3, 4, 5]
    assert [len(sink.objects[k].splitlines()) for k in keys] == [3, 1, 1, 1]
    assert parse_key(keys[2]).hour.timestamp() == HOUR + 3600  # the late-hour record got its own folder
    # every write is followed by the commit of the offset after its last record
    assert sink.log[1::2] == [("commit", 0, 3), ("commit", 0, 4), ("commit", 0, 5), ("commit", 0, 6)]


def test_same_records_give_same_keys_and_bytes() -> None:
    def run() -> dict[str, bytes]:
        sink = Recorder()
        writer = LakeWriter("hr", sink.put, sink.commit, flush_size=4)
        for offset in range(10):
            writer.add(offset % 2, offset, _event(offset, HOUR + offset * 700))
        writer.flush_all()
        return sink.objects

    assert run() == run()


def test_undecodable_messages_go_to_dead_letters_with_their_coordinates() -> None:
    sink = Recorder()
    writer = LakeWriter("hr", sink.put, sink.commit, flush_size=100)
    writer.add(1, 7, b"not json", key=b"10001")
    writer.add(1, 8, b'{"user_id": 1}')
    writer.add(1, 9, None)
    writer.add(1, 10, _event(10, HOUR))
    writer.flush_all()
    letters = {k: json.loads(v) for k, v in sink.objects.items() if k.startswith("dead-letter/")}
    assert sorted(letters) == [f"dead-letter/hr/hr+1+{n:010d}.json" for n in (7, 8, 9)]
    first = letters["dead-letter/hr/hr+1+0000000007.json"]
    assert (first["partition"], first["offset"], first["key"]) == (1, 7, "10001")
    assert base64.b64decode(first["value_base64"]) == b"not json"
    assert "missing field 'timestamp'" in letters["dead-letter/hr/hr+1+0000000008.json"]["error"]
    assert writer.stats.dead_letters == 3 and writer.stats.records == 1


def test_multi_line_json_is_written_as_one_line() -> None:
    sink = Recorder()
    writer = LakeWriter("hr", sink.put, sink.commit)
    writer.add(0, 0, b'{"user_id": "1",\n "timestamp": "%d"}' % HOUR)
    writer.flush_all()
    [body] = sink.objects.values()
    assert body == b'{"user_id":"1","timestamp":"%d"}\n' % HOUR


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
    assert len(sink.objects) == 1

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


# Messages the fast path must not take at face value: each is either refused by it (the one-by-one path then
# decides) or accepted with exactly the timestamp the full parser finds.
TRICKY = [
    b"not json",
    b"",
    _event(20, HOUR).replace(b'"heart_rate":70', b'"heart_rate":"70"'),  # original (string) form: valid
    _event(21, HOUR).replace(b'"heart_rate":70', b'"heart_rate":70.0'),  # a whole float: valid
    _event(22, HOUR).replace(b'"heart_rate":70', b'"heart_rate":70.5'),
    _event(23, HOUR).replace(b'"heart_rate":70', b'"heart_rate":true'),
    _event(24, HOUR).replace(b'"timestamp":', b'"timestamp":1,"timestamp":'),  # duplicate key, last one valid
    _event(25, HOUR).replace(b'"timestamp":', b'"timestamp":' + str(HOUR + 7200).encode() + b',"timestamp":'),
    _event(26, HOUR).replace(b'{"event_id"', b'{"note":"\xff","event_id"'),  # not UTF-8 in a skipped field
    _event(27, HOUR).replace(b',"meta"', b',\r"meta"'),
    _event(28, HOUR).replace(b',"meta"', b',\n"meta"'),
    _event(29, HOUR).replace(b"00000000-0000-4000-8000-", b"0000"),  # event_id too short
    _event(30, HOUR).replace(b'"latitude":1.0', b'"latitude":NaN'),
    _event(31, HOUR).replace(b'"latitude":1.0', b'"latitude":91'),
    _event(32, HOUR) + b" ",
    b" " + _event(33, HOUR),
    _event(34, HOUR)[:-1], b'"x":1}',  # a broken pair that, joined with a comma, would be valid JSON
    b"[" + _event(35, HOUR) + b"]",
]


def test_the_fast_path_accepts_nothing_the_contract_refuses() -> None:
    from include.contracts.heart_rate_event import EventError, parse, valid_lines_timestamps

    for value in [*TRICKY, _event(40, HOUR)]:
        stamps = valid_lines_timestamps([value])
        if stamps is None:
            continue
        assert b"\n" not in value and b"\r" not in value, value
        assert stamps == [parse(value).timestamp], value  # parse raises EventError for an invalid event
    assert valid_lines_timestamps([_event(40, HOUR), _event(41, HOUR + 1)]) == [HOUR, HOUR + 1]
    assert valid_lines_timestamps([_event(34, HOUR)[:-1], b'"x":1}']) is None
    with pytest.raises(EventError):
        parse(_event(26, HOUR).replace(b'{"event_id"', b'{"note":"\xff","event_id"'))


def test_a_batch_lands_exactly_as_its_messages_one_by_one() -> None:
    """The batch path (C decoder, slices per hour) against `add` message by message: same objects, same
    bytes, same dead letters, same commits, with invalid messages, hour changes and count rotations."""
    values = [_event(n, HOUR + 3590 + n * 3) for n in range(12)] + TRICKY + \
        [_event(100 + n, HOUR + 3600 * 2 + n) for n in range(7)]

    def lake(batched: bool) -> tuple[dict[str, bytes], list[tuple]]:
        sink = Recorder()
        writer = LakeWriter("hr", sink.put, sink.commit, flush_size=5)
        for start in range(0, len(values), 4):
            chunk = values[start:start + 4]
            offsets = list(range(start, start + len(chunk)))
            keys, stamps = [b"10001"] * len(chunk), [HOUR * 1000] * len(chunk)
            if batched:
                writer.add_batch(0, offsets, chunk, keys, stamps)
            else:
                for offset, value, key, stamp in zip(offsets, chunk, keys, stamps, strict=True):
                    writer.add(0, offset, value, key, stamp)
        writer.flush_all()
        return sink.objects, sink.log

    one_by_one = lake(batched=False)
    assert lake(batched=True) == one_by_one
    assert sum(key.startswith("dead-letter/") for key in one_by_one[0]) >= 10


def test_background_uploads_commit_only_past_units_that_are_all_written() -> None:
    """Two uploads run side by side; a later unit finishing first is held back until every earlier one is
    written, and nothing is committed past a unit whose write failed."""
    import threading

    from producer.s3_sink import BackgroundUploads, LakeUnavailable

    first_may_finish, written = threading.Event(), []

    def put(key: str, body: bytes) -> None:
        if key == "slow":
            assert first_may_finish.wait(10)
        if key == "broken":
            raise OSError("S3 said no")
        written.append(key)

    uploads = BackgroundUploads(put, workers=2)
    uploads.submit([("slow", b"")], (0, 10))
    uploads.submit([("fast", b""), ("fast.manifest", b"")], (1, 20))
    for _ in range(100):
        if written == ["fast", "fast.manifest"]:
            break
        threading.Event().wait(0.01)
    assert written == ["fast", "fast.manifest"] and uploads.completed() == []
    first_may_finish.set()
    uploads.wait()
    assert uploads.completed() == [(0, 10), (1, 20)]

    uploads.submit([("broken", b"")], (0, 30))
    uploads.submit([("after", b"")], (1, 40))
    with pytest.raises(LakeUnavailable, match="S3 said no"):
        uploads.wait()
    with pytest.raises(LakeUnavailable):
        uploads.completed()
    uploads.close()

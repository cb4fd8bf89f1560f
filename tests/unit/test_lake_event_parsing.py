"""The embedded loader's event parsing: an object of valid events exactly as the producer writes them is split
inside DuckDB, and lands exactly the rows the line-by-line path gives for the same lines."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

import duckdb
import pytest

from include.contracts.heart_rate_event import encode
from include.contracts.raw_schema import HEART_RATE_STREAM, relation
from include.loaders.lake_files import EVENTS, Batch, LakeFile, parse_lines
from include.loaders.raw_tables import ensure_raw_schema

pytestmark = pytest.mark.unit

HOUR = 1_795_000_000 - 1_795_000_000 % 3600
FILE = LakeFile(datetime(2026, 11, 28, 10, 5, tzinfo=UTC), "topics/hr/year=2026/hr+0+0000000000.json")


def _line(n: int) -> bytes:
    return encode(f"00000000-0000-4000-8000-{n:012d}", 10001 + n, 60 + n % 90, HOUR + n, 20001 + n % 23,
                  37.4 + n / 1000, -121.9).encode()


def _rows(body: bytes, typed_objects: int | None = None, parse: Callable = EVENTS.add) -> list[tuple]:
    """The rows `body` lands in raw (raw id left out, load order kept); `typed_objects`: how many objects must
    have taken the DuckDB split."""
    batch = Batch(HEART_RATE_STREAM, datetime(2026, 11, 28, 11, tzinfo=UTC), sync_id=7)
    parse(body, FILE, batch)
    if typed_objects is not None:
        assert len(batch.typed_objects) == typed_objects
    with duckdb.connect() as conn:
        ensure_raw_schema(conn)
        rows, _ = batch.write(conn)
        landed = conn.execute(f"select * from {relation(HEART_RATE_STREAM)} order by _airbyte_raw_id").fetchall()
    assert rows == len(landed) and len({row[0] for row in landed}) == rows  # raw ids stay unique
    return [row[1:] for row in landed]


def test_a_valid_object_lands_the_rows_the_line_by_line_path_gives() -> None:
    lines = [_line(n) for n in range(50)]
    fast = _rows(b"\n".join(lines) + b"\n", typed_objects=1)
    # One line in the original (string) form sends the whole object down the line-by-line path.
    mixed = _rows(b"\n".join(lines) + b'\n{"user_id":"1","heart_rate":"70","timestamp":"' + str(HOUR).encode()
                  + b'","meta":{"activity_id":"20001","location":{"latitude":"1","longitude":"2"}}}\n', typed_objects=0)
    assert len(fast) == 50 and mixed[:50] == fast
    assert fast[0][4:] == ("00000000-0000-4000-8000-000000000000", "10001", "60", str(HOUR),
                           '{"activity_id":20001,"location":{"latitude":37.4,"longitude":-121.9}}')
    assert fast[0][2:4] == (FILE.key, FILE.last_modified_text)
    assert all('"validation_error"' not in row[1] for row in fast)


def test_an_out_of_range_event_is_flagged_not_waved_through_by_the_fast_path() -> None:
    lines = [_line(n) for n in range(5)] + [_line(5).replace(b'"heart_rate":65', b'"heart_rate":400')]
    rows = _rows(b"\n".join(lines) + b"\n", typed_objects=0)
    assert len(rows) == 6
    assert "heart_rate=400 is out of range" in rows[5][1] and all("validation_error" not in r[1] for r in rows[:5])


@pytest.mark.parametrize(("latitude", "split_in_duckdb"), [
    (0.0, True), (-0.0, True), (90.0, True), (-90.0, True), (12.3, True), (37.416834, True), (89.999999, True),
    # Python writes 1e-05 where msgspec writes 0.00001: such an object is read line by line, to the same rows.
    (1e-05, False), (-1.5e-07, False),
])
def test_the_duckdb_split_lands_what_the_line_by_line_path_lands(latitude: float, split_in_duckdb: bool) -> None:
    body = b"".join(encode(f"00000000-0000-4000-8000-{n:012d}", 10001, 70, HOUR + n, 20001, latitude,
                           latitude / 2).encode() + b"\n" for n in range(3))
    assert _rows(body, typed_objects=int(split_in_duckdb)) == _rows(body, parse=parse_lines)


@pytest.mark.parametrize("spelling", [
    b'{"event_id": "00000000-0000-4000-8000-000000000001","user_id":10001,"heart_rate":70,"timestamp":%d,'
    b'"meta":{"activity_id":20001,"location":{"latitude":1.5,"longitude":2.5}}}',  # a space
    b'{"user_id":10001,"event_id":"00000000-0000-4000-8000-000000000001","heart_rate":70,"timestamp":%d,'
    b'"meta":{"activity_id":20001,"location":{"latitude":1.5,"longitude":2.5}}}',  # key order
    b'{"event_id":"00000000-0000-4000-8000-000000000001","user_id":10001,"heart_rate":70,"timestamp":%d,'
    b'"meta":{"activity_id":20001,"location":{"latitude":1.50,"longitude":2.5}}}',  # 1.50
    b'{"event_id":"00000000-0000-4000-8000-00000000000A","user_id":10001,"heart_rate":70,"timestamp":%d,'
    b'"meta":{"activity_id":20001,"location":{"latitude":1.5,"longitude":2.5}}}',  # upper-case hex
    b'{"event_id":"00000000-0000-4000-8000-000000000001","user_id":10001,"heart_rate":70.0,"timestamp":%d,'
    b'"meta":{"activity_id":20001,"location":{"latitude":1.5,"longitude":2.5}}}',  # 70.0
    b'{"event_id":"00000000-0000-4000-8000-000000000001","user_id":10001,"heart_rate":70,"timestamp":%d,'
    b'"meta":{"activity_id":20001,"location":{"latitude":1.5,"longitude":2.5}},"extra":1}',  # a member more
])
def test_any_other_spelling_of_an_event_is_read_line_by_line(spelling: bytes) -> None:
    for body in (_line(0) + b"\n" + spelling % HOUR + b"\n",  # one such line sends its whole object
                 _line(0) + b"\n\n" + _line(1) + b"\n",  # a blank line
                 _line(0) + b"\n" + _line(1)):  # no newline at the end
        assert _rows(body, typed_objects=0) == _rows(body, parse=parse_lines)

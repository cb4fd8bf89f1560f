"""The embedded loader's event parsing: an object of valid typed events takes the column-wise fast path, and
lands exactly the rows the line-by-line path gives for the same lines."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from include.contracts.heart_rate_event import encode
from include.contracts.raw_schema import HEART_RATE_STREAM
from include.loaders.lake_files import Batch, LakeFile, parse_events

pytestmark = pytest.mark.unit

HOUR = 1_795_000_000 - 1_795_000_000 % 3600
FILE = LakeFile(datetime(2026, 11, 28, 10, 5, tzinfo=UTC), "topics/hr/year=2026/hr+0+0000000000.json")


def _line(n: int) -> bytes:
    return encode(f"00000000-0000-4000-8000-{n:012d}", 10001 + n, 60 + n % 90, HOUR + n, 20001 + n % 23,
                  37.4 + n / 1000, -121.9).encode()


def _rows(body: bytes) -> list[tuple]:
    batch = Batch(HEART_RATE_STREAM, datetime(2026, 11, 28, 11, tzinfo=UTC), sync_id=7)
    parse_events(body, FILE, batch)
    columns = {name: values for name, values in batch.rows.items() if name != "_airbyte_raw_id"}
    assert len(set(batch.rows["_airbyte_raw_id"])) == len(batch.rows["_airbyte_raw_id"])  # ids stay unique
    return list(zip(*columns.values(), strict=True))


def test_a_valid_object_lands_the_rows_the_line_by_line_path_gives() -> None:
    lines = [_line(n) for n in range(50)]
    fast = _rows(b"\n".join(lines) + b"\n")
    # One line in the original (string) form sends the whole object down the line-by-line path.
    mixed = _rows(b"\n".join(lines) + b'\n{"user_id":"1","heart_rate":"70","timestamp":"' + str(HOUR).encode()
                  + b'","meta":{"activity_id":"20001","location":{"latitude":"1","longitude":"2"}}}\n')
    assert len(fast) == 50 and mixed[:50] == fast
    assert fast[0][4:] == ("00000000-0000-4000-8000-000000000000", "10001", "60", str(HOUR),
                           '{"activity_id":20001,"location":{"latitude":37.4,"longitude":-121.9}}')
    assert fast[0][2:4] == (FILE.key, FILE.last_modified_text)
    assert all('"validation_error"' not in row[1] for row in fast)


def test_an_out_of_range_event_is_flagged_not_waved_through_by_the_fast_path() -> None:
    lines = [_line(n) for n in range(5)] + [_line(5).replace(b'"heart_rate":65', b'"heart_rate":400')]
    rows = _rows(b"\n".join(lines))
    assert len(rows) == 6
    assert "heart_rate=400 is out of range" in rows[5][1] and all("validation_error" not in r[1] for r in rows[:5])

"""Airbyte's file cursor: newer files, and files at the cursor's timestamp not yet read."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from include.loaders.lake_files import FileCursor, LakeFile

pytestmark = pytest.mark.unit

T1 = datetime(2026, 1, 1, 10, tzinfo=UTC)
T2 = datetime(2026, 1, 1, 11, tzinfo=UTC)


def test_equal_timestamps_are_not_skipped_and_history_resets_on_a_newer_one() -> None:
    cursor = FileCursor()
    a, b, c = LakeFile(T1, "a.json"), LakeFile(T1, "b.json"), LakeFile(T2, "c.json")
    assert cursor.is_new(a)
    cursor.advance(a)
    assert not cursor.is_new(a)
    assert cursor.is_new(b)  # same second as a, not read yet
    cursor.advance(b)
    assert cursor.history == {"a.json", "b.json"}
    cursor.advance(c)
    assert (cursor.last_modified, cursor.history) == (T2, {"c.json"})
    assert not cursor.is_new(LakeFile(T1, "late-but-older.json"))


def test_state_round_trip() -> None:
    cursor = FileCursor(T1, {"a.json", "b.json"})
    again = FileCursor.from_state(cursor.to_state())
    assert (again.last_modified, again.history) == (T1, {"a.json", "b.json"})
    assert FileCursor.from_state(None).last_modified is None

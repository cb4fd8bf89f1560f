"""The local S3 server's recording is read back whole even when lines were interleaved."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from dev.embedded.s3_store import _entries

pytestmark = pytest.mark.unit


def test_interleaved_and_cut_recording_lines_keep_every_whole_entry(tmp_path: Path) -> None:
    first, second, third = ({"method": "PUT", "url": f"http://h/b/k{n}"} for n in range(3))
    path = tmp_path / "requests.jsonl"
    path.write_text(json.dumps(first) + json.dumps(second) + "\n" + '{"method": "PU' + "\n" + json.dumps(third) + "\n")
    said: list[str] = []
    assert list(_entries(path, said.append)) == [first, second, third]
    assert said == [f"s3: 1 unreadable recording lines skipped in {path}"]

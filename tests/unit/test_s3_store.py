"""The local S3 server's recording is read back whole even when lines were interleaved."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from dev.embedded.s3_store import Change, Compaction, _entries

pytestmark = pytest.mark.unit


def test_interleaved_and_cut_recording_lines_keep_every_whole_entry(tmp_path: Path) -> None:
    first, second, third = ({"method": "PUT", "url": f"http://h/b/k{n}"} for n in range(3))
    path = tmp_path / "requests.jsonl"
    path.write_text(json.dumps(first) + json.dumps(second) + "\n" + '{"method": "PU' + "\n" + json.dumps(third) + "\n")
    said: list[str] = []
    assert list(_entries(path, said.append)) == [first, second, third]
    assert said == [f"s3: 1 unreadable recording lines skipped in {path}"]


def _kept(*requests: tuple) -> list[str]:
    """The requests (method, path[, headers or body]) a replay keeps, as 'METHOD path'."""
    entries = []
    for method, path, *extra in requests:
        entry = {"method": method, "url": f"http://127.0.0.1:15000{path}", "headers": {}, "body": ""}
        if extra and isinstance(extra[0], dict):
            entry["headers"] = extra[0]
        elif extra:
            entry["body"] = extra[0]
        entries.append(entry)
    plan = Compaction.of(Change.of(entry) for entry in entries)
    return [f"{e['method']} {e['url'].split('15000')[1]}" for n, e in enumerate(entries)
            if plan.keeps(n, Change.of(e))]


def _multi_delete(*keys: str) -> str:
    objects = "".join(f"<Object><Key>{key}</Key></Object>" for key in keys)
    return f'<Delete xmlns="http://s3.amazonaws.com/doc/2006-03-01/">{objects}<Quiet>true</Quiet></Delete>'


def test_a_replay_leaves_out_what_later_deletes_undid() -> None:
    assert _kept(("PUT", "/lake"), ("PUT", "/lake/a"), ("PUT", "/lake/b"), ("DELETE", "/lake/b?x-id=DeleteObject")) \
        == ["PUT /lake", "PUT /lake/a"]
    # a scratch bucket, emptied by a multi-object delete and deleted: nothing of it is replayed
    assert _kept(("PUT", "/scratch"), ("PUT", "/scratch/topics/k%3D1"), ("PUT", "/scratch/x"),
                 ("POST", "/scratch?delete", _multi_delete("topics/k=1", "x")), ("DELETE", "/scratch"),
                 ("PUT", "/lake/c")) == ["PUT /lake/c"]
    # written again after its delete: only the writes after it, conditional ones included, in order
    assert _kept(("PUT", "/lake/k"), ("DELETE", "/lake/k"), ("PUT", "/lake/k", {"If-None-Match": "*"}),
                 ("PUT", "/lake/k", {"If-None-Match": "*"})) == ["PUT /lake/k", "PUT /lake/k"]
    # a bucket deleted and made again keeps what came after
    assert _kept(("PUT", "/b"), ("PUT", "/b/old"), ("DELETE", "/b/old"), ("DELETE", "/b"), ("PUT", "/b"),
                 ("PUT", "/b/new")) == ["PUT /b", "PUT /b/new"]


def test_a_replay_keeps_what_it_cannot_prove_undone() -> None:
    # S3 refuses to delete a bucket that holds objects: the delete undid nothing
    assert _kept(("PUT", "/b"), ("PUT", "/b/k"), ("DELETE", "/b")) == ["PUT /b", "PUT /b/k", "DELETE /b"]
    # a tagging delete is not an object delete
    assert _kept(("PUT", "/b/k"), ("DELETE", "/b/k?tagging")) == ["PUT /b/k", "DELETE /b/k?tagging"]
    # a copy reads its source when replayed: the source bucket is replayed whole
    assert _kept(("PUT", "/src/o"), ("PUT", "/dst/o", {"x-amz-copy-source": "/src/o"}), ("DELETE", "/src/o"),
                 ("PUT", "/dst/gone"), ("DELETE", "/dst/gone")) == ["PUT /src/o", "PUT /dst/o", "DELETE /src/o"]
    # any other POST (a multipart upload) keeps its bucket whole; so does a multi-delete it cannot read
    assert _kept(("PUT", "/m/k"), ("POST", "/m/big?uploads"), ("DELETE", "/m/k")) == \
        ["PUT /m/k", "POST /m/big?uploads", "DELETE /m/k"]
    assert _kept(("PUT", "/n/k"), ("POST", "/n?delete", "<Delete"), ("DELETE", "/n/k")) == \
        ["PUT /n/k", "POST /n?delete", "DELETE /n/k"]

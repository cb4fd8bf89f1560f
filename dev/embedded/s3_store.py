"""The local S3 server's contents survive `make down` / `make up`.

The local S3 server (moto) keeps objects in memory. It can record every request it
serves to a file (moto's recorder: `MOTO_ENABLE_RECORDING`), which is what makes it
durable here: while it runs, each request is appended to `requests.jsonl` in the
service's data folder; when it starts again, the requests that changed something
(PUT, POST, DELETE) are sent to it once more, in order, and so rebuild the buckets
and objects byte for byte. Replayed, they are recorded again, so each start also
compacts the file: reads are left out, and so is every change a later delete undid
(an object written and then deleted, a scratch bucket and all it held), which would
otherwise be replayed and held in memory at every start (a day of benchmarks left
7.2 GB of them here). Writes to a key after its last delete are replayed in order,
refused conditional writes included (they are refused again, as they were); a bucket
that is the source of a copy, or gets any POST but a multi-object delete, is
replayed whole.

What does not come back: objects' LastModified (they take the time of the replay, so
the loaders read them again; staging collapses the copies), and multipart uploads
(the project's writers use single PUTs). `make clean` deletes the file with the rest
of `.local`: it is the only command that deletes data.
"""

from __future__ import annotations

import base64
import json
import urllib.error
import urllib.request
import xml.etree.ElementTree as ElementTree
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

RECORDING = "requests.jsonl"
REPLAYING = "requests.replaying.jsonl"
CHANGING_METHODS = ("PUT", "POST", "DELETE")
SKIPPED_HEADERS = {"host", "content-length", "transfer-encoding", "connection"}


def recorder_environment(data_dir: Path) -> dict[str, str]:
    """What makes moto record every request it serves into the data folder."""
    return {"MOTO_ENABLE_RECORDING": "true", "MOTO_RECORDER_FILEPATH": str(data_dir / RECORDING)}


def set_aside(data_dir: Path) -> None:
    """Before a start: the last run's recording becomes the one to replay (the new run records afresh).
    A replay cut short (a crash) is kept and replayed again, with what was recorded after it."""
    data_dir.mkdir(parents=True, exist_ok=True)
    recording, replaying = data_dir / RECORDING, data_dir / REPLAYING
    if recording.exists():
        with open(replaying, "ab") as target, open(recording, "rb") as source:
            target.write(source.read())
        recording.unlink()


def _entries(path: Path, say: Callable[[str], None]) -> Iterator[dict[str, Any]]:
    """The recorded requests in order. Tolerates lines that recordings by an unpatched server interleaved
    (two entries on one line, a cut entry): whole entries are kept, the unreadable rest is counted."""
    decoder = json.JSONDecoder()
    skipped = 0
    with open(path, encoding="utf-8") as lines:
        for line in lines:
            position, line = 0, line.strip()
            while position < len(line):
                try:
                    entry, end = decoder.raw_decode(line, position)
                except ValueError:
                    skipped += 1
                    break
                yield entry
                position = end
    if skipped:
        say(f"s3: {skipped} unreadable recording lines skipped in {path}")


def _changes(path: Path, say: Callable[[str], None]) -> Iterator[dict[str, Any]]:
    return (entry for entry in _entries(path, say) if entry.get("method") in CHANGING_METHODS)


def _header(entry: dict[str, Any], name: str) -> str | None:
    return next((value for key, value in (entry.get("headers") or {}).items() if key.lower() == name), None)


def _body(entry: dict[str, Any]) -> bytes:
    body = entry.get("body") or b""
    if entry.get("body_encoded"):
        return base64.b64decode(body)
    return body.encode() if isinstance(body, str) else body


@dataclass(frozen=True)
class Change:
    """What a recorded change touches: a bucket, an object in it (`key`), or objects a multi-delete names."""

    bucket: str
    key: str | None
    deletes: tuple[str, ...] = ()
    """The keys it deletes (an object DELETE, a multi-object delete's list)."""
    deletes_bucket: bool = False
    copies_from: str | None = None
    """The bucket a copy reads from: its objects must all be there when the copy is replayed."""
    other_post: bool = False

    @classmethod
    def of(cls, entry: dict[str, Any]) -> Change:
        parts = urlsplit(entry["url"])
        bucket, _, key = parts.path.lstrip("/").partition("/")
        bucket, key_or_none, method = unquote(bucket), unquote(key) if key else None, entry["method"]
        # the request's subresource (`?tagging`, `?delete`, `?uploads`...); botocore's `x-id` only names the call
        subresources = {item.split("=")[0] for item in parts.query.split("&") if item} - {"x-id"}
        if method == "DELETE" and not subresources:
            if key_or_none is None:
                return cls(bucket, None, deletes_bucket=True)
            return cls(bucket, key_or_none, deletes=(key_or_none,))
        if method == "POST":
            if key_or_none is None and subresources == {"delete"}:
                try:  # the body a local client sent this server, as recorded
                    document = ElementTree.fromstring(_body(entry))  # noqa: S314
                except ElementTree.ParseError:
                    return cls(bucket, None, other_post=True)
                keys = tuple(element.text or "" for element in document.iter()
                             if element.tag.rsplit("}", 1)[-1] == "Key")
                return cls(bucket, None, deletes=keys)
            return cls(bucket, key_or_none, other_post=True)
        source = _header(entry, "x-amz-copy-source")
        copies_from = unquote(source.split("?")[0]).lstrip("/").partition("/")[0] if source else None
        return cls(bucket, key_or_none, copies_from=copies_from)


@dataclass
class Compaction:
    """Which recorded changes a replay can leave out: every change at or before the last delete of what it
    touched (the object's own, or its bucket's), deletes included; none in a bucket a copy reads from or
    that got a POST this does not understand.

    The recording has no responses, so a bucket's delete counts only if the bucket was empty then, as far as
    the changes before it tell (S3 refuses to delete a bucket with objects). Every write is taken to have
    left its object there (a refused conditional write leaves one there too, or not at all): that errs
    towards a bucket with objects, whose delete is then taken as refused and nothing is left out."""

    last_delete: dict[tuple[str, str], int] = field(default_factory=dict)
    last_bucket_delete: dict[str, int] = field(default_factory=dict)
    kept_whole: set[str] = field(default_factory=set)

    @classmethod
    def of(cls, changes: Iterable[Change]) -> Compaction:
        plan = cls()
        objects: dict[str, set[str]] = {}
        for index, change in enumerate(changes):
            held = objects.setdefault(change.bucket, set())
            for key in change.deletes:
                plan.last_delete[change.bucket, key] = index
                held.discard(key)
            if change.deletes_bucket and not held:
                plan.last_bucket_delete[change.bucket] = index
            if change.key is not None and not change.deletes and not change.other_post:
                held.add(change.key)
            if change.copies_from:
                plan.kept_whole.add(change.copies_from)
            if change.other_post:
                plan.kept_whole.add(change.bucket)
        return plan

    def keeps(self, index: int, change: Change) -> bool:
        if change.bucket in self.kept_whole:
            return True
        if change.deletes:
            return False  # what it deleted is left out, so there is nothing for it to delete
        undone_at = self.last_bucket_delete.get(change.bucket, -1)
        if change.key is not None:
            undone_at = max(undone_at, self.last_delete.get((change.bucket, change.key), -1))
        return index > undone_at


def replay(data_dir: Path, endpoint_url: str, say: Callable[[str], None] = print) -> int:
    """Send the set-aside changes to the running server at `endpoint_url`, less those a later delete undid
    (`Compaction`); returns how many were replayed."""
    replaying = data_dir / REPLAYING
    if not replaying.exists():
        return 0
    plan = Compaction.of(Change.of(entry) for entry in _changes(replaying, lambda _: None))
    count = left_out = 0
    for index, entry in enumerate(_changes(replaying, say)):
        if not plan.keeps(index, Change.of(entry)):
            left_out += 1
            continue
        parts = urlsplit(entry["url"])
        url = endpoint_url.rstrip("/") + parts.path + (f"?{parts.query}" if parts.query else "")
        body = _body(entry)
        headers = {name: value for name, value in (entry.get("headers") or {}).items()
                   if name.lower() not in SKIPPED_HEADERS}
        request = urllib.request.Request(url, data=body, method=entry["method"], headers=headers)  # noqa: S310
        try:
            with urllib.request.urlopen(request, timeout=60):  # noqa: S310 - the local server
                pass
        except urllib.error.HTTPError:
            pass  # a request that failed the first time (a conditional write refused) fails again: as then
        count += 1
    replaying.unlink()
    say(f"s3: restored {count} changes from {data_dir / RECORDING} ({left_out} undone by later deletes left out)")
    return count

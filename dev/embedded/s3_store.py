"""The local S3 server's contents survive `make down` / `make up`.

The local S3 server (moto) keeps objects in memory. It can record every request it
serves to a file (moto's recorder: `MOTO_ENABLE_RECORDING`), which is what makes it
durable here: while it runs, each request is appended to `requests.jsonl` in the
service's data folder; when it starts again, the requests that changed something
(PUT, POST, DELETE) are sent to it once more, in order, and so rebuild the buckets
and objects byte for byte (reads are left out, which also compacts the file).

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
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

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


def replay(data_dir: Path, endpoint_url: str, say: Callable[[str], None] = print) -> int:
    """Send the set-aside changes to the running server at `endpoint_url`; returns how many were replayed."""
    replaying = data_dir / REPLAYING
    if not replaying.exists():
        return 0
    count = 0
    for entry in _entries(replaying, say):
        if entry.get("method") not in CHANGING_METHODS:
                continue
        parts = urlsplit(entry["url"])
        url = endpoint_url.rstrip("/") + parts.path + (f"?{parts.query}" if parts.query else "")
        body = entry.get("body") or b""
        if entry.get("body_encoded"):
            body = base64.b64decode(body)
        elif isinstance(body, str):
            body = body.encode()
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
    say(f"s3: restored {count} changes from {data_dir / RECORDING}")
    return count

"""The local S3 server: moto's, with its request recorder made safe for every client.

moto's recorder (what makes the local lake durable, `dev/embedded/s3_store.py`) has two flaws fixed
here: it reads the request body from the WSGI input itself, so for clients that send the body without
waiting for `100 Continue` (Tansu's object store, urllib) the handler finds the input consumed and
stores an empty object; and it appends each entry and its newline in two writes from the server's
threads, so concurrent requests interleave lines. Here the body is read once through the request's
own cache and handed to the recorder, and one lock serialises the recording.

    python -m dev.embedded.moto_server -H 127.0.0.1 -p 15000
"""

from __future__ import annotations

import threading
from typing import Any

from moto.moto_api._internal.recorder.models import Recorder
from moto.server import main

_record_request = Recorder._record_request
_recording = threading.Lock()


def _record_cached_body(self: Recorder, request: Any, body: bytes | None = None) -> None:
    if body is None and self._user_enabled:
        body = request.get_data(cache=True)
    with _recording:
        _record_request(self, request, body)


Recorder._record_request = _record_cached_body  # type: ignore[method-assign]

if __name__ == "__main__":
    main()

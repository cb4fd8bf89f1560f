"""Alerts land in alerts.jsonl and reach a Slack webhook over real HTTP (a local stub: Slack cannot run here)."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from include.hourly.alerts import Alert, send
from tests.conftest import free_port

pytestmark = pytest.mark.integration

ALERT = Alert(dag_id="heart_rate_hourly", task_id="hold", run_id="scheduled__2026-11-27T10:00:00+00:00",
              interval_start="2026-11-27T10:00:00+00:00", interval_end="2026-11-27T11:00:00+00:00",
              failing_check="invalid rejects", log_url="http://localhost:8080/dags/heart_rate_hourly/runs/x")


class SlackStub(BaseHTTPRequestHandler):
    received: list[dict] = []

    def do_POST(self) -> None:
        SlackStub.received.append(json.loads(self.rfile.read(int(self.headers["Content-Length"]))))
        self.send_response(200)
        self.end_headers()
        self.wfile.write(b"ok")

    def log_message(self, *args: object) -> None:
        pass


def test_alert_is_recorded_and_posted(tmp_path: Path) -> None:
    server = ThreadingHTTPServer(("127.0.0.1", 0), SlackStub)
    SlackStub.received = []
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        send(ALERT, folder=tmp_path, webhook_url=f"http://127.0.0.1:{server.server_port}/hook")
    finally:
        server.shutdown()
    [line] = (tmp_path / "alerts.jsonl").read_text().splitlines()
    recorded = json.loads(line)
    assert recorded["dag_id"] == "heart_rate_hourly" and recorded["failing_check"] == "invalid rejects"
    for part in ("heart_rate_hourly.hold", "2026-11-27T10:00:00+00:00", "invalid rejects", "Log: http://"):
        assert part in recorded["text"]
    assert SlackStub.received == [{"text": recorded["text"]}]


def test_unreachable_slack_does_not_hide_the_alert(tmp_path: Path) -> None:
    send(ALERT, folder=tmp_path, webhook_url=f"http://127.0.0.1:{free_port()}/hook")
    alert, failure = [json.loads(line) for line in (tmp_path / "alerts.jsonl").read_text().splitlines()]
    assert alert["failing_check"] == "invalid rejects"
    assert failure["kind"] == "delivery_failed" and failure["channel"] == "slack"
    assert "Connection refused" in failure["error"] and failure["alert_text"] == alert["text"]

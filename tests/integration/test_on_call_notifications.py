"""The DAG's failure notifier and deadline callback: the alert names DAG, task, interval, check and log,
lands in alerts.jsonl, and goes out by e-mail over real SMTP (a local stub server) when configured."""

from __future__ import annotations

import asyncio
import json
import socketserver
import threading
from datetime import UTC, datetime
from pathlib import Path
from types import SimpleNamespace

import pytest

from include.hourly.notifications import OnCallNotifier, failing_check, run_overran

pytestmark = pytest.mark.integration

START = datetime(2026, 11, 27, 10, tzinfo=UTC)
END = datetime(2026, 11, 27, 11, tzinfo=UTC)


class SmtpStub(socketserver.StreamRequestHandler):
    """Just enough SMTP for smtplib: records each message's envelope and body."""

    messages: list[dict] = []

    def reply(self, line: str) -> None:
        self.wfile.write(f"{line}\r\n".encode())

    def handle(self) -> None:
        self.reply("220 stub ready")
        message: dict = {"to": []}
        while line := self.rfile.readline().decode():
            verb = line[:4].upper()
            if verb in ("EHLO", "HELO"):
                self.reply("250 stub")
            elif verb == "MAIL":
                message["from"] = line.split(":", 1)[1].strip()
                self.reply("250 ok")
            elif verb == "RCPT":
                message["to"].append(line.split(":", 1)[1].strip())
                self.reply("250 ok")
            elif verb == "DATA":
                self.reply("354 go ahead")
                body = []
                while (data := self.rfile.readline().decode()) not in (".\r\n", ""):
                    body.append(data)
                message["body"] = "".join(body)
                SmtpStub.messages.append(message)
                message = {"to": []}
                self.reply("250 queued")
            elif verb == "QUIT":
                self.reply("221 bye")
                return
            else:
                self.reply("250 ok")


def _context(exception: BaseException) -> dict:
    ti = SimpleNamespace(dag_id="heart_rate_hourly", task_id="transform.fct_heart_rates_model_build",
                         run_id="scheduled__2026-11-27T10:00:00+00:00", try_number=3,
                         log_url="http://airflow.example/dags/heart_rate_hourly/runs/r/tasks/t?try_number=3")
    return {"ti": ti, "task_instance": ti, "data_interval_start": START, "data_interval_end": END,
            "exception": exception}


@pytest.fixture()
def smtp_server():
    server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), SmtpStub)
    SmtpStub.messages = []
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield server.server_address[1]
    server.shutdown()


def _smtp_connection(port: int, **extra: object) -> str:
    return json.dumps({"conn_type": "smtp", "host": "127.0.0.1", "port": port,
                       "extra": {"disable_tls": True, "disable_ssl": True, **extra}})


def _lines(folder: Path) -> list[dict]:
    return [json.loads(line) for line in (folder / "alerts.jsonl").read_text().splitlines()]


@pytest.fixture()
def on_call(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("HRS_LOCAL_DIR", str(tmp_path))
    monkeypatch.delenv("SLACK_WEBHOOK_URL", raising=False)
    monkeypatch.delenv("ALERT_EMAIL_FROM", raising=False)
    monkeypatch.setenv("ALERT_EMAIL", "on-call@example.org")
    return tmp_path


def test_a_failed_task_is_recorded_and_emailed(on_call: Path, smtp_server: int,
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AIRFLOW_CONN_SMTP_DEFAULT", _smtp_connection(smtp_server, from_email="airflow@example.org"))
    OnCallNotifier().notify(_context(RuntimeError("Database Error in model fct_heart_rates\nmore")))

    [alert] = _lines(on_call)
    assert alert["task_id"] == "transform.fct_heart_rates_model_build"
    assert alert["interval_start"] == START.isoformat() and alert["interval_end"] == END.isoformat()
    assert alert["failing_check"] == "RuntimeError: Database Error in model fct_heart_rates"
    assert alert["log_url"].endswith("try_number=3")
    [mail] = SmtpStub.messages
    assert "on-call@example.org" in mail["to"][0] and "airflow@example.org" in mail["from"]
    assert "heart_rate_hourly.transform.fct_heart_rates_model_build failed" in mail["body"]


def test_the_sender_comes_from_alert_email_from_when_the_connection_has_none(
        on_call: Path, smtp_server: int, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AIRFLOW_CONN_SMTP_DEFAULT", _smtp_connection(smtp_server))
    monkeypatch.setenv("ALERT_EMAIL_FROM", "hr-pipeline@example.org")
    OnCallNotifier().notify(_context(RuntimeError("boom")))
    [mail] = SmtpStub.messages
    assert "hr-pipeline@example.org" in mail["from"]
    assert [line.get("kind") for line in _lines(on_call)] == [None]  # the alert, no delivery failure


def test_an_email_without_a_sender_is_reported_not_swallowed(
        on_call: Path, smtp_server: int, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AIRFLOW_CONN_SMTP_DEFAULT", _smtp_connection(smtp_server))  # no from_email anywhere
    OnCallNotifier().notify(_context(RuntimeError("boom")))
    alert, failure = _lines(on_call)
    assert alert["failing_check"] == "RuntimeError: boom"
    assert failure["kind"] == "delivery_failed" and failure["channel"] == "email to on-call@example.org"
    assert "from_email" in failure["error"]
    assert SmtpStub.messages == []


def test_a_broken_email_setup_still_records_the_alert_and_the_failure(on_call: Path,
                                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AIRFLOW_CONN_SMTP_DEFAULT", "smtp://127.0.0.1:9?from_email=a%40example.org")  # no server
    OnCallNotifier().notify(_context(TimeoutError("S3 hour folder empty")))
    alert, failure = _lines(on_call)
    assert alert["failing_check"] == "TimeoutError: S3 hour folder empty"
    assert failure["kind"] == "delivery_failed" and failure["error"]


def test_a_failed_try_warns_before_the_retries_run_out(on_call: Path, smtp_server: int,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AIRFLOW_CONN_SMTP_DEFAULT", _smtp_connection(smtp_server, from_email="airflow@example.org"))
    OnCallNotifier(severity="warning").notify(_context(ConnectionError("Could not connect to the endpoint URL")))
    [alert] = _lines(on_call)
    assert alert["severity"] == "warning"
    assert alert["text"].startswith(":warning: heart_rate_hourly.transform.fct_heart_rates_model_build failed a try")
    [mail] = SmtpStub.messages
    assert "failed a try (retrying)" in mail["body"]


def test_an_overrunning_run_raises_a_deadline_alert(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HRS_LOCAL_DIR", str(tmp_path))
    monkeypatch.delenv("SLACK_WEBHOOK_URL", raising=False)
    context = {"dag_run": {"dag_id": "heart_rate_hourly", "dag_run_id": "scheduled__2026-11-27T10:00:00+00:00",
                           "data_interval_start": START.isoformat(), "data_interval_end": END.isoformat()},
               "deadline": {"deadline_time": "2026-11-27T11:46:00+00:00"}}
    asyncio.run(run_overran(context=context))
    [alert] = [json.loads(line) for line in (tmp_path / "alerts.jsonl").read_text().splitlines()]
    assert alert["task_id"] == "(run deadline)"
    assert alert["failing_check"] == "deadline: the run had not finished by 2026-11-27T11:46:00+00:00"
    assert alert["log_url"].endswith("/dags/heart_rate_hourly/runs/scheduled__2026-11-27T10:00:00+00:00")


def test_failing_check_is_one_line() -> None:
    assert failing_check(None).startswith("unknown failure")
    assert failing_check("held: 10:00 (invalid)\nsecond line") == "held: 10:00 (invalid)"

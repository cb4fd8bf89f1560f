"""The prod serving refresh drives Tableau's REST API through the provider's hook (a local stub of the
REST API stands in for Tableau Server, which cannot run here): sign in, find the data source by name,
start its extract refresh, wait for the job, sign out; a failed job or an unknown name fails the task."""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from include.hourly.serving_refresh import refresh_tableau_extract

pytestmark = pytest.mark.integration

API = "3.19"
NS = 'xmlns="http://tableau.com/api"'
SITE = "site-1"


class TableauStub(BaseHTTPRequestHandler):
    requests: list[str] = []
    finish_code = "0"

    def _reply(self, body: str, status: int = 200) -> None:
        data = f'<?xml version="1.0" encoding="UTF-8"?><tsResponse {NS}>{body}</tsResponse>'.encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/xml")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self) -> None:
        TableauStub.requests.append(f"GET {self.path}")
        if self.path.endswith("/serverInfo"):
            self._reply(f'<serverInfo><productVersion build="20242.0">2024.2</productVersion>'
                        f"<restApiVersion>{API}</restApiVersion></serverInfo>")
        elif re.search(rf"/sites/{SITE}/datasources\b", self.path):
            self._reply('<pagination pageNumber="1" pageSize="100" totalAvailable="2"/><datasources>'
                        '<datasource id="ds-0" name="something else" type="snowflake"><project id="p" name="x"/>'
                        '<owner id="o"/></datasource>'
                        '<datasource id="ds-1" name="heart-rate-serving" type="snowflake"><project id="p" name="x"/>'
                        '<owner id="o"/></datasource></datasources>')
        elif re.search(rf"/sites/{SITE}/jobs/job-1$", self.path):
            self._reply(f'<job id="job-1" mode="Asynchronous" type="RefreshExtract" progress="100" '
                        f'createdAt="2026-11-27T10:00:00Z" finishCode="{TableauStub.finish_code}"/>')
        else:
            self._reply("", 404)

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        self.rfile.read(length)
        TableauStub.requests.append(f"POST {self.path}")
        if self.path.endswith("/auth/signin"):
            self._reply(f'<credentials token="stub-token"><site id="{SITE}" contentUrl=""/>'
                        '<user id="user-1"/></credentials>')
        elif self.path.endswith("/auth/signout"):
            self.send_response(204)
            self.end_headers()
        elif re.search(rf"/sites/{SITE}/datasources/ds-1/refresh$", self.path):
            self._reply('<job id="job-1" mode="Asynchronous" type="RefreshExtract" '
                        'createdAt="2026-11-27T10:00:00Z"/>', 202)
        else:
            self._reply("", 404)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture()
def tableau(monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), TableauStub)
    TableauStub.requests, TableauStub.finish_code = [], "0"
    threading.Thread(target=server.serve_forever, daemon=True).start()
    monkeypatch.setenv("AIRFLOW_CONN_TABLEAU_DEFAULT", json.dumps({
        "conn_type": "tableau", "host": f"http://127.0.0.1:{server.server_port}", "login": "svc-airflow",
        "password": "local-dummy", "extra": {"site_id": ""}}))
    yield "heart-rate-serving"
    server.shutdown()


def test_the_refresh_starts_the_extract_job_and_waits_for_it(tableau: str) -> None:
    assert refresh_tableau_extract(tableau, check_interval=0.1) == "job-1"
    calls = [call.split("?")[0] for call in TableauStub.requests]
    assert any(call.endswith("/auth/signin") for call in calls)
    assert calls.count(f"POST /api/{API}/sites/{SITE}/datasources/ds-1/refresh") == 1
    assert any(call.endswith("/jobs/job-1") for call in calls)
    assert calls[-1].endswith("/auth/signout")


def test_a_failed_refresh_job_fails_the_task(tableau: str) -> None:
    TableauStub.finish_code = "1"
    with pytest.raises(Exception, match="failed"):
        refresh_tableau_extract(tableau, check_interval=0.1)


def test_an_unknown_data_source_is_named_in_the_error(tableau: str) -> None:
    with pytest.raises(LookupError, match="no Tableau data source named 'heart-rate-typo'"):
        refresh_tableau_extract("heart-rate-typo", check_interval=0.1)

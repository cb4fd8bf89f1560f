"""The production load path: Airbyte's operator and deferrable sensor against a stub of the Airbyte API.

Airbyte cannot run here, so this is the one place a stand-in is right: a local
HTTP server answering the endpoints the provider calls (OAuth token, create job,
get job), driven by the real provider code, hook, SDK and trigger included.
"""

from __future__ import annotations

import asyncio
import json
import threading
from collections.abc import Iterator
from datetime import datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

pytestmark = pytest.mark.integration


class AirbyteStub(BaseHTTPRequestHandler):
    requests: list[tuple[str, str, dict | str | None, str | None]] = []
    polls: dict[int, int] = {}

    def _reply(self, body: dict) -> None:
        data = json.dumps(body).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_POST(self) -> None:
        raw = self.rfile.read(int(self.headers.get("Content-Length", 0))).decode()
        try:
            body: dict | str = json.loads(raw)
        except ValueError:
            body = raw
        self.requests.append(("POST", self.path, body, self.headers.get("Authorization")))
        if self.path.endswith("/applications/token"):
            self._reply({"access_token": "stub-token", "token_type": "Bearer", "expires_in": 3600})
        elif self.path.endswith("/jobs"):
            self._reply({"jobId": 4242, "status": "running", "jobType": "sync",
                         "connectionId": body["connectionId"], "startTime": "2026-11-27T20:00:00Z"})
        else:
            self.send_error(404)

    def do_GET(self) -> None:
        self.requests.append(("GET", self.path, None, self.headers.get("Authorization")))
        if "/jobs/" in self.path:
            job_id = int(self.path.rsplit("/", 1)[1])
            self.polls[job_id] = self.polls.get(job_id, 0) + 1
            status = "running" if self.polls[job_id] < 2 else "succeeded"
            self._reply({"jobId": job_id, "status": status, "jobType": "sync",
                         "connectionId": "conn-s3", "startTime": "2026-11-27T20:00:00Z"})
        else:
            self.send_error(404)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture()
def airbyte_api(monkeypatch: pytest.MonkeyPatch, tmp_path) -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), AirbyteStub)
    AirbyteStub.requests, AirbyteStub.polls = [], {}
    threading.Thread(target=server.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{server.server_port}/v1"
    monkeypatch.setenv("AIRFLOW_HOME", str(tmp_path / "airflow"))
    monkeypatch.setenv("AIRFLOW_CONN_AIRBYTE_DEFAULT", json.dumps(
        {"conn_type": "airbyte", "host": url, "login": "client-id", "password": "client-secret"}))
    yield url
    server.shutdown()


def _prod_dag():
    from airflow.sdk import DAG

    from include.hourly.load_tasks import load_group

    with DAG("wiring", schedule=None, start_date=datetime(2026, 1, 1)) as dag:
        load_group("prod")
    return dag


def test_prod_load_group_is_trigger_then_deferrable_sensor_per_connection() -> None:
    from airflow.providers.airbyte.operators.airbyte import AirbyteTriggerSyncOperator
    from airflow.providers.airbyte.sensors.airbyte import AirbyteJobSensor

    dag = _prod_dag()
    tasks = dag.task_dict
    assert sorted(tasks) == ["load.sync_oltp_cdc", "load.sync_s3_stream", "load.wait_oltp_cdc", "load.wait_s3_stream"]
    for name, variable in (("s3_stream", "airbyte_s3_connection_id"), ("oltp_cdc", "airbyte_oltp_connection_id")):
        trigger, wait = tasks[f"load.sync_{name}"], tasks[f"load.wait_{name}"]
        assert isinstance(trigger, AirbyteTriggerSyncOperator) and trigger.asynchronous
        assert trigger.connection_id == f"{{{{ var.value.{variable} }}}}"  # read when the task runs
        assert isinstance(wait, AirbyteJobSensor) and wait.deferrable
        assert wait.upstream_task_ids == {trigger.task_id}


def test_local_load_group_uses_the_duckdb_writer_pool() -> None:
    from airflow.sdk import DAG

    from include.hourly.load_tasks import DUCKDB_WRITER_POOL, load_group

    with DAG("wiring_local", schedule=None, start_date=datetime(2026, 1, 1)) as dag:
        load_group("local")
    assert sorted(dag.task_dict) == ["load.load_oltp_cdc", "load.load_s3_stream"]
    assert {t.pool for t in dag.tasks} == {DUCKDB_WRITER_POOL}


def test_trigger_and_deferred_sensor_drive_the_airbyte_api(airbyte_api: str) -> None:
    from airflow.sdk.exceptions import TaskDeferred

    dag = _prod_dag()
    trigger = dag.task_dict["load.sync_s3_stream"]
    trigger.connection_id = "conn-s3"  # what the template renders to from the Variable
    job_id = trigger.execute(context={})
    assert job_id == 4242

    token, create = AirbyteStub.requests[0], AirbyteStub.requests[1]
    assert token[0:2] == ("POST", "/v1/applications/token")
    assert "client-id" in str(token[2]) and "client-secret" in str(token[2])
    assert create[0:2] == ("POST", "/v1/jobs")
    assert create[2] == {"connectionId": "conn-s3", "jobType": "sync"}
    assert create[3] == "Bearer stub-token"

    sensor = dag.task_dict["load.wait_s3_stream"]
    sensor.airbyte_job_id = job_id
    with pytest.raises(TaskDeferred) as deferred:
        sensor.execute(context={})

    async def first_event():
        async for event in deferred.value.trigger.run():
            return event

    event = asyncio.run(first_event())
    assert event.payload["status"] == "success", event.payload
    assert AirbyteStub.polls[4242] >= 2  # it polled until the job succeeded
    sensor.execute_complete(context={}, event=event.payload)  # raises if the job had failed

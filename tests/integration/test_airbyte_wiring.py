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
    """Airbyte's API: each created job gets a new id; the outcome of job N is `outcomes[N - first]`."""

    requests: list[tuple[str, str, dict | str | None, str | None]] = []
    outcomes: list[str] = []
    FIRST_JOB = 4242

    def _reply(self, body: dict) -> None:
        data = json.dumps(body).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def _jobs_created(self) -> int:
        return sum(1 for method, path, *_ in self.requests if (method, path) == ("POST", "/v1/jobs"))

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
            self._reply({"jobId": self.FIRST_JOB + self._jobs_created() - 1, "status": "running",
                         "jobType": "sync", "connectionId": body["connectionId"],
                         "startTime": "2026-11-27T20:00:00Z"})
        else:
            self.send_error(404)

    def do_GET(self) -> None:
        self.requests.append(("GET", self.path, None, self.headers.get("Authorization")))
        if "/jobs/" in self.path:
            job_id = int(self.path.rsplit("/", 1)[1])
            self._reply({"jobId": job_id, "status": self.outcomes[job_id - self.FIRST_JOB], "jobType": "sync",
                         "connectionId": "conn-s3", "startTime": "2026-11-27T20:00:00Z"})
        else:
            self.send_error(404)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture()
def airbyte_api(monkeypatch: pytest.MonkeyPatch, tmp_path) -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), AirbyteStub)
    AirbyteStub.requests, AirbyteStub.outcomes = [], []
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


def test_prod_load_group_is_one_deferrable_sync_task_per_connection() -> None:
    from airflow.providers.airbyte.operators.airbyte import AirbyteTriggerSyncOperator

    dag = _prod_dag()
    tasks = dag.task_dict
    assert sorted(tasks) == ["load.sync_oltp_cdc", "load.sync_s3_stream"]
    for name, variable in (("s3_stream", "airbyte_s3_connection_id"), ("oltp_cdc", "airbyte_oltp_connection_id")):
        sync = tasks[f"load.sync_{name}"]
        assert isinstance(sync, AirbyteTriggerSyncOperator)
        assert sync.deferrable and not sync.asynchronous  # waits for its own job, in the triggerer
        assert sync.connection_id == f"{{{{ var.value.{variable} }}}}"  # read when the task runs


def test_local_load_group_uses_the_duckdb_writer_pool() -> None:
    from airflow.sdk import DAG

    from include.hourly.load_tasks import DUCKDB_WRITER_POOL, load_group

    with DAG("wiring_local", schedule=None, start_date=datetime(2026, 1, 1)) as dag:
        load_group("local")
    assert sorted(dag.task_dict) == ["load.load_oltp_cdc", "load.load_s3_stream"]
    assert {t.pool for t in dag.tasks} == {DUCKDB_WRITER_POOL}


def _try_sync(task) -> dict:
    """One try of the sync task as Airflow runs it: execute (it defers), the trigger's event, execute_complete."""
    from airflow.sdk.exceptions import TaskDeferred

    with pytest.raises(TaskDeferred) as deferred:
        task.execute(context={})

    async def first_event():
        async for event in deferred.value.trigger.run():
            return event

    event = asyncio.run(first_event())
    task.execute_complete(context={}, event=event.payload)  # raises when the job failed
    return event.payload


def test_a_failed_sync_is_retried_with_a_new_airbyte_job(airbyte_api: str) -> None:
    dag = _prod_dag()
    sync = dag.task_dict["load.sync_s3_stream"]
    sync.connection_id = "conn-s3"  # what the template renders to from the Variable
    AirbyteStub.outcomes = ["failed", "succeeded"]

    with pytest.raises(RuntimeError, match="4242"):
        _try_sync(sync)  # the first try: job 4242 fails
    retry = dag.task_dict["load.sync_s3_stream"]  # Airflow's retry runs the same task again
    assert _try_sync(retry)["status"] == "success"

    token, create = AirbyteStub.requests[0], AirbyteStub.requests[1]
    assert token[0:2] == ("POST", "/v1/applications/token")
    assert "client-id" in str(token[2]) and "client-secret" in str(token[2])
    assert create[0:2] == ("POST", "/v1/jobs")
    assert create[2] == {"connectionId": "conn-s3", "jobType": "sync"}
    assert create[3] == "Bearer stub-token"
    created = [body for method, path, body, _ in AirbyteStub.requests if (method, path) == ("POST", "/v1/jobs")]
    polled = [path for method, path, *_ in AirbyteStub.requests if method == "GET"]
    assert len(created) == 2, "the retry must start a new sync, not re-poll the failed job"
    assert "/v1/jobs/4242" in polled and "/v1/jobs/4243" in polled

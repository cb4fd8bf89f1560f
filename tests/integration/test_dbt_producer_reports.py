"""The watcher's producer reports each dbt node once (`include.hourly.dbt_producer`), and its sensors read the
same XComs as from Cosmos's own producer.

One real `dbt build` (dbt's runner, DuckDB) of a small project where a model passes, a test fails and the
models after it are skipped, its events recorded; then the same events go to both producers' reporters, as
dbt hands them over (`run_dbt_runner`, dbt replaced by the recording), each with a task instance that keeps
its XComs: the last value of every key must be the same, from far fewer pushes.
"""

from __future__ import annotations

import asyncio
import logging
import textwrap
from collections import Counter
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from airflow.sdk.exceptions import AirflowException
from airflow.triggers.base import TaskSuccessEvent
from cosmos.config import ProfileConfig
from cosmos.constants import PRODUCER_WATCHER_TASK_ID as PRODUCER
from cosmos.operators.watcher import DbtProducerWatcherOperator
from dbt.cli.main import dbtRunner

from include.hourly.dbt_producer import REPORTED_BY_NODE_FINISHED, HourlyDbtProducer, report_each_node_once
from include.hourly.dbt_sensors import (
    START_IN_WORKER,
    TESTS_PHASE,
    DbtModelAndTestsWatcherSensor,
    NodeAndTestsTrigger,
)

pytestmark = pytest.mark.integration


PROJECT = {
    "dbt_project.yml": "name: probe\nversion: '1.0'\nprofile: probe\n",
    "profiles.yml": "probe:\n  target: dev\n  outputs:\n    dev:\n      type: duckdb\n      path: {path}\n"
                    "      threads: 2\n",
    "seeds/readings.csv": "id,heart_rate\n1,60\n2,\n3,70\n",
    "models/staged.sql": "select id, heart_rate from {{ ref('readings') }}",
    "models/hourly.sql": "select count(*) as readings from {{ ref('staged') }}",
    "models/served.sql": "select * from {{ ref('hourly') }}",
    "models/other.sql": "select 1 as id",
    "models/schema.yml": textwrap.dedent("""\
        models:
          - name: staged
            columns:
              - name: id
                data_tests: [not_null, unique]
              - name: heart_rate
                data_tests: [not_null]
          - name: other
            columns:
              - name: id
                data_tests: [not_null]
        """),
}


class _TaskInstance:
    """What the producer's reporter uses of an Airflow task instance: its XComs, kept in order."""

    def __init__(self) -> None:
        self.pushes: list[tuple[str, Any]] = []

    def xcom_push(self, key: str, value: Any) -> None:
        self.pushes.append((key, value))

    try_number = 1

    def xcom_pull(self, task_ids: Any = None, key: str = "", **_: Any) -> Any:
        return next((value for pushed, value in reversed(self.pushes) if pushed == key), None)

    def last_values(self) -> dict[str, Any]:
        return dict(self.pushes)


@pytest.fixture(scope="module")
def recorded_build(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[Any], Any]:
    project = tmp_path_factory.mktemp("probe")
    for name, text in PROJECT.items():
        (project / name).parent.mkdir(parents=True, exist_ok=True)
        (project / name).write_text(text.replace("{path}", str(project / "probe.duckdb")))
    events: list[Any] = []
    result = dbtRunner(callbacks=[events.append]).invoke(
        ["build", "--project-dir", str(project), "--profiles-dir", str(project), "--log-format", "json"])
    statuses = {r.node.name: str(r.status) for r in result.result.results}
    assert statuses["staged"] == "success" and statuses["other"] == "success"
    assert statuses["not_null_staged_heart_rate"] == "fail"
    assert statuses["hourly"] == "skipped" and statuses["served"] == "skipped"
    return project, events, result


def _reported(producer_class: type, recorded: tuple[Path, list[Any], Any], monkeypatch: pytest.MonkeyPatch,
              tests_per_model: dict[str, list[str]]) -> _TaskInstance:
    """The XComs the producer's reporter pushes for the recorded build, dbt's runner replaced by the recording."""
    project, events, result = recorded

    def replay(command: list[str], env: dict[str, str], cwd: str, callbacks: list | None = None, **_: Any) -> Any:
        for event in events:
            for callback in callbacks or []:
                callback(event)
        return result

    monkeypatch.setattr("cosmos.dbt.runner.run_command", replay)  # what Cosmos's local operator calls
    producer = DbtProducerWatcherOperator(
        task_id="dbt_producer_watcher", project_dir=str(project), emit_datasets=False,
        profile_config=ProfileConfig(profile_name="probe", target_name="dev",
                                     profiles_yml_filepath=project / "profiles.yml"),
        tests_per_model=tests_per_model)
    if producer_class is HourlyDbtProducer:
        report_each_node_once(producer)
    assert type(producer) is producer_class
    ti = _TaskInstance()
    producer.run_dbt_runner(["dbt", "build"], {}, str(project), context={"ti": ti})
    return ti


def test_each_node_is_reported_once_with_what_cosmos_reports(recorded_build, monkeypatch, caplog) -> None:
    _, events, _ = recorded_build
    tests_per_model = _tests_per_model(events)
    cosmos = _reported(DbtProducerWatcherOperator, recorded_build, monkeypatch, tests_per_model)
    with caplog.at_level(logging.INFO):
        hourly = _reported(HourlyDbtProducer, recorded_build, monkeypatch, tests_per_model)

    # The sensors read the same last values: statuses, test verdicts, compiled SQL, each node's finishing event.
    assert hourly.last_values() == cosmos.last_values()
    verdicts = hourly.last_values()
    assert verdicts["model__probe__staged_status"]["status"] == "success"
    assert verdicts["model__probe__staged_tests_status"] == "fail"
    assert verdicts["model__probe__other_tests_status"] == "pass"
    # a node dbt skipped after a failure fails its sensor (Cosmos: so Airflow can retry it)
    assert verdicts["model__probe__hourly_status"]["status"] == "failed"
    assert "select id, heart_rate from" in verdicts["model__probe__staged_compiled_sql"]
    # ...from one push per node and key, where Cosmos's producer pushed a node's event four times and its
    # status, test verdict and compiled SQL twice.
    # (a node dbt skipped, and a failed test's error messages, are reported again, as Cosmos reports them)
    pushes = Counter(key for key, _ in hourly.pushes)
    passed = [key for key in pushes if key.startswith(("seed__probe__readings_", "model__probe__other_"))]
    assert len(passed) == 6 and {pushes[key] for key in passed} == {1}
    assert len(cosmos.pushes) > 2 * len(hourly.pushes)
    # and the result lines it does not report are still in the producer's log
    assert any("OK created sql view model main.staged" in r.getMessage() for r in caplog.records)
    assert any("FAIL 1 not_null_staged_heart_rate" in r.getMessage() for r in caplog.records)


def test_only_events_repeated_by_node_finished_are_held_back(recorded_build) -> None:
    _, events, _ = recorded_build
    names = {event.info.name for event in events}
    assert {"NodeStart", "LogStartLine", "NodeCompiling", "NodeExecuting", "LogModelResult", "LogTestResult",
            "LogSeedResult"} <= names & REPORTED_BY_NODE_FINISHED
    # every node with a result line or progress event also has its NodeFinished, fired after them
    finished: dict[str, int] = {}
    for position, event in enumerate(events):
        if event.info.name == "NodeFinished":
            finished[event.data.node_info.unique_id] = position
    for position, event in enumerate(events):
        if event.info.name in REPORTED_BY_NODE_FINISHED:
            assert finished[event.data.node_info.unique_id] > position, event.info.name


def _tests_per_model(events: list[Any]) -> dict[str, list[str]]:
    tests = {e.data.node_info.unique_id for e in events
             if e.info.name == "NodeFinished" and e.data.node_info.resource_type == "test"}
    return {f"model.probe.{model}": sorted(t for t in tests if f"_{model}_" in t) for model in ("staged", "other")}


def test_a_model_sensor_standing_for_its_tests_is_green_only_when_both_passed(recorded_build, monkeypatch) -> None:
    # The DAG folds each model's test sensor into the model's (include/hourly/dbt_sensors.py): the sensor reads
    # the model's status, then its tests' verdict, from the XComs the build's producer pushed.
    project, events, _ = recorded_build
    ti = _reported(HourlyDbtProducer, recorded_build, monkeypatch, _tests_per_model(events))
    monkeypatch.setattr(DbtModelAndTestsWatcherSensor, "_get_producer_task_status", lambda self, context: "running")

    def sensor(model: str) -> DbtModelAndTestsWatcherSensor:
        return DbtModelAndTestsWatcherSensor(
            task_id=f"{model}.run", project_dir=str(project), deferrable=False,
            profile_config=ProfileConfig(profile_name="probe", target_name="dev",
                                         profiles_yml_filepath=project / "profiles.yml"),
            extra_context={"dbt_node_config": {"unique_id": f"model.probe.{model}"}})

    assert sensor("other").poke({"ti": ti}) is True  # built, and its test passed
    with pytest.raises(AirflowException, match=r"Tests for model 'model\.probe\.staged'"):
        sensor("staged").poke({"ti": ti})  # built, but a test of it failed
    with pytest.raises(AirflowException, match=r"Model 'model\.probe\.hourly'"):
        sensor("hourly").poke({"ti": ti})  # skipped by dbt after that failure
    # built, its tests not reported yet: it keeps waiting, now for the tests' verdict (a deferral polls that key)
    ti.pushes = [(key, value) for key, value in ti.pushes if key != "model__probe__other_tests_status"]
    waiting = sensor("other")
    assert waiting.poke({"ti": ti}) is False
    assert waiting.is_test_sensor


def _trigger_events(trigger: NodeAndTestsTrigger, seconds: float = 5.0) -> list[Any]:
    """What the trigger yields within `seconds` (a trigger still waiting yields nothing)."""
    async def collect() -> list[Any]:
        return [event async for event in trigger.run()]

    try:
        return asyncio.run(asyncio.wait_for(collect(), seconds))
    except TimeoutError:
        return []


def test_a_sensor_started_in_the_triggerer_ends_there_only_when_node_and_tests_passed(recorded_build,
                                                                                     monkeypatch) -> None:
    # On a scheduler every sensor starts in the triggerer (include/hourly/dbt_sensors.py) and reads what the
    # build's producer pushed, as Cosmos's trigger does (here from the recorded build's XComs).
    _, events, _ = recorded_build
    ti = _reported(HourlyDbtProducer, recorded_build, monkeypatch, _tests_per_model(events))
    producer_state = {"state": "success"}

    async def xcom(self: NodeAndTestsTrigger, key: str) -> Any:
        return ti.xcom_pull(task_ids=self.producer_task_id, key=key)

    async def state(self: NodeAndTestsTrigger) -> str:
        return producer_state["state"]

    monkeypatch.setattr(NodeAndTestsTrigger, "get_xcom_val", xcom)
    monkeypatch.setattr(NodeAndTestsTrigger, "_get_producer_task_status", state)

    def trigger(model: str, watches_tests: bool = True, try_number: int = 1) -> NodeAndTestsTrigger:
        started = NodeAndTestsTrigger(model_unique_id=f"model.probe.{model}", producer_task_id=PRODUCER,
                                      poke_interval=0.05, watches_tests=watches_tests)
        started.task_instance = SimpleNamespace(dag_id="d", run_id="r", map_index=-1, try_number=try_number,
                                                task_id=f"{model}.run")
        return started

    # built and its test passed: the task ends in the triggerer, the compiled SQL kept as its XCom
    (done,) = _trigger_events(trigger("other"))
    assert isinstance(done, TaskSuccessEvent) and "select 1 as id" in done.xcoms["compiled_sql"]
    # built, but a test of it failed: resumes in a worker, which fails it as the tests' failure
    (failed,) = _trigger_events(trigger("staged"))
    assert not isinstance(failed, TaskSuccessEvent)
    assert failed.payload == {"status": "failed", "reason": "node_failed", "phase": TESTS_PHASE}
    # a model without tests of its own ends at its status, whatever the others' tests said
    (alone,) = _trigger_events(trigger("staged", watches_tests=False))
    assert isinstance(alone, TaskSuccessEvent)
    # skipped by dbt after that failure: resumes in a worker, which fails it (Cosmos: so a retry rebuilds it)
    (skipped,) = _trigger_events(trigger("hourly"))
    assert skipped.payload["status"] == "failed" and "phase" not in skipped.payload
    # a retry resumes in a worker at once, where the sensor rebuilds its node
    (retry,) = _trigger_events(trigger("other", try_number=2))
    assert retry.payload == {"status": START_IN_WORKER}
    # built, its tests not reported yet, the build still running: it keeps waiting, then ends when they pass
    held_back = [(key, value) for key, value in ti.pushes if key == "model__probe__other_tests_status"]
    ti.pushes = [(key, value) for key, value in ti.pushes if key != "model__probe__other_tests_status"]
    producer_state["state"] = "running"
    assert _trigger_events(trigger("other"), seconds=0.5) == []
    ti.pushes += held_back
    (later,) = _trigger_events(trigger("other"))
    assert isinstance(later, TaskSuccessEvent)


def test_a_sensor_resumed_from_the_triggerer_fails_with_the_verdict_or_rebuilds_its_node(recorded_build,
                                                                                       monkeypatch) -> None:
    project, _, _ = recorded_build
    sensor = DbtModelAndTestsWatcherSensor(
        task_id="other.run", project_dir=str(project), deferrable=True, producer_task_id=PRODUCER,
        profile_config=ProfileConfig(profile_name="probe", target_name="dev",
                                     profiles_yml_filepath=project / "profiles.yml"),
        extra_context={"dbt_node_config": {"unique_id": "model.probe.other"}})
    ti = _TaskInstance()
    # the tests' failure, as the trigger reports it, fails the task naming the tests
    with pytest.raises(AirflowException, match=r"dbt tests for model 'model\.probe\.other' failed"):
        sensor.execute_complete({"ti": ti}, {"status": "failed", "reason": "node_failed", "phase": TESTS_PHASE})
    # a retry: Cosmos's fallback, a `dbt build` of the node and its tests
    built: list[list[str]] = []
    monkeypatch.setattr(DbtModelAndTestsWatcherSensor, "_get_producer_task_status", lambda self, context: "success")
    monkeypatch.setattr(DbtModelAndTestsWatcherSensor, "build_and_run_cmd",
                        lambda self, context, cmd_flags: built.append([*self.base_cmd, *cmd_flags]))
    ti.try_number = 2
    sensor.execute_complete({"ti": ti, "run_id": "r"}, {"status": START_IN_WORKER})
    assert built == [["build", "--select", "other"]]
    # its first try, the build skipped (a retried or cleared build task): it rebuilds too, after queueing for
    # the warehouse's writer (every sensor of the group rebuilds its own node then, at once)
    built.clear()
    sensor.before_rebuild = lambda: built.append(["writer lock"])
    ti.try_number = 1
    sensor.execute_complete({"ti": ti, "run_id": "r"}, {"status": "failed", "reason": "producer_skipped"})
    assert built == [["writer lock"], ["build", "--select", "other"]]

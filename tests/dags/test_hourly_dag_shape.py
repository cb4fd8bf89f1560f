"""The hourly DAG reads like the pipeline: wait_for_hour >> load >> transform >> gate >> [publish, hold],
publish >> serve >> refresh_serving, in both modes, parsed the way the DAG processor parses it."""

from __future__ import annotations

from pathlib import Path

import pytest

from include.contracts.paths import PROJECT_ROOT
from include.contracts.serving_marts import SERVING_MARTS
from include.contracts.warehouse_relations import PUBLISHED_HOUR_AGGREGATES
from tests.dags.test_dag_integrity import LOCAL_ENV, PROD_ENV, probe

pytestmark = pytest.mark.unit

DAG_FILE = PROJECT_ROOT / "dags" / "heart_rate_hourly.py"
DBT_MODELS = sorted(p.stem for p in (PROJECT_ROOT / "dbt" / "models").rglob("*.sql"))


def _dag(tmp_path: Path, **env: str) -> tuple[dict, dict[str, dict]]:
    report = probe(DAG_FILE, tmp_path, **env)
    (dag,) = report["dags"]
    return dag, {task["task_id"]: task for task in dag["tasks"]}


def _reachable(tasks: dict[str, dict], start: str) -> set[str]:
    seen, todo = set(), [start]
    while todo:
        for child in tasks[todo.pop()]["downstream"]:
            if child not in seen:
                seen.add(child)
                todo.append(child)
    return seen


PRODUCER = "dbt_producer_watcher"
PARTIALS = PUBLISHED_HOUR_AGGREGATES.split(".")[1]


def _node(task_id: str) -> str | None:
    """The dbt node a watcher sensor task reports (`transform.stg_users.run`, `serve.x_run`), else None."""
    name = task_id.split(".", 1)[1]
    for suffix in (".run", ".seed", "_run"):
        if name.endswith(suffix):
            return name.removesuffix(suffix)
    return None


@pytest.fixture(scope="module")
def local(tmp_path_factory: pytest.TempPathFactory) -> tuple[dict, dict[str, dict]]:
    return _dag(tmp_path_factory.mktemp("local"), **LOCAL_ENV)


def test_the_steps_run_in_pipeline_order(local: tuple[dict, dict[str, dict]]) -> None:
    dag, tasks = local
    assert dag["max_active_runs"] == 1 and dag["catchup"] is False
    assert tasks["wait_for_hour"]["downstream"] == ["load.load_s3_stream"]
    assert tasks["load.load_s3_stream"]["downstream"] == ["load.load_oltp_cdc"]
    transform = {task for task in tasks if task.startswith("transform.")}
    serve = {task for task in tasks if task.startswith("serve.")}
    assert transform <= _reachable(tasks, "load.load_oltp_cdc")
    assert all("gate" in _reachable(tasks, task) for task in transform)
    assert tasks["gate"]["downstream"] == ["hold", "publish"]
    assert _reachable(tasks, "hold") == set()
    assert _reachable(tasks, "publish") == serve | {"refresh_serving"}
    # the published hours' partial aggregates first (their sensor stands for their tests), then the marts that
    # roll them up
    partials = f"serve.{PARTIALS}.run"
    assert tasks[partials]["downstream"] == [f"serve.{PARTIALS}_described_run"]
    marts = {task for task in serve if _node(task) in {mart.name for mart in SERVING_MARTS}}
    assert len(marts) == len(SERVING_MARTS) and marts <= _reachable(tasks, partials)
    assert all(tasks[task]["downstream"] == ["refresh_serving"] for task in marts)


def _watcher_sensors(tasks: dict[str, dict], group: str) -> set[str]:
    return {task for task, spec in tasks.items() if task.startswith(f"{group}.")
            and spec["operator"].endswith(("WatcherOperator", "WatcherSensor")) and PRODUCER not in task}


def test_the_watcher_sensors_defer_beside_the_build(local: tuple[dict, dict[str, dict]]) -> None:
    # One `dbt build` per group; its sensors start with it, as Cosmos wires a task group (so a held hour skips
    # `serve` whole and a failed load fails `transform` upstream), and on a scheduler they wait in the
    # triggerer: a sensor that rescheduled would be a new task process every few seconds.
    _, tasks = local
    for group, upstream in (("transform", "load.load_oltp_cdc"), ("serve", "publish")):
        assert tasks[f"{group}.{PRODUCER}"]["operator"] == "HourlyDbtProducer"
        sensors = _watcher_sensors(tasks, group)
        assert sensors and {tasks[task]["deferrable"] for task in sensors} == {True}
        assert {tasks[task]["trigger_rule"] for task in sensors} == {"all_success"}
        assert sensors <= _reachable(tasks, upstream)


def test_the_scheduler_starts_the_watcher_sensors_in_the_triggerer(local: tuple[dict, dict[str, dict]]) -> None:
    # As the scheduler reads the DAG (serialized): every sensor starts in the triggerer with the project's
    # trigger, which knows its node, its group's build and whether it stands for the node's tests; a worker
    # runs only `execute_complete`, for what the trigger could not end there (include/hourly/dbt_sensors.py).
    _, tasks = local
    for group in ("transform", "serve"):
        for task in _watcher_sensors(tasks, group):
            spec = tasks[task]
            assert spec["start_from_trigger"] is True, task
            start = spec["start_trigger"]
            assert start["trigger_cls"] == "include.hourly.dbt_sensors.NodeAndTestsTrigger"
            assert start["next_method"] == "execute_complete"
            assert start["kwargs"]["producer_task_id"] == f"{group}.{PRODUCER}"
            assert start["kwargs"]["model_unique_id"].endswith("." + _node(task))
            assert start["kwargs"]["watches_tests"] is spec["operator"].endswith("AndTestsWatcherSensor"), task
    assert tasks["transform.fct_heart_rates.run"]["start_trigger"]["kwargs"]["watches_tests"] is True
    assert tasks["transform.stg_heart_rate_rejects_run"]["start_trigger"]["kwargs"]["watches_tests"] is False


def test_under_dag_test_the_watcher_sensors_reschedule(tmp_path: Path) -> None:
    # dag.test() runs a deferred trigger inline, one task at a time: a sensor that started before the build
    # would wait for it forever, so dev.dag_runs has them poke and reschedule (and none starts in a triggerer).
    _, tasks = _dag(tmp_path, **LOCAL_ENV, HRS_DBT_SENSORS="reschedule")
    for group in ("transform", "serve"):
        sensors = _watcher_sensors(tasks, group)
        assert sensors and {(tasks[t]["deferrable"], tasks[t]["mode"]) for t in sensors} == {(False, "reschedule")}
        assert not any(tasks[t]["start_from_trigger"] for t in sensors)


def test_every_dbt_model_has_its_task_and_the_marts_their_assets(local: tuple[dict, dict[str, dict]]) -> None:
    _, tasks = local
    rendered = sorted(_node(task) for task, spec in tasks.items()
                      if spec["operator"] in ("DbtModelWatcherSensor", "DbtModelAndTestsWatcherSensor") and _node(task))
    assert rendered == DBT_MODELS
    # a tested model's sensor stands for its tests too (include/hourly/dbt_sensors.py): no test task of its own
    assert not [task for task, spec in tasks.items() if spec["operator"] == "DbtTestWatcherOperator"]
    assert tasks["transform.fct_heart_rates.run"]["operator"] == "DbtModelAndTestsWatcherSensor"
    assert tasks["transform.fct_heart_rates.run"]["downstream"] == ["transform.dq_hourly.run"]
    assert tasks["transform.country_codes.seed"]["operator"] == "DbtSeedAndTestsWatcherSensor"
    assert sorted(_node(t) for t in tasks if t.startswith("serve.") and _node(t)) == \
        sorted([mart.name for mart in SERVING_MARTS] + [PARTIALS, PARTIALS + "_described"])
    assert tasks["refresh_serving"]["outlets"] == sorted(mart.asset_uri for mart in SERVING_MARTS)


def test_local_writers_share_the_one_duckdb_slot_and_every_task_pages(local: tuple[dict, dict[str, dict]]) -> None:
    _, tasks = local
    writers = [task for task in tasks if task.startswith("load.")] + [
        f"transform.{PRODUCER}", f"serve.{PRODUCER}", "publish", "hold"]
    assert {tasks[task]["pool"] for task in writers} == {"duckdb_writer"}
    # dbt opens the DuckDB file itself: each dbt task queues for the warehouse's writer lock first. The sensors
    # only take it to rebuild their model on a retry, so they stay out of the one-slot pool.
    dbt_tasks = [task for task in tasks if tasks[task]["operator"].startswith("Dbt")]
    assert {tasks[task]["pre_execute"] for task in dbt_tasks} == {"hold_duckdb"}
    assert {tasks[task]["pool"] for task in dbt_tasks if PRODUCER not in task} == {"default_pool"}
    # ...and whenever one rebuilds its model after all (its build skipped or failed before reporting, when
    # every sensor of the group rebuilds its own), it queues for the lock first, whatever its try.
    sensors = _watcher_sensors(tasks, "transform") | _watcher_sensors(tasks, "serve")
    assert {tasks[task]["before_rebuild"] for task in sensors} == {"hold_duckdb_writer"}
    assert all(task["on_failure_callback"] for task in tasks.values())
    # A failed try warns on-call at once; the retries come at a fixed 2 minutes, however often an hour is re-run.
    assert all(task["on_retry_callback"] for task in tasks.values())
    assert {(task["retry_delay"], task["retry_exponential_backoff"]) for task in tasks.values()} == {(120.0, 0)}


def test_local_execution_is_one_build_task_per_model_in_the_writer_slot(tmp_path: Path) -> None:
    _, tasks = _dag(tmp_path, **LOCAL_ENV, HRS_DBT_EXECUTION="local")
    rendered = sorted(task.split(".", 1)[1].removesuffix("_model_build")
                      for task in tasks if task.endswith("_model_build"))
    assert rendered == DBT_MODELS
    assert {task for task in tasks if task.startswith("transform.")} <= _reachable(tasks, "load.load_oltp_cdc")
    assert {tasks[task]["pool"] for task in tasks if task.startswith(("transform.", "serve."))} == {"duckdb_writer"}


def test_prod_loads_through_airbyte_and_refreshes_tableau(tmp_path: Path) -> None:
    _, tasks = _dag(tmp_path, **PROD_ENV)
    assert tasks["wait_for_hour"]["downstream"] == ["load.sync_oltp_cdc", "load.sync_s3_stream"]
    assert tasks["load.sync_s3_stream"]["operator"] == "AirbyteTriggerSyncOperator"
    assert tasks["load.sync_oltp_cdc"]["operator"] == "AirbyteTriggerSyncOperator"
    assert "load.load_s3_stream" not in tasks
    assert {tasks[task]["pool"] for task in tasks if task.startswith("transform.")} == {"default_pool"}
    assert tasks["refresh_serving"]["doc_md"]

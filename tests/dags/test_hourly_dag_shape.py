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
    # the published hours' partial aggregates first, then the marts that roll them up, then the refresh
    partials = f"serve.{PUBLISHED_HOUR_AGGREGATES.split('.')[1]}_model_build"
    described = partials.replace("_model_build", "_described_model_build")
    assert _reachable(tasks, partials) == (serve - {partials}) | {"refresh_serving"}
    assert tasks[partials]["downstream"] == [described]
    assert all(tasks[task]["downstream"] == ["refresh_serving"] for task in serve - {partials, described})


def test_every_dbt_model_has_its_task_and_the_marts_their_assets(local: tuple[dict, dict[str, dict]]) -> None:
    _, tasks = local
    rendered = sorted(task.split(".", 1)[1].removesuffix("_model_build")
                      for task in tasks if task.endswith("_model_build"))
    assert rendered == DBT_MODELS
    assert sorted(t.split(".", 1)[1].removesuffix("_model_build") for t in tasks if t.startswith("serve.")) == \
        sorted([mart.name for mart in SERVING_MARTS] + [PUBLISHED_HOUR_AGGREGATES.split(".")[1],
                                                         PUBLISHED_HOUR_AGGREGATES.split(".")[1] + "_described"])
    assert tasks["refresh_serving"]["outlets"] == sorted(mart.asset_uri for mart in SERVING_MARTS)


def test_local_writers_share_the_one_duckdb_slot_and_every_task_pages(local: tuple[dict, dict[str, dict]]) -> None:
    _, tasks = local
    writers = [task for task in tasks if task.startswith(("load.", "transform.", "serve."))] + ["publish", "hold"]
    assert {tasks[task]["pool"] for task in writers} == {"duckdb_writer"}
    # dbt opens the DuckDB file itself: each dbt task queues for the warehouse's writer lock first.
    assert {tasks[task]["pre_execute"] for task in tasks if task.startswith(("transform.", "serve."))} == {
        "hold_duckdb"}
    assert all(task["on_failure_callback"] for task in tasks.values())
    # A failed try warns on-call at once; the retries come at a fixed 2 minutes, however often an hour is re-run.
    assert all(task["on_retry_callback"] for task in tasks.values())
    assert {(task["retry_delay"], task["retry_exponential_backoff"]) for task in tasks.values()} == {(120.0, 0)}


def test_prod_loads_through_airbyte_and_refreshes_tableau(tmp_path: Path) -> None:
    _, tasks = _dag(tmp_path, **PROD_ENV)
    assert tasks["wait_for_hour"]["downstream"] == ["load.sync_oltp_cdc", "load.sync_s3_stream"]
    assert tasks["load.sync_s3_stream"]["operator"] == "AirbyteTriggerSyncOperator"
    assert tasks["load.sync_oltp_cdc"]["operator"] == "AirbyteTriggerSyncOperator"
    assert "load.load_s3_stream" not in tasks
    assert {tasks[task]["pool"] for task in tasks if task.startswith("transform.")} == {"default_pool"}
    assert tasks["refresh_serving"]["doc_md"]

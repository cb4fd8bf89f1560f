"""One watcher sensor per dbt model (or seed) that also stands for the model's tests.

Cosmos renders a watcher group with two sensors per tested model, `<model>.run` and `<model>.test`, wired
model -> tests -> next model. On a scheduler each is a task process (a fork, the DAG file's parse, Airflow's
calls), and once the build has finished the sensors still succeed one link of that chain at a time: the
transform group's sensors ended ~17-20 s after its build, the serve group's ~10-13 s after (`make airflow`,
docs/performance.md). Cosmos refuses `TestBehavior.BUILD` under watcher execution, so this folds each test
sensor into its node's sensor after rendering:

- the node's sensor turns green only when the build reported the node *and* its tests' verdict (the
  `<model>_tests_status` XCom the producer already aggregates) as passed, red when either failed; deferred on a
  scheduler it waits for the node, then (if the tests are still running) once more for the tests;
- its retry (or a clear) runs `dbt build --select <node>`, the node and its tests together, where a separate
  test sensor's retry ran `dbt test` against whatever the model then was;
- the test sensor leaves the DAG, and its downstream tasks wait for the node's sensor instead.

On a scheduler every sensor also starts in the triggerer (`start_in_triggerer`, Airflow's `start_from_trigger`)
and, when its node and tests passed, ends there (`TaskSuccessEvent`, the compiled SQL as the sensor's XCom): no
worker process at all, where a deferred sensor took one process to look and defer and another to resume, each a
fork, the DAG file's parse and Airflow's calls, on the same cores as the build (`make airflow`: the transform
build 18.8 s -> 12.5 s, docs/performance.md). It also keeps the sensors out of an Airflow 3.3 race: a worker's
exit after deferring, reported after the trigger already fired, fails the resumed task ("finished with state
success, but the task instance's state attribute is queued", apache/airflow#67287, #72716), and a retry 2
minutes later rebuilt the model. What needs a worker still gets one: a failed or skipped node or tests resume
the sensor in a worker with the trigger's event (Cosmos's messages, the on-call callbacks, Airflow's retries),
and a retry resumes at once in a worker, where it rebuilds the node.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from datetime import timedelta
from typing import Any

from airflow.triggers.base import StartTriggerArgs, TaskSuccessEvent, TriggerEvent
from cosmos.listeners.dag_run_listener import EventStatus
from cosmos.operators._watcher.triggerer import WatcherEventReason, WatcherTrigger
from cosmos.operators.watcher import DbtRunWatcherOperator, DbtSeedWatcherOperator, DbtTestWatcherOperator

START_IN_WORKER = "start_in_worker"
"""A trigger's event for a retry: the sensor resumes in a worker, which rebuilds its node."""
TESTS_PHASE = "tests"
"""Marks a trigger's event about the node's tests (not the node itself)."""


class NodeAndTestsTrigger(WatcherTrigger):
    """Cosmos's watcher trigger for a sensor the scheduler starts in the triggerer: the node's status, then (if
    the sensor stands for them) its tests' verdict; both passed ends the task here, anything else resumes it in
    a worker. The run and try come from the task instance the triggerer attaches, so the scheduler can create
    the trigger from the task's static arguments."""

    def __init__(self, model_unique_id: str, producer_task_id: str, poke_interval: float = 5.0,
                 watches_tests: bool = False, dag_id: str = "", run_id: str = "", map_index: int | None = None,
                 is_test_sensor: bool = False) -> None:
        super().__init__(model_unique_id=model_unique_id, producer_task_id=producer_task_id, dag_id=dag_id,
                         run_id=run_id, map_index=map_index, poke_interval=poke_interval,
                         is_test_sensor=is_test_sensor)
        self.watches_tests = watches_tests

    def serialize(self) -> tuple[str, dict[str, Any]]:
        _, kwargs = super().serialize()
        return f"{__name__}.{type(self).__name__}", {**kwargs, "watches_tests": self.watches_tests}

    async def _verdict(self, *, tests: bool) -> dict[str, Any]:
        """Cosmos's trigger loop for the node (or its tests): its one event's payload."""
        self.is_test_sensor = tests
        events = super().run()
        try:
            return dict((await anext(events)).payload)
        finally:
            await events.aclose()

    async def run(self) -> AsyncIterator[TriggerEvent]:
        ti = self.task_instance
        if ti is not None:
            self.dag_id, self.run_id, self.map_index = ti.dag_id, ti.run_id, ti.map_index
            if ti.try_number > 1:
                yield TriggerEvent({"status": START_IN_WORKER})
                return
        node = await self._verdict(tests=False)
        passed = node["status"] == EventStatus.SUCCESS
        if passed and self.watches_tests and node.get("reason") != WatcherEventReason.NODE_NOT_RUN:
            tests = await self._verdict(tests=True)
            if tests["status"] != EventStatus.SUCCESS:
                yield TriggerEvent({**tests, "phase": TESTS_PHASE})
                return
        if not passed:
            yield TriggerEvent(node)
            return
        compiled_sql = node.get("compiled_sql")
        yield TaskSuccessEvent(xcoms={"compiled_sql": compiled_sql} if compiled_sql else None)


class _ProjectSensor:
    """Mixin over every Cosmos watcher sensor of the DAG: resumes in a worker from `NodeAndTestsTrigger`'s
    events, and queues for the warehouse's writer before it rebuilds its node."""

    before_rebuild: Callable[[], None] | None = None
    """Called before the sensor runs dbt itself (set by the DAG for DuckDB: take the one writer's lock). A
    sensor rebuilds on a retry, and also on its first try when the build it watches was skipped or failed
    before reporting (a retried or cleared build task, a killed worker): then every sensor of the group
    rebuilds at once, and without the lock all but one failed on DuckDB's own ("Could not set lock")."""

    def execute_complete(self, context: Any, event: dict[str, Any]) -> None:
        if event.get("status") == START_IN_WORKER:
            return self.execute(context)  # type: ignore[attr-defined]  (a retry: Cosmos rebuilds the node)
        return super().execute_complete(context, event)  # type: ignore[misc]

    def _fallback_to_non_watcher_run(self, try_number: int, context: Any) -> bool:
        if self.before_rebuild is not None:
            self.before_rebuild()
        return super()._fallback_to_non_watcher_run(try_number, context)  # type: ignore[misc]


class _WatchesItsTests:
    """Mixin over a Cosmos watcher sensor: the node's status first, then its tests' verdict."""

    base_cmd = ["build"]  # a retry's fallback: the node and its tests, one `dbt build --select <node>`
    _watching_tests = False
    _rebuilt = False

    @property
    def is_test_sensor(self) -> bool:
        """Which XCom Cosmos's poke and trigger read: the node's status, then the tests' verdict."""
        return self._watching_tests

    def poke(self, context: Any) -> bool:
        self._watching_tests = False
        if not super().poke(context):  # type: ignore[misc]
            return False  # the node has not finished (a failure or skip raised)
        if self._rebuilt:
            return True  # a retry's `dbt build` ran the node and its tests
        self._watching_tests = True
        return super().poke(context)  # type: ignore[misc]

    def execute_complete(self, context: Any, event: dict[str, Any]) -> None:
        self._watching_tests = event.get("phase") == TESTS_PHASE
        super().execute_complete(context, event)  # type: ignore[misc]  (raises on a failure or skip)
        if not self._rebuilt and not self._watching_tests and event.get("status") != START_IN_WORKER:
            self._execute_core(context)  # type: ignore[attr-defined]  (both passed, or defer for the tests)

    def _fallback_to_non_watcher_run(self, try_number: int, context: Any) -> bool:
        self._rebuilt = True
        return super()._fallback_to_non_watcher_run(try_number, context)  # type: ignore[misc]


class DbtModelWatcherSensor(_ProjectSensor, DbtRunWatcherOperator):
    """A sensor for a model without tests."""


class DbtSeedWatcherSensor(_ProjectSensor, DbtSeedWatcherOperator):
    """A sensor for a seed without tests."""


class DbtModelAndTestsWatcherSensor(_WatchesItsTests, _ProjectSensor, DbtRunWatcherOperator):
    """A model's sensor standing for its tests too."""


class DbtSeedAndTestsWatcherSensor(_WatchesItsTests, _ProjectSensor, DbtSeedWatcherOperator):
    """A seed's sensor standing for its tests too."""


OURS = {DbtRunWatcherOperator: DbtModelWatcherSensor, DbtSeedWatcherOperator: DbtSeedWatcherSensor}
FOLDED = {DbtRunWatcherOperator: DbtModelAndTestsWatcherSensor, DbtSeedWatcherOperator: DbtSeedAndTestsWatcherSensor}


def fold_test_sensors(group: Any) -> None:
    """Replace each test sensor of a rendered watcher group by its node's sensor (see the module's text); every
    sensor becomes one of the project's classes."""
    dag = group.dag
    for test in [task for task in group.iter_tasks() if type(task) is DbtTestWatcherOperator]:
        (sensor,) = test.upstream_list  # Cosmos wires a model's tests after its sensor alone
        if type(sensor) not in FOLDED:
            raise TypeError(f"{test.task_id} follows a {type(sensor).__name__}, not a model or seed sensor: "
                            "a Cosmos upgrade changed its rendering; fold_test_sensors needs a look")
        for downstream in test.downstream_list:
            downstream.upstream_task_ids.discard(test.task_id)
            sensor.set_downstream(downstream)
        sensor.downstream_task_ids.discard(test.task_id)
        del dag.task_dict[test.task_id]
        del test.task_group.children[test.task_id]
        sensor.__class__ = FOLDED[type(sensor)]
    for sensor in group.iter_tasks():
        if type(sensor) in OURS:
            sensor.__class__ = OURS[type(sensor)]  # every other sensor: the project's mixin too


def start_in_triggerer(sensor: Any, poke_interval: float, timeout: timedelta) -> None:
    """Have the scheduler start a (folded) sensor in the triggerer, with `NodeAndTestsTrigger`."""
    if not isinstance(sensor, _ProjectSensor):
        raise TypeError(f"{sensor.task_id} is a {type(sensor).__name__}, not a model or seed sensor: "
                        "start_in_triggerer needs a look after a Cosmos upgrade")
    sensor.start_from_trigger = True
    sensor.start_trigger_args = StartTriggerArgs(
        trigger_cls=f"{__name__}.{NodeAndTestsTrigger.__name__}",
        trigger_kwargs={"model_unique_id": sensor.model_unique_id, "producer_task_id": sensor.producer_task_id,
                        "poke_interval": poke_interval, "watches_tests": isinstance(sensor, _WatchesItsTests)},
        next_method="execute_complete",
        timeout=timeout,
    )

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
"""

from __future__ import annotations

from typing import Any

from cosmos.operators.watcher import DbtRunWatcherOperator, DbtSeedWatcherOperator, DbtTestWatcherOperator


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
        super().execute_complete(context, event)  # type: ignore[misc]  (raises on a failure or skip)
        if not self._rebuilt:
            self._execute_core(context)  # type: ignore[attr-defined]  (both passed, or defer for the tests)

    def _fallback_to_non_watcher_run(self, try_number: int, context: Any) -> bool:
        self._rebuilt = True
        return super()._fallback_to_non_watcher_run(try_number, context)  # type: ignore[misc]


class DbtModelAndTestsWatcherSensor(_WatchesItsTests, DbtRunWatcherOperator):
    """A model's sensor standing for its tests too."""


class DbtSeedAndTestsWatcherSensor(_WatchesItsTests, DbtSeedWatcherOperator):
    """A seed's sensor standing for its tests too."""


FOLDED = {DbtRunWatcherOperator: DbtModelAndTestsWatcherSensor, DbtSeedWatcherOperator: DbtSeedAndTestsWatcherSensor}


def fold_test_sensors(group: Any) -> None:
    """Replace each test sensor of a rendered watcher group by its node's sensor (see the module's text)."""
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

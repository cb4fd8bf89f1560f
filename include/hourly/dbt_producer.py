"""The watcher's `dbt build` task, reporting each node to its sensors once, when it finishes.

Cosmos's producer (`DbtProducerWatcherOperator`) turns every event dbt emits into JSON and reports it: a node's
start, compiling and executing events each push the node's event XCom, which its finish overwrites (a sensor
reads it only once its node has finished), and a node's result line ("OK created sql table model ...") pushes
the status, compiled SQL and test verdict its `NodeFinished` pushes again right after. Every push is a call to
Airflow's execution API made from dbt's thread while the build waits: under `dag.test()` (`make demo`, the
tests) ~500 of an hour's ~1,000 API calls, ~15 s of its time on this machine; on a scheduler, calls through
the task supervisor to the API server, on the same cores as dbt.

This producer hands Cosmos's reporter every dbt event but those (which it logs as Cosmos logs them), so each
node is reported once, by its `NodeFinished`: the same statuses, test verdicts, compiled SQL, error messages
and upstream-failure handling for the sensors; everything else the producer does is Cosmos's own.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from cosmos.operators._watcher.base import _log_dbt_msg
from cosmos.operators.local import DbtLocalBaseOperator
from cosmos.operators.watcher import DbtProducerWatcherOperator

REPORTED_BY_NODE_FINISHED = frozenset({
    # a node's progress, which its finish supersedes
    "NodeStart", "LogStartLine", "NodeCompiling", "NodeExecuting",
    # a node's result line, fired with the final status just before its NodeFinished
    "LogModelResult", "LogTestResult", "LogSeedResult", "LogSnapshotResult", "LogNodeResult",
    "LogNodeNoOpResult", "LogFunctionResult",
})
"""dbt events about a node that its `NodeFinished` (dbt's `call_runner`, fired after them) reports in full."""


def reporting_each_node_once(callback: Callable[[Any], None]) -> Callable[[Any], None]:
    """Cosmos's reporter `callback` for every dbt event but those its node's `NodeFinished` reports again;
    those are only logged."""

    def report(event: Any) -> None:
        info = event.info
        if info.name in REPORTED_BY_NODE_FINISHED:
            _log_dbt_msg({"info": {"msg": info.msg, "level": info.level, "ts": info.ts.ToJsonString()}})
            return
        callback(event)

    return report


class _ReportEachNodeOnce(DbtLocalBaseOperator):
    """Between Cosmos's producer and dbt: wraps the reporter Cosmos registers just before it runs dbt."""

    def run_dbt_runner(self, command: list[str], env: dict[str, str], cwd: str, **kwargs: Any) -> Any:
        registered = self._dbt_runner_callbacks
        self._dbt_runner_callbacks = [reporting_each_node_once(callback) for callback in registered or []]
        try:
            return super().run_dbt_runner(command, env, cwd, **kwargs)
        finally:
            self._dbt_runner_callbacks = registered


class HourlyDbtProducer(DbtProducerWatcherOperator, _ReportEachNodeOnce):
    """Cosmos's watcher producer (one `dbt build` of the group's selection), reporting each node once.

    Cosmos's `run_dbt_runner` registers its reporter and calls the next `run_dbt_runner` in line, which here
    is `_ReportEachNodeOnce`'s (method order: this class, Cosmos's producer, its build mixin, the wrapper,
    Cosmos's local operator), then dbt's."""


def report_each_node_once(producer: DbtProducerWatcherOperator) -> None:
    """Make a producer Cosmos rendered an `HourlyDbtProducer` (which adds behaviour, no state)."""
    if type(producer) is not DbtProducerWatcherOperator:
        raise TypeError(f"expected Cosmos's DbtProducerWatcherOperator, got {type(producer).__name__}: "
                        "check include/hourly/dbt_producer.py against the installed Cosmos")
    producer.__class__ = HourlyDbtProducer

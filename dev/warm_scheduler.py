"""`make airflow`'s scheduler: Airflow's own `airflow scheduler`, started after importing the libraries the
project's tasks import, so that every task process starts with them already loaded.

    python -m dev.warm_scheduler --skip-serve-logs     (what `make airflow` runs; arguments go to Airflow)

Why: with the LocalExecutor the scheduler forks its workers when it starts, and each worker forks one
process per task, which parses the DAG file and imports what the task needs. On a laptop those imports
were most of a small task's time: Cosmos and the providers ~1.5 s of every sensor's parse, dbt ~2.5 s
more in each build (quiet 2-core machine; twice that while an hour runs), for ~50 task processes an hour.
Imported here once, they are in every forked process.

Only third-party libraries are imported: the project's own modules (the DAG files, `include`) are still
read by each task, so an edit reaches the next task without restarting the scheduler. What is imported is
read from the project's code (every module `dags/` and `include/` import from an installed distribution,
lazy imports included), plus the two a task runs through: Airflow's task runner and dbt's in-process
runner (Cosmos). A library that fails to import is named and left to the task, which meets it as before.
"""

from __future__ import annotations

import ast
import importlib
import sys
import threading
import time
from collections.abc import Iterable, Sequence
from pathlib import Path

from include.contracts.paths import DAGS_DIR, PROJECT_ROOT

PROJECT_PACKAGES = frozenset({"dags", "dev", "include", "producer", "tests"})
TASK_RUNTIME = ("airflow.sdk.execution_time.task_runner", "dbt.cli.main")
"""Imported by every task process (Airflow's runner) and by every in-process dbt build (Cosmos's runner)."""


def imported_modules(files: Iterable[Path]) -> list[str]:
    """The third-party modules these files import (at top level or inside functions), sorted."""
    found: set[str] = set()
    for path in files:
        for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
            if isinstance(node, ast.Import):
                found.update(alias.name for alias in node.names)
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                found.add(node.module)
    return sorted(name for name in found if _third_party(name))


def _third_party(module: str) -> bool:
    top = module.partition(".")[0]
    return top not in PROJECT_PACKAGES and top not in sys.stdlib_module_names and top != "__future__"


def task_libraries(root: Path = PROJECT_ROOT) -> list[str]:
    """What the project's tasks import, from its DAG files and `include`, plus the runners tasks go through."""
    files = [*DAGS_DIR.glob("*.py"), *(root / "include").rglob("*.py")]
    return sorted({*imported_modules(files), *TASK_RUNTIME})


def preload(modules: Sequence[str]) -> tuple[list[str], dict[str, str]]:
    """Import each module; (imported, {module: why it failed}). Never raises: the scheduler must start."""
    imported, failed = [], {}
    for name in modules:
        try:
            importlib.import_module(name)
        except Exception as error:  # noqa: BLE001 - any failure is the task's to meet, not the scheduler's
            failed[name] = f"{type(error).__name__}: {error}"
        else:
            imported.append(name)
    return imported, failed


def main(argv: Sequence[str] | None = None) -> int:
    arguments = list(sys.argv[1:] if argv is None else argv)
    if {"-h", "--help"} & set(arguments):
        print(__doc__.strip().split("\n\n")[0] + "\n\nAirflow's own options follow.\n", flush=True)
    else:
        started = time.perf_counter()
        imported, failed = preload(task_libraries())
        print(f"warm scheduler: {len(imported)} libraries the tasks import loaded in "
              f"{time.perf_counter() - started:.1f} s, before the workers fork", flush=True)
        for name, why in failed.items():
            print(f"warm scheduler: {name} not preloaded ({why}); tasks import it themselves", flush=True)
        if threading.active_count() > 1:  # a thread started by an import would not survive the fork
            print(f"warm scheduler: imports started threads {threading.enumerate()}", flush=True)
    from airflow.__main__ import main as airflow_main

    sys.argv = ["airflow", "scheduler", *arguments]
    airflow_main()
    return 0


if __name__ == "__main__":
    sys.exit(main())

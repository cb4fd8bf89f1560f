"""`make airflow`'s scheduler loads the libraries the project's tasks import before its LocalExecutor forks the
task processes (`dev.warm_scheduler`): which modules, read from the code, and that a failure never stops it."""

from __future__ import annotations

from pathlib import Path

import pytest

from dev.warm_scheduler import PROJECT_PACKAGES, TASK_RUNTIME, imported_modules, preload, task_libraries

pytestmark = pytest.mark.unit


def test_third_party_imports_are_read_lazy_ones_included(tmp_path: Path) -> None:
    module = tmp_path / "tasks.py"
    module.write_text(
        "import json\nimport duckdb\nfrom include.hourly import config\nfrom . import sibling\n"
        "from airflow.sdk import dag\n\n\n"
        "def build():\n    import dbt.adapters.duckdb.connections\n    from cosmos.constants import X\n")
    assert imported_modules([module]) == ["airflow.sdk", "cosmos.constants", "dbt.adapters.duckdb.connections",
                                          "duckdb"]


def test_the_project_tasks_libraries_are_the_heavy_ones_and_never_its_own_code() -> None:
    libraries = task_libraries()
    assert {"cosmos.operators.watcher", "dbt.adapters.duckdb.connections", *TASK_RUNTIME} <= set(libraries)
    assert not [name for name in libraries if name.partition(".")[0] in PROJECT_PACKAGES]


def test_a_library_that_fails_to_import_is_named_and_the_rest_still_load() -> None:
    imported, failed = preload(["json", "no_such_library_for_the_scheduler", "csv"])
    assert imported == ["json", "csv"]
    assert list(failed) == ["no_such_library_for_the_scheduler"]
    assert "ModuleNotFoundError" in failed["no_such_library_for_the_scheduler"]

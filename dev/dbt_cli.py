"""How laptop tooling calls the project's dbt: one home for the demo, the benchmarks and the tests.

(The DAGs call dbt through Cosmos, with the same project folders from `include.contracts.paths`.)
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

from include.contracts.paths import DBT_PROFILES_DIR, DBT_PROJECT_DIR

TARGET_PATH_VARIABLE = "HRS_DBT_TARGET_PATH"
"""Where laptop dbt runs write `target/` when set (parallel test sessions each have their own); else dbt/target,
which also holds the manifest the DAG renders from (`make manifest`)."""


COMMANDS_WITHOUT_TARGET = ("debug", "deps", "init", "clean")


def dbt_arguments(*args: str) -> list[str]:
    """`args` plus the project and profiles folders (and HRS_DBT_TARGET_PATH), for the dbt CLI or
    `dbtRunner().invoke`."""
    target = os.environ.get(TARGET_PATH_VARIABLE)
    takes_target = bool(args) and args[0] not in COMMANDS_WITHOUT_TARGET and "--target-path" not in args
    extra = ["--target-path", target] if target and takes_target else []
    return [*args, *extra, "--project-dir", str(DBT_PROJECT_DIR), "--profiles-dir", str(DBT_PROFILES_DIR)]


def dbt_target_dir() -> Path:
    """The `target/` folder laptop dbt runs write to (see TARGET_PATH_VARIABLE)."""
    return Path(os.environ.get(TARGET_PATH_VARIABLE) or DBT_PROJECT_DIR / "target")


def dbt_command(*args: str) -> list[str]:
    """The full command line, with the dbt installed next to this Python (the project venv's)."""
    return [str(Path(sys.executable).with_name("dbt")), *dbt_arguments(*args)]

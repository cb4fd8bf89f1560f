"""Where the dbt project lives and how to call its dbt: one home for every caller (demo, benches, tests, DAGs)."""

from __future__ import annotations

import sys
from pathlib import Path

from include.embedded.layout import PROJECT_ROOT

DBT_PROJECT_DIR = PROJECT_ROOT / "dbt"
DBT_PROFILES_DIR = DBT_PROJECT_DIR


def dbt_arguments(*args: str) -> list[str]:
    """`args` plus the project and profiles folders, for the dbt CLI or `dbtRunner().invoke`."""
    return [*args, "--project-dir", str(DBT_PROJECT_DIR), "--profiles-dir", str(DBT_PROFILES_DIR)]


def dbt_command(*args: str) -> list[str]:
    """The full command line, with the dbt installed next to this Python (the project venv's)."""
    return [str(Path(sys.executable).with_name("dbt")), *dbt_arguments(*args)]

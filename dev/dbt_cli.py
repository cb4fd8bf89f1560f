"""How laptop tooling calls the project's dbt: one home for the demo, the benchmarks and the tests.

(The DAGs call dbt through Cosmos, with the same project folders from `include.contracts.paths`.)
"""

from __future__ import annotations

import sys
from pathlib import Path

from include.contracts.paths import DBT_PROFILES_DIR, DBT_PROJECT_DIR


def dbt_arguments(*args: str) -> list[str]:
    """`args` plus the project and profiles folders, for the dbt CLI or `dbtRunner().invoke`."""
    return [*args, "--project-dir", str(DBT_PROJECT_DIR), "--profiles-dir", str(DBT_PROFILES_DIR)]


def dbt_command(*args: str) -> list[str]:
    """The full command line, with the dbt installed next to this Python (the project venv's)."""
    return [str(Path(sys.executable).with_name("dbt")), *dbt_arguments(*args)]

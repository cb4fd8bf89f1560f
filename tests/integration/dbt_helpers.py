"""Running the project's dbt (the venv's own runner) from tests, against a chosen warehouse file."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

from dev.dbt_cli import dbt_command
from include.contracts.paths import PROJECT_ROOT


def run_dbt(*args: str, warehouse: Path | None = None, **env: str) -> subprocess.CompletedProcess[str]:
    """`dbt <args>` on the project in a subprocess; `warehouse` points the local target at a DuckDB file."""
    extra = {"HRS_WAREHOUSE_PATH": str(warehouse)} if warehouse is not None else {}
    return subprocess.run(
        dbt_command(*args),
        cwd=PROJECT_ROOT, env={**os.environ, "DBT_SEND_ANONYMOUS_USAGE_STATS": "false", **extra, **env},
        capture_output=True, text=True, timeout=600, check=False,
    )

"""Running the project's dbt (the venv's own runner) from tests, against a chosen warehouse file."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

from dev.dbt_cli import dbt_command
from include.contracts.paths import PROJECT_ROOT


def run_dbt(*args: str, warehouse: Path | None = None, **env: str) -> subprocess.CompletedProcess[str]:
    """`dbt <args>` on the project in a subprocess; `warehouse` points the local target at a DuckDB file.

    dbt runs in the warehouse's folder and is given its file name: dbt keeps its parse of the project only while
    the profile's connection settings stay the same, and test warehouses are `warehouse.duckdb` in folders of
    their own (`tests.integration.warehouse_harness` does the same)."""
    extra = {"HRS_WAREHOUSE_PATH": warehouse.name} if warehouse is not None else {}
    return subprocess.run(
        dbt_command(*args),
        cwd=warehouse.parent if warehouse is not None else PROJECT_ROOT,
        env={**os.environ, "DBT_SEND_ANONYMOUS_USAGE_STATS": "false", **extra, **env},
        capture_output=True, text=True, timeout=600, check=False,
    )

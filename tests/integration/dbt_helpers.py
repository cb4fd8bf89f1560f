"""Running the project's dbt (the venv's own runner) from tests, against a chosen warehouse file."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from include.embedded.layout import PROJECT_ROOT


def run_dbt(*args: str, warehouse: Path | None = None, **env: str) -> subprocess.CompletedProcess[str]:
    """`dbt <args>` on the project in a subprocess; `warehouse` points the local target at a DuckDB file."""
    dbt = Path(sys.executable).with_name("dbt")
    extra = {"HRS_WAREHOUSE_PATH": str(warehouse)} if warehouse is not None else {}
    return subprocess.run(
        [str(dbt), *args, "--project-dir", "dbt", "--profiles-dir", "dbt"],
        cwd=PROJECT_ROOT, env={**os.environ, "DBT_SEND_ANONYMOUS_USAGE_STATS": "false", **extra, **env},
        capture_output=True, text=True, timeout=600, check=False,
    )

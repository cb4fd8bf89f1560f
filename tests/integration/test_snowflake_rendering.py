"""Every model's prod (Snowflake) SQL compiles through dbt-snowflake and parses as Snowflake SQL.

No Snowflake account is needed: the project is compiled against fakesnow (see
snowflake_compile.py) and each compiled model is parsed with sqlglot's
Snowflake dialect. Function names that exist only in DuckDB would still parse
(as unknown functions), so the compiled SQL is also checked for them: they must
sit behind the dispatch macros.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
import sqlglot

from include.contracts.paths import PROJECT_ROOT

pytestmark = pytest.mark.integration

DUCKDB_ONLY = ("json_extract_string", "strptime", "try_strptime", "regexp_extract", "list_aggregate", "epoch_ms")


def test_prod_sql_of_every_model_is_snowflake_sql(tmp_path: Path) -> None:
    env = {**os.environ, "SNOWFLAKE_ACCOUNT": "fake", "SNOWFLAKE_USER": "fake", "SNOWFLAKE_PASSWORD": "fake",
           "DBT_SEND_ANONYMOUS_USAGE_STATS": "false"}
    result = subprocess.run([sys.executable, str(Path(__file__).with_name("snowflake_compile.py")), str(tmp_path)],
                            cwd=PROJECT_ROOT, env=env, capture_output=True, text=True, timeout=600, check=False)
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-2000:]

    manifest = json.loads((tmp_path / "manifest.json").read_text())
    models = {node["name"]: node for node in manifest["nodes"].values() if node["resource_type"] == "model"}
    assert len(models) >= 16
    for name, node in models.items():
        sql = node["compiled_code"]
        assert sql, f"{name} was not compiled"
        for statement in sqlglot.parse(sql, read="snowflake"):
            assert statement is not None
        used = [function for function in DUCKDB_ONLY if re.search(rf"\b{function}\s*\(", sql, re.IGNORECASE)]
        assert not used, f"{name} uses DuckDB-only {used} in its Snowflake SQL"
    assert "to_timestamp_tz(" in models["stg_heart_rates"]["compiled_code"]  # the Snowflake macro was dispatched
    assert ":location.latitude::varchar" in models["stg_heart_rates"]["compiled_code"]

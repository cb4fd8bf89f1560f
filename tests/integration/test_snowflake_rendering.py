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


def _compile(target: Path, *flags: str) -> dict[str, dict]:
    env = {**os.environ, "SNOWFLAKE_ACCOUNT": "fake", "SNOWFLAKE_USER": "fake", "SNOWFLAKE_PASSWORD": "fake",
           "DBT_SEND_ANONYMOUS_USAGE_STATS": "false"}
    result = subprocess.run([sys.executable, str(Path(__file__).with_name("snowflake_compile.py")), str(target),
                             *flags], cwd=PROJECT_ROOT, env=env, capture_output=True, text=True, timeout=600,
                            check=False)
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-2000:]
    manifest = json.loads((target / "manifest.json").read_text())
    return {node["name"]: node for node in manifest["nodes"].values() if node["resource_type"] == "model"}


@pytest.fixture(scope="module")
def compiled(tmp_path_factory: pytest.TempPathFactory) -> dict[str, dict[str, dict]]:
    """The prod SQL of every model, as a first build and as an hourly (incremental) run renders it."""
    return {"first build": _compile(tmp_path_factory.mktemp("first")),
            "incremental": _compile(tmp_path_factory.mktemp("incremental"), "--incremental")}


def _assert_snowflake_sql(name: str, sql: str) -> None:
    assert sql, f"{name} was not compiled"
    for statement in sqlglot.parse(sql, read="snowflake"):
        assert statement is not None
    used = [function for function in DUCKDB_ONLY if re.search(rf"\b{function}\s*\(", sql, re.IGNORECASE)]
    assert not used, f"{name} uses DuckDB-only {used} in its Snowflake SQL"


@pytest.mark.parametrize("build", ["first build", "incremental"])
def test_prod_sql_of_every_model_is_snowflake_sql(compiled: dict[str, dict[str, dict]], build: str) -> None:
    models = compiled[build]
    assert len(models) >= 16
    for name, node in models.items():
        _assert_snowflake_sql(name, node["compiled_code"])
    assert "to_timestamp_tz(" in models["stg_heart_rates"]["compiled_code"]  # the Snowflake macro was dispatched
    assert ":location.latitude::varchar" in models["stg_heart_rates"]["compiled_code"]


def test_the_incremental_branches_were_rendered(compiled: dict[str, dict[str, dict]]) -> None:
    first, hourly = compiled["first build"], compiled["incremental"]
    incremental = [name for name, node in first.items() if node["config"]["materialized"] == "incremental"]
    assert {"stg_heart_rates", "fct_heart_rates", "dq_hourly", "published_hour_aggregates"} <= set(incremental)
    for name in incremental:
        assert hourly[name]["compiled_code"] != first[name]["compiled_code"], f"{name}: no incremental branch"
    assert re.search(r"\bmax\(", hourly["fct_heart_rates"]["compiled_code"])  # its watermark subqueries


def test_every_snowflake_model_sets_its_session_to_utc(compiled: dict[str, dict[str, dict]]) -> None:
    for name, node in compiled["first build"].items():
        hooks = [hook["sql"] for hook in node["config"]["pre-hook"]]
        assert hooks == ["{{ utc_session() }}"], name
    assert "alter session set timezone = 'UTC'" in (PROJECT_ROOT / "dbt/macros/session.sql").read_text()


def test_no_model_reads_names_or_addresses(compiled: dict[str, dict[str, dict]]) -> None:
    from include.contracts.raw_schema import PII_COLUMNS

    for name, node in compiled["first build"].items():
        for column in (column for columns in PII_COLUMNS.values() for column in columns):
            assert not re.search(rf"\b{column}\b", node["compiled_code"]), f"{name} reads {column}"


def test_the_gates_ledger_sql_is_snowflake_sql() -> None:
    from include.hourly.ledger import checks_query, create_statements

    for statement in [*create_statements("snowflake"), checks_query("%s").replace("%s", "'2026-01-01'")]:
        parsed = sqlglot.parse_one(statement, read="snowflake")
        assert not isinstance(parsed, sqlglot.exp.Command), statement


def test_the_setup_script_parses_and_its_views_hide_exactly_the_pii() -> None:
    from include.contracts.raw_schema import CDC_TABLES, PII_COLUMNS, TABLES

    statements = sqlglot.parse((PROJECT_ROOT / "deploy/snowflake/setup.sql").read_text(), read="snowflake")
    assert all(statement is not None for statement in statements)
    views = {statement.this.name: statement for statement in statements
             if isinstance(statement, sqlglot.exp.Create) and statement.kind == "VIEW"}
    assert set(views) == set(CDC_TABLES)
    for table, view in views.items():
        exposed = [column.alias_or_name for column in view.expression.selects]
        expected = [column for column in TABLES[table] if column not in PII_COLUMNS.get(table, ())]
        assert exposed == expected, table
        assert view.expression.find(sqlglot.exp.Table).db == "raw_oltp"

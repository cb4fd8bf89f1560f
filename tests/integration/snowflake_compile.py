"""Compile the dbt project for the `prod` (Snowflake) target against fakesnow, in-process.

Run as a script by test_snowflake_rendering.py:

    python snowflake_compile.py TARGET_PATH [--incremental]

fakesnow patches the Snowflake connector, so dbt-snowflake renders every model
with the Snowflake macros and answers its introspection, with no account. With
`--incremental` every incremental model's relation exists first (an empty table
where dbt would have built it), so `is_incremental()` is true and the compiled SQL
is the hourly run's branch rather than the first build's.
"""

import json
import sys
from pathlib import Path

import fakesnow
import snowflake.connector
from dbt.cli.main import dbtRunner

from dev.dbt_cli import dbt_arguments


def _create_incremental_relations(target_path: str) -> list[str]:
    """An empty table for each incremental model, where the prod target puts it; their names."""
    parsed = dbtRunner().invoke(dbt_arguments("parse", "--target", "prod", "--target-path", target_path))
    assert parsed.success, "dbt parse failed"
    manifest = json.loads((Path(target_path) / "manifest.json").read_text())
    created = []
    connection = snowflake.connector.connect(account="fake", user="fake", password="fake")
    for node in manifest["nodes"].values():
        if node["resource_type"] == "model" and node["config"]["materialized"] == "incremental":
            connection.cursor().execute(f"create database if not exists {node['database']}")
            connection.cursor().execute(f"create schema if not exists {node['database']}.{node['schema']}")
            connection.cursor().execute(f"create table {node['relation_name']} (placeholder integer)")
            created.append(node["name"])
    return created


if __name__ == "__main__":
    target_path, incremental = sys.argv[1], "--incremental" in sys.argv[2:]
    with fakesnow.patch():
        if incremental:
            print("incremental relations:", ", ".join(_create_incremental_relations(target_path)))
        # One thread, one connection: fakesnow attaches the database once.
        result = dbtRunner().invoke(dbt_arguments("compile", "--target", "prod", "--threads", "1",
                                                  "--target-path", target_path))
    sys.exit(0 if result.success else 1)

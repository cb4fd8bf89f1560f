"""The dbt sources declare exactly the raw tables and columns the loaders (and Airbyte) write."""

from __future__ import annotations

import pytest
import yaml

from include.contracts.paths import PROJECT_ROOT
from include.contracts.raw_schema import TABLES

pytestmark = pytest.mark.unit


def test_sources_yaml_matches_include_raw_schema() -> None:
    document = yaml.safe_load((PROJECT_ROOT / "dbt" / "models" / "staging" / "__sources.yml").read_text())
    [raw] = [source for source in document["sources"] if source["name"] == "raw"]
    declared = {table["name"]: [column["name"] for column in table["columns"]] for table in raw["tables"]}
    assert declared == {table: list(columns) for table, columns in TABLES.items()}
    assert all(column.get("description") for table in raw["tables"] for column in table["columns"])

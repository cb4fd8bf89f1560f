"""The dbt project's `local` target is the embedded DuckDB file; `prod` renders for Snowflake."""

from __future__ import annotations

from pathlib import Path

import pytest

from dev.embedded.layout import EmbeddedLayout
from tests.integration.dbt_helpers import run_dbt

pytestmark = pytest.mark.integration



def test_local_target_connects_to_the_embedded_warehouse(embedded: EmbeddedLayout) -> None:
    result = run_dbt("debug", "--target", "local")
    assert result.returncode == 0, result.stdout[-2000:]
    assert f"path: {embedded.warehouse_path}" in result.stdout
    assert "All checks passed!" in result.stdout


def test_prod_target_renders_for_snowflake_without_an_account(tmp_path: Path) -> None:
    result = run_dbt("parse", "--target", "prod", "--target-path", str(tmp_path / "target"),
                  SNOWFLAKE_ACCOUNT="example-account", SNOWFLAKE_USER="example-user")
    assert result.returncode == 0, result.stdout[-2000:]
    assert "Registered adapter: snowflake" in result.stdout
    assert (tmp_path / "target" / "manifest.json").exists()

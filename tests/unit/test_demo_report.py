"""`make demo` after the gate held every hour and none was ever published: a clear stop, not a traceback."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import duckdb
import pytest

import dev.dag_runs
from dev.dag_runs import HourRun
from dev.demo import StageFailed, run_dag
from dev.embedded.layout import EmbeddedLayout
from include.contracts.raw_schema import HEART_RATE_STREAM
from include.contracts.raw_schema import relation as raw_relation
from include.contracts.settings import WarehouseSettings
from include.contracts.warehouse_relations import FACT_HEART_RATES
from include.hourly.gate_tasks import HOLD

pytestmark = pytest.mark.unit


def test_a_demo_whose_every_hour_was_held_says_why_there_is_nothing_to_show(tmp_path: Path, monkeypatch) -> None:
    warehouse = tmp_path / "warehouse.duckdb"
    with duckdb.connect(str(warehouse)) as conn:  # what a held hour leaves: raw and core built, no serving
        for relation in (raw_relation(HEART_RATE_STREAM), FACT_HEART_RATES):
            conn.execute(f"create schema if not exists {relation.split('.')[0]}")
            conn.execute(f"create table {relation} as select 1 as event_id")
    held = HourRun(hour=datetime(2026, 11, 29, 12, tzinfo=UTC), state="failed", seconds=1.0,
                   task_states={HOLD: "failed"})
    monkeypatch.setattr(dev.dag_runs, "run_hours", lambda hours, **_: [held])
    layout = EmbeddedLayout.from_env({"HRS_LOCAL_DIR": str(tmp_path / ".local")})
    settings = WarehouseSettings(warehouse_path=warehouse, dashboard_dir=tmp_path / "dashboard")
    with pytest.raises(StageFailed, match=r"no hour has been published yet.*alerts.*without --seed"):
        run_dag(settings, layout, [held.hour])

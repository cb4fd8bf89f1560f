"""The research findings read the marts as they are: suppressed cells (no statistic) are charted as suppressed,
never crash a finding or pass for missing data."""

from __future__ import annotations

import duckdb
import pytest

from include.contracts.serving_marts import (
    ACTIVITY_BY_LOCAL_HOUR,
    AGE_AND_BODY,
    SEASONS_BY_DEMOGRAPHICS,
    SEX_BY_ACTIVITY,
    VARIABILITY_BY_BLOOD_TYPE,
)
from include.serving.research_findings import all_findings, report, serving_min_users

pytestmark = pytest.mark.unit

MARTS = {
    SEX_BY_ACTIVITY: ("activity_name varchar, sex varchar, readings bigint, users bigint, mean_heart_rate double",
                      [("Yoga", "F", 100, 9, 101.0), ("Yoga", "M", 90, 8, 95.0), ("HIIT", "F", 30, None, None)]),
    VARIABILITY_BY_BLOOD_TYPE: ("blood_type varchar, region varchar, plateau_pairs bigint, "
                                "reading_to_reading_rmssd_bpm double",
                                [("O+", "Europe", 400, 2.9), ("AB+", "Europe", 10, None)]),
    SEASONS_BY_DEMOGRAPHICS: ("hemisphere varchar, season varchar, age_band varchar, activity_name varchar, "
                              "readings bigint, mean_heart_rate double",
                              [("north", "winter", "30-39", "Yoga", 100, 104.0),
                               ("north", "summer", "30-39", "Yoga", 100, 97.0),
                               ("south", "summer", "under 18", "Yoga", 12, None)]),
    ACTIVITY_BY_LOCAL_HOUR: ("region varchar, local_solar_hour integer, activity_name varchar, readings bigint, "
                             "share_of_workout_time double",
                             [("Europe", 7, "Yoga", 300, 0.75), ("Europe", 7, "HIIT", 100, None)]),
    AGE_AND_BODY: ("age_band varchar, bmi_band varchar, readings bigint, mean_heart_rate double",
                   [("30-39", "18.5-24.9", 100, 99.0), ("unknown", "unknown", 5, None)]),
}


@pytest.fixture()
def conn() -> duckdb.DuckDBPyConnection:
    conn = duckdb.connect()
    conn.execute("create schema serving")
    for mart, (columns, rows) in MARTS.items():
        conn.execute(f"create table {mart.relation} ({columns})")
        conn.executemany(f"insert into {mart.relation} values ({', '.join('?' * len(rows[0]))})", rows)
    return conn


def test_suppressed_cells_are_charted_as_suppressed(conn: duckdb.DuckDBPyConnection) -> None:
    q1, q2, q3, q4, q5 = all_findings(conn)
    assert q1.chart["categories"] == ["Yoga", "HIIT"]  # ranked by mean; the all-suppressed one last
    assert q1.chart["suppressed"] == [[1, 0]]  # HIIT, F
    assert q2.chart["rows"] == ["O+", "AB+"] and q2.chart["suppressed"] == [[1, 0]]
    assert q3.chart["suppressed"] == [[q3.chart["rows"].index("south summer"), q3.chart["cols"].index("under 18")]]
    assert q4.chart["by_region"]["Europe"]["suppressed"] == [[1, 7]]
    assert q5.chart["rows"] == ["30-39", "unknown"] and q5.chart["suppressed"] == [[1, 1]]
    text = report([q1, q2, q3, q4, q5])
    assert f"fewer than {serving_min_users()} distinct users are suppressed" in text
    assert "reading-to-reading RMSSD" in text and "not HRV" in text

"""`make demo` runs the whole pipeline on the real services and ends with a report whose numbers are the
serving marts' (checked here by querying the marts directly) and the dashboard's path."""

from __future__ import annotations

import os
import subprocess
import sys

import duckdb
import pytest

from dev.embedded.layout import EmbeddedLayout
from include.contracts.paths import PROJECT_ROOT

pytestmark = pytest.mark.integration


def test_demo_runs_the_pipeline_and_reports_what_the_marts_say(embedded: EmbeddedLayout) -> None:
    # As `make demo` runs it: only the ports and the local folder come from outside, as a user's shell might
    # set them; everything else (warehouse path, Kafka, S3, OLTP settings) the demo must find itself.
    keep = {"HRS_LOCAL_DIR", "HRS_S3_PORT", "HRS_PG_PORT", "HRS_KAFKA_PORT", "PATH", "HOME"}
    env = {key: value for key, value in os.environ.items() if key in keep or not key.startswith(
        ("HRS_", "KAFKA_", "AWS_", "OLTP_", "AIRFLOW"))}
    result = subprocess.run([sys.executable, "-m", "dev.demo", "--users", "50", "--hours", "1",
                             "--changes", "3"], cwd=PROJECT_ROOT, env=env, capture_output=True, text=True,
                            timeout=300, check=False)
    assert result.returncode == 0, result.stdout + result.stderr
    out = result.stdout
    assert out.count("already running") == 3  # it used the session's services, started nothing new
    for service in ("kafka", "s3", "postgres", "warehouse"):
        assert f"  ok   {service}" in out
    produced = int(next(line for line in out.splitlines() if " produced in " in line).split()[1].replace(",", ""))
    landed = next(line for line in out.splitlines() if "dead letters in" in line)
    assert produced > 0
    assert landed.split()[1] == f"{produced:,}", "the sink landed a different number of events than produced"
    # The hourly DAG ran for the hour(s) the window covers, loaded every line once and published.
    runs = [line for line in out.splitlines() if " UTC  success  published " in line]
    assert runs, out
    assert f"raw.heart_rate_stream: {produced:,} rows" in out, "the DAG's load took a different number of lines"
    assert f"core.fct_heart_rates: {produced:,} rows" in out
    assert "serving.heart_rate_by_activity_and_sex: " in out
    # The report answers each question from the marts: its numbers are what the marts say.
    for number in range(1, 6):
        assert f"Q{number}. " in out
    warehouse = embedded.warehouse_path
    with duckdb.connect(str(warehouse), read_only=True) as conn:
        shown = "where not is_suppressed"  # a suppressed cell shows no statistic, and the report uses none
        by_sex = dict(conn.execute("select sex, sum(mean_heart_rate * readings) / sum(readings) "
                                   f"from serving.heart_rate_by_activity_and_sex {shown} group by sex").fetchall())
        by_age = dict(conn.execute("select age_band, sum(mean_heart_rate * readings) / sum(readings) "
                                   f"from serving.heart_rate_by_age_and_body_measures {shown} "
                                   "group by age_band").fetchall())
        by_blood = dict(conn.execute(
            "select blood_type, sqrt(sum(reading_to_reading_rmssd_bpm ^ 2 * plateau_pairs) / sum(plateau_pairs)) "
            f"from serving.heart_rate_variability_by_blood_type_and_region {shown} group by blood_type").fetchall())
        changed, readings, earlier = conn.execute(
            "with changed as (select user_id from core.dim_users group by user_id having count(*) > 1) "
            "select (select count(*) from changed), count(f.event_id), count(case when not u.is_current then 1 end) "
            "from core.fct_heart_rates f join core.dim_users u using (user_key) "
            "where f.user_id in (select user_id from changed)").fetchone()
    # The OLTP changes came after the readings: the changed users' readings joined their earlier versions.
    assert f"SCD2: {changed:,} users changed during the demo; {earlier:,} of their {readings:,} readings" in out
    assert changed > 0 and earlier == readings
    line = next(line for line in out.splitlines() if "mean heart rate over all activities:" in line)
    for sex, bpm in by_sex.items():
        assert f"{sex} {bpm:.1f} bpm" in line, (sex, bpm, line)
    line = next(line for line in out.splitlines() if "mean heart rate by age band" in line)
    for band, bpm in by_age.items():
        assert f"{band} {bpm:.1f}" in line, (band, bpm, line)
    line = next(line for line in out.splitlines() if "reading-to-reading RMSSD" in line)
    for blood_type, rmssd in by_blood.items():
        assert f"{blood_type} {rmssd:.2f}" in line, (blood_type, rmssd, line)
    dashboard = next(line for line in out.splitlines() if line.startswith("dashboard ")).rsplit(" ", 1)[1]
    assert dashboard == (embedded.dashboard_dir / "index.html").resolve().as_uri()
    assert (embedded.dashboard_dir / "index.html").exists()

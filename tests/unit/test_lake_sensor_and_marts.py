"""The sensor waits on exactly the folder the sink writes; the serving marts' one list matches dbt's."""

from __future__ import annotations

from datetime import UTC, datetime
from fnmatch import fnmatch

import jinja2
import pendulum
import pytest

from include.contracts.lake_layout import hour_prefix, object_key
from include.contracts.paths import PROJECT_ROOT
from include.contracts.serving_marts import SERVING_MARTS
from include.contracts.warehouse_relations import PUBLISHED_HOUR_AGGREGATES
from include.hourly.lake_sensor import LakeHourSensor, hour_objects_pattern

pytestmark = pytest.mark.unit


def test_the_sensor_pattern_renders_to_the_interval_hour_folder() -> None:
    start = pendulum.datetime(2026, 3, 9, 7, tz="UTC")
    rendered = jinja2.Template(hour_objects_pattern("heart-rate")).render(data_interval_start=start)
    assert rendered == hour_prefix("heart-rate", datetime(2026, 3, 9, 7, tzinfo=UTC)) + "*.json*"
    inside = object_key("heart-rate", 3, 120, int(datetime(2026, 3, 9, 7, 59, tzinfo=UTC).timestamp()))
    gzip = object_key("heart-rate", 3, 140, int(datetime(2026, 3, 9, 7, 59, tzinfo=UTC).timestamp()), ".json.gz")
    next_hour = object_key("heart-rate", 3, 121, int(datetime(2026, 3, 9, 8, tzinfo=UTC).timestamp()))
    assert fnmatch(inside, rendered) and fnmatch(gzip, rendered) and not fnmatch(next_hour, rendered)


def test_a_non_utc_interval_start_still_names_the_utc_folder() -> None:
    start = pendulum.datetime(2026, 3, 9, 3, tz="America/New_York")  # EDT: 07:00 UTC
    rendered = jinja2.Template(hour_objects_pattern("t")).render(data_interval_start=start)
    assert "/day=09/hour=07/" in rendered


def test_a_run_without_a_data_interval_is_refused_at_once_saying_what_to_do() -> None:
    # Airflow 3: `airflow dags trigger` without --logical-date makes a run with no data interval
    from airflow.sdk.exceptions import AirflowFailException  # fails without retries

    sensor = LakeHourSensor(task_id="wait_for_hour", bucket_name="lake", bucket_key=hour_objects_pattern("t"))
    with pytest.raises(AirflowFailException, match=r"run 'manual__1' has no data interval.*--logical-date"):
        sensor.render_template_fields({"run_id": "manual__1"}, None)
    start = pendulum.datetime(2026, 3, 9, 7, tz="UTC")
    sensor.render_template_fields({"run_id": "scheduled__1", "data_interval_start": start}, None)
    assert "/day=09/hour=07/" in sensor.bucket_key


def test_serving_marts_are_the_dbt_serving_models() -> None:
    models = sorted(p.stem for p in (PROJECT_ROOT / "dbt" / "models" / "serving").glob("*.sql"))
    partials = PUBLISHED_HOUR_AGGREGATES.split(".")[1]
    assert sorted([mart.name for mart in SERVING_MARTS] + [partials, f"{partials}_described"]) == models
    assert len({mart.asset_uri for mart in SERVING_MARTS}) == len(SERVING_MARTS)

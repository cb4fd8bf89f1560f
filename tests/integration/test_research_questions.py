"""The serving marts recover the effects the producer planted, one test per research question.

The data go through every real piece: seed-oltp, produce (Kafka), sink (S3), the embedded loaders, dbt,
the gate's decision and ledger. Two 8-hour windows, mid-January and mid-July (seasons in both
hemispheres), then a weight gain for a third of the users, then a few minutes of readings after that
change's commit, so readings before and after it must join different SCD2 versions.
"""

from __future__ import annotations

import statistics
from collections import defaultdict
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import duckdb
import psycopg
import pytest

from dev.embedded.layout import EmbeddedLayout
from include.contracts.lake_layout import HOUR
from include.hourly.dbt_task_groups import SERVE_SELECT, TRANSFORM_SELECT
from include.hourly.ledger import DuckDBLedger
from include.hourly.quality_gate import decide
from producer import ground_truth as truth
from tests.integration.stream_fixtures import Stream
from tests.integration.warehouse_harness import private_warehouse

pytestmark = pytest.mark.e2e

USERS = 600
WINDOW_ENDS = ("2026-01-15T20:00:00+00:00", "2026-07-15T20:00:00+00:00")


@pytest.fixture(scope="module")
def marts(embedded: EmbeddedLayout, seeded_oltp: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    with private_warehouse(embedded, tmp_path_factory.mktemp("rq"), users=USERS, seed=5) as warehouse:
        stream = Stream(topic=warehouse.topic, bucket=warehouse.bucket, group=f"sink-{warehouse.topic}")

        def produce(hours: float, end: str, *extra: str) -> None:
            result = stream.cli("produce", "--hours", str(hours), "--end", end, "--seed", "11", *extra,
                                OLTP_DSN=warehouse.oltp_dsn)
            assert result.returncode == 0, result.stdout + result.stderr

        for end in WINDOW_ENDS:
            produce(8, end)
        # The warehouse snapshotted the users first; now a third of them gain weight, and a few minutes of
        # readings follow that commit (up to the sink's clock-skew allowance ahead of now). That window is
        # wall-clock time, so its local hours depend on when the suite runs: at the default 0.25 sessions per
        # user-hour it held as few as two sessions of the changed users (CI, 16:00 UTC). Eight per user-hour
        # gives the 200 changed users ~240 candidate sessions in it at any time of day.
        with psycopg.connect(warehouse.oltp_dsn, autocommit=True) as conn:
            conn.execute("update users set weight = round(weight * 1.3, 1) where user_id % 3 = 0")
        produce(0.15, (datetime.now(tz=UTC) + timedelta(minutes=9)).isoformat(), "--sessions-per-user-hour", "8")
        sink = stream.cli("sink", "--group", stream.group, "--until-idle", "2")
        assert sink.returncode == 0, sink.stdout + sink.stderr
        warehouse.load_lake()
        warehouse.load_cdc()
        warehouse.dbt("build", "--select", *TRANSFORM_SELECT)
        hours = [row[0] for row in warehouse.query("select event_hour from quality.dq_hourly order by 1")]
        ledger = DuckDBLedger(warehouse.path)
        decision = decide(ledger.checks_to_judge(hours[0], hours[-1] + HOUR), [])
        assert not decision.held, [hour.details for hour in decision.held]
        ledger.record_published(decision.publish, "research-questions")
        # Small-cell suppression off: these tests are about recovering the effects from a few hundred users
        # (test_hour_gated_serving checks the suppression itself).
        warehouse.dbt("build", "--select", *SERVE_SELECT, "--vars", "{serving_min_users: 1}")
        yield warehouse.path


def _rows(warehouse: Path, sql: str) -> list[tuple]:
    with duckdb.connect(str(warehouse), read_only=True) as conn:
        return conn.execute(sql).fetchall()


def test_q1_sex_difference_per_activity(marts: Path) -> None:
    means: dict[str, dict[str, tuple[float, int]]] = defaultdict(dict)
    for activity, sex, readings, mean in _rows(marts, "select activity_name, sex, readings, mean_heart_rate "
                                                      "from serving.heart_rate_by_activity_and_sex"):
        means[activity][sex] = (mean, readings)
    errors = []
    for activity, by_sex in means.items():
        if {"F", "M"} <= set(by_sex) and min(by_sex["F"][1], by_sex["M"][1]) >= 2000 \
                and None not in (by_sex["F"][0], by_sex["M"][0]):
            errors.append(by_sex["F"][0] - by_sex["M"][0] - truth.FEMALE_MINUS_MALE_BPM[activity])
    assert len(errors) >= 10, "too few activities with enough readings to compare"
    # Users differ in resting rate, age and BMI, so a single activity (a few dozen users of each sex) is
    # noisy; over the activities the planted effect comes back, less a little that the age cap takes from
    # the (higher) women's readings.
    assert abs(statistics.mean(errors)) < 2.0, errors
    assert statistics.median(abs(e) for e in errors) < 3.0, errors


def test_q2_variability_by_blood_type(marts: Path) -> None:
    # Pooled reading-to-reading RMSSD: squares weighted by the plateau pairs behind each cell.
    rmssd = dict(_rows(marts, "select blood_type, sqrt(sum(reading_to_reading_rmssd_bpm ^ 2 * plateau_pairs) "
                              "/ sum(plateau_pairs)) from serving.heart_rate_variability_by_blood_type_and_region "
                              "where not is_suppressed group by 1"))
    groups = {group: statistics.mean(v for k, v in rmssd.items() if k.rstrip("+-") == group) for group in
              ("O", "A", "B", "AB")}
    assert groups["O"] < groups["A"] < groups["B"] < groups["AB"]
    for group, value in groups.items():
        expected = 2 ** 0.5 * truth.BLOOD_TYPE_NOISE_SD[f"{group}+"]  # RMSSD of independent noise
        assert value == pytest.approx(expected, rel=0.2), (group, value, expected)


def test_q3_hemisphere_aware_seasons(marts: Path) -> None:
    cells = defaultdict(dict)
    for hemisphere, season, activity, readings, mean in _rows(
            marts, "select hemisphere, season, activity_name, sum(readings), sum(mean_heart_rate * readings) / "
                   "sum(readings) from serving.seasonal_heart_rate_by_demographics where not is_suppressed "
                   "group by 1, 2, 3"):
        cells[(hemisphere, activity)][season] = (mean, readings)
    expected = truth.SEASON_SHIFT_BPM["winter"] - truth.SEASON_SHIFT_BPM["summer"]
    for hemisphere in ("north", "south"):
        differences, weights = [], []
        for (where, _activity), seasons in cells.items():
            if where == hemisphere and {"winter", "summer"} <= set(seasons):
                differences.append(seasons["winter"][0] - seasons["summer"][0])
                weights.append(min(seasons["winter"][1], seasons["summer"][1]))
        observed = sum(d * w for d, w in zip(differences, weights, strict=True)) / sum(weights)
        # Within an activity, winter minus summer is the planted shift, in both hemispheres.
        assert observed == pytest.approx(expected, abs=2.5), (hemisphere, observed)
    # January is winter in the north and summer in the south: the marts must not use calendar months alone.
    assert any(season == "summer" for (where, _), seasons in cells.items() if where == "south" for season in seasons)


def test_q4_activity_likelihood_follows_local_time(marts: Path) -> None:
    morning = {a for a, hour in truth.ACTIVITY_PEAK_LOCAL_HOUR.items() if hour <= 8}
    evening = {a for a, hour in truth.ACTIVITY_PEAK_LOCAL_HOUR.items() if hour >= 18}
    share = defaultdict(float)
    sessions = defaultdict(int)  # workout time, in readings (5 s each)
    for hour, activity, count in _rows(marts, "select local_solar_hour, activity_name, sum(readings) "
                                              "from serving.activity_likelihood_by_local_hour_and_region "
                                              "group by 1, 2"):
        sessions[hour] += count
        if activity in morning:
            share[("morning", hour)] += count
        if activity in evening:
            share[("evening", hour)] += count
    early = [h for h in (6, 7, 8) if sessions[h] >= 5000]
    late = [h for h in (18, 19, 20) if sessions[h] >= 5000]
    assert early and late, dict(sessions)
    morning_early = sum(share[("morning", h)] for h in early) / sum(sessions[h] for h in early)
    morning_late = sum(share[("morning", h)] for h in late) / sum(sessions[h] for h in late)
    evening_early = sum(share[("evening", h)] for h in early) / sum(sessions[h] for h in early)
    evening_late = sum(share[("evening", h)] for h in late) / sum(sessions[h] for h in late)
    assert morning_early > 2 * morning_late
    assert evening_late > 2 * evening_early


def test_q5_heart_rate_follows_bmi_as_of_each_reading(marts: Path) -> None:
    # Within each sex and age band, the heart rate rises with BMI by the planted slope.
    cells = defaultdict(list)
    query = "select sex, age_band, readings, mean_bmi, mean_heart_rate from serving.heart_rate_by_age_and_body_measures"
    for sex, age_band, readings, bmi, mean in _rows(marts, query):
        if readings >= 1000 and mean is not None:
            cells[(sex, age_band)].append((bmi, mean, readings))
    slopes = []
    for points in cells.values():
        if len(points) >= 3:
            weight = sum(n for _, _, n in points)
            mean_x = sum(x * n for x, _, n in points) / weight
            mean_y = sum(y * n for _, y, n in points) / weight
            covariance = sum(n * (x - mean_x) * (y - mean_y) for x, y, n in points)
            variance = sum(n * (x - mean_x) ** 2 for x, _, n in points)
            slopes.append(covariance / variance)
    assert len(slopes) >= 4, cells
    assert statistics.median(slopes) == pytest.approx(truth.BPM_PER_BMI_UNIT, abs=0.5)


def test_q5_readings_after_the_weight_change_join_the_new_version(marts: Path) -> None:
    # Users whose weight rose by 30% have two versions; each one's readings after the change join the second.
    rows = _rows(marts, """
        select f.user_id,
               max(case when u.valid_from < timestamptz '2000-01-01' then u.weight_kg end) as before,
               max(case when u.valid_from > timestamptz '2000-01-01' then u.weight_kg end) as after
        from core.fct_heart_rates f join core.dim_users u using (user_key)
        where f.user_id % 3 = 0
        group by 1
        having count(distinct f.user_key) = 2
    """)
    assert len(rows) >= 3, rows
    for user_id, before, after in rows:
        assert after == pytest.approx(before * 1.3, abs=0.06), user_id

"""Synthetic users and readings: deterministic, realistic, carrying the documented effects."""

from __future__ import annotations

import statistics
import uuid
from collections import Counter
from datetime import UTC, datetime

import numpy as np
import pytest

from include.contracts.heart_rate_event import encode
from producer import ground_truth as truth
from producer.heart_rate_producer import batch_messages
from producer.oltp import UserProfile
from producer.readings import ReadingGenerator, event_ids
from producer.synthetic import FIRST_USER_ID, LIVING_ABROAD, countries, make_activities, make_users

pytestmark = pytest.mark.unit

START = int(datetime(2026, 7, 1, tzinfo=UTC).timestamp())


def _profiles(count: int, seed: int) -> list[UserProfile]:
    return [UserProfile(u.user_id, u.sex, 40.0, u.weight / (u.height / 100) ** 2, u.blood_type,
                        u.address_country_code) for u in make_users(count, seed)]


def test_same_seed_same_users_and_activities() -> None:
    assert make_users(50, seed=1) == make_users(50, seed=1)
    assert make_users(50, seed=1) != make_users(50, seed=2)
    assert make_activities(3) == make_activities(3)


def test_users_follow_the_original_schema_and_distributions() -> None:
    users = make_users(2000, seed=11)
    assert [u.user_id for u in users[:3]] == [FIRST_USER_ID, FIRST_USER_ID + 1, FIRST_USER_ID + 2]
    assert all(19000101 <= u.date_of_birth <= 20081231 for u in users)
    heights = {sex: statistics.mean(u.height for u in users if u.sex == sex) for sex in "MF"}
    assert 173 < heights["M"] < 178 and 160 < heights["F"] < 164.5
    abroad = sum(u.origin_country_code != u.address_country_code for u in users) / len(users)
    assert abs(abroad - LIVING_ABROAD) < 0.025
    blood = Counter(u.blood_type for u in users)
    assert blood["O+"] > blood["B+"] > blood["AB-"]
    assert all(u.address_country_name == countries()[u.address_country_code].name for u in users)


def test_activities_are_the_23_with_ids_in_range() -> None:
    activities = make_activities(seed=42)
    assert len(activities) == 23 == len(truth.ACTIVITY_INTENSITY)
    assert all(20001 <= a.activity_id <= 20999 for a in activities)
    assert len({a.activity_id for a in activities}) == 23


def test_ground_truth_covers_every_activity_and_blood_type() -> None:
    for table in (truth.FEMALE_MINUS_MALE_BPM, truth.ACTIVITY_PEAK_LOCAL_HOUR, truth.ACTIVITY_POPULARITY):
        assert set(table) == set(truth.ACTIVITY_INTENSITY)
    assert set(truth.BLOOD_TYPE_NOISE_SD) == {"O+", "O-", "A+", "A-", "B+", "B-", "AB+", "AB-"}
    assert truth.season(45.0, 1) == "winter" and truth.season(-33.0, 1) == "summer"
    assert truth.local_solar_hour(23, 30.0) == 1


def test_readings_are_deterministic_ordered_and_in_range() -> None:
    def run() -> list[tuple]:
        generator = ReadingGenerator(_profiles(200, 5), make_activities(5), seed=9)
        return list(generator.readings(START, START + 3600, sessions_per_hour=60))

    first = run()
    assert first == run()
    generator = ReadingGenerator(_profiles(200, 5), make_activities(5), seed=9)
    assert list(generator.readings(START, START + 3600, sessions_per_hour=60)) == first  # a generator's 2nd call too
    assert len(first) > 5000
    assert [r[3] for r in first] == sorted(r[3] for r in first)
    assert all(START <= r[3] < START + 3600 for r in first)
    assert len({r[0] for r in first}) == len(first)
    assert all(30 <= r[2] <= 208 for r in first)


def test_batches_are_the_readings_and_encode_as_the_contract_does() -> None:
    generator = ReadingGenerator(_profiles(300, 7), make_activities(7), seed=4)
    batches = list(generator.batches(START, START + 2 * 3600, sessions_per_hour=90))
    readings = list(generator.readings(START, START + 2 * 3600, sessions_per_hour=90))
    assert [row for batch in batches for row in batch.rows()] == readings
    assert all(len(batch) for batch in batches)
    assert [max(batch.timestamps) for batch in batches] == sorted(max(batch.timestamps) for batch in batches)
    # The Kafka messages, formatted a session at a time: the same bytes, key and event time as one by one.
    assert list(batch_messages(batches)) == [(encode(*r), str(r[1]), r[3]) for r in readings]


def test_event_ids_are_version_4_uuids() -> None:
    ids = event_ids(np.random.default_rng(1).integers(0, 256, size=(2000, 16), dtype=np.uint8))
    parsed = [uuid.UUID(event_id) for event_id in ids]
    assert [str(u) for u in parsed] == ids and len(set(ids)) == len(ids)
    assert {u.version for u in parsed} == {4} and {u.variant for u in parsed} == {uuid.RFC_4122}
    assert event_ids(np.full((1, 16), 0xFF, dtype=np.uint8)) == ["ffffffff-ffff-4fff-bfff-ffffffffffff"]


def test_planted_sex_difference_shows_in_the_raw_readings() -> None:
    profiles = _profiles(400, 21)
    generator = ReadingGenerator(profiles, make_activities(21), seed=3)
    sex = {p.user_id: p.sex for p in profiles}
    by_id = {a.activity_id: a.activity_name for a in make_activities(21)}
    rates: dict[tuple[str, str], list[int]] = {}
    for reading in generator.readings(START, START + 6 * 3600, sessions_per_hour=150):
        rates.setdefault((by_id[reading[4]], sex[reading[1]]), []).append(reading[2])
    busiest = max(truth.ACTIVITY_INTENSITY, key=lambda a: len(rates.get((a, "F"), [])) + len(rates.get((a, "M"), [])))
    difference = statistics.mean(rates[(busiest, "F")]) - statistics.mean(rates[(busiest, "M")])
    # Users differ in age and resting rate, so allow a few bpm of sampling noise.
    assert difference == pytest.approx(truth.FEMALE_MINUS_MALE_BPM[busiest], abs=4.0)

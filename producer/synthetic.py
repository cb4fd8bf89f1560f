"""Synthetic OLTP rows: users and activities, deterministic for a seed.

Distributions: sex 50/50; age 18-85; height normal by sex (men 175.7 +- 7.4 cm,
women 162.1 +- 7.0 cm); weight from a BMI normal by sex (men 26.6 +- 4.4,
women 26.4 +- 5.6) so weight tracks height; blood types at their observed
frequencies; origin countries weighted by how many places Faker knows in
each; 10% of users live in a country other than their origin.
"""

from __future__ import annotations

import csv
import random
from dataclasses import dataclass, fields
from datetime import date, timedelta
from functools import cache

from faker import Faker
from faker.providers.geo import Provider as GeoProvider

from include.contracts.paths import COUNTRY_CODES_CSV
from producer.ground_truth import ACTIVITY_INTENSITY

FIRST_USER_ID = 10001
ACTIVITY_ID_RANGE = (20001, 20999)
BLOOD_TYPE_FREQUENCY = {"O+": 37.4, "A+": 35.7, "B+": 8.5, "O-": 6.6, "A-": 6.3, "AB+": 3.4, "B-": 1.5, "AB-": 0.6}
HEIGHT_CM = {"M": (175.7, 7.4), "F": (162.1, 7.0)}
BMI = {"M": (26.6, 4.4), "F": (26.4, 5.6)}
LIVING_ABROAD = 0.10
RACE_BY_REGION = {
    "Africa": {"Black": 0.85, "Middle Eastern or North African": 0.10, "Mixed": 0.05},
    "Americas": {"White": 0.45, "Hispanic or Latino": 0.30, "Black": 0.13, "Asian": 0.06, "Mixed": 0.06},
    "Asia": {"Asian": 0.85, "Middle Eastern or North African": 0.10, "Mixed": 0.05},
    "Europe": {"White": 0.88, "Black": 0.04, "Asian": 0.04, "Mixed": 0.04},
    "Oceania": {"White": 0.60, "Pacific Islander": 0.20, "Asian": 0.15, "Mixed": 0.05},
}


@dataclass(frozen=True)
class Country:
    code: str
    name: str
    region: str


@dataclass(frozen=True)
class User:
    user_id: int
    first_name: str
    last_name: str
    date_of_birth: int
    """YYYYMMDD as an integer, as in the original schema."""
    sex: str
    height: float
    """centimetres"""
    weight: float
    """kilograms"""
    blood_type: str
    race: str
    origin_country_code: str
    origin_country_name: str
    address: str
    address_country_code: str
    address_country_name: str


USER_COLUMNS = tuple(f.name for f in fields(User))


@dataclass(frozen=True)
class Activity:
    activity_id: int
    activity_name: str


@cache
def countries() -> dict[str, Country]:
    with open(COUNTRY_CODES_CSV, newline="", encoding="utf-8") as handle:
        return {
            row["country_code"]: Country(row["country_code"], row["country_name"], row["region"])
            for row in csv.DictReader(handle)
        }


@cache
def _country_weights() -> tuple[list[str], list[int]]:
    counts: dict[str, int] = {}
    for place in GeoProvider.land_coords:
        counts[place[3]] = counts.get(place[3], 0) + 1
    codes = sorted(code for code in counts if code in countries())
    return codes, [counts[code] for code in codes]


def _weighted(rng: random.Random, table: dict[str, float]) -> str:
    return rng.choices(list(table), weights=list(table.values()))[0]


def make_user(user_id: int, rng: random.Random, fake: Faker, today: date) -> User:
    codes, weights = _country_weights()
    sex = rng.choice(("M", "F"))
    origin = countries()[rng.choices(codes, weights=weights)[0]]
    home = origin
    if rng.random() < LIVING_ABROAD:
        home = countries()[rng.choice([code for code in codes if code != origin.code])]
    height = round(rng.gauss(*HEIGHT_CM[sex]), 1)
    weight = round(max(16.0, rng.gauss(*BMI[sex])) * (height / 100) ** 2, 1)
    birth = today - timedelta(days=rng.randint(18 * 365, 85 * 365))
    first = fake.first_name_male() if sex == "M" else fake.first_name_female()
    return User(
        user_id=user_id,
        first_name=first,
        last_name=fake.last_name(),
        date_of_birth=int(birth.strftime("%Y%m%d")),
        sex=sex,
        height=height,
        weight=weight,
        blood_type=_weighted(rng, BLOOD_TYPE_FREQUENCY),
        race=_weighted(rng, RACE_BY_REGION[origin.region]),
        origin_country_code=origin.code,
        origin_country_name=origin.name,
        address=f"{fake.street_address()}, {fake.city()}",
        address_country_code=home.code,
        address_country_name=home.name,
    )


def make_users(count: int, seed: int, first_id: int = FIRST_USER_ID, today: date | None = None) -> list[User]:
    """`count` users with ids from `first_id`; the same seed gives the same users."""
    rng = random.Random(seed)
    fake = Faker()
    fake.seed_instance(seed)
    today = today or date(2026, 1, 1)
    return [make_user(first_id + i, rng, fake, today) for i in range(count)]


def make_activities(seed: int) -> list[Activity]:
    """The 23 activities with ids drawn (per seed) from 20001-20999."""
    rng = random.Random(seed)
    ids = sorted(rng.sample(range(ACTIVITY_ID_RANGE[0], ACTIVITY_ID_RANGE[1] + 1), len(ACTIVITY_INTENSITY)))
    return [Activity(activity_id, name) for activity_id, name in zip(ids, ACTIVITY_INTENSITY, strict=True)]

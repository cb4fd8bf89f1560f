"""Simulated OLTP activity: the changes the warehouse's SCD2 dimensions must track.

Each change is its own transaction, so the CDC log sees one commit per change
with its own commit time. `last_update` is set by the database trigger.
"""

from __future__ import annotations

import random
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING

from faker import Faker

from producer.oltp import insert_users
from producer.synthetic import countries, make_user

if TYPE_CHECKING:
    import psycopg

CHANGE_WEIGHTS = {
    "weight_drift": 0.60,
    "address_move": 0.15,
    "height_change": 0.05,
    "new_user": 0.15,
    "delete_user": 0.05,
}


@dataclass(frozen=True)
class Change:
    kind: str
    user_id: int
    detail: str


def _random_user_id(conn: psycopg.Connection, rng: random.Random) -> int | None:
    ids = [row[0] for row in conn.execute("select user_id from users order by user_id").fetchall()]
    return rng.choice(ids) if ids else None


def apply_change(conn: psycopg.Connection, kind: str, rng: random.Random, fake: Faker) -> Change | None:
    """Apply one change of `kind` in its own transaction; None when there is no user to change."""
    with conn.transaction():
        if kind == "new_user":
            next_id = conn.execute("select coalesce(max(user_id), 10000) + 1 from users").fetchone()[0]
            user = make_user(next_id, rng, fake, date(2026, 1, 1))
            insert_users(conn, [user])
            return Change(kind, next_id, f"{user.sex}, {user.address_country_code}")
        user_id = _random_user_id(conn, rng)
        if user_id is None:
            return None
        if kind == "weight_drift":
            delta = round(rng.gauss(0, 2.5), 1) or 0.5
            conn.execute("update users set weight = greatest(weight + %s, 30) where user_id = %s", (delta, user_id))
            return Change(kind, user_id, f"weight {delta:+.1f} kg")
        if kind == "height_change":
            delta = rng.choice((-1.0, -0.5, 0.5, 1.0))
            conn.execute("update users set height = height + %s where user_id = %s", (delta, user_id))
            return Change(kind, user_id, f"height {delta:+.1f} cm")
        if kind == "address_move":
            current = conn.execute("select address_country_code from users where user_id = %s",
                                   (user_id,)).fetchone()[0].strip()
            target = countries()[rng.choice(sorted(code for code in countries() if code != current))]
            conn.execute(
                "update users set address = %s, address_country_code = %s, address_country_name = %s "
                "where user_id = %s",
                (f"{fake.street_address()}, {fake.city()}", target.code, target.name, user_id),
            )
            return Change(kind, user_id, f"moved {current} -> {target.code}")
        if kind == "delete_user":
            conn.execute("delete from users where user_id = %s", (user_id,))
            return Change(kind, user_id, "deleted")
    raise ValueError(f"unknown change kind {kind!r}; use one of {sorted(CHANGE_WEIGHTS)}")


def simulate(conn: psycopg.Connection, count: int, seed: int, interval_seconds: float = 0.0,
             weights: dict[str, float] | None = None, say: Callable[[str], None] = print) -> Counter[str]:
    """Apply `count` random changes, `interval_seconds` apart; returns how many of each kind."""
    weights = weights or CHANGE_WEIGHTS
    rng = random.Random(seed)
    fake = Faker()
    fake.seed_instance(seed)
    done: Counter[str] = Counter()
    for index in range(count):
        kind = rng.choices(list(weights), weights=list(weights.values()))[0]
        change = apply_change(conn, kind, rng, fake)
        if change is not None:
            done[change.kind] += 1
            say(f"  change {index + 1}/{count}: {change.kind} user {change.user_id} ({change.detail})")
        if interval_seconds and index + 1 < count:
            time.sleep(interval_seconds)
    return done

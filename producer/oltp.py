"""The OLTP database: schema, seeding, CSV exchange in the original format, and reads for the producer."""

from __future__ import annotations

import csv
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING

from include.contracts.oltp_connection import OltpError, connect  # noqa: F401 - connect is re-exported for the commands
from include.contracts.raw_schema import CDC_PUBLICATION, CDC_SLOT, CDC_TABLES
from producer.synthetic import USER_COLUMNS, Activity, User

if TYPE_CHECKING:
    import psycopg

SCHEMA_SQL = Path(__file__).with_name("sql") / "oltp_schema.sql"

# The original generator's CSV header, in its order, mapped to our columns.
ORIGINAL_CSV_COLUMNS = {
    "userid": "user_id",
    "fname": "first_name",
    "lname": "last_name",
    "dob": "date_of_birth",
    "sex": "sex",
    "height": "height",
    "weight": "weight",
    "blood_type": "blood_type",
    "race": "race",
    "origin_country_code": "origin_country_code",
    "origin_country_name": "origin_country_name",
    "address": "address",
    "address_country_code": "address_country_code",
    "address_country_name": "address_country_name",
}


def split_statements(script: str) -> list[str]:
    """Split a SQL script on top-level semicolons, keeping $$-quoted bodies whole."""
    statements, current, in_dollar = [], [], False
    for line in script.splitlines():
        if line.strip().startswith("--") and not in_dollar:
            continue
        current.append(line)
        in_dollar ^= line.count("$$") % 2 == 1
        if not in_dollar and line.rstrip().endswith(";"):
            statement = "\n".join(current).strip()
            if statement:
                statements.append(statement)
            current = []
    return statements


def apply_schema(conn: psycopg.Connection, publication: str = CDC_PUBLICATION, slot: str = CDC_SLOT) -> None:
    """Run the shipped DDL one statement at a time, then make sure the CDC publication and slot exist."""
    for statement in split_statements(SCHEMA_SQL.read_text()):
        conn.execute(statement)
    ensure_cdc_objects(conn, publication, slot)


def ensure_cdc_objects(conn: psycopg.Connection, publication: str = CDC_PUBLICATION, slot: str = CDC_SLOT) -> None:
    """The publication of the CDC tables and the pgoutput slot Airbyte's Postgres source reads (idempotent).

    Runs outside any transaction that has written: PostgreSQL cannot create a logical slot after writes.
    """
    from psycopg import sql

    if conn.execute("select 1 from pg_publication where pubname = %s", (publication,)).fetchone() is None:
        conn.execute(sql.SQL("create publication {} for table {}").format(
            sql.Identifier(publication), sql.SQL(", ").join(sql.Identifier(table) for table in CDC_TABLES)))
    conn.execute("select pg_create_logical_replication_slot(%s, 'pgoutput') "
                 "where not exists (select from pg_replication_slots where slot_name = %s)", (slot, slot))


def insert_users(conn: psycopg.Connection, users: Iterable[User]) -> int:
    """Insert users that are not there yet; returns how many were new."""
    rows = [tuple(getattr(user, column) for column in USER_COLUMNS) for user in users]
    if not rows:
        return 0
    with conn.cursor() as cur:
        before = cur.execute("select count(*) from users").fetchone()[0]
        cur.executemany(
            # Column names come from the User dataclass, never from input.
            f"insert into users ({', '.join(USER_COLUMNS)}) values ({', '.join(['%s'] * len(USER_COLUMNS))}) "  # noqa: S608
            "on conflict (user_id) do nothing",
            rows,
        )
        return cur.execute("select count(*) from users").fetchone()[0] - before


def insert_activities(conn: psycopg.Connection, activities: Iterable[Activity]) -> int:
    with conn.cursor() as cur:
        before = cur.execute("select count(*) from activities").fetchone()[0]
        cur.executemany(
            "insert into activities (activity_id, activity_name) values (%s, %s) on conflict do nothing",
            [(a.activity_id, a.activity_name) for a in activities],
        )
        return cur.execute("select count(*) from activities").fetchone()[0] - before


def export_users_csv(conn: psycopg.Connection, path: Path) -> int:
    """Write users in the original CSV format (`userid,fname,lname,dob,...`)."""
    rows = conn.execute(
        f"select {', '.join(ORIGINAL_CSV_COLUMNS.values())} from users order by user_id"  # noqa: S608
    ).fetchall()
    with open(path, "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(ORIGINAL_CSV_COLUMNS)
        for row in rows:
            writer.writerow(row)
    return len(rows)


@dataclass(frozen=True, slots=True)
class UserProfile:
    """What the reading generator needs to know about a user, as of now."""

    user_id: int
    sex: str
    age_years: float
    bmi: float
    blood_type: str
    country_code: str


def load_profiles(conn: psycopg.Connection, today: date) -> list[UserProfile]:
    rows = conn.execute(
        "select user_id, sex, date_of_birth, height, weight, blood_type, address_country_code "
        "from users order by user_id"
    ).fetchall()
    profiles = []
    for user_id, sex, dob, height, weight, blood_type, country in rows:
        born = date(dob // 10000, dob // 100 % 100, dob % 100)
        age = (today - born).days / 365.25
        bmi = float(weight) / (float(height) / 100) ** 2
        profiles.append(UserProfile(user_id, sex, age, bmi, blood_type, country.strip()))
    if not profiles:
        raise OltpError("the OLTP has no users: run `seed-oltp` first")
    return profiles


def load_activities(conn: psycopg.Connection) -> list[Activity]:
    rows = conn.execute("select activity_id, activity_name from activities order by activity_id").fetchall()
    if not rows:
        raise OltpError("the OLTP has no activities: run `seed-oltp` first")
    return [Activity(activity_id, name) for activity_id, name in rows]

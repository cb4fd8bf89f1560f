"""The original system's CSV files, read and checked before anything is written.

    users.csv       userid,fname,lname,dob,sex,height,weight,blood_type,race,origin_country_code,
                    origin_country_name,address,address_country_code,address_country_name[,last_update]
    activities.csv  activity_id,activity_name[,last_update]

Every row is checked against what the OLTP schema, the event contract and the
producer need (whole-number ids in range, a real YYYYMMDD birth date, M/F,
heights and weights the schema accepts, a known blood type, ISO alpha-2 countries
from the project's country list, activities the producer can simulate). All
problems are collected and reported together, each with its line, so one pass fixes
the file; nothing is imported from a file with a problem. `last_update` is the
database's own (a trigger maintains it), so the file's value is not used.
"""

from __future__ import annotations

import csv
from collections.abc import Callable, Iterator
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any

from include.contracts.heart_rate_event import limits
from producer.ground_truth import ACTIVITY_INTENSITY
from producer.oltp import ORIGINAL_CSV_COLUMNS, OltpError
from producer.synthetic import USER_COLUMNS, Activity, User, countries

if TYPE_CHECKING:
    import psycopg

ACTIVITY_CSV_COLUMNS = ("activity_id", "activity_name")
OPTIONAL_COLUMNS = ("last_update",)
BLOOD_TYPES = ("O+", "O-", "A+", "A-", "B+", "B-", "AB+", "AB-")
HEIGHT_CM, WEIGHT_KG = (50.0, 272.0), (20.0, 400.0)
"""What producer/sql/oltp_schema.sql's checks accept."""
SHOWN_PROBLEMS = 5


class CsvProblems(OltpError):
    """The file cannot be imported; the message lists its problems, with line numbers."""


def _whole(text: str, low: float, high: float) -> int:
    value = int(text)
    if not low <= value <= high:
        raise ValueError(f"{value} is outside {low:g}-{high:g}")
    return value


def _decimal(text: str, low: float, high: float) -> float:
    value = float(text)
    if not low <= value <= high:
        raise ValueError(f"{value:g} is outside {low:g}-{high:g}")
    return value


def _birth_date(text: str) -> int:
    value = int(text)
    try:
        born = date(value // 10000, value // 100 % 100, value % 100)
    except ValueError:
        raise ValueError(f"{text} is not a date as YYYYMMDD") from None
    if not date(1900, 1, 1) <= born <= date.today():
        raise ValueError(f"{born} is not a plausible birth date")
    return value


def _one_of(values: tuple[str, ...] | set[str] | dict[str, Any], what: str) -> Callable[[str], str]:
    def check(text: str) -> str:
        if text not in values:
            shown = ", ".join(sorted(values)[:8]) + (", ..." if len(values) > 8 else "")
            raise ValueError(f"{text!r} is not a known {what} ({shown})")
        return text
    return check


def _text(value: str) -> str:
    if not value.strip():
        raise ValueError("is empty")
    return value


def _rows(path: Path, required: tuple[str, ...] | list[str]) -> Iterator[tuple[int, dict[str, str]]]:
    """(line number, row) of a CSV with at least the required columns; short or long rows are problems."""
    try:
        handle = open(path, newline="", encoding="utf-8")  # noqa: SIM115 - closed below
    except OSError as error:
        raise CsvProblems(f"cannot read {path}: {error.strerror}") from None
    with handle:
        reader = csv.DictReader(handle)
        header = reader.fieldnames or []
        missing = [column for column in required if column not in header]
        unknown = [column for column in header if column not in (*required, *OPTIONAL_COLUMNS)]
        if missing or unknown:
            raise CsvProblems(f"{path}: header {header} is not the original format: expected "
                              f"{','.join(required)}[,last_update]" + (f"; missing {missing}" if missing else "")
                              + (f"; unexpected {unknown}" if unknown else ""))
        for row in reader:
            if None in row or None in row.values():
                fields = len(header) + len(row.get(None) or []) - sum(value is None for value in row.values())
                yield reader.line_num, {"__problem__": f"has {fields} fields, the header has {len(header)}"}
                continue
            yield reader.line_num, row


def _check_rows(path: Path, required: tuple[str, ...] | list[str],
                checks: dict[str, Callable[[str], Any]], key: str) -> list[tuple[int, dict[str, Any]]]:
    good, problems, seen = [], [], {}
    for line, row in _rows(path, required):
        if "__problem__" in row:
            problems.append(f"line {line}: {row['__problem__']}")
            continue
        values, row_problems = {}, []
        for column, check in checks.items():
            try:
                values[column] = check(row[column].strip() if column != "address" else row[column])
            except ValueError as error:
                row_problems.append(f"{column} {row[column]!r}: {error}")
        if not row_problems and values[key] in seen:
            row_problems.append(f"{key} {values[key]} repeats line {seen[values[key]]}")
        if row_problems:
            problems.append(f"line {line}: " + "; ".join(row_problems))
        else:
            seen[values[key]] = line
            good.append((line, values))
    if problems:
        more = f" (and {len(problems) - SHOWN_PROBLEMS} more)" if len(problems) > SHOWN_PROBLEMS else ""
        raise CsvProblems(f"{path}: {len(problems)} bad rows, nothing imported{more}: "
                          + " | ".join(problems[:SHOWN_PROBLEMS]))
    if not good:
        raise CsvProblems(f"{path}: no rows to import")
    return good


def read_users(path: Path) -> list[User]:
    """Users from the original users.csv, every row checked; raises CsvProblems listing what is wrong."""
    known = countries()
    user_ids = limits()["user_id"]
    checks: dict[str, Callable[[str], Any]] = {
        "userid": lambda text: _whole(text, *user_ids),
        "fname": _text, "lname": _text,
        "dob": _birth_date,
        "sex": _one_of(("M", "F"), "sex"),
        "height": lambda text: _decimal(text, *HEIGHT_CM),
        "weight": lambda text: _decimal(text, *WEIGHT_KG),
        "blood_type": _one_of(BLOOD_TYPES, "blood type"),
        "race": _text,
        "origin_country_code": _one_of(known, "ISO 3166 alpha-2 country code"),
        "origin_country_name": _text, "address": _text,
        "address_country_code": _one_of(known, "ISO 3166 alpha-2 country code"),
        "address_country_name": _text,
    }
    rows = _check_rows(path, list(ORIGINAL_CSV_COLUMNS), checks, "userid")
    return [User(**{ORIGINAL_CSV_COLUMNS[column]: value for column, value in values.items()}) for _, values in rows]


def read_activities(path: Path) -> list[Activity]:
    """Activities from the original activities.csv; the producer must know how to simulate each one."""
    activity_ids = limits()["activity_id"]
    checks: dict[str, Callable[[str], Any]] = {
        "activity_id": lambda text: _whole(text, *activity_ids),
        "activity_name": _one_of(ACTIVITY_INTENSITY, "activity the producer can simulate"),
    }
    rows = _check_rows(path, ACTIVITY_CSV_COLUMNS, checks, "activity_id")
    return [Activity(values["activity_id"], values["activity_name"]) for _, values in rows]


def refuse_conflicts(conn: psycopg.Connection, users: list[User], activities: list[Activity]) -> None:
    """Ids that exist with other values would silently keep the old person (or activity): refuse them."""
    conflicts = []
    stored_users = {row[0]: row for row in conn.execute(
        f"select {', '.join(USER_COLUMNS)} from users where user_id = any(%s)",  # noqa: S608 - dataclass names
        ([user.user_id for user in users],)).fetchall()}
    for user in users:
        stored = stored_users.get(user.user_id)
        if stored is not None and _user_row(stored) != _user_row(tuple(getattr(user, c) for c in USER_COLUMNS)):
            conflicts.append(f"user {user.user_id}")
    stored_activities = dict(conn.execute("select activity_id, activity_name from activities").fetchall())
    names = {name: activity_id for activity_id, name in stored_activities.items()}
    for activity in activities:
        if stored_activities.get(activity.activity_id, activity.activity_name) != activity.activity_name:
            conflicts.append(f"activity {activity.activity_id}")
        elif names.get(activity.activity_name, activity.activity_id) != activity.activity_id:
            conflicts.append(f"activity name {activity.activity_name!r} (stored as {names[activity.activity_name]})")
    if conflicts:
        shown = ", ".join(conflicts[:SHOWN_PROBLEMS]) + (f" and {len(conflicts) - SHOWN_PROBLEMS} more"
                                                         if len(conflicts) > SHOWN_PROBLEMS else "")
        raise CsvProblems(f"{shown} already exist in the OLTP with other values: importing would keep the old "
                          "rows and attribute the file's readings to them. Import into a fresh OLTP database, "
                          "or delete those rows first; nothing was imported.")


def _user_row(row: tuple) -> tuple:
    """A user's values compared as the database stores them (numerics at one decimal, codes trimmed)."""
    return tuple(round(float(value), 1) if index in (5, 6) else (value.strip() if isinstance(value, str) else value)
                 for index, value in enumerate(row))

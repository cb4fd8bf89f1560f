"""Every command, given a bad input or a missing service, ends with one clear line and exit code 2, never a
traceback. Table-driven: each row is a command line, what is wrong around it, and the line it must print."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from dev.embedded.layout import EmbeddedLayout
from include.contracts.paths import PROJECT_ROOT
from tests.conftest import free_port

pytestmark = pytest.mark.integration

NOW = datetime.now(tz=UTC).replace(minute=0, second=0, microsecond=0)
PAST = (NOW - timedelta(hours=5)).strftime("%Y-%m-%dT%H:00Z")


@dataclass(frozen=True)
class Case:
    command: tuple[str, ...]
    message: str
    """A regex the last stderr line must match."""
    env: dict[str, str] = field(default_factory=dict)
    files: dict[str, str] = field(default_factory=dict)
    """Files to create in the test's folder first ({tmp} in command and env is that folder)."""


S3_DOWN = {"AWS_ENDPOINT_URL": "http://127.0.0.1:{port}", "AWS_MAX_ATTEMPTS": "1"}
BAD_DOB_USERS = ("userid,fname,lname,dob,sex,height,weight,blood_type,race,origin_country_code,origin_country_name,"
                 "address,address_country_code,address_country_name\n"
                 "10001,Ada,L,19621345,F,165,60,A+,White,GB,United Kingdom,1 Main St,GB,United Kingdom\n")

CASES = {
    "loaders: lake service down": Case(
        ("include.loaders", "lake"), r"^error: cannot read the lake s3://.* Is the S3 service up", S3_DOWN),
    "loaders: warehouse under a file": Case(
        ("include.loaders", "lake"),
        r"^error: cannot use the warehouse .*a-file is a file, not a folder. Set HRS_WAREHOUSE_PATH",
        {"HRS_WAREHOUSE_PATH": "{tmp}/a-file/warehouse.duckdb"}, {"a-file": "not a folder"}),
    "loaders: warehouse folder cannot be made": Case(
        ("include.loaders", "lake"), r"^error: cannot use the warehouse /proc/no-such/warehouse.duckdb",
        {"HRS_WAREHOUSE_PATH": "/proc/no-such/warehouse.duckdb"}),
    "loaders: connector not installed": Case(
        ("include.loaders", "lake", "--loader", "airbyte"), r"^error: cannot run the Airbyte S3 source .*make install",
        {"HRS_AIRBYTE_SOURCE_S3": "{tmp}/no-source-s3"}),
    "loaders: unknown loader": Case(
        ("include.loaders", "lake"), r"^error: HRS_LOADER='airbite' is not a loader", {"HRS_LOADER": "airbite"}),
    "dag_runs: range inside one hour": Case(
        ("dev.dag_runs", "--from", "2026-11-27T05:30Z", "--to", "2026-11-27T05:45Z"),
        r"^error: --to must be at least one whole hour after --from: .*\(you gave --from 2026-11-27T05:30Z"),
    "dag_runs: an hour not over yet": Case(
        ("dev.dag_runs", "--from", NOW.strftime("%Y-%m-%dT%H:00Z"), "--to",
         (NOW + timedelta(hours=1)).strftime("%Y-%m-%dT%H:00Z")), r"^error: the hour .* has not ended yet"),
    "dag_runs: not a time": Case(
        ("dev.dag_runs", "--from", "yesterday", "--to", PAST), r"^error: 'yesterday' is not an ISO time"),
    "dag_runs: preflight finds the lake down": Case(
        ("dev.dag_runs", "--from", PAST, "--to", (NOW - timedelta(hours=4)).strftime("%Y-%m-%dT%H:00Z")),
        r"^error: the lake s3://.* cannot be reached: .* Start the services", S3_DOWN),
    "dag_runs: preflight finds the warehouse unusable": Case(
        ("dev.dag_runs", "--from", PAST, "--to", (NOW - timedelta(hours=4)).strftime("%Y-%m-%dT%H:00Z")),
        r"^error: cannot use the warehouse", {"HRS_WAREHOUSE_PATH": "{tmp}/a-file/w.duckdb"}, {"a-file": "x"}),
    "demo: negative changes": Case(
        ("dev.demo", "--changes", "-3"), r"^make demo: error: argument --changes: '-3' is out of range"),
    "demo: too many hours": Case(
        ("dev.demo", "--hours", "500"), r"^make demo: error: argument --hours: '500' is out of range: give a whole "
                                        r"number at least 1 and at most 168$"),
    "producer: users file missing": Case(
        ("producer", "seed-oltp", "--import-csv", "{tmp}/users.csv"), r"^error: cannot read .*users.csv: No such"),
    "producer: impossible birth date": Case(
        ("producer", "seed-oltp", "--import-csv", "{tmp}/bad.csv"),
        r"^error: .*bad.csv: 1 bad rows, nothing imported: line 2: dob '19621345': 19621345 is not a date",
        files={"bad.csv": BAD_DOB_USERS}),
}


@pytest.mark.parametrize("name", list(CASES))
def test_each_bad_input_is_one_line_and_exit_2(name: str, embedded: EmbeddedLayout, tmp_path: Path) -> None:
    case = CASES[name]
    port = str(free_port())
    for file, text in case.files.items():
        (tmp_path / file).write_text(text)

    def fill(value: str) -> str:
        return value.replace("{tmp}", str(tmp_path)).replace("{port}", port)

    env = {**os.environ, **{key: fill(value) for key, value in case.env.items()}}
    result = subprocess.run([sys.executable, "-m", *(fill(part) for part in case.command)], cwd=PROJECT_ROOT,
                            env=env, capture_output=True, text=True, timeout=180, check=False)
    assert result.returncode == 2, result.stdout + result.stderr
    assert "Traceback" not in result.stderr, result.stderr
    last = result.stderr.strip().splitlines()[-1]
    assert re.search(case.message, last), last

"""The original system's CSV files: every bad row is named with its line, and a bad file imports nothing."""

from __future__ import annotations

from pathlib import Path

import pytest

from producer.original_csv import CsvProblems, read_activities, read_users

pytestmark = pytest.mark.unit

USERS_HEADER = ("userid,fname,lname,dob,sex,height,weight,blood_type,race,origin_country_code,origin_country_name,"
                "address,address_country_code,address_country_name,last_update")
GOOD_USER = ('10001,Ada,Lovelace,19621105,F,165.0,60.5,A+,White,GB,United Kingdom,"1 Main St, London",GB,'
             "United Kingdom,2020-01-01")


def _file(tmp_path: Path, *lines: str, name: str = "users.csv") -> Path:
    path = tmp_path / name
    path.write_text("\n".join(lines) + "\n")
    return path


def test_a_good_original_file_is_read_with_its_last_update_column(tmp_path: Path) -> None:
    [user] = read_users(_file(tmp_path, USERS_HEADER, GOOD_USER))
    assert (user.user_id, user.date_of_birth, user.height) == (10001, 19621105, 165.0)
    assert user.address == "1 Main St, London"


@pytest.mark.parametrize(("row", "problem"), [
    (GOOD_USER.replace("19621105", "19621345"), r"dob '19621345': 19621345 is not a date as YYYYMMDD"),
    (GOOD_USER.replace(",GB,United Kingdom,2020", ",GBR,United Kingdom,2020"),
     r"address_country_code 'GBR': .* not a known ISO"),
    (GOOD_USER.replace(",F,", ",X,"), r"sex 'X'"),
    (GOOD_USER.replace("165.0", "500"), r"height '500': 500 is outside 50-272"),
    (GOOD_USER.replace(",A+,", ",Z+,"), r"blood_type 'Z\+'"),
    (GOOD_USER.replace("10001", "abc"), r"userid 'abc'"),
    ("10002,Bob,Short", r"line 2: has 3 fields, the header has 15"),
])
def test_each_bad_value_is_named_with_its_line(tmp_path: Path, row: str, problem: str) -> None:
    with pytest.raises(CsvProblems, match=rf"users.csv: 1 bad rows, nothing imported: .*{problem}"):
        read_users(_file(tmp_path, USERS_HEADER, row))


def test_every_problem_is_reported_at_once_and_duplicates_too(tmp_path: Path) -> None:
    path = _file(tmp_path, USERS_HEADER, GOOD_USER, GOOD_USER, GOOD_USER.replace("19621105", "1"))
    with pytest.raises(CsvProblems) as problems:
        read_users(path)
    assert "2 bad rows" in str(problems.value)
    assert "line 3: userid 10001 repeats line 2" in str(problems.value) and "line 4: dob '1'" in str(problems.value)


def test_a_missing_file_or_a_foreign_header_is_one_line(tmp_path: Path) -> None:
    with pytest.raises(CsvProblems, match=r"cannot read .*nope.csv: No such file or directory"):
        read_users(tmp_path / "nope.csv")
    with pytest.raises(CsvProblems, match=r"is not the original format.*missing \['dob'"):
        read_users(_file(tmp_path, "userid,fname,lname", "1,a,b"))


def test_original_activities_are_read_and_checked(tmp_path: Path) -> None:
    activities = read_activities(_file(tmp_path, "activity_id,activity_name,last_update", "20890,Yoga,2020-01-01",
                                       "20001,Outdoor Run,2020-01-01", name="activities.csv"))
    assert [(a.activity_id, a.activity_name) for a in activities] == [(20890, "Yoga"), (20001, "Outdoor Run")]
    with pytest.raises(CsvProblems, match=r"line 2: activity_id '30000': 30000 is outside 20001-20999.*"
                                          r"line 3: activity_name 'Skydiving': 'Skydiving' is not a known activity"):
        read_activities(_file(tmp_path, "activity_id,activity_name", "30000,Yoga", "20002,Skydiving",
                              name="activities.csv"))

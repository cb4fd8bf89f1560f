"""DAG integrity, in the spirit of the Astro project template.

Every DAG file imports without error in a fresh interpreter, opens no network
connection and imports no heavy module at parse time; every DAG has tags and
documentation, and every task an owner and at least two retries. The rules are
first shown to catch a broken, a rule-breaking and a good fixture, so a green
result on the real `dags/` folder means something.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from dev.embedded.layout import EmbeddedLayout
from include.contracts.paths import PROJECT_ROOT
from tests.dags.import_probe import PROD_PARSE_ENV, PROJECT_VARIABLE_PREFIXES

pytestmark = pytest.mark.unit

PROBE = Path(__file__).with_name("import_probe.py")
FIXTURES = Path(__file__).with_name("fixtures")
DAG_FILES = sorted(p for p in (PROJECT_ROOT / "dags").glob("*.py") if not p.name.startswith("_"))
MIN_RETRIES = 2


PROD_ENV = PROD_PARSE_ENV
LOCAL_ENV = {**EmbeddedLayout.from_env({}).environment(), "HRS_MODE": "local"}
"""What `make airflow` gives the DAG processor on a laptop (`make env`)."""


def probe(path: Path, tmp_path: Path, **extra_env: str) -> dict:
    base = {key: value for key, value in os.environ.items() if not key.startswith(PROJECT_VARIABLE_PREFIXES)}
    env = {**base, "AIRFLOW_HOME": str(tmp_path / "airflow"), "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
           "PYTHONPATH": str(PROJECT_ROOT), **extra_env}
    result = subprocess.run([sys.executable, str(PROBE), str(path)], capture_output=True, text=True,
                            env=env, cwd=PROJECT_ROOT, timeout=300, check=False)
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout.strip().splitlines()[-1])
    assert "probe_error" not in report, report["probe_error"]
    return report


def violations(report: dict) -> list[str]:
    found = [f"import error: {error.strip().splitlines()[-1]}" for error in report["import_errors"].values()]
    found += [f"connects at parse time: {address}" for address in report["connect_attempts"]]
    found += [f"imports {module} at parse time" for module in report["heavy_modules"]]
    for dag in report["dags"]:
        if not dag["tags"]:
            found.append(f"{dag['dag_id']}: no tags")
        if not dag["doc_md"]:
            found.append(f"{dag['dag_id']}: no doc_md")
        for task in dag["tasks"]:
            if not task["owner"] or task["owner"] == "airflow":
                found.append(f"{dag['dag_id']}.{task['task_id']}: no owner")
            if task["retries"] < MIN_RETRIES:
                found.append(f"{dag['dag_id']}.{task['task_id']}: retries {task['retries']} < {MIN_RETRIES}")
    if not report["dags"] and not report["import_errors"]:
        found.append("defines no DAG")
    return found


def test_rules_accept_a_good_dag(tmp_path: Path) -> None:
    assert violations(probe(FIXTURES / "good_dag.py", tmp_path)) == []


def test_rules_reject_every_broken_rule(tmp_path: Path) -> None:
    found = violations(probe(FIXTURES / "bad_dag.py", tmp_path))
    assert "imports duckdb at parse time" in found
    assert any(v.startswith("connects at parse time: ('127.0.0.1', 9)") for v in found)
    assert "bad_dag: no tags" in found
    assert "bad_dag: no doc_md" in found
    assert "bad_dag.step: no owner" in found
    assert "bad_dag.step: retries 0 < 2" in found


def test_rules_report_import_errors(tmp_path: Path) -> None:
    assert violations(probe(FIXTURES / "broken_dag.py", tmp_path)) == [
        "import error: RuntimeError: this DAG file is broken on purpose"
    ]


@pytest.mark.parametrize("mode", ["local", "prod"])
@pytest.mark.parametrize("dag_file", DAG_FILES, ids=[p.name for p in DAG_FILES])
def test_project_dag_files_follow_the_rules(dag_file: Path, mode: str, tmp_path: Path) -> None:
    report = probe(dag_file, tmp_path, **(PROD_ENV if mode == "prod" else LOCAL_ENV))
    assert violations(report) == []
    print(f"{dag_file.name} ({mode}): parsed in {report['seconds']:.2f} s beyond airflow.sdk and cosmos")

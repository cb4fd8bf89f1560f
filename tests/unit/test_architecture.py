"""The layout's rules, read from the code itself (its syntax tree), so a change that breaks one fails here.

- Imports point one way: `dags` → `include.hourly` → `include.loaders` / `include.serving` /
  `include.warehouse` → `include.contracts`; the producer imports only `include.contracts`; nothing
  under `include/` or `producer/` imports the laptop tooling in `dev/` (or the tests).
- Each contract name (topic, lake bucket, raw tables, CDC slot and publication, serving marts, the
  quality and fact relations the code reads) is spelled once, in `include/contracts/`: anywhere else
  it is imported, never written as a string literal.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from include.contracts.paths import PROJECT_ROOT
from include.contracts.raw_schema import CDC_PUBLICATION, CDC_SLOT, SCHEMA, TABLES
from include.contracts.serving_marts import SERVING_MARTS
from include.contracts.settings import DEFAULT_TOPIC, LOCAL_LAKE_BUCKET
from include.contracts.warehouse_relations import DQ_HOURLY, FACT_HEART_RATES

pytestmark = pytest.mark.unit

CODE_ROOTS = ("dags", "include", "producer", "dev", "bench")

# Which project packages each part may import (by module prefix). Third-party imports are not judged here.
ALLOWED_IMPORTS = {
    "include.contracts": ("include.contracts",),
    "include.warehouse": ("include.contracts",),
    "include.loaders": ("include.contracts", "include.loaders", "include.warehouse"),
    "include.serving": ("include.contracts", "include.serving", "include.warehouse"),
    "include.hourly": ("include.contracts", "include.hourly", "include.loaders", "include.serving",
                       "include.warehouse"),
    "dags": ("include.hourly",),
    "producer": ("include.contracts", "producer"),
}
PROJECT_PACKAGES = ("include", "producer", "dev", "dags", "tests", "bench")


def _modules(root: str) -> Iterator[tuple[str, Path]]:
    for path in sorted((PROJECT_ROOT / root).rglob("*.py")):
        relative = path.relative_to(PROJECT_ROOT).with_suffix("")
        parts = relative.parts[:-1] if relative.name == "__init__" else relative.parts
        yield ".".join(parts), path


def _imports(path: Path) -> Iterator[tuple[int, str]]:
    """Every module an import statement names, top level or inside a function (run-time imports count too)."""
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield node.lineno, alias.name
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            yield node.lineno, node.module


def _part(module: str) -> str | None:
    for part in sorted(ALLOWED_IMPORTS, key=len, reverse=True):
        if module == part or module.startswith(part + "."):
            return part
    return None


def _is_project(module: str) -> bool:
    return module.split(".")[0] in PROJECT_PACKAGES


def test_imports_point_one_way() -> None:
    broken = []
    for root in ("dags", "include", "producer"):
        for module, path in _modules(root):
            part = _part(module)
            if part is None:  # include/__init__.py: documentation only
                continue
            for line, imported in _imports(path):
                if _is_project(imported) and not imported.startswith(ALLOWED_IMPORTS[part]):
                    broken.append(f"{path.relative_to(PROJECT_ROOT)}:{line} ({part}) imports {imported}")
    assert broken == []


def test_the_rule_catches_a_shipped_module_importing_the_laptop_tooling(tmp_path: Path) -> None:
    bad = tmp_path / "bad.py"
    bad.write_text("def later():\n    from dev.embedded.layout import EmbeddedLayout\n")
    assert [imported for _, imported in _imports(bad)] == ["dev.embedded.layout"]
    assert not "dev.embedded.layout".startswith(ALLOWED_IMPORTS["include.loaders"])


CONTRACT_NAMES = sorted({
    LOCAL_LAKE_BUCKET, CDC_SLOT, CDC_PUBLICATION, DQ_HOURLY, FACT_HEART_RATES,
    *(f"{SCHEMA}.{table}" for table in TABLES),
    *(table for table in TABLES if "_" in table),  # raw.users / raw.activities only when qualified
    *(mart.name for mart in SERVING_MARTS), *(mart.relation for mart in SERVING_MARTS),
}, key=len, reverse=True)
# The topic's name is also two English words ("heart-rate readings"): it counts as spelled when it is the
# whole literal or sits in a lake key (`topics/<topic>/`, `<topic>+<partition>+<offset>`).
TOPIC = re.escape(DEFAULT_TOPIC)
NAME_PATTERN = re.compile("|".join([
    *(rf"(?<![\w.-]){re.escape(name)}(?![\w-])" for name in CONTRACT_NAMES),
    rf"\A{TOPIC}\Z", rf"(?<=/){TOPIC}(?=/)", rf"(?<![\w-]){TOPIC}(?=\+)",
]))


def _docstrings(tree: ast.AST) -> set[int]:
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef) and node.body:
            first = node.body[0]
            if isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant):
                found.add(id(first.value))
        if isinstance(node, ast.Module | ast.ClassDef):  # attribute docstrings: a string right after an assignment
            for before, after in zip(node.body, node.body[1:], strict=False):
                if isinstance(before, ast.Assign | ast.AnnAssign) and isinstance(after, ast.Expr) \
                        and isinstance(after.value, ast.Constant):
                    found.add(id(after.value))
    return found


def _spelled_names(path: Path) -> Iterator[tuple[int, str]]:
    tree = ast.parse(path.read_text(), filename=str(path))
    documentation = _docstrings(tree)
    for node in ast.walk(tree):
        if isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in documentation:
            for match in NAME_PATTERN.finditer(node.value):
                yield node.lineno, match.group(0)


def test_contract_names_are_spelled_only_in_contracts() -> None:
    spelled = [f"{path.relative_to(PROJECT_ROOT)}:{line} spells {name!r}"
               for root in CODE_ROOTS for module, path in _modules(root)
               if not module.startswith("include.contracts")
               for line, name in _spelled_names(path)]
    assert spelled == []


def test_the_rule_catches_a_spelled_mart_and_a_raw_table(tmp_path: Path) -> None:
    bad = tmp_path / "bad.py"
    bad.write_text('"""Docs may name serving.heart_rate_by_activity_and_sex."""\n'
                   'SQL = f"select * from serving.heart_rate_by_activity_and_sex join raw.users using (id)"\n'
                   'TOPIC = "heart-rate"\nFINE = "heart-rate-ish words in a help text"\n')
    assert sorted(name for _, name in _spelled_names(bad)) == [
        "heart-rate", "raw.users", "serving.heart_rate_by_activity_and_sex"]


def test_dag_runs_imports_no_airflow_before_it_applies_the_settings() -> None:
    """Airflow reads AIRFLOW_HOME and its config once, at import: `python -m dev.dag_runs` from a plain shell
    must put `make env`'s settings in place first, so importing the module must not import Airflow."""
    import subprocess
    import sys

    probe = "import sys, dev.dag_runs; print(sorted(m for m in sys.modules if m.split('.')[0] == 'airflow'))"
    result = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True,
                            cwd=PROJECT_ROOT)
    assert result.stdout.strip() == "[]"

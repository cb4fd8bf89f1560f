"""Each image's build context holds only what that image runs (its .dockerignore, read as Docker reads it).

- The Astro image (root .dockerignore): the DAGs, the `include` package, plugins,
  the dbt project and the image's requirement files; no laptop tooling, tests,
  producer, secrets, virtualenv or local data.
- The producer image (producer/Dockerfile.dockerignore): the producer, the shared
  contracts and the country list; nothing of Airflow's.
"""

from __future__ import annotations

import pytest

from include.contracts.paths import PROJECT_ROOT
from tests.unit.docker_context import context_files, is_excluded, read_patterns, tracked_files

pytestmark = pytest.mark.unit

ASTRO_IGNORE = PROJECT_ROOT / ".dockerignore"
PRODUCER_IGNORE = PROJECT_ROOT / "producer" / "Dockerfile.dockerignore"
ASTRO_RUNS = ("dags/", "include/", "plugins/", "dbt/", "requirements.txt", "packages.txt", "Dockerfile")
PRODUCER_RUNS = ("producer/", "include/contracts/", "include/__init__.py", "dbt/seeds/country_codes.csv")
NEVER = (".env", ".venv/bin/python", ".local/warehouse/warehouse.duckdb", ".git/HEAD", "airflow.db",
         "dbt/target/manifest.json", "include/__pycache__/settings.cpython-311.pyc")
"""Untracked files a working copy has: secrets, the 1 GB virtualenv, local data, build output."""


def _runs(path: str, roots: tuple[str, ...]) -> bool:
    return any(path == root or (root.endswith("/") and path.startswith(root)) for root in roots)


def test_matcher_follows_dockers_rules() -> None:
    patterns = read_patterns(PRODUCER_IGNORE)
    assert is_excluded("README.md", patterns) and is_excluded("include/hourly/gate_tasks.py", patterns)
    assert not is_excluded("include/contracts/settings.py", patterns)  # let back in under an excluded folder
    assert is_excluded("include/contracts/__pycache__/settings.cpython-311.pyc", patterns)  # the last match wins


def test_astro_image_context_is_what_airflow_runs() -> None:
    shipped = context_files(ASTRO_IGNORE)
    assert [path for path in shipped if not _runs(path, ASTRO_RUNS)] == []
    left_out = [path for path in tracked_files() if _runs(path, ASTRO_RUNS) and path not in shipped]
    assert left_out == []
    assert not any(path.startswith(("dev/", "tests/", "bench/", "producer/", "docs/")) for path in shipped)
    assert "dags/heart_rate_hourly.py" in shipped and "include/contracts/heart_rate_event.schema.json" in shipped


def test_producer_image_context_is_the_producer_and_the_contracts() -> None:
    shipped = context_files(PRODUCER_IGNORE)
    assert [path for path in shipped if not _runs(path, PRODUCER_RUNS)] == []
    assert "producer/Dockerfile" in shipped and "include/contracts/settings.py" in shipped
    assert not any(path.startswith(("include/hourly/", "include/loaders/", "dags/", "dev/")) for path in shipped)


@pytest.mark.parametrize("ignore_file", [ASTRO_IGNORE, PRODUCER_IGNORE], ids=["astro", "producer"])
def test_secrets_virtualenv_and_local_data_never_reach_a_context(ignore_file) -> None:
    assert context_files(ignore_file, candidates=NEVER) == []

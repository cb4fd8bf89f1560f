"""The producer image holds everything the producer imports, and nothing else (checked without Docker).

The Dockerfile's COPY lines are replayed, from the build context its
.dockerignore leaves, into an empty folder; every subcommand's --help and the
modules behind them must import from there alone.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from include.contracts.paths import PROJECT_ROOT
from tests.unit.docker_context import context_files

pytestmark = pytest.mark.unit

DOCKERFILE = PROJECT_ROOT / "producer" / "Dockerfile"
IGNORE_FILE = PROJECT_ROOT / "producer" / "Dockerfile.dockerignore"


def _replay_copies(target: Path) -> None:
    context = tmp_context = target.with_name(target.name + "-context")
    for path in context_files(IGNORE_FILE):
        (context / path).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(PROJECT_ROOT / path, context / path)
    for line in DOCKERFILE.read_text().replace("\\\n", " ").splitlines():
        if not line.startswith("COPY "):
            continue
        *sources, destination = line.split()[1:]
        for source in sources:
            origin = tmp_context / source
            into = target / destination
            if origin.is_dir():
                shutil.copytree(origin, into if not destination.endswith("/") else into / origin.name,
                                dirs_exist_ok=True)
            else:
                final = into / origin.name if destination.endswith("/") else into
                final.parent.mkdir(parents=True, exist_ok=True)
                shutil.copy2(origin, final)


def test_image_contents_are_enough_to_run_every_command(tmp_path: Path) -> None:
    _replay_copies(tmp_path)
    env = {**os.environ, "PYTHONPATH": str(tmp_path), "HRS_MODE": "prod", "PYTHONSAFEPATH": "1"}
    code = (
        "import sys; sys.path = [p for p in sys.path if p.rstrip('/') != " + repr(str(PROJECT_ROOT)) + "]\n"
        "import producer.cli, producer.s3_sink, producer.heart_rate_producer, producer.oltp_changes\n"
        "from producer.synthetic import countries; assert len(countries()) > 100\n"
    )
    result = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, env=env, capture_output=True, text=True,
                            check=False)
    assert result.returncode == 0, result.stderr
    for absent in ("dev", "include.hourly", "include.loaders", "tests"):  # laptop tooling and Airflow code
        missing = subprocess.run([sys.executable, "-c", code + f"import {absent}\n"], cwd=tmp_path, env=env,
                                 capture_output=True, text=True, check=False)
        assert f"No module named '{absent}'" in missing.stderr, missing.stderr
    for command in ("seed-oltp", "simulate-oltp", "produce", "sink", "healthcheck"):
        run = subprocess.run([sys.executable, "-m", "producer", command, "--help"], cwd=tmp_path, env=env,
                             capture_output=True, text=True, check=False)
        assert run.returncode == 0, run.stderr

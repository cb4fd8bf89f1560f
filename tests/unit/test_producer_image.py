"""The producer image holds everything the producer imports (checked without Docker).

The Dockerfile's COPY lines are replayed into an empty folder, and every
subcommand's --help and the modules behind them must import from there alone.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from include.embedded.layout import PROJECT_ROOT

pytestmark = pytest.mark.unit

DOCKERFILE = PROJECT_ROOT / "producer" / "Dockerfile"


def _replay_copies(target: Path) -> None:
    for line in DOCKERFILE.read_text().replace("\\\n", " ").splitlines():
        if not line.startswith("COPY "):
            continue
        *sources, destination = line.split()[1:]
        for source in sources:
            origin = PROJECT_ROOT / source
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
        "import include.embedded.supervisor\n"
    )
    result = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, env=env, capture_output=True, text=True,
                            check=False)
    # include.embedded.supervisor (local services only) must NOT be in the image
    assert "No module named 'include.embedded.supervisor'" in result.stderr, result.stderr
    for command in ("seed-oltp", "simulate-oltp", "produce", "sink", "healthcheck"):
        run = subprocess.run([sys.executable, "-m", "producer", command, "--help"], cwd=tmp_path, env=env,
                             capture_output=True, text=True, check=False)
        assert run.returncode == 0, run.stderr

"""What parsing the hourly DAG file costs the DAG processor, beyond `import airflow.sdk`.

    make bench-parse

Each measurement is a fresh interpreter (tests/dags/import_probe.py): it imports
`airflow.sdk` (which itself loads Cosmos, a registered provider), then times a
DagBag of the one DAG file, Cosmos rendering both dbt task groups from the
manifest included. Both modes, several repetitions; the goal is 0.5 s.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PROBE = ROOT / "tests" / "dags" / "import_probe.py"
DAG_FILE = ROOT / "dags" / "heart_rate_hourly.py"
GOAL_SECONDS = 0.5
sys.path.insert(0, str(ROOT))
from tests.dags.test_dag_integrity import LOCAL_ENV, PROD_ENV  # noqa: E402

MODES = {"local": LOCAL_ENV, "prod": PROD_ENV}


def sdk_import_seconds(env: dict[str, str]) -> float:
    code = "import time; t = time.perf_counter(); import airflow.sdk; print(time.perf_counter() - t)"
    result = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True)
    return float(result.stdout.strip().splitlines()[-1])


def parse_seconds(env: dict[str, str]) -> tuple[float, int]:
    result = subprocess.run([sys.executable, str(PROBE), str(DAG_FILE)], env=env, cwd=ROOT,
                            capture_output=True, text=True, check=True)
    report = json.loads(result.stdout.strip().splitlines()[-1])
    if "probe_error" in report or report["import_errors"]:
        raise SystemExit(f"the DAG file does not parse: {report}")
    return report["seconds"], len(report["dags"][0]["tasks"])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5, help="measurements per mode (default 5)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as home:
        base = {**os.environ, "AIRFLOW_HOME": home, "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
                "PYTHONPATH": str(ROOT)}
        started = time.perf_counter()
        sdk = statistics.median(sdk_import_seconds(base) for _ in range(3))
        print(f"import airflow.sdk (fresh interpreter, median of 3): {sdk:.2f} s")
        print(f"{'mode':<6} {'tasks':>5} {'median':>8} {'min':>6} {'max':>6}  vs goal {GOAL_SECONDS} s")
        for mode, extra in MODES.items():
            runs = [parse_seconds({**base, **extra}) for _ in range(args.repeat)]
            seconds = [s for s, _ in runs]
            median = statistics.median(seconds)
            print(f"{mode:<6} {runs[0][1]:>5} {median:>7.2f}s {min(seconds):>5.2f}s {max(seconds):>5.2f}s"
                  f"  {median / GOAL_SECONDS:.2f}x of the goal")
        print(f"(bench took {time.perf_counter() - started:.0f} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Where things are in a checkout or an image: the one home of the project's folder paths.

The repository root is the project root in every deployable (the Astro image
copies the whole project to its working directory; the producer image copies
`include/contracts/` and `dbt/seeds/` to the same relative places).
"""

from __future__ import annotations

from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parents[2]
DAGS_DIR = PROJECT_ROOT / "dags"
DBT_PROJECT_DIR = PROJECT_ROOT / "dbt"
DBT_PROFILES_DIR = DBT_PROJECT_DIR
DBT_MANIFEST = DBT_PROJECT_DIR / "target" / "manifest.json"
COUNTRY_CODES_CSV = DBT_PROJECT_DIR / "seeds" / "country_codes.csv"
"""ISO country codes with UN regions: the dbt seed, also read by the producer's synthetic users."""
AIRFLOW_SETTINGS = PROJECT_ROOT / "airflow_settings.yaml"

"""The warehouse relations Python code reads besides raw and serving (those have their own modules).

Built by dbt (`dbt/models/quality/dq_hourly.sql`, `dbt/models/core/fct_heart_rates.sql`); the gate,
the dashboard and the demo read them by these names only.
"""

from __future__ import annotations

DQ_HOURLY = "quality.dq_hourly"
"""Per event hour: the data-quality checks the gate decides on."""
FACT_HEART_RATES = "core.fct_heart_rates"
"""One row per reading."""

"""The serving marts: one per research question, the only tables researchers (and Tableau) read.

One home for their names and questions: the DAG's Assets, the demo's report and
the dashboard all read this tuple; a test checks it against `dbt/models/serving/`.
Standard library only (the DAG file reads it at parse time).
"""

from __future__ import annotations

from dataclasses import dataclass

SERVING_SCHEMA = "serving"


@dataclass(frozen=True)
class ServingMart:
    name: str
    question: str

    @property
    def relation(self) -> str:
        return f"{SERVING_SCHEMA}.{self.name}"

    @property
    def asset_uri(self) -> str:
        """The mart as an Airflow Asset, updated when the DAG publishes an hour."""
        return f"x-warehouse://{SERVING_SCHEMA}/{self.name}"


SEX_BY_ACTIVITY = ServingMart(
    "heart_rate_by_activity_and_sex",
    "How does heart rate vary across activities for users of different sexes?")
VARIABILITY_BY_BLOOD_TYPE = ServingMart(
    "heart_rate_variability_by_blood_type_and_region",
    "Heart-rate variability trends by blood type across regions.")
SEASONS_BY_DEMOGRAPHICS = ServingMart(
    "seasonal_heart_rate_by_demographics",
    "Seasonal variation of heart rate across demographics (hemisphere-aware seasons).")
ACTIVITY_BY_LOCAL_HOUR = ServingMart(
    "activity_likelihood_by_local_hour_and_region",
    "Likelihood of each activity by local time of day within regions.")
AGE_AND_BODY = ServingMart(
    "heart_rate_by_age_and_body_measures",
    "Heart-rate patterns as users age or change weight/height (attributes as of each reading).")

SERVING_MARTS = (SEX_BY_ACTIVITY, VARIABILITY_BY_BLOOD_TYPE, SEASONS_BY_DEMOGRAPHICS, ACTIVITY_BY_LOCAL_HOUR,
                 AGE_AND_BODY)
"""In the order of the research questions (Q1 to Q5)."""

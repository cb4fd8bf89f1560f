"""The effects planted in the synthetic readings, which the warehouse must recover.

Every number the reading generator uses lives here, so tests (and researchers
checking the marts) can import the truth and compare. Each effect maps to one
research question:

1. Sex by activity: during an activity, women's heart rate is higher than
   men's by `FEMALE_MINUS_MALE_BPM[activity]` at every reading.
2. Variability by blood type: reading-to-reading noise has standard deviation
   `BLOOD_TYPE_NOISE_SD[blood_type]`; RMSSD of successive plateau readings is
   about sqrt(2) times it.
3. Seasons: heart rate shifts by `SEASON_SHIFT_BPM[season]`, where the season is
   meteorological and hemisphere-aware, taken from the reading's latitude and
   month (north: Dec-Feb winter; south: Jun-Aug winter).
4. Activity by local time: sessions start with probability `DAILY_ACTIVITY[hour]`
   and pick activity `a` with weight `ACTIVITY_POPULARITY[a]` times a Gaussian
   around `ACTIVITY_PEAK_LOCAL_HOUR[a]` (sd `PEAK_SPREAD_HOURS`). Local hour is
   solar time: UTC hour + round(longitude / 15), which the warehouse can compute
   from the reading alone.
5. Body and age: every bpm value is shifted by `BPM_PER_BMI_UNIT` per BMI unit
   above `REFERENCE_BMI`, using the weight and height valid when the reading
   was generated; maximum heart rate is `208 - 0.7 * age` (Tanaka) and caps
   every reading.
"""

from __future__ import annotations

# The 23 Apple Fitness workout types, with intensity as a fraction of heart-rate reserve.
ACTIVITY_INTENSITY: dict[str, float] = {
    "Outdoor Walk": 0.30,
    "Indoor Walk": 0.28,
    "Outdoor Run": 0.75,
    "Indoor Run": 0.72,
    "Outdoor Cycle": 0.60,
    "Indoor Cycle": 0.62,
    "Elliptical": 0.55,
    "Rower": 0.65,
    "Stair Stepper": 0.68,
    "HIIT": 0.85,
    "Hiking": 0.50,
    "Yoga": 0.18,
    "Functional Strength Training": 0.50,
    "Traditional Strength Training": 0.45,
    "Core Training": 0.40,
    "Pilates": 0.30,
    "Tai Chi": 0.15,
    "Dance": 0.58,
    "Kickboxing": 0.78,
    "Pool Swim": 0.63,
    "Open Water Swim": 0.66,
    "Mixed Cardio": 0.64,
    "Cooldown": 0.12,
}

FEMALE_MINUS_MALE_BPM: dict[str, float] = {
    name: round(2.0 + 10.0 * intensity, 1) for name, intensity in ACTIVITY_INTENSITY.items()
}
"""Question 1: grows with intensity, from +3.2 bpm (Cooldown) to +10.5 bpm (HIIT)."""

RESTING_BPM = 66.0
"""The same for both sexes, so question 1's difference is exactly the planted one."""
RESTING_SD_BPM = 4.0
"""Each user's own resting rate varies around RESTING_BPM with this standard deviation."""

BLOOD_TYPE_NOISE_SD: dict[str, float] = {
    "O+": 2.0, "O-": 2.0,
    "A+": 3.5, "A-": 3.5,
    "B+": 5.0, "B-": 5.0,
    "AB+": 7.0, "AB-": 7.0,
}
"""Question 2: O < A < B < AB in reading-to-reading variability."""

SEASON_SHIFT_BPM = {"winter": 5.0, "spring": 0.0, "summer": -3.0, "autumn": 1.5}
NORTH_SEASON_BY_MONTH = {
    12: "winter", 1: "winter", 2: "winter",
    3: "spring", 4: "spring", 5: "spring",
    6: "summer", 7: "summer", 8: "summer",
    9: "autumn", 10: "autumn", 11: "autumn",
}
OPPOSITE_SEASON = {"winter": "summer", "summer": "winter", "spring": "autumn", "autumn": "spring"}

DAILY_ACTIVITY: tuple[float, ...] = (
    0.05, 0.03, 0.02, 0.02, 0.03, 0.15, 0.55, 0.80, 0.70, 0.45, 0.35, 0.40,
    0.55, 0.45, 0.35, 0.35, 0.45, 0.75, 0.90, 0.80, 0.55, 0.35, 0.20, 0.10,
)
"""Question 4: relative chance that a session starts in each local hour (0-23)."""

ACTIVITY_PEAK_LOCAL_HOUR: dict[str, int] = {
    "Outdoor Walk": 12, "Indoor Walk": 13, "Outdoor Run": 7, "Indoor Run": 18,
    "Outdoor Cycle": 8, "Indoor Cycle": 19, "Elliptical": 17, "Rower": 18,
    "Stair Stepper": 17, "HIIT": 18, "Hiking": 10, "Yoga": 7,
    "Functional Strength Training": 18, "Traditional Strength Training": 19,
    "Core Training": 19, "Pilates": 9, "Tai Chi": 8, "Dance": 20,
    "Kickboxing": 19, "Pool Swim": 7, "Open Water Swim": 11, "Mixed Cardio": 17,
    "Cooldown": 21,
}
ACTIVITY_POPULARITY: dict[str, float] = {
    name: (3.0 if name in {"Outdoor Walk", "Outdoor Run", "Yoga", "Traditional Strength Training"} else 1.0)
    for name in ACTIVITY_INTENSITY
}
PEAK_SPREAD_HOURS = 2.0

REFERENCE_BMI = 22.0
BPM_PER_BMI_UNIT = 0.8
"""Question 5: +0.8 bpm per BMI unit above 22, using the body measures valid at the reading."""

# Session shape (not an effect to recover, but documented for completeness).
SESSION_MINUTES = (10, 45)
READING_INTERVAL_SECONDS = 5
WARM_UP_SECONDS = 180.0
COOL_DOWN_SECONDS = 120.0


def season(latitude: float, month: int) -> str:
    """Meteorological season at a latitude in a month (hemisphere-aware)."""
    north = NORTH_SEASON_BY_MONTH[month]
    return north if latitude >= 0 else OPPOSITE_SEASON[north]


def max_heart_rate(age_years: float) -> float:
    return 208.0 - 0.7 * age_years


def local_solar_hour(utc_hour: int, longitude: float) -> int:
    return (utc_hour + round(longitude / 15.0)) % 24

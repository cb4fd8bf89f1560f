"""Heart-rate readings as workout sessions, in event-time order, deterministic for a seed.

A session is one user doing one activity for 10-45 minutes with a reading every
5 seconds. Heart rate warms up from the user's resting rate toward the
activity's intensity, holds with noise, cools down at the end, and never
exceeds the age-based maximum. Every effect is taken from `ground_truth`.
"""

from __future__ import annotations

import heapq
import math
import random
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from faker import Faker

from producer import ground_truth as truth
from producer.oltp import UserProfile
from producer.synthetic import Activity

Reading = tuple[str, int, int, int, int, float, float]
"""(event_id, user_id, heart_rate, timestamp, activity_id, latitude, longitude)"""

_MEAN_DAILY_ACTIVITY = sum(truth.DAILY_ACTIVITY) / len(truth.DAILY_ACTIVITY)
_MEAN_SESSION_READINGS = (sum(truth.SESSION_MINUTES) / 2 * 60) / truth.READING_INTERVAL_SECONDS


def sessions_per_hour_for_rate(events_per_second: float) -> float:
    """The session arrival rate that yields about `events_per_second` readings (live mode)."""
    return events_per_second * 3600 / _MEAN_SESSION_READINGS


@dataclass(frozen=True, slots=True)
class Session:
    start: int
    user: UserProfile
    activity: Activity
    latitude: float
    longitude: float
    minutes: float
    seed: int


def _event_id(bits: int) -> str:
    """A version-4 UUID string from 128 random bits (deterministic, unlike uuid4())."""
    h = f"{bits:032x}"
    return f"{h[:8]}-{h[8:12]}-4{h[13:16]}-{'89ab'[int(h[16], 16) & 3]}{h[17:20]}-{h[20:32]}"


def _circular_hours(a: float, b: float) -> float:
    d = abs(a - b) % 24
    return min(d, 24 - d)


def session_readings(session: Session, end: int) -> Iterator[Reading]:
    """The readings of one session with timestamps before `end`."""
    rng = random.Random(session.seed)
    user = session.user
    intensity = truth.ACTIVITY_INTENSITY[session.activity.activity_name]
    resting = truth.RESTING_BPM + random.Random(user.user_id).gauss(0.0, truth.RESTING_SD_BPM)
    hr_max = truth.max_heart_rate(user.age_years)
    month = datetime.fromtimestamp(session.start, tz=UTC).month
    shift = (truth.BPM_PER_BMI_UNIT * (user.bmi - truth.REFERENCE_BMI)
             + truth.SEASON_SHIFT_BPM[truth.season(session.latitude, month)]
             + (truth.FEMALE_MINUS_MALE_BPM[session.activity.activity_name] if user.sex == "F" else 0.0))
    reserve = intensity * (hr_max - resting)
    noise = truth.BLOOD_TYPE_NOISE_SD[user.blood_type]
    duration = session.minutes * 60
    cool_from = duration - truth.COOL_DOWN_SECONDS
    activity_id = session.activity.activity_id
    for offset in range(0, int(duration), truth.READING_INTERVAL_SECONDS):
        timestamp = session.start + offset
        if timestamp >= end:
            return
        effort = min(1.0, offset / truth.WARM_UP_SECONDS)
        if offset > cool_from:
            effort *= max(0.3, 1.0 - (offset - cool_from) / truth.COOL_DOWN_SECONDS)
        heart_rate = resting + shift + effort * reserve + rng.gauss(0.0, noise)
        yield (_event_id(rng.getrandbits(128)), user.user_id, round(min(heart_rate, hr_max)),
               timestamp, activity_id, session.latitude, session.longitude)


class ReadingGenerator:
    """Sessions for a population of users, and their readings merged in event-time order."""

    def __init__(self, users: Sequence[UserProfile], activities: Sequence[Activity], seed: int) -> None:
        if not users or not activities:
            raise ValueError("the reading generator needs at least one user and one activity")
        self.users = list(users)
        self.activities = {a.activity_name: a for a in activities}
        unknown = set(self.activities) - set(truth.ACTIVITY_INTENSITY)
        if unknown:
            raise ValueError(f"activities without ground-truth intensity: {sorted(unknown)}")
        self.seed = seed
        self.fake = Faker()
        self.fake.seed_instance(seed)

    def _pick_activity(self, rng: random.Random, local_hour: int) -> Activity:
        names = list(self.activities)
        weights = [
            truth.ACTIVITY_POPULARITY[name]
            * math.exp(-_circular_hours(local_hour, truth.ACTIVITY_PEAK_LOCAL_HOUR[name]) ** 2
                       / (2 * truth.PEAK_SPREAD_HOURS ** 2))
            for name in names
        ]
        return self.activities[rng.choices(names, weights=weights)[0]]

    def sessions(self, start: int, end: int, sessions_per_hour: float) -> Iterator[Session]:
        """Session starts in [start, end) in time order, thinned by the local time of day."""
        rng = random.Random(self.seed * 1_000_003 + start)
        candidate_rate = sessions_per_hour / 3600 / _MEAN_DAILY_ACTIVITY
        busy_until: dict[int, float] = {}  # nobody does two workouts at once
        t = float(start)
        while True:
            t += rng.expovariate(candidate_rate)
            if t >= end:
                return
            user = rng.choice(self.users)
            if busy_until.get(user.user_id, 0.0) > t:
                continue
            lat, lon = self._location(rng, user.country_code)
            local_hour = truth.local_solar_hour(int(t) // 3600 % 24, lon)
            if rng.random() >= truth.DAILY_ACTIVITY[local_hour]:
                continue
            minutes = rng.uniform(*truth.SESSION_MINUTES)
            busy_until[user.user_id] = t + minutes * 60
            yield Session(int(t), user, self._pick_activity(rng, local_hour), lat, lon, minutes, rng.getrandbits(63))

    def _location(self, rng: random.Random, country_code: str) -> tuple[float, float]:
        place = self.fake.local_latlng(country_code=country_code)
        if place is None:  # a country Faker has no places for: stay at the origin of that user
            return 0.0, 0.0
        return (round(float(place[0]) + rng.uniform(-0.02, 0.02), 6),
                round(float(place[1]) + rng.uniform(-0.02, 0.02), 6))

    def readings(self, start: int, end: int, sessions_per_hour: float) -> Iterator[Reading]:
        """All readings with timestamps in [start, end), in timestamp order."""
        heap: list[tuple[int, int, Reading, Iterator[Reading]]] = []
        upcoming = self.sessions(start, end, sessions_per_hour)
        next_session = next(upcoming, None)
        sequence = 0
        while heap or next_session is not None:
            # Open every session that starts before the earliest pending reading.
            while next_session is not None and (not heap or next_session.start <= heap[0][0]):
                stream = session_readings(next_session, end)
                first = next(stream, None)
                if first is not None:
                    heapq.heappush(heap, (first[3], sequence, first, stream))
                    sequence += 1
                next_session = next(upcoming, None)
            if not heap:
                continue
            _, order, reading, stream = heap[0]
            yield reading
            following = next(stream, None)
            if following is None:
                heapq.heappop(heap)
            else:
                heapq.heapreplace(heap, (following[3], order, following, stream))

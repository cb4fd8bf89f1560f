"""Heart-rate readings as workout sessions, in event-time order, deterministic for a seed.

A session is one user doing one activity for 10-45 minutes with a reading every
5 seconds. Heart rate warms up from the user's resting rate toward the
activity's intensity, holds with noise, cools down at the end, and never
exceeds the age-based maximum. Every effect is taken from `ground_truth`.

Readings are computed with numpy a session at a time and merged a minute of event
time at a time (a stable sort by timestamp, ties in session order): the producer
publishes ~2 million readings an hour at 100,000 users, and a reading built in
Python cost ~14 us against the ~5 us Kafka's client needs to send it.
"""

from __future__ import annotations

import math
import random
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

import numpy as np
from faker.providers.geo import Provider as GeoProvider

from include.contracts.heart_rate_event import encode_many, shared_fields
from producer import ground_truth as truth
from producer.oltp import UserProfile
from producer.synthetic import Activity

Reading = tuple[str, int, int, int, int, float, float]
"""(event_id, user_id, heart_rate, timestamp, activity_id, latitude, longitude)"""

MERGE_WINDOW_SECONDS = 60
"""Event time merged per batch: small enough for live mode, large enough for numpy to pay off."""

_MEAN_DAILY_ACTIVITY = sum(truth.DAILY_ACTIVITY) / len(truth.DAILY_ACTIVITY)
_MEAN_SESSION_READINGS = (sum(truth.SESSION_MINUTES) / 2 * 60) / truth.READING_INTERVAL_SECONDS
_HEX_DIGITS = np.frombuffer(b"0123456789abcdef", dtype=np.uint8)
_UUID_HEX_POSITIONS = np.array([i for i in range(36) if i not in (8, 13, 18, 23)])


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


def event_ids(random_bytes: np.ndarray) -> list[str]:
    """Version-4 UUID strings from rows of 16 random bytes (deterministic, unlike uuid4()), all in C but
    the final slicing."""
    octets = random_bytes.copy()
    octets[:, 6] = (octets[:, 6] & 0x0F) | 0x40  # version 4
    octets[:, 8] = (octets[:, 8] & 0x3F) | 0x80  # RFC 4122 variant
    text = np.full((len(octets), 36), ord("-"), dtype=np.uint8)
    digits = np.empty((len(octets), 32), dtype=np.uint8)
    digits[:, 0::2] = _HEX_DIGITS[octets >> 4]
    digits[:, 1::2] = _HEX_DIGITS[octets & 0x0F]
    text[:, _UUID_HEX_POSITIONS] = digits
    joined = text.tobytes().decode("ascii")
    return [joined[i:i + 36] for i in range(0, len(joined), 36)]


def _circular_hours(a: float, b: float) -> float:
    d = abs(a - b) % 24
    return min(d, 24 - d)


def session_heart_rates(session: Session, noise: np.ndarray) -> np.ndarray:
    """The heart rate of each of the session's readings (one per `READING_INTERVAL_SECONDS` from its start);
    `noise` holds one standard-normal draw per reading."""
    user = session.user
    intensity = truth.ACTIVITY_INTENSITY[session.activity.activity_name]
    resting = truth.RESTING_BPM + random.Random(user.user_id).gauss(0.0, truth.RESTING_SD_BPM)
    hr_max = truth.max_heart_rate(user.age_years)
    month = datetime.fromtimestamp(session.start, tz=UTC).month
    shift = (truth.BPM_PER_BMI_UNIT * (user.bmi - truth.REFERENCE_BMI)
             + truth.SEASON_SHIFT_BPM[truth.season(session.latitude, month)]
             + (truth.FEMALE_MINUS_MALE_BPM[session.activity.activity_name] if user.sex == "F" else 0.0))
    reserve = intensity * (hr_max - resting)
    duration = session.minutes * 60
    cool_from = duration - truth.COOL_DOWN_SECONDS
    offsets = np.arange(len(noise), dtype=np.float64) * truth.READING_INTERVAL_SECONDS
    effort = np.minimum(1.0, offsets / truth.WARM_UP_SECONDS)
    cooling = offsets > cool_from
    effort[cooling] *= np.maximum(0.3, 1.0 - (offsets[cooling] - cool_from) / truth.COOL_DOWN_SECONDS)
    heart_rate = resting + shift + effort * reserve + noise * truth.BLOOD_TYPE_NOISE_SD[user.blood_type]
    return np.rint(np.minimum(heart_rate, hr_max)).astype(np.int64)


@dataclass(slots=True)
class _OpenSession:
    """A session being merged: its heart rates, and how many of them are out already."""

    session: Session
    heart_rates: np.ndarray
    sent: int = 0

    def due_before(self, moment: int) -> int:
        """How many of its readings have timestamps before `moment`."""
        interval = truth.READING_INTERVAL_SECONDS
        return min(len(self.heart_rates), max(0, -(-(moment - self.session.start) // interval)))


@dataclass(frozen=True, slots=True)
class ReadingBatch:
    """Readings in event-time order as columns, with the sessions they belong to: what a session's readings
    share (user, activity, place) is formatted once for the whole session."""

    sessions: list[Session]
    owners: np.ndarray
    """Per reading, its session's index in `sessions`."""
    event_ids: list[str]
    heart_rates: np.ndarray
    timestamps: np.ndarray

    def __len__(self) -> int:
        return len(self.event_ids)

    def rows(self) -> list[Reading]:
        owners = self.owners
        sessions = self.sessions
        return list(zip(self.event_ids,
                        np.array([s.user.user_id for s in sessions], dtype=np.int64)[owners].tolist(),
                        self.heart_rates.tolist(), self.timestamps.tolist(),
                        np.array([s.activity.activity_id for s in sessions], dtype=np.int64)[owners].tolist(),
                        np.array([s.latitude for s in sessions])[owners].tolist(),
                        np.array([s.longitude for s in sessions])[owners].tolist(), strict=True))

    def typed_json(self) -> list[str]:
        """Each reading in the contract's typed form, exactly as `encode` writes it."""
        shared = [shared_fields(s.user.user_id, s.activity.activity_id, s.latitude, s.longitude)
                  for s in self.sessions]
        users = np.array([user for user, _ in shared], dtype=object)[self.owners]
        metas = np.array([meta for _, meta in shared], dtype=object)[self.owners]
        return encode_many(self.event_ids, self.heart_rates.tolist(), self.timestamps.tolist(), users, metas)

    def user_ids_text(self) -> list[str]:
        """Each reading's user id as text (the producer's Kafka key), formatted once a session."""
        return np.array([str(s.user.user_id) for s in self.sessions], dtype=object)[self.owners].tolist()


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
        self._places: dict[str, list[tuple[str, ...]]] = {}
        self._activity_weights: dict[int, list[float]] = {}

    def _pick_activity(self, rng: random.Random, local_hour: int) -> Activity:
        names = list(self.activities)
        weights = self._activity_weights.get(local_hour)
        if weights is None:
            weights = self._activity_weights[local_hour] = [
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
            yield Session(int(t), user, self._pick_activity(rng, local_hour), lat, lon, minutes)

    def _location(self, rng: random.Random, country_code: str) -> tuple[float, float]:
        places = self._places.get(country_code)
        if places is None:  # Faker's places on land in that country (its local_latlng filters them every call)
            places = self._places[country_code] = [p for p in GeoProvider.land_coords if p[3] == country_code]
        if not places:  # a country Faker has no places for: stay at the origin of that user
            return 0.0, 0.0
        place = places[rng.randrange(len(places))]
        return (round(float(place[0]) + rng.uniform(-0.02, 0.02), 6),
                round(float(place[1]) + rng.uniform(-0.02, 0.02), 6))

    def readings(self, start: int, end: int, sessions_per_hour: float) -> Iterator[Reading]:
        """All readings with timestamps in [start, end), in timestamp order."""
        for batch in self.batches(start, end, sessions_per_hour):
            yield from batch.rows()

    def batches(self, start: int, end: int, sessions_per_hour: float) -> Iterator[ReadingBatch]:
        """The readings of `readings()`, a minute of event time per batch (none empty).

        Ties in timestamp keep the order sessions started in. The random draws come from one generator per call,
        in that order, so the same arguments give the same readings."""
        draws = np.random.default_rng([self.seed, start])
        upcoming = self.sessions(start, end, sessions_per_hour)
        pending = next(upcoming, None)
        open_sessions: list[_OpenSession] = []
        window_end = start
        while pending is not None or open_sessions:
            window_end = min(window_end + MERGE_WINDOW_SECONDS, end)
            while pending is not None and pending.start < window_end:
                count = len(range(0, int(pending.minutes * 60), truth.READING_INTERVAL_SECONDS))
                open_sessions.append(_OpenSession(pending, session_heart_rates(pending, draws.standard_normal(count))))
                pending = next(upcoming, None)
            batch = _merge(open_sessions, window_end, draws)
            if batch is not None:
                yield batch
            open_sessions = [s for s in open_sessions if s.sent < s.due_before(end)]


def _merge(open_sessions: list[_OpenSession], before: int, draws: np.random.Generator) -> ReadingBatch | None:
    """The open sessions' readings due before `before`, in (timestamp, session) order; marks them sent."""
    interval = truth.READING_INTERVAL_SECONDS
    timestamps, heart_rates, owners = [], [], []
    for index, open_session in enumerate(open_sessions):
        due = open_session.due_before(before)
        if due <= open_session.sent:
            continue
        timestamps.append(open_session.session.start + np.arange(open_session.sent, due, dtype=np.int64) * interval)
        heart_rates.append(open_session.heart_rates[open_session.sent:due])
        owners.append(np.full(due - open_session.sent, index, dtype=np.int64))
        open_session.sent = due
    if not timestamps:
        return None
    all_timestamps = np.concatenate(timestamps)
    order = np.argsort(all_timestamps, kind="stable")
    random_bytes = np.frombuffer(draws.bytes(16 * len(order)), dtype=np.uint8).reshape(-1, 16)
    return ReadingBatch([s.session for s in open_sessions], np.concatenate(owners)[order], event_ids(random_bytes),
                        np.concatenate(heart_rates)[order], all_timestamps[order])

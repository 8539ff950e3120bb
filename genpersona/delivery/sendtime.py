"""Send-time optimization: each customer's best hour-of-week, and the ``send_at`` that follows.

Why this shape: people buy (and open mail) in habits tied to the week, not
just the day, so the unit is the hour-of-week (0 = Monday 00:00 local, 167 =
Sunday 23:00). A customer with two orders says little, so their histogram is
shrunk toward the brand's population histogram with ``prior_weight``
pseudo-orders; both are smoothed over a circular ±``window`` hours, because
the hit we care about ("within two hours") is a window, not a point. Times are
read in the customer's own zone (country -> IANA zone, ``data.locales``), so a
French customer's 09:00 is not sent at the London 09:00.

Pure functions on timestamps: the eval (evals/sendtime) and delivery share them.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import numpy as np
from pydantic import BaseModel, Field

HOURS_PER_WEEK = 168
DEFAULT_WINDOW = 2
DEFAULT_PRIOR_WEIGHT = 2.0


class SendTimeProfile(BaseModel):
    """A customer's predicted best hour-of-week and how much of it is their own history."""

    hour_of_week: int = Field(ge=0, lt=HOURS_PER_WEEK)
    orders: int = Field(ge=0, description="orders the prediction is built on")
    own_weight: float = Field(ge=0, le=1, description="share of the estimate from own history")
    timezone: str


def hour_of_week(ts: datetime, zone: ZoneInfo | None = None) -> int:
    """Hour-of-week of ``ts``; naive timestamps are taken as UTC when a zone is given."""
    if zone is not None:
        aware = ts if ts.tzinfo is not None else ts.replace(tzinfo=ZoneInfo("UTC"))
        ts = aware.astimezone(zone)
    return ts.weekday() * 24 + ts.hour


def circular_distance(a: int, b: int) -> int:
    d = abs(a - b) % HOURS_PER_WEEK
    return min(d, HOURS_PER_WEEK - d)


def histogram(hours: Iterable[int]) -> np.ndarray:
    counts = np.zeros(HOURS_PER_WEEK, dtype=np.float64)
    for h in hours:
        counts[h % HOURS_PER_WEEK] += 1.0
    return counts


def smooth(counts: np.ndarray, window: int = DEFAULT_WINDOW) -> np.ndarray:
    """Sum over a circular ±window: the mass a send at each hour would catch."""
    out = np.zeros_like(counts)
    for shift in range(-window, window + 1):
        out += np.roll(counts, shift)
    return out


def population_prior(all_hours: Iterable[int]) -> np.ndarray:
    """The brand's order-time distribution (shares summing to 1; uniform when empty)."""
    counts = histogram(all_hours)
    total = counts.sum()
    return counts / total if total else np.full(HOURS_PER_WEEK, 1.0 / HOURS_PER_WEEK)


def best_hour(
    own_hours: Sequence[int],
    prior: np.ndarray,
    *,
    prior_weight: float = DEFAULT_PRIOR_WEIGHT,
    window: int = DEFAULT_WINDOW,
) -> tuple[int, float]:
    """(hour-of-week, share of own history in the estimate)."""
    own = histogram(own_hours)
    n = float(own.sum())
    mass = own + prior_weight * prior
    # ties across a flat window go to the hour with the most mass itself, then the earlier one
    posterior = smooth(mass, window) + 1e-6 * mass
    return int(np.argmax(posterior)), (n / (n + prior_weight) if n + prior_weight else 0.0)


def profile_for(
    order_times: Sequence[datetime],
    prior: np.ndarray,
    timezone: str,
    *,
    prior_weight: float = DEFAULT_PRIOR_WEIGHT,
) -> SendTimeProfile:
    zone = ZoneInfo(timezone)
    hours = [hour_of_week(t, zone) for t in order_times]
    how, own = best_hour(hours, prior, prior_weight=prior_weight)
    return SendTimeProfile(hour_of_week=how, orders=len(hours), own_weight=own, timezone=timezone)


def next_send_at(profile: SendTimeProfile, after: datetime) -> datetime:
    """The first instant at or after ``after`` that is the profile's hour-of-week, in UTC.

    Computed in local wall time and converted back, so across a DST change the
    send still goes at the customer's local hour.
    """
    zone = ZoneInfo(profile.timezone)
    aware = after if after.tzinfo is not None else after.replace(tzinfo=ZoneInfo("UTC"))
    local = aware.astimezone(zone).replace(minute=0, second=0, microsecond=0)
    if local < aware.astimezone(zone):
        local += timedelta(hours=1)
    ahead = (profile.hour_of_week - (local.weekday() * 24 + local.hour)) % HOURS_PER_WEEK
    target = (local.replace(tzinfo=None) + timedelta(hours=ahead)).replace(tzinfo=zone)
    return target.astimezone(ZoneInfo("UTC"))


def clamp_to_window(send_at: datetime, timezone: str, start_hour: int, end_hour: int) -> datetime:
    """Move a send outside the local window [start_hour, end_hour) to the window's next start."""
    zone = ZoneInfo(timezone)
    local = send_at.astimezone(zone)
    if start_hour <= local.hour < end_hour:
        return send_at
    day = local.date() if local.hour < start_hour else local.date() + timedelta(days=1)
    moved = datetime(day.year, day.month, day.day, start_hour, tzinfo=zone)
    return moved.astimezone(ZoneInfo("UTC"))

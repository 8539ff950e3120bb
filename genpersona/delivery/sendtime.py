"""Send-time optimization: each customer's best hour-of-week, and the ``send_at`` that follows.

Why this shape: people buy (and open mail) in habits tied to the week, not
just the day, so the unit is the hour-of-week (0 = Monday 00:00 local, 167 =
Sunday 23:00). A customer with two orders says little, so their histogram is
shrunk toward the brand's population histogram with ``prior_weight``
pseudo-orders; both are smoothed over a circular ±``window`` hours, because
the hit we care about ("within two hours") is a window, not a point. Times are
read in the customer's own zone (country -> IANA zone, ``data.locales``), so a
French customer's 09:00 is not sent at the London 09:00.

Evidence and its weights (per event, in order-equivalents; ``EVIDENCE_WEIGHTS``):

- an order: 1.0 — the only evidence the eval can score (UCI has orders only);
- a human click on one of the brand's messages: 0.5 — a deliberate act at a time
  the customer reads the brand's mail, but its timing is partly caused by when we
  sent (people click soon after a message arrives), so it counts less than an order;
- a human open: 0.25 — the same send-time echo, stronger (most opens come in the
  first hours after delivery), and an open is a weaker act than a click.
  Opens by privacy proxies and scanners (``machine_open``) are not evidence: they
  happen at delivery time, not reading time.

Only the first open and the first click of each message count (re-opening one
email five times is one habit, not five), and the population prior stays built
from orders only: a brand's opens cluster behind its own batch sends, and a prior
made of them would pull every customer toward the hour the brand already sends.
These weights are chosen, not fitted: no data set here has opens and clicks
with times (``docs/guides/campaigns-automation.md``).

Pure functions on timestamps: the eval (evals/sendtime) and delivery share them.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

import numpy as np
from pydantic import BaseModel, Field

HOURS_PER_WEEK = 168
DEFAULT_WINDOW = 2
DEFAULT_PRIOR_WEIGHT = 2.0
#: local hours a message may go out in when the campaign's definition says nothing
DEFAULT_SEND_WINDOW = (time(8, 0), time(21, 0))
SendWindowTimes = tuple[time, time]
#: evidence weight per event, in orders (see the module docstring)
EVIDENCE_WEIGHTS: dict[str, float] = {"order": 1.0, "clicked": 0.5, "opened": 0.25}


class SendTimeProfile(BaseModel):
    """A customer's predicted best hour-of-week and how much of it is their own history."""

    hour_of_week: int = Field(ge=0, lt=HOURS_PER_WEEK)
    orders: int = Field(ge=0, description="orders the prediction is built on")
    engagements: int = Field(
        default=0, ge=0, description="human opens and clicks (first per message) used"
    )
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


def histogram(hours: Iterable[int], weights: Iterable[float] | None = None) -> np.ndarray:
    """Counts per hour-of-week; with ``weights``, each hour adds its weight instead of 1."""
    counts = np.zeros(HOURS_PER_WEEK, dtype=np.float64)
    if weights is None:
        for h in hours:
            counts[h % HOURS_PER_WEEK] += 1.0
        return counts
    for h, w in zip(hours, weights, strict=True):
        counts[h % HOURS_PER_WEEK] += float(w)
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


def allowed_hours(send_window: SendWindowTimes) -> np.ndarray:
    """Hours-of-week whose local hour overlaps the send window [start, end) on any day."""
    start, end = send_window
    lo, hi = start.hour * 60 + start.minute, end.hour * 60 + end.minute
    day = np.array([h * 60 < hi and (h + 1) * 60 > lo for h in range(24)])
    return np.tile(day, 7)


def best_hour(
    own_hours: Sequence[int],
    prior: np.ndarray,
    *,
    prior_weight: float = DEFAULT_PRIOR_WEIGHT,
    window: int = DEFAULT_WINDOW,
    allowed: np.ndarray | None = None,
    own_weights: Sequence[float] | None = None,
) -> tuple[int, float]:
    """(hour-of-week, share of own history in the estimate).

    ``own_weights`` (one per own hour, ``EVIDENCE_WEIGHTS``) let opens and clicks
    count less than orders; the shrinkage then uses the weighted total, so two opens
    (0.5 of an order) move a customer less than one order does.

    ``allowed`` (a send window, ``allowed_hours``) restricts the choice to hours a message
    may go out in: the best hour *inside* the window, not the best hour moved to the
    window's edge (a 22:00 buyer whose next-best habit is 19:00 gets 19:00, not 08:00)."""
    own = histogram(own_hours, own_weights)
    n = float(own.sum())
    mass = own + prior_weight * prior
    # ties across a flat window go to the hour with the most mass itself, then the earlier one
    posterior = smooth(mass, window) + 1e-6 * mass
    if allowed is not None and allowed.any():
        posterior = np.where(allowed, posterior, -np.inf)
    return int(np.argmax(posterior)), (n / (n + prior_weight) if n + prior_weight else 0.0)


def profile_for(
    order_times: Sequence[datetime],
    prior: np.ndarray,
    timezone: str,
    *,
    prior_weight: float = DEFAULT_PRIOR_WEIGHT,
    send_window: SendWindowTimes | None = None,
    engagement: Sequence[tuple[datetime, str]] = (),
) -> SendTimeProfile:
    """The customer's profile from their order times and ``engagement``: (time, outcome
    type) pairs of human opens and clicks, weighted by ``EVIDENCE_WEIGHTS``."""
    zone = ZoneInfo(timezone)
    hours = [hour_of_week(t, zone) for t in order_times]
    weights = [EVIDENCE_WEIGHTS["order"]] * len(hours)
    used = [(t, kind) for t, kind in engagement if kind in EVIDENCE_WEIGHTS and kind != "order"]
    hours += [hour_of_week(t, zone) for t, _kind in used]
    weights += [EVIDENCE_WEIGHTS[kind] for _t, kind in used]
    allowed = allowed_hours(send_window) if send_window is not None else None
    how, own = best_hour(
        hours, prior, prior_weight=prior_weight, allowed=allowed, own_weights=weights
    )
    return SendTimeProfile(
        hour_of_week=how,
        orders=len(order_times),
        engagements=len(used),
        own_weight=own,
        timezone=timezone,
    )


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


def clamp_to_window(send_at: datetime, timezone: str, start: time, end: time) -> datetime:
    """Move a send outside the local window [start, end) to the window's next start.

    With the hour chosen inside the window (``allowed_hours``) this only moves a send
    within its hour (a window opening at 08:30 sends the 08:00 slot at 08:30), or a
    send whose local hour a DST change shifted out of the window."""
    zone = ZoneInfo(timezone)
    local = send_at.astimezone(zone)
    wall = local.time().replace(tzinfo=None)
    if start <= wall < end:
        return send_at
    day = local.date() if wall < start else local.date() + timedelta(days=1)
    moved = datetime(day.year, day.month, day.day, start.hour, start.minute, tzinfo=zone)
    return moved.astimezone(ZoneInfo("UTC"))


def send_at_for(
    profile: SendTimeProfile, after: datetime, send_window: SendWindowTimes
) -> datetime:
    """The profile's next send instant (UTC), kept inside the local send window."""
    return clamp_to_window(next_send_at(profile, after), profile.timezone, *send_window)

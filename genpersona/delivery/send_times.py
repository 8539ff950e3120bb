"""``send_at`` per recipient: each customer's best hour-of-week from their stored orders.

Reads purchase events (one timestamp per order) and the customer's zone (the
stored ``timezone``, else country -> zone), builds the brand's population prior
once per call, and returns the next send instant at the customer's best hour
inside the send window. Event timestamps are stored in UTC.
"""

from __future__ import annotations

import threading
import time
from collections import defaultdict
from collections.abc import Sequence
from datetime import datetime
from zoneinfo import ZoneInfo

import numpy as np
from sqlalchemy import Engine, Select, func, select

from genpersona.data.locales import locale_for_country
from genpersona.data.tables import Brand, Customer, Event
from genpersona.db.base import utcnow
from genpersona.db.engine import get_engine, session_factory
from genpersona.delivery.eligibility import campaign_recipients
from genpersona.delivery.sendtime import (
    clamp_to_window,
    hour_of_week,
    next_send_at,
    population_prior,
    profile_for,
)
from genpersona.settings import Settings, get_settings

#: the brand's population prior changes slowly; rebuilding it per pull would scan all orders
PRIOR_TTL_S = 600.0
_PRIORS: dict[tuple[str, str], tuple[float, np.ndarray]] = {}
_PRIORS_LOCK = threading.Lock()


def _orders_stmt(brand: str) -> Select[str, str | None, str | None, datetime]:
    return (
        select(Customer.external_id, Customer.timezone, Customer.country, func.min(Event.ts))
        .join(Brand, Brand.id == Customer.brand_id)
        .join(Event, Event.customer_id == Customer.id)
        .where(Brand.slug == brand, Event.type == "purchase")
        .group_by(Customer.external_id, Customer.timezone, Customer.country, Event.order_id)
    )


def _zone(tz: str | None, country: str | None) -> str:
    return tz or locale_for_country(country).timezone or "UTC"


def brand_prior(engine: Engine, brand: str) -> np.ndarray:
    key = (str(engine.url), brand)
    now = time.monotonic()
    with _PRIORS_LOCK:
        hit = _PRIORS.get(key)
    if hit is not None and hit[0] > now:
        return hit[1]
    with engine.connect() as conn:
        hours = [
            hour_of_week(ts, ZoneInfo(_zone(tz, country)))
            for _ext, tz, country, ts in conn.execute(_orders_stmt(brand))
        ]
    prior = population_prior(hours)
    with _PRIORS_LOCK:
        _PRIORS[key] = (now + PRIOR_TTL_S, prior)
    return prior


def send_time_for(
    engine: Engine, brand: str, customer_id: str, after: datetime, window: tuple[int, int] = (8, 21)
) -> datetime | None:
    """One customer's send_at (the pull path): their orders plus the cached brand prior."""
    with engine.connect() as conn:
        zone_row = conn.execute(
            select(Customer.timezone, Customer.country)
            .join(Brand, Brand.id == Customer.brand_id)
            .where(Brand.slug == brand, Customer.external_id == customer_id)
        ).first()
        if zone_row is None:
            return None
        rows = conn.execute(_orders_stmt(brand).where(Customer.external_id == customer_id)).all()
    zone_name = _zone(zone_row[0], zone_row[1])
    profile = profile_for([r[3] for r in rows], brand_prior(engine, brand), zone_name)
    return clamp_to_window(next_send_at(profile, after), zone_name, *window)


def send_times(
    engine: Engine,
    brand: str,
    customer_ids: Sequence[str],
    after: datetime,
    *,
    window: tuple[int, int] = (8, 21),
) -> dict[str, datetime]:
    """{customer_id: send_at (UTC)} for the given customers of ``brand``."""
    wanted = set(customer_ids)
    order_ts = func.min(Event.ts)
    with engine.connect() as conn:
        rows = conn.execute(
            select(Customer.external_id, Customer.timezone, Customer.country, order_ts)
            .join(Brand, Brand.id == Customer.brand_id)
            .join(Event, Event.customer_id == Customer.id)
            .where(Brand.slug == brand, Event.type == "purchase")
            .group_by(Customer.external_id, Customer.timezone, Customer.country, Event.order_id)
        ).all()
        zones = {
            ext: tz or locale_for_country(country).timezone or "UTC"
            for ext, tz, country in conn.execute(
                select(Customer.external_id, Customer.timezone, Customer.country)
                .join(Brand, Brand.id == Customer.brand_id)
                .where(Brand.slug == brand)
            )
            if ext in wanted
        }
    orders: dict[str, list[datetime]] = defaultdict(list)
    population: list[int] = []
    for ext, tz, country, ts in rows:
        zone = ZoneInfo(tz or locale_for_country(country).timezone or "UTC")
        population.append(hour_of_week(ts, zone))
        if ext in wanted:
            orders[ext].append(ts)
    prior = population_prior(population)
    out: dict[str, datetime] = {}
    for ext in customer_ids:
        zone_name = zones.get(ext) or "UTC"
        profile = profile_for(orders.get(ext, []), prior, zone_name)
        out[ext] = clamp_to_window(next_send_at(profile, after), zone_name, *window)
    return out


def campaign_send_distribution(
    brand: str, campaign: str, settings: Settings | None = None, *, after: datetime | None = None
) -> list[dict[str, int]]:
    """Recipients per (local weekday, local hour) of their send_at, for the console's chart."""
    settings = settings or get_settings()
    engine = get_engine(settings)
    with session_factory(settings)() as session:
        recipients = [
            c for c, _d in campaign_recipients(session, brand, campaign, ("approved", "edited"))
        ]
    if not recipients:
        return []
    when = send_times(engine, brand, recipients, after or utcnow())
    with engine.connect() as conn:
        zones = {
            ext: _zone(tz, country)
            for ext, tz, country in conn.execute(
                select(Customer.external_id, Customer.timezone, Customer.country)
                .join(Brand, Brand.id == Customer.brand_id)
                .where(Brand.slug == brand, Customer.external_id.in_(recipients))
            )
        }
    counts: dict[tuple[int, int], int] = defaultdict(int)
    for ext, ts in when.items():
        local = ts.astimezone(ZoneInfo(zones.get(ext, "UTC")))
        counts[(local.weekday(), local.hour)] += 1
    return [{"weekday": d, "hour": h, "recipients": n} for (d, h), n in sorted(counts.items())]

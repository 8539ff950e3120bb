"""``send_at`` per recipient: each customer's best hour-of-week from their stored orders.

Reads purchase events (one timestamp per order) and the customer's zone (the
stored ``timezone``, else country -> zone), builds the brand's population prior
once per call, and returns the next send instant at the customer's best hour
inside the send window. Event timestamps are stored in UTC.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy import Engine, func, select

from genpersona.data.locales import locale_for_country
from genpersona.data.tables import Brand, Customer, Event
from genpersona.delivery.sendtime import (
    clamp_to_window,
    hour_of_week,
    next_send_at,
    population_prior,
    profile_for,
)


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

"""``send_at`` per recipient: each customer's best hour-of-week from their stored orders.

Reads purchase events (one timestamp per order), the customer's human opens and
clicks from the outcomes table (the first of each per message; machine opens are
left out; weights in ``delivery.sendtime.EVIDENCE_WEIGHTS``) and the customer's
zone (the stored ``timezone``, else country -> zone), builds the brand's population
prior from orders once per call, and returns the next send instant at the
customer's best hour inside the send window. Event and outcome timestamps are
stored in UTC.
"""

from __future__ import annotations

import threading
import time
from collections import defaultdict
from collections.abc import Sequence
from datetime import datetime
from zoneinfo import ZoneInfo

import numpy as np
from sqlalchemy import Engine, Select, func, or_, select

from genpersona.campaigns.definition_store import send_window_of
from genpersona.campaigns.tables import OutcomeRow
from genpersona.data.locales import locale_for_country
from genpersona.data.tables import Brand, Customer, Event
from genpersona.db.base import utcnow
from genpersona.db.engine import get_engine, session_factory
from genpersona.delivery.eligibility import campaign_recipients
from genpersona.delivery.sendtime import (
    DEFAULT_SEND_WINDOW,
    SendWindowTimes,
    hour_of_week,
    population_prior,
    profile_for,
    send_at_for,
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


#: outcome types that are send-time evidence (weights: ``sendtime.EVIDENCE_WEIGHTS``)
ENGAGEMENT_TYPES = ("opened", "clicked")


def _engagement_stmt(brand: str) -> Select[str | None, str, datetime]:
    """(customer, outcome type, first time) per message: one open and one click per
    exposure (or per campaign and draft for outcomes posted without an exposure),
    human opens only."""
    return (
        select(OutcomeRow.customer_id, OutcomeRow.type, func.min(OutcomeRow.ts))
        .where(
            OutcomeRow.brand == brand,
            OutcomeRow.customer_id.is_not(None),
            OutcomeRow.type.in_(ENGAGEMENT_TYPES),
            or_(OutcomeRow.machine_open.is_(None), OutcomeRow.machine_open.is_(False)),
        )
        .group_by(
            OutcomeRow.customer_id,
            OutcomeRow.type,
            OutcomeRow.exposure_id,
            OutcomeRow.campaign,
            OutcomeRow.draft_id,
        )
    )


def campaign_window(brand: str, campaign: str, settings: Settings) -> SendWindowTimes:
    """The campaign definition's send window (``<name>-<period>`` names included), else
    the default 08:00-21:00: ad-hoc campaigns have no definition."""
    return send_window_of(brand, campaign, settings) or DEFAULT_SEND_WINDOW


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
    engine: Engine,
    brand: str,
    customer_id: str,
    after: datetime,
    window: SendWindowTimes = DEFAULT_SEND_WINDOW,
) -> datetime | None:
    """One customer's send_at (the pull path): their orders plus the cached brand prior,
    at their best hour inside the campaign's send window (their local time)."""
    with engine.connect() as conn:
        zone_row = conn.execute(
            select(Customer.timezone, Customer.country)
            .join(Brand, Brand.id == Customer.brand_id)
            .where(Brand.slug == brand, Customer.external_id == customer_id)
        ).first()
        if zone_row is None:
            return None
        rows = conn.execute(_orders_stmt(brand).where(Customer.external_id == customer_id)).all()
        engaged = conn.execute(
            _engagement_stmt(brand).where(OutcomeRow.customer_id == customer_id)
        ).all()
    zone_name = _zone(zone_row[0], zone_row[1])
    profile = profile_for(
        [r[3] for r in rows],
        brand_prior(engine, brand),
        zone_name,
        send_window=window,
        engagement=[(ts, kind) for _c, kind, ts in engaged],
    )
    return send_at_for(profile, after, window)


def send_times(
    engine: Engine,
    brand: str,
    customer_ids: Sequence[str],
    after: datetime,
    *,
    window: SendWindowTimes = DEFAULT_SEND_WINDOW,
) -> dict[str, datetime]:
    """{customer_id: send_at (UTC)} for the given customers of ``brand``."""
    wanted = set(customer_ids)
    engagement: dict[str, list[tuple[datetime, str]]] = defaultdict(list)
    with engine.connect() as conn:
        rows = conn.execute(_orders_stmt(brand)).all()
        for ext, kind, ts in conn.execute(_engagement_stmt(brand)):
            if ext in wanted:
                engagement[ext].append((ts, kind))
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
        profile = profile_for(
            orders.get(ext, []),
            prior,
            zone_name,
            send_window=window,
            engagement=engagement.get(ext, []),
        )
        out[ext] = send_at_for(profile, after, window)
    return out


def campaign_send_distribution(
    brand: str,
    campaign: str,
    settings: Settings | None = None,
    *,
    after: datetime | None = None,
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
    window = campaign_window(brand, campaign, settings)
    when = send_times(engine, brand, recipients, after or utcnow(), window=window)
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

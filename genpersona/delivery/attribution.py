"""Purchases become ``converted`` outcomes of the exposures they follow.

A purchase at time t converts every exposure of that customer (any campaign,
any channel, holdout included: intent-to-treat compares both arms the same
way) created in [t - window, t], window = ``attribution_window_days``. One
outcome per (exposure, order) — per event when the order id is missing — keyed
in ``outcome_key``, so re-running after every ingest or API batch is safe.
Called from the interfaces after events are written (POST /v1/events, the
ingest command); the events write path in the data layer stays unaware of it.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from genpersona.campaigns.tables import OutcomeRow
from genpersona.data.tables import Brand, Customer, Event
from genpersona.db.base import utcnow
from genpersona.db.engine import session_scope
from genpersona.delivery.tables import ExposureRow
from genpersona.settings import Settings, get_settings

CHUNK = 500


def _key(event: Any, exposure_id: int) -> str:
    ref = f"order:{event.order_id}" if event.order_id else f"event:{event.id}"
    return f"purchase:{exposure_id}:{ref}"[:128]


def attribute_in(
    session: Session,
    brand: str,
    window: timedelta,
    customer_id: str | None = None,
) -> int:
    """Write the missing conversions for one brand (or one customer); returns how many."""
    query = select(
        ExposureRow.id,
        ExposureRow.campaign,
        ExposureRow.customer_id,
        ExposureRow.draft_id,
        ExposureRow.variant_index,
        ExposureRow.created_at,
    ).where(ExposureRow.brand == brand, ExposureRow.customer_id.is_not(None))
    if customer_id is not None:
        query = query.where(ExposureRow.customer_id == customer_id)
    exposures: dict[str, list[Any]] = {}
    for row in session.execute(query):
        exposures.setdefault(row.customer_id, []).append(row)
    if not exposures:
        return 0
    earliest = min(r.created_at for rows in exposures.values() for r in rows)
    candidates: dict[str, dict[str, Any]] = {}
    customers = list(exposures)
    for start in range(0, len(customers), CHUNK):
        for event in session.execute(
            select(Event.id, Event.ts, Event.order_id, Customer.external_id)
            .join(Customer, Customer.id == Event.customer_id)
            .join(Brand, Brand.id == Event.brand_id)
            .where(
                Brand.slug == brand,
                Event.type == "purchase",
                Event.ts >= earliest,
                Customer.external_id.in_(customers[start : start + CHUNK]),
            )
        ):
            for exp in exposures[event.external_id]:
                if exp.created_at <= event.ts <= exp.created_at + window:
                    key = _key(event, exp.id)
                    candidates.setdefault(key, _values(brand, exp, event.ts, key))
    if not candidates:
        return 0
    keys = list(candidates)
    stored: set[str] = set()
    for start in range(0, len(keys), CHUNK):
        stored.update(
            session.scalars(
                select(OutcomeRow.outcome_key).where(
                    OutcomeRow.outcome_key.in_(keys[start : start + CHUNK])
                )
            )
        )
    rows = [v for k, v in candidates.items() if k not in stored]
    if rows:
        session.execute(insert(OutcomeRow), rows)
    return len(rows)


def _values(brand: str, exposure: Any, ts: datetime, key: str) -> dict[str, Any]:
    return {
        "exposure_id": exposure.id,
        "draft_id": exposure.draft_id,
        "variant_index": exposure.variant_index,
        "type": "converted",
        "brand": brand,
        "campaign": exposure.campaign,
        "customer_id": exposure.customer_id,
        "ts": ts,
        "outcome_key": key,
        "provider": None,
        "event_key": None,
        "machine_open": False,
        "created_at": utcnow(),
    }


def attribute_purchases(
    brand: str, customer_id: str | None = None, settings: Settings | None = None
) -> int:
    """Conversions for purchases already stored; run after events are written."""
    settings = settings or get_settings()
    window = timedelta(days=settings.attribution_window_days)
    with session_scope(settings) as session:
        return attribute_in(session, brand, window, customer_id)

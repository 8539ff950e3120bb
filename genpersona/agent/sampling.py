"""Which real customers the demo and the eval draft for: a reproducible, varied sample."""

from __future__ import annotations

import random

from sqlalchemy import func, select

from genpersona.data.tables import Brand, Customer, CustomerProfile
from genpersona.db.engine import session_scope
from genpersona.settings import Settings


def customer_count(brand: str, settings: Settings) -> int:
    with session_scope(settings) as session:
        return int(
            session.execute(
                select(func.count(Customer.id))
                .join(Brand, Brand.id == Customer.brand_id)
                .where(Brand.slug == brand)
            ).scalar()
            or 0
        )


def sample_customers(
    brand: str, n: int, settings: Settings, *, min_orders: int = 3, seed: int = 7
) -> list[str]:
    """Consenting customers with a profile and some history, sampled with a fixed seed."""

    with session_scope(settings) as session:
        ids = list(
            session.scalars(
                select(Customer.external_id)
                .join(Brand, Brand.id == Customer.brand_id)
                .join(CustomerProfile, CustomerProfile.customer_id == Customer.id)
                .where(
                    Brand.slug == brand,
                    Customer.consent_personalization.is_(True),
                    CustomerProfile.frequency >= min_orders,
                )
                .order_by(Customer.external_id)
            )
        )
    rng = random.Random(seed)
    return sorted(rng.sample(ids, min(n, len(ids))))

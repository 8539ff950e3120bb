"""A small seeded brand for the campaign tests: customers with profiles, built in SQL."""

from __future__ import annotations

from datetime import datetime

from genpersona.data.tables import Brand, Customer, CustomerProfile
from genpersona.db.engine import session_scope
from genpersona.settings import Settings

#: external id -> (country, favourite themes, recency days, frequency, monetary, email consent)
CUSTOMERS: dict[str, tuple[str, list[str], int, int, float, bool]] = {
    "c1": ("United Kingdom", ["christmas", "kitchen"], 10, 12, 900.0, True),
    "c2": ("United Kingdom", ["christmas"], 40, 3, 300.0, False),
    "c3": ("United Kingdom", ["garden"], 5, 8, 500.0, True),
    "c4": ("France", ["christmas"], 20, 6, 700.0, True),
    "c5": ("United Kingdom", ["Christmas", "vintage"], 200, 1, 50.0, True),
}


def seed_brand(settings: Settings | None = None, slug: str = "giftloft") -> None:
    now = datetime(2011, 12, 9)
    with session_scope(settings) as session:
        brand = Brand(slug=slug, name=slug.title())
        session.add(brand)
        session.flush()
        for ext, (country, themes, recency, freq, money, email) in CUSTOMERS.items():
            customer = Customer(
                brand_id=brand.id,
                external_id=ext,
                country=country,
                consent_personalization=True,
                consent_email=email,
                consent_chat_memory=False,
            )
            session.add(customer)
            session.flush()
            session.add(
                CustomerProfile(
                    customer_id=customer.id,
                    brand_id=brand.id,
                    as_of=now,
                    recency_days=recency,
                    frequency=freq,
                    monetary=money,
                    favourite_themes=themes,
                )
            )

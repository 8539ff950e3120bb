"""The rows ``context_for`` reads, for a whole batch of customers in two queries.

A campaign builds context for a batch of customers at once (64 by default). One by one,
that is two queries per customer (the customer with their profile, their memory facts),
from 64 threads at once; on PostgreSQL each is a socket round trip with its own pool
checkout, and the context stage cost ~3 ms of CPU per draft against ~1 ms on SQLite
(docs/guides/campaign-throughput.md). Read ahead, the batch costs two queries. The
columns are the single-customer statements' own (``CUSTOMER_COLUMNS``, ``FACT_COLUMNS``),
so ``context_for`` builds the same bundle from either.

What is read ahead is what the batch's context stage will read a few hundred
milliseconds later anyway; a customer missing from the rows (not found, or not in the
batch) falls back to the one-customer queries, which raise the usual errors.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import bindparam, select

from genpersona.data.tables import Customer, CustomerProfile, MemoryFact
from genpersona.db.engine import get_engine
from genpersona.settings import Settings

CUSTOMER_COLUMNS = (
    Customer.id,
    Customer.external_id,
    Customer.country,
    Customer.locale,
    Customer.timezone,
    Customer.consent_personalization,
    Customer.consent_email,
    Customer.consent_chat_memory,
    Customer.learning_since,
    CustomerProfile.customer_id.label("profile_id"),
    CustomerProfile.recency_days,
    CustomerProfile.frequency,
    CustomerProfile.monetary,
    CustomerProfile.favourite_themes,
    CustomerProfile.typical_order_weekday,
    CustomerProfile.typical_order_hour,
    CustomerProfile.price_band,
)
FACT_COLUMNS = (
    MemoryFact.id,
    MemoryFact.text,
    MemoryFact.kind,
    MemoryFact.source,
    MemoryFact.knowingly_shared,
    MemoryFact.provenance,
    MemoryFact.expires_at,
)

_CUSTOMERS_SQL = (
    select(*CUSTOMER_COLUMNS)
    .outerjoin(CustomerProfile, CustomerProfile.customer_id == Customer.id)
    .where(
        Customer.brand_id == bindparam("brand_id"),
        Customer.external_id.in_(bindparam("external_ids", expanding=True)),
    )
)
_FACTS_SQL = (
    select(MemoryFact.customer_id.label("owner_id"), *FACT_COLUMNS)
    .where(MemoryFact.customer_id.in_(bindparam("owner_ids", expanding=True)))
    .order_by(MemoryFact.id)
)


@dataclass(frozen=True)
class CustomerRows:
    """One batch's customer rows (by external id) and fact rows (by customer row id),
    valid for the database and brand they were read from."""

    database: str
    brand_id: int
    customers: dict[str, Any] = field(default_factory=dict)
    facts: dict[int, list[Any]] = field(default_factory=dict)

    def row(self, brand_id: int, customer_id: str, settings: Settings) -> Any | None:
        """The customer's row, or None when it was not read ahead here."""
        if brand_id != self.brand_id or settings.sqlalchemy_url != self.database:
            return None
        return self.customers.get(customer_id)

    def facts_of(self, row: Any) -> list[Any]:
        return self.facts.get(row.id, [])


def read_customers(brand_id: int, customer_ids: Sequence[str], settings: Settings) -> CustomerRows:
    """The rows of ``customer_ids`` (unknown ids are simply absent), in two queries."""
    ids = sorted(set(customer_ids))
    rows = CustomerRows(database=settings.sqlalchemy_url, brand_id=brand_id)
    if not ids:
        return rows
    with get_engine(settings).connect() as conn:
        found = conn.execute(_CUSTOMERS_SQL, {"brand_id": brand_id, "external_ids": ids}).all()
        rows.customers.update((r.external_id, r) for r in found)
        owners = [r.id for r in found]
        if owners:
            for f in conn.execute(_FACTS_SQL, {"owner_ids": owners}).all():
                rows.facts.setdefault(f.owner_id, []).append(f)
    return rows

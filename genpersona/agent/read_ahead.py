"""Read ahead for a batch of drafts: what the context and scoring stages would otherwise
query once per customer (the customer and profile, memory facts, past drafts), in three
queries for the whole batch.

Why: the throughput path runs these stages for 64 customers at once on a thread pool;
one by one that is three small queries per customer, and on PostgreSQL each is a round
trip with its own pool checkout. The single-request path (the API) keeps its
per-customer reads: it has one customer. The stages read the same rows either way, so
the drafts are the same (``tests/test_read_ahead.py``).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from genpersona.agent.lookups import past_texts_many
from genpersona.context.prefetch import CustomerRows
from genpersona.context.retrieval import read_customer_rows
from genpersona.settings import Settings


@dataclass(frozen=True)
class ReadAhead:
    """One batch's rows: for ``context_for`` (``rows``) and scoring's novelty baseline
    (``past``: customer id -> texts already drafted for them, for this kind)."""

    rows: CustomerRows
    past: dict[str, list[str]] = field(default_factory=dict)

    def past_of(self, customer_id: str) -> list[str] | None:
        """The customer's past texts, or None when they were not read ahead here."""
        return self.past.get(customer_id)


def read_ahead(brand: str, kind: str, customer_ids: list[str], settings: Settings) -> ReadAhead:
    return ReadAhead(
        rows=read_customer_rows(brand, customer_ids, settings),
        past=past_texts_many(brand, customer_ids, kind, settings),
    )

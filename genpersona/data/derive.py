"""Everything derived from a brand's events: profiles, behaviour facts and their vectors.

Shared by both ingests and by ``recompute_customer`` so there is one
definition of a profile and of a memory fact. SQL writes happen in the
caller's transaction; vector writes happen after it commits (``apply``), so a
failed ingest leaves no vectors pointing at rows that were rolled back.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import numpy as np
from sqlalchemy import select
from sqlalchemy.orm import Session

from genpersona.data.catalog import theme_labels
from genpersona.data.memory_store import (
    embed_texts,
    index_facts,
    mark_indexed,
    replace_behaviour_facts,
)
from genpersona.data.memory_wording import derive_behaviour_facts
from genpersona.data.profiles import compute_profiles, item_context, load_events, write_profiles
from genpersona.data.repo import brand_latest_event
from genpersona.data.tables import Brand, CatalogItem, Customer
from genpersona.db.base import utcnow
from genpersona.embeddings.base import Embedder
from genpersona.vectors.base import MEMORY, VectorStore


@dataclass
class PendingVectors:
    """Fact vectors to write once the SQL transaction has committed."""

    brand_slug: str
    fact_ids: list[int] = field(default_factory=list)
    customer_ids: list[str] = field(default_factory=list)
    vectors: np.ndarray | None = None
    stale_ids: list[str] = field(default_factory=list)

    def apply(self, session_factory, store: VectorStore) -> None:
        if self.stale_ids:
            store.delete(MEMORY, ids=self.stale_ids)
        if self.fact_ids and self.vectors is not None:
            index_facts(store, self.brand_slug, self.fact_ids, self.vectors)
            with session_factory() as session, session.begin():
                mark_indexed(session, self.fact_ids)


@dataclass
class DeriveStats:
    profiles: int = 0
    facts: int = 0
    new_facts: int = 0
    #: wall seconds of profile building, fact wording + storage, and fact embedding: the ingest
    #: report shows them apart from the event load so each stage's rate is visible
    seconds: dict[str, float] = field(default_factory=dict)


def derive(
    session: Session,
    brand: Brand,
    embedder: Embedder,
    *,
    customer_ids: list[int] | None = None,
    progress=None,
) -> tuple[DeriveStats, PendingVectors]:
    """Recompute profiles and behaviour facts of a brand (or of some customers)."""
    clock = [time.perf_counter()]
    seconds: dict[str, float] = {}

    def lap(name: str) -> None:
        now = time.perf_counter()
        seconds[name] = round(now - clock[0], 2)
        clock[0] = now

    events = load_events(session, brand.id, customer_ids)
    themes, edges = item_context(session, brand.id)
    as_of = brand_latest_event(session, brand) or utcnow()
    profiles = compute_profiles(events, themes, edges, as_of)
    n_profiles = write_profiles(session, brand.id, profiles, customer_ids)
    lap("profiles")
    descriptions = dict(
        session.execute(
            select(CatalogItem.stock_code, CatalogItem.description).where(
                CatalogItem.brand_id == brand.id, CatalogItem.is_product.is_(True)
            )
        ).all()
    )
    labels = theme_labels(session, brand.id)
    facts = derive_behaviour_facts(events, profiles, descriptions, themes, edges, labels)
    new_ids, positions, stale = replace_behaviour_facts(session, brand.id, facts, customer_ids)
    new_facts = [facts[p] for p in positions]
    texts = [f["text"] for f in new_facts]
    lap("facts")
    vectors = embed_texts(embedder, texts, progress) if texts else None
    lap("embed_facts")
    external = dict(
        session.execute(
            select(Customer.id, Customer.external_id).where(Customer.brand_id == brand.id)
        ).all()
    )
    pending = PendingVectors(
        brand_slug=brand.slug,
        fact_ids=new_ids,
        customer_ids=[external[f["customer_id"]] for f in new_facts],
        vectors=vectors,
        stale_ids=stale,
    )
    stats = DeriveStats(
        profiles=n_profiles, facts=len(facts), new_facts=len(new_facts), seconds=seconds
    )
    return stats, pending

"""``context_for``: everything the agent may know about one customer for one brief.

One call returns consent, profile, the memory facts most relevant to the brief
and recommended items, each with its evidence. It is on the path of every
generation request, so it is built for speed:

- the customer's memory vectors are fetched by id (``mem:{fact_id}``, ids
  known from SQL) and ranked with one numpy dot product; filtering a big shared
  collection by customer (``where={"customer_id": ...}``) is ~100x slower at
  100k vectors and is kept only as ``memory_strategy="filtered"`` for the bench;
- brief embeddings come from the process's one text -> vector cache
  (``get_caching_embedder``: campaign briefs repeat across thousands of
  customers), a brand's id is cached (it never changes), theme labels are the
  taxonomy's own, and the fitted recommender is loaded once per process (and
  reloaded when a re-ingest refits it).

Without personalization consent (opt-out) the bundle carries nothing personal:
no profile, no memories, and only popular/seasonal items chosen from the
request's anonymous context, never from the customer's own country or history.
"""

from __future__ import annotations

import threading
import time
from datetime import datetime
from typing import Any, Literal

import numpy as np
from sqlalchemy import bindparam, func, select
from sqlalchemy.orm import Session

from genpersona.context.fact_vectors import FACT_VECTORS
from genpersona.context.models import (
    ContextBundle,
    Evidence,
    MemoryFactView,
    ProfileSummary,
    RecommendedItem,
)
from genpersona.context.prefetch import (
    CUSTOMER_COLUMNS,
    FACT_COLUMNS,
    CustomerRows,
    read_customers,
)
from genpersona.data.repo import get_brand, memory_vector_id
from genpersona.data.tables import Customer, CustomerProfile, MemoryFact
from genpersona.data.themes import LABELS
from genpersona.db.engine import get_engine
from genpersona.db.fast_read import FAST_READER
from genpersona.embeddings.factory import clear_cached_vectors, get_caching_embedder
from genpersona.errors import CustomerNotFound, InputError
from genpersona.recs.store import LoadedRecommender, get_recommender
from genpersona.settings import Settings, get_settings
from genpersona.types.audience import AnonymousContext, Consent
from genpersona.vectors.base import MEMORY
from genpersona.vectors.factory import get_vector_store

MemoryStrategy = Literal["by_id", "filtered"]
#: a Core row or a fast-path named tuple: both give ``row.column``
RowLike = Any
#: (database, brand slug) -> brand id; brands are never deleted or renumbered, so a
#: re-ingest cannot make an entry stale
_brand_ids: dict[tuple[str, str], int] = {}
_LOCK = threading.Lock()


def embed_brief(brief: str, settings: Settings) -> np.ndarray:
    return get_caching_embedder(settings=settings).embed_one(brief)


def clear_context_caches() -> None:
    with _LOCK:
        _brand_ids.clear()
    FACT_VECTORS.clear()
    clear_cached_vectors()


_CUSTOMER_SQL = (
    select(*CUSTOMER_COLUMNS)
    .outerjoin(CustomerProfile, CustomerProfile.customer_id == Customer.id)
    .where(
        Customer.brand_id == bindparam("brand_id"),
        Customer.external_id == bindparam("external_id"),
    )
)
_FACTS_SQL = select(*FACT_COLUMNS).where(MemoryFact.customer_id == bindparam("customer_id"))


def read_customer_rows(brand: str, customer_ids: list[str], settings: Settings) -> CustomerRows:
    """What ``context_for`` will read for these customers, in two queries (``prefetch``)."""
    return read_customers(_brand_id(brand, settings), customer_ids, settings)


def _brand_id(slug: str, settings: Settings) -> int:
    key = (settings.sqlalchemy_url, slug)
    with _LOCK:
        hit = _brand_ids.get(key)
    if hit is not None:
        return hit
    with Session(bind=get_engine(settings)) as session:
        brand_id = get_brand(session, slug).id
    with _LOCK:
        _brand_ids[key] = brand_id
    return brand_id


def _recommend(
    loaded: LoadedRecommender | None,
    customer_id: str | None,
    k: int,
    *,
    country: str | None,
    when: datetime | None,
) -> list[RecommendedItem]:
    if k <= 0 or loaded is None:
        return []
    if customer_id is not None and when is None and loaded.served is not None:
        served = loaded.served.lookup(loaded.model, customer_id, k, country)
        if served is not None:
            return served
    return loaded.model.recommended_items(customer_id, k, country=country, when=when)


def _non_personal(
    brand: str,
    customer_id: str | None,
    brief: str,
    consent: Consent,
    anonymous: AnonymousContext | None,
    k_items: int,
    settings: Settings,
) -> ContextBundle:
    recs = _recommend(
        get_recommender(brand, settings),
        None,
        k_items,
        country=anonymous.country if anonymous else None,
        when=anonymous.local_time if anonymous else None,
    )
    return ContextBundle(
        brand=brand,
        customer_id=customer_id,
        brief=brief,
        personalized=False,
        consent=consent,
        recommendations=recs,
        anonymous=anonymous,
    )


def _fact_namespace(settings: Settings) -> str:
    return f"{settings.chroma_url or settings.chroma_path}|{settings.embedder}"


def warm_fact_vectors(brand_id: int, settings: Settings) -> int:
    """Load the vectors of the brand's most common fact texts (once per process and brand).

    Per-customer facts are mostly templated ("Orders mostly in November"), so a few
    thousand texts cover most requests, which then skip the vector store entirely.
    """

    def common(limit: int) -> list[tuple[str, str]]:
        with get_engine(settings).connect() as conn:
            rows = conn.execute(
                select(func.min(MemoryFact.id), MemoryFact.text)
                .where(MemoryFact.brand_id == brand_id)
                .group_by(MemoryFact.text)
                .order_by(func.count().desc(), func.min(MemoryFact.id))
                .limit(limit)
            ).all()
        return [(memory_vector_id(fact_id), text) for fact_id, text in rows]

    if settings.context_warm_facts <= 0:
        return 0
    return FACT_VECTORS.warm(
        get_vector_store(settings),
        _fact_namespace(settings),
        (settings.sqlalchemy_url, _fact_namespace(settings), brand_id),
        common,
        settings.context_warm_facts,
    )


def warm_context(brand: str, settings: Settings | None = None) -> dict[str, float]:
    """What a long-running process (API server, campaign job, eval) does once per brand before
    its first request: brand lookups, the recommender, and the common fact vectors."""
    settings = settings or get_settings()
    t0 = time.perf_counter()
    brand_id = _brand_id(brand, settings)
    loaded = warm_fact_vectors(brand_id, settings)
    get_recommender(brand, settings)
    return {"fact_vectors": loaded, "ms": round((time.perf_counter() - t0) * 1000, 1)}


def _rank_by_id(
    facts: list[RowLike], query: np.ndarray, brand_id: int, settings: Settings
) -> dict[int, float]:
    warm_fact_vectors(brand_id, settings)
    positions, vectors = FACT_VECTORS.vectors(
        get_vector_store(settings),
        _fact_namespace(settings),
        [memory_vector_id(f.id) for f in facts],
        [f.text for f in facts],
    )
    if not positions or vectors.shape[1] != query.shape[0]:
        return {}
    scores = vectors @ query
    return {facts[p].id: float(sc) for p, sc in zip(positions, scores, strict=True)}


def _rank_filtered(
    brand: str, customer_id: str, query: np.ndarray, k: int, settings: Settings
) -> dict[int, float]:
    """The naive design, for comparison only: a filtered search of the shared collection.

    The filter is the customer's vector ids from SQL: vector metadata names no customer
    (an erased customer's id would outlive the delete in Chroma's files)."""
    with get_engine(settings).connect() as conn:
        fact_ids = conn.scalars(
            select(MemoryFact.id)
            .join(Customer, Customer.id == MemoryFact.customer_id)
            .where(Customer.brand_id == _brand_id(brand, settings))
            .where(Customer.external_id == customer_id)
        ).all()
    hits = get_vector_store(settings).query(
        MEMORY, query, k=k, where={"brand": brand}, ids=[memory_vector_id(i) for i in fact_ids]
    )
    return {int(h.id.split(":", 1)[1]): h.score for h in hits}


def context_for(
    brand: str,
    customer_id: str | None,
    brief: str,
    *,
    k_memories: int = 5,
    k_items: int = 6,
    anonymous: AnonymousContext | None = None,
    settings: Settings | None = None,
    memory_strategy: MemoryStrategy = "by_id",
    prefetched: CustomerRows | None = None,
) -> ContextBundle:
    """Profile, consent, the top-k memories for ``brief`` and recommended items, with evidence.

    ``prefetched``: the batch's rows read ahead (``read_customer_rows``); a customer among them is
    not queried again."""
    settings = settings or get_settings()
    if k_memories < 0 or k_items < 0:
        raise InputError(
            f"k_memories and k_items must be >= 0 (got {k_memories}, {k_items})",
            fix="ask for zero or more memories and items",
        )
    # prebuilt Core statements on the read fast path: this runs on every request, and
    # nothing here is written
    engine = get_engine(settings)
    brand_id = _brand_id(brand, settings)
    if customer_id is None:
        return _non_personal(brand, None, brief, Consent(), anonymous, k_items, settings)
    ahead = prefetched.row(brand_id, customer_id, settings) if prefetched else None
    row = ahead or FAST_READER.first(
        engine, _CUSTOMER_SQL, {"brand_id": brand_id, "external_id": customer_id}
    )
    if row is None:
        raise CustomerNotFound(
            f"customer {customer_id!r} does not exist for brand {brand!r}",
            fix="check the id, or call context_for with customer_id=None and an "
            "AnonymousContext for visitors without a profile",
            brand=brand,
            customer_id=customer_id,
        )
    consent = Consent(
        personalization=row.consent_personalization,
        email=row.consent_email,
        chat_memory=row.consent_chat_memory,
    )
    if not consent.personalization:
        return _non_personal(brand, customer_id, brief, consent, anonymous, k_items, settings)
    now = datetime.now()
    stored = (
        prefetched.facts_of(row)
        if prefetched and ahead
        else FAST_READER.all(engine, _FACTS_SQL, {"customer_id": row.id})
    )
    facts = [
        f
        for f in stored
        if (f.expires_at is None or f.expires_at > now)
        and (consent.chat_memory or f.source != "chat")
    ]

    summary = _summary(row, LABELS)
    memories: list[MemoryFactView] = []
    if facts and k_memories:
        query = embed_brief(brief, settings)
        if memory_strategy == "filtered":
            scores = _rank_filtered(
                brand, customer_id, query, max(k_memories, len(facts)), settings
            )
        else:
            scores = _rank_by_id(facts, query, brand_id, settings)
        ranked = sorted(facts, key=lambda f: (-scores.get(f.id, -2.0), f.id))[:k_memories]
        memories = [_view(f, scores.get(f.id, 0.0)) for f in ranked]
    # after a reset, a model fitted before it still knows the old history: don't use it
    loaded = get_recommender(brand, settings)
    personal_recs = loaded is not None and (
        row.learning_since is None or loaded.fitted_at >= row.learning_since
    )
    recs = _recommend(
        loaded,
        customer_id if personal_recs else None,
        k_items,
        country=row.country if personal_recs else (anonymous.country if anonymous else None),
        when=anonymous.local_time if anonymous else None,
    )
    return ContextBundle(
        brand=brand,
        customer_id=customer_id,
        brief=brief,
        personalized=True,
        consent=consent,
        profile=summary,
        memories=memories,
        recommendations=recs,
        anonymous=anonymous,
    )


def _summary(row: RowLike, labels: dict[str, str]) -> ProfileSummary:
    base = ProfileSummary(
        customer_id=row.external_id,
        country=row.country,
        locale=row.locale,
        timezone=row.timezone,
    )
    if row.profile_id is None:
        return base
    band = row.price_band if row.price_band in ("budget", "mid", "premium") else None
    return base.model_copy(
        update={
            "recency_days": row.recency_days,
            "frequency": row.frequency,
            "monetary": row.monetary,
            "favourite_themes": [labels.get(t, t) for t in row.favourite_themes or []],
            "typical_order_weekday": row.typical_order_weekday,
            "typical_order_hour": row.typical_order_hour,
            "price_band": band,
        }
    )


def _view(fact: RowLike, score: float) -> MemoryFactView:
    prov = fact.provenance or {}
    return MemoryFactView(
        fact_id=fact.id,
        text=fact.text,
        source=fact.source,
        score=round(score, 4),
        knowingly_shared=fact.knowingly_shared,
        evidence=Evidence(
            source=f"{fact.source}:{fact.kind}",
            event_ids=list(prov.get("event_ids", [])),
            stock_codes=list(prov.get("stock_codes", [])),
            note=str(prov.get("note", "")),
        ),
    )

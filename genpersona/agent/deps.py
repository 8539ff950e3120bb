"""The pipeline's collaborators, gathered in one replaceable object.

The agent calls into many other concepts (context, guardrails, review queue,
catalog, vector store). Passing them as one ``AgentDeps`` keeps every stage a
plain function of its inputs — tests swap any collaborator for a fake without
monkeypatching — and lets the defaults import the real modules lazily, so
importing the agent stays cheap.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cache
from typing import Any

from sqlalchemy import Select, bindparam, select

from genpersona.agent.models import Draft, FeaturedItem
from genpersona.brands.guide import BrandGuide
from genpersona.context.models import AnonymousContext, ContextBundle
from genpersona.embeddings.base import Embedder
from genpersona.llm.base import LLM
from genpersona.settings import Settings, get_settings
from genpersona.vectors.base import VectorStore

ContextFn = Callable[..., ContextBundle]
ExemplarFn = Callable[[str, str, str, int, "AgentDeps"], list[Any]]


def _context_for(
    brand: str,
    customer_id: str | None,
    brief: str,
    *,
    anonymous: AnonymousContext | None,
    settings: Settings,
) -> ContextBundle:
    from genpersona.context.retrieval import context_for

    return context_for(brand, customer_id, brief, anonymous=anonymous, settings=settings)


def _similar_exemplars(brand: str, kind: str, text: str, k: int, deps: AgentDeps) -> list[Any]:
    from genpersona.review.exemplars import similar_exemplars

    return similar_exemplars(
        brand, kind, text, k=k, settings=deps.settings, store=deps.store, embedder=deps.embedder
    )


def _submit(draft: Draft, settings: Settings) -> Draft:
    from genpersona.review.queue import submit_draft

    return submit_draft(draft, settings=settings)


#: up to this many codes, the lookup uses a statement with that many fixed placeholders
#: (read fast path); longer lists (eval checks) use one expanding IN on the Core path
_FIXED_ARITY = 16


def catalog_items(
    brand: str, stock_codes: list[str], settings: Settings
) -> dict[str, FeaturedItem]:
    """The catalog rows that exist for these codes: the proof that a featured item is real."""
    if not stock_codes:
        return {}
    from genpersona.db.engine import get_engine
    from genpersona.db.fast_read import FAST_READER

    codes = list(dict.fromkeys(stock_codes))
    n = len(codes) if len(codes) <= _FIXED_ARITY else 0
    params: dict[str, object] = {"brand": brand}
    params.update({f"code{i}": c for i, c in enumerate(codes)} if n else {"codes": codes})
    rows = FAST_READER.all(get_engine(settings), _catalog_sql(n), params)
    return {
        code: FeaturedItem(stock_code=code, description=desc, price=price)
        for code, desc, price in rows
    }


@cache
def _catalog_sql(arity: int) -> Select:
    """Built once per arity (0 = one expanding parameter ``codes``)."""
    from genpersona.data.tables import Brand, CatalogItem

    codes = (
        CatalogItem.stock_code.in_([bindparam(f"code{i}") for i in range(arity)])
        if arity
        else CatalogItem.stock_code.in_(bindparam("codes", expanding=True))
    )
    return (
        select(CatalogItem.stock_code, CatalogItem.description, CatalogItem.price)
        .join(Brand, Brand.id == CatalogItem.brand_id)
        .where(Brand.slug == bindparam("brand"), codes)
    )


def past_texts(
    brand: str, customer_id: str, kind: str, settings: Settings, limit: int = 50
) -> list[str]:
    """Top texts already drafted for this customer (the novelty baseline)."""
    from genpersona.db.engine import get_engine
    from genpersona.db.fast_read import FAST_READER

    params = {"brand": brand, "customer_id": customer_id, "kind": kind, "limit": limit}
    rows = FAST_READER.all(get_engine(settings), _past_texts_sql(), params)
    return [r[0] for r in rows if r[0]]


@cache
def _past_texts_sql() -> Select:
    """Built once (per-request statement building cost more than the query itself)."""
    from genpersona.review.tables import DraftRow

    return (
        select(DraftRow.top_text)
        .where(
            DraftRow.brand == bindparam("brand"),
            DraftRow.customer_id == bindparam("customer_id"),
            DraftRow.kind == bindparam("kind"),
            DraftRow.status != "rejected",
        )
        .order_by(DraftRow.id.desc())
        .limit(bindparam("limit"))
    )


def other_interest_texts(brand: str, settings: Settings, limit: int = 60) -> list[tuple[str, str]]:
    """(customer id, interest text) for a sample of the brand's consenting customers.

    The specificity score compares a draft against these: a draft that fits
    anyone equally well is not personal.
    """
    from genpersona.data.tables import Brand, Customer, CustomerProfile, Theme
    from genpersona.db.engine import session_scope

    with session_scope(settings) as session:
        brand_id = session.execute(select(Brand.id).where(Brand.slug == brand)).scalar()
        if brand_id is None:
            return []
        labels = dict(
            session.execute(select(Theme.slug, Theme.label).where(Theme.brand_id == brand_id)).all()
        )
        rows = session.execute(
            select(Customer.external_id, CustomerProfile.favourite_themes)
            .join(CustomerProfile, CustomerProfile.customer_id == Customer.id)
            .where(Customer.brand_id == brand_id, Customer.consent_personalization.is_(True))
            .order_by(Customer.id)
            .limit(limit)
        ).all()
    out = []
    for external_id, themes in rows:
        names = [labels.get(t, t) for t in (themes or [])]
        if names:
            out.append((external_id, ", ".join(names)))
    return out


def find_pending(key: str, settings: Settings) -> Draft | None:
    """The pending draft already queued for this idempotency key, if any."""
    from genpersona.db.engine import session_scope
    from genpersona.review.store import load_draft
    from genpersona.review.tables import DraftRow

    with session_scope(settings) as session:
        draft_id = session.execute(
            select(DraftRow.id).where(DraftRow.idempotency_key == key, DraftRow.status == "pending")
        ).scalar()
        return load_draft(session, draft_id) if draft_id is not None else None


def _remember(brand: str, customer_id: str, text: str, settings: Settings) -> None:
    from genpersona.customers.records import add_memory_fact

    add_memory_fact(brand, customer_id, text, "chat", knowingly_shared=True, settings=settings)


@dataclass
class AgentDeps:
    """Everything the pipeline talks to. Build with ``default_deps`` and override fields."""

    settings: Settings
    llm: LLM
    embedder: Embedder
    store: VectorStore
    load_guide: Callable[[str], BrandGuide]
    context_for: ContextFn = _context_for
    similar_exemplars: ExemplarFn = _similar_exemplars
    submit: Callable[[Draft, Settings], Draft] = _submit
    catalog_items: Callable[[str, list[str], Settings], dict[str, FeaturedItem]] = catalog_items
    past_texts: Callable[[str, str, str, Settings], list[str]] = past_texts
    other_interests: Callable[[str, Settings], list[tuple[str, str]]] = other_interest_texts
    find_pending: Callable[[str, Settings], Draft | None] = find_pending
    remember: Callable[[str, str, str, Settings], None] = _remember
    extra: dict[str, Any] = field(default_factory=dict)


def default_deps(llm: LLM | None = None, settings: Settings | None = None) -> AgentDeps:
    """The real collaborators from settings (cached by their own factories)."""
    from genpersona.agent.trace import timed
    from genpersona.brands.loader import load_guide
    from genpersona.embeddings.factory import get_embedder
    from genpersona.llm.factory import get_llm
    from genpersona.vectors.factory import get_vector_store

    settings = settings or get_settings()
    return AgentDeps(
        settings=settings,
        llm=llm or get_llm(settings=settings),
        embedder=timed(get_embedder(settings=settings)),
        store=get_vector_store(settings),
        load_guide=lambda name: load_guide(name, settings),
    )

"""The reads the pipeline makes from the database: catalog rows, past drafts, other customers
and a pending draft. Plain functions of (inputs, settings), so ``AgentDeps`` can swap them."""

from __future__ import annotations

import threading
from collections import Counter
from functools import cache
from typing import Any

from cachetools import TTLCache, cached
from cachetools.keys import hashkey
from sqlalchemy import ColumnElement, Select, bindparam, func, select

from genpersona.data.tables import Brand, CatalogItem, Customer, CustomerProfile, Theme
from genpersona.db.engine import get_engine, session_scope
from genpersona.db.fast_read import FAST_READER
from genpersona.review.store import load_draft
from genpersona.review.tables import DraftRow
from genpersona.settings import Settings
from genpersona.types.content import Draft, FeaturedItem

#: up to this many codes, the lookup uses a statement with that many fixed placeholders
#: (read fast path); longer lists (eval checks) use one expanding IN on the Core path
_FIXED_ARITY = 16


def catalog_items(
    brand: str, stock_codes: list[str], settings: Settings
) -> dict[str, FeaturedItem]:
    """The catalog rows that exist for these codes: the proof that a featured item is real."""
    if not stock_codes:
        return {}
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

    params = {"brand": brand, "customer_id": customer_id, "kind": kind, "limit": limit}
    rows = FAST_READER.all(get_engine(settings), _past_texts_sql(), params)
    return [r[0] for r in rows if r[0]]


def past_texts_many(
    brand: str, customer_ids: list[str], kind: str, settings: Settings, limit: int = 50
) -> dict[str, list[str]]:
    """``past_texts`` for a batch of customers in one query (every id is a key, with an
    empty list when nothing was drafted for them yet)."""
    out: dict[str, list[str]] = {cid: [] for cid in customer_ids}
    if not customer_ids:
        return out
    recent = (
        select(
            DraftRow.customer_id,
            DraftRow.top_text,
            func.row_number()
            .over(partition_by=DraftRow.customer_id, order_by=DraftRow.id.desc())
            .label("nth"),
        )
        .where(*_past_filter(brand, kind), DraftRow.customer_id.in_(sorted(set(customer_ids))))
        .subquery()
    )
    query = (
        select(recent.c.customer_id, recent.c.top_text)
        .where(recent.c.nth <= limit)
        .order_by(recent.c.customer_id, recent.c.nth)
    )
    with get_engine(settings).connect() as conn:
        for cid, text in conn.execute(query):
            if text:
                out[cid].append(text)
    return out


def _past_filter(brand: Any, kind: Any) -> list[ColumnElement[bool]]:
    """Which drafts are a customer's novelty baseline (values or bound parameters)."""
    return [DraftRow.brand == brand, DraftRow.kind == kind, DraftRow.status != "rejected"]


@cache
def _past_texts_sql() -> Select:
    """Built once (per-request statement building cost more than the query itself)."""

    return (
        select(DraftRow.top_text)
        .where(
            *_past_filter(bindparam("brand"), bindparam("kind")),
            DraftRow.customer_id == bindparam("customer_id"),
        )
        .order_by(DraftRow.id.desc())
        .limit(bindparam("limit"))
    )


def _favourite_labels(brand: str, settings: Settings, limit: int) -> list[tuple[str, list[str]]]:
    """(customer id, favourite theme labels) for the first ``limit`` consenting customers."""
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
    return [
        (external_id, [labels.get(t, t) for t in (themes or [])]) for external_id, themes in rows
    ]


def other_interest_texts(brand: str, settings: Settings, limit: int = 60) -> list[tuple[str, str]]:
    """(customer id, interest text) for a sample of the brand's consenting customers.

    The specificity score compares a draft against these: a draft that fits
    anyone equally well is not personal.
    """
    return [
        (cid, ", ".join(names)) for cid, names in _favourite_labels(brand, settings, limit) if names
    ]


#: theme shares are counted over at most this many customers: enough to tell a theme one
#: customer in twenty has from one every other customer has, and one cheap read at any size
THEME_SHARE_SAMPLE = 5000


#: shares change only with a re-ingest: read once a minute per brand and database, not per
#: draft; the lock because a campaign's pool threads ask at once (``cachetools`` caches are
#: not thread-safe on their own)
@cached(
    TTLCache(maxsize=64, ttl=60),
    key=lambda brand, settings: hashkey(brand, settings.sqlalchemy_url),
    lock=threading.Lock(),
)
def theme_shares(brand: str, settings: Settings) -> dict[str, float]:
    """Theme label -> share of the brand's customers (a sample) who count it among their
    favourites. A line about a theme most customers share tells no one apart: the prompt
    leads with the customer's rarest themes (``variables.lead_interests``)."""
    rows = _favourite_labels(brand, settings, THEME_SHARE_SAMPLE)
    counts = Counter(label for _, names in rows for label in dict.fromkeys(names))
    return {label: n / len(rows) for label, n in counts.items()} if rows else {}


def clear_theme_shares() -> None:
    """Forget the cached shares (tests; a re-ingest within the minute)."""
    theme_shares.cache_clear()


def find_pending(key: str, settings: Settings) -> Draft | None:
    """The pending draft already queued for this idempotency key, if any."""

    with session_scope(settings) as session:
        draft_id = session.execute(
            select(DraftRow.id).where(DraftRow.idempotency_key == key, DraftRow.status == "pending")
        ).scalar()
        return load_draft(session, draft_id) if draft_id is not None else None

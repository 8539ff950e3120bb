"""The pull endpoint's reads: prebuilt statements and a cache of decided drafts.

Why not the ORM: a platform calls the endpoint once per recipient and message
part at send time, and at 16 requests in flight on two cores each request may
spend about a millisecond; building a query, a Session and ORM objects costs
several. So the hot path is one prebuilt SELECT for a repeat (consent, the
exposure and its draft's version, joined) through ``FAST_READER`` (raw sqlite3
on SQLite, Core elsewhere), and the draft's variants come from a cache keyed by
(draft id, version, decision time, idempotency key): every review decision
bumps the version, so a cached entry never serves copy a reviewer has since
changed; and a draft id SQLite hands out again after an erase comes with
another decision time and request key, so an erased customer's copy can never
be served under a new draft's id.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import Any

from cachetools import LRUCache, TTLCache
from sqlalchemy import Engine, and_, bindparam, desc, or_, select
from sqlalchemy.orm import Session

from genpersona.data.tables import Brand, Customer
from genpersona.db.fast_read import FAST_READER
from genpersona.delivery.eligibility import (
    DeliverableDraft,
    StoredVariant,
    anonymous_drafts,
    recipe_id_of,
)
from genpersona.delivery.exposures import Exposure, exposure_from_row
from genpersona.delivery.tables import ExposureRow
from genpersona.review.tables import DraftRow, DraftVariantRow, ReviewRow

_E = ExposureRow.__table__.c

#: what identifies one decided state of one draft (see the module docstring)
_DRAFT_STAMP = (
    DraftRow.version.label("draft_version"),
    DraftRow.decided_at.label("draft_decided_at"),
    DraftRow.idempotency_key.label("draft_key"),
)
_EXPOSURE_ON = and_(
    ExposureRow.recipient_key == Customer.external_id,
    ExposureRow.brand == Brand.slug,
    ExposureRow.campaign == bindparam("campaign"),
    ExposureRow.channel == bindparam("channel"),
)
#: consent + this recipient's exposure (if any) + the version of its draft (if any)
CUSTOMER_STATE = (
    select(Customer.consent_personalization, *_DRAFT_STAMP, *_E)
    .select_from(Customer)
    .join(Brand, Brand.id == Customer.brand_id)
    .outerjoin(ExposureRow, _EXPOSURE_ON)
    .outerjoin(DraftRow, DraftRow.id == ExposureRow.draft_id)
    .where(Brand.slug == bindparam("brand"), Customer.external_id == bindparam("customer_id"))
)
EXPOSURE_STATE = (
    select(*_DRAFT_STAMP, *_E)
    .select_from(ExposureRow)
    .outerjoin(DraftRow, DraftRow.id == ExposureRow.draft_id)
    .where(
        ExposureRow.recipient_key == bindparam("recipient_key"),
        ExposureRow.brand == bindparam("brand"),
        ExposureRow.campaign == bindparam("campaign"),
        ExposureRow.channel == bindparam("channel"),
    )
)
LATEST_DRAFT = (
    select(DraftRow.id, *_DRAFT_STAMP)
    .where(
        DraftRow.customer_id == bindparam("customer_id"),
        DraftRow.brand == bindparam("brand"),
        DraftRow.campaign == bindparam("campaign"),
        or_(DraftRow.status == bindparam("s1"), DraftRow.status == bindparam("s2")),
    )
    .order_by(desc(DraftRow.decided_at), desc(DraftRow.id))
    .limit(1)
)
DRAFT_ROW = select(
    DraftRow.id,
    *_DRAFT_STAMP,
    DraftRow.brand,
    DraftRow.kind,
    DraftRow.campaign,
    DraftRow.customer_id,
    DraftRow.status,
    DraftRow.chosen_variant,
    DraftRow.rationale,
).where(DraftRow.id == bindparam("draft_id"))
VARIANTS = select(
    DraftVariantRow.idx,
    DraftVariantRow.content,
    DraftVariantRow.violations,
    DraftVariantRow.is_fallback,
    DraftVariantRow.approved,
).where(DraftVariantRow.draft_id == bindparam("draft_id"))
LAST_EDIT = (
    select(ReviewRow.edited_content)
    .where(ReviewRow.draft_id == bindparam("draft_id"), ReviewRow.decision == bindparam("d"))
    .order_by(desc(ReviewRow.id))
    .limit(1)
)

DraftStamp = tuple[int, Any, str]  # (version, decided_at, idempotency key)
_DRAFTS: LRUCache[tuple[str, int, DraftStamp], DeliverableDraft] = LRUCache(maxsize=50_000)
_DRAFTS_LOCK = threading.Lock()


@dataclass(frozen=True)
class RecipientState:
    consent: bool | None  # None: no such customer (always True for anonymous visitors)
    exposure: Exposure | None
    draft_stamp: DraftStamp | None


def _stamp(row: Any) -> DraftStamp | None:
    return (
        None
        if row.draft_version is None
        else (row.draft_version, row.draft_decided_at, row.draft_key)
    )


def _exposure(row: Any) -> Exposure | None:
    return None if row.id is None else exposure_from_row(row)


def customer_state(
    engine: Engine, brand: str, campaign: str, customer_id: str, channel: str
) -> RecipientState:
    row = FAST_READER.first(
        engine,
        CUSTOMER_STATE,
        {"brand": brand, "customer_id": customer_id, "campaign": campaign, "channel": channel},
    )
    if row is None:
        return RecipientState(None, None, None)
    return RecipientState(bool(row.consent_personalization), _exposure(row), _stamp(row))


def exposure_state(
    engine: Engine, brand: str, campaign: str, recipient_key: str, channel: str
) -> RecipientState:
    row = FAST_READER.first(
        engine,
        EXPOSURE_STATE,
        {"brand": brand, "campaign": campaign, "recipient_key": recipient_key, "channel": channel},
    )
    if row is None:
        return RecipientState(True, None, None)
    return RecipientState(True, _exposure(row), _stamp(row))


def latest_draft(
    engine: Engine, brand: str, campaign: str, customer_id: str
) -> DeliverableDraft | None:
    """The customer's latest approved or edited draft of the campaign."""
    ref = FAST_READER.first(
        engine,
        LATEST_DRAFT,
        {
            "customer_id": customer_id,
            "brand": brand,
            "campaign": campaign,
            "s1": "approved",
            "s2": "edited",
        },
    )
    return None if ref is None else draft(engine, ref.id, _stamp(ref))


def draft(engine: Engine, draft_id: int, stamp: DraftStamp | None) -> DeliverableDraft | None:
    """A draft as delivery sees it, cached per (database, id, decided state)."""
    key = (str(engine.url), draft_id, stamp or (-1, None, ""))
    with _DRAFTS_LOCK:
        cached = _DRAFTS.get(key) if stamp is not None else None
    if cached is not None:
        return cached
    row = FAST_READER.first(engine, DRAFT_ROW, {"draft_id": draft_id})
    if row is None:
        return None
    variants = [
        StoredVariant(
            v.idx, v.content, list(v.violations or []), bool(v.is_fallback), bool(v.approved)
        )
        for v in FAST_READER.all(engine, VARIANTS, {"draft_id": draft_id})
    ]
    edited = None
    if row.status == "edited":
        edit = FAST_READER.first(engine, LAST_EDIT, {"draft_id": draft_id, "d": "edited"})
        edited = edit.edited_content if edit is not None else None
    loaded = DeliverableDraft(
        id=row.id,
        brand=row.brand,
        kind=row.kind,
        campaign=row.campaign,
        customer_id=row.customer_id,
        status=row.status,
        chosen_variant=row.chosen_variant,
        recipe_id=recipe_id_of(row.rationale),
        variants=sorted(variants, key=lambda v: v.index),
        edited_content=edited,
        anonymous=(row.rationale or {}).get("anonymous"),
    )
    if stamp is not None and _stamp(row) == stamp:  # only a stamp-checked read is cached
        with _DRAFTS_LOCK:
            _DRAFTS[key] = loaded
    return loaded


#: a campaign's contextual (anonymous) drafts, re-read at most every few seconds: web heroes
#: are pulled on every page view, and an approval may take this long to show
ANONYMOUS_TTL_S = 10.0
_ANONYMOUS: TTLCache[tuple[str, str, str], list[DeliverableDraft]] = TTLCache(
    maxsize=1024, ttl=ANONYMOUS_TTL_S
)


def anonymous_candidates(engine: Engine, brand: str, campaign: str) -> list[DeliverableDraft]:
    """The campaign's approved drafts written for a context rather than a customer."""
    key = (str(engine.url), brand, campaign)
    with _DRAFTS_LOCK:
        cached = _ANONYMOUS.get(key)
    if cached is not None:
        return cached
    with Session(engine) as session:
        loaded = anonymous_drafts(session, brand, campaign)
    with _DRAFTS_LOCK:
        _ANONYMOUS[key] = loaded
    return loaded


def clear_cache() -> None:
    with _DRAFTS_LOCK:
        _DRAFTS.clear()
        _ANONYMOUS.clear()

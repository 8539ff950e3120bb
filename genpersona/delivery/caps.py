"""Frequency caps and the message ledger: at most N messages per customer per window.

The ledger *is* the exposure log: every message a customer was given (pulled
or exported, any campaign, any channel) is one exposure row. A cap therefore
needs no second bookkeeping that could drift from what was really sent; a
capped decision is itself logged as an exposure with ``fallback`` and reason
``frequency_capped`` (and does not count toward the cap).

Caps apply per brand (``Settings.delivery_frequency_cap`` messages per
``delivery_frequency_window_days``, overridable per brand), to the cap class
``marketing``; a campaign whose definition says ``cap_class: transactional``
is neither capped nor counted.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from typing import cast

from pydantic import BaseModel
from sqlalchemy import Engine, Table, func, select

from genpersona.customers.ledger import SentMessage, register_ledger_reader
from genpersona.db.base import utcnow
from genpersona.db.engine import get_engine
from genpersona.delivery.tables import ExposureRow
from genpersona.review.tables import DraftVariantRow
from genpersona.settings import Settings

CAPPED_REASON = "frequency_capped"
_TABLE = cast(Table, ExposureRow.__table__)

#: campaign name -> cap class; the orchestration layer plugs in the definitions lookup
CapClassOf = Callable[[str, str], str]


class LedgerEntry(BaseModel):
    campaign: str
    channel: str
    draft_id: int | None
    variant_index: int | None
    holdout: bool
    fallback: bool
    reason: str | None
    sent_at: datetime


def cap_for(brand: str, settings: Settings) -> tuple[int, timedelta]:
    override = settings.delivery_frequency_cap_overrides.get(brand)
    cap = override if override is not None else settings.delivery_frequency_cap
    return cap, timedelta(days=settings.delivery_frequency_window_days)


def counted_messages(
    engine: Engine,
    brand: str,
    customer_id: str,
    since: datetime,
    exempt: Callable[[str], bool] = lambda _c: False,
) -> int:
    """Messages given to the customer since ``since`` that count toward the cap."""
    with engine.connect() as conn:
        rows = conn.execute(
            select(_TABLE.c.campaign, func.count())
            .where(
                _TABLE.c.brand == brand,
                _TABLE.c.customer_id == customer_id,
                _TABLE.c.created_at >= since,
                (_TABLE.c.reason.is_(None)) | (_TABLE.c.reason != CAPPED_REASON),
            )
            .group_by(_TABLE.c.campaign)
        ).all()
    return sum(int(n) for campaign, n in rows if not exempt(campaign))


def is_capped(
    engine: Engine,
    brand: str,
    customer_id: str,
    settings: Settings,
    *,
    exempt: Callable[[str], bool] = lambda _c: False,
    now: datetime | None = None,
) -> bool:
    cap, window = cap_for(brand, settings)
    since = (now or utcnow()) - window
    return counted_messages(engine, brand, customer_id, since, exempt) >= cap


def recent_messages(
    brand: str,
    customer_id: str,
    *,
    engine: Engine,
    days: int = 30,
    limit: int = 20,
) -> list[LedgerEntry]:
    """What the customer was given lately, newest first (for the chat and hero paths)."""
    since = utcnow() - timedelta(days=days)
    with engine.connect() as conn:
        rows = conn.execute(
            select(_TABLE)
            .where(
                _TABLE.c.brand == brand,
                _TABLE.c.customer_id == customer_id,
                _TABLE.c.created_at >= since,
            )
            .order_by(_TABLE.c.created_at.desc(), _TABLE.c.id.desc())
            .limit(limit)
        ).all()
    return [
        LedgerEntry(
            campaign=r.campaign,
            channel=r.channel,
            draft_id=r.draft_id,
            variant_index=r.variant_index,
            holdout=r.holdout,
            fallback=r.fallback,
            reason=r.reason,
            sent_at=r.created_at,
        )
        for r in rows
    ]


def sent_copy(brand: str, customer_id: str, settings: Settings) -> list[SentMessage]:
    """The ledger with the copy each message carried (the approved variant's main line),
    newest first; capped answers carried nothing, holdouts and fallbacks only the brand's
    generic line, so they are left out."""
    engine = get_engine(settings)
    entries = [
        e
        for e in recent_messages(brand, customer_id, engine=engine, limit=10)
        if e.reason != CAPPED_REASON and e.draft_id is not None and not (e.holdout or e.fallback)
    ]
    if not entries:
        return []
    variants = cast(Table, DraftVariantRow.__table__)
    with engine.connect() as conn:
        rows = conn.execute(
            select(variants.c.draft_id, variants.c.idx, variants.c.content).where(
                variants.c.draft_id.in_({e.draft_id for e in entries})
            )
        ).all()
    content = {(d, i): c or {} for d, i, c in rows}
    out: list[SentMessage] = []
    for e in entries:
        c = content.get((e.draft_id or 0, e.variant_index or 0), {})
        text = c.get("subject") or c.get("headline") or ""
        if text:
            out.append(SentMessage(e.campaign, e.channel, str(text), e.sent_at))
    return out


register_ledger_reader(sent_copy)

"""The review queue: drafts in, pages of drafts out, decisions recorded.

``submit_draft`` is idempotent: a request that already has a *pending* draft
(same idempotency key) gets that draft back instead of a second one, and a
partial unique index makes the database enforce it even across processes.
The decision functions (approve, edit, reject, bulk, regenerate, expire) live
in ``genpersona.review.decisions`` and are re-exported here, so callers import
everything from one place.
"""

from __future__ import annotations

import time
from typing import Any

from sqlalchemy import ColumnElement, UnaryExpression, func, select
from sqlalchemy.exc import IntegrityError

from genpersona.db.engine import session_scope
from genpersona.errors import InputError
from genpersona.review.audit import list_audit
from genpersona.review.convert import draft_values
from genpersona.review.decisions import (  # noqa: F401  (re-exported API)
    approve,
    approve_set,
    bulk_approve,
    edit_and_approve,
    expire_stale,
    regenerate,
    reject,
)
from genpersona.review.models import (
    DraftDetail,
    QueueFilter,
    QueuePage,
    QueueRow,
    ReviewRecord,
    SortKey,
)
from genpersona.review.store import insert_drafts, load_draft
from genpersona.review.tables import DraftRow, ReviewRow
from genpersona.settings import Settings
from genpersona.types.content import Draft

STATUSES = ("pending", "approved", "edited", "rejected", "expired")
MAX_PAGE_SIZE = 500
SYSTEM_ACTOR = "system"

_SUMMARY_COLUMNS = (
    DraftRow.id,
    DraftRow.brand,
    DraftRow.kind,
    DraftRow.campaign,
    DraftRow.customer_id,
    DraftRow.status,
    DraftRow.version,
    DraftRow.top_score,
    DraftRow.top_text,
    DraftRow.has_violations,
    DraftRow.violation_count,
    DraftRow.is_fallback,
    DraftRow.created_at,
    DraftRow.decided_at,
    DraftRow.decided_by,
)


# --- submitting -------------------------------------------------------------------------
def submit_draft(draft: Draft, settings: Settings | None = None) -> Draft:
    """Store a new draft as pending, or return the pending draft already stored for its request."""
    return submit_drafts([draft], settings)[0]


def submit_drafts(drafts: list[Draft], settings: Settings | None = None) -> list[Draft]:
    """Many drafts in one transaction (campaign jobs, seeding); same idempotency as one by one."""
    for draft in drafts:
        draft_values(draft)  # validates before anything is written
    for attempt in range(3):
        try:
            with session_scope(settings) as session:
                ids, created = insert_drafts(session, drafts, actor=SYSTEM_ACTOR)
            break
        except IntegrityError:
            # another process inserted a pending draft for one of these keys in the
            # meantime; the retry sees it and returns it instead of a second one
            if attempt == 2:
                raise
    out: list[Draft] = []
    for draft, draft_id, is_new in zip(drafts, ids, created, strict=True):
        if is_new:
            out.append(draft.model_copy(update={"id": draft_id, "status": "pending", "version": 1}))
        else:
            out.append(get_draft(draft_id, settings))
    return out


# --- reading ----------------------------------------------------------------------------------
def get_draft(draft_id: int, settings: Settings | None = None) -> Draft:
    with session_scope(settings) as session:
        return load_draft(session, draft_id)


def get_draft_detail(draft_id: int, settings: Settings | None = None) -> DraftDetail:
    """The draft plus its decision history and audit trail, for the console's detail view."""
    with session_scope(settings) as session:
        draft = load_draft(session, draft_id)
        row = session.get(DraftRow, draft_id)
        assert row is not None
        reviews = [
            ReviewRecord.model_validate(r, from_attributes=True)
            for r in session.scalars(
                select(ReviewRow).where(ReviewRow.draft_id == draft_id).order_by(ReviewRow.id)
            )
        ]
        detail = DraftDetail(
            draft=draft,
            decided_at=row.decided_at,
            decided_by=row.decided_by,
            chosen_variant=row.chosen_variant,
            regenerated_from=row.regenerated_from,
            reviews=reviews,
        )
    detail.audit = list_audit(draft_id=draft_id, settings=settings)
    return detail


def _filter_conditions(filters: QueueFilter) -> list[ColumnElement[bool]]:
    """Every filter except status (status is applied separately so counts cover all statuses)."""
    conds: list[ColumnElement[bool]] = []
    if filters.brand is not None:
        conds.append(DraftRow.brand == filters.brand)
    if filters.campaign is not None:
        conds.append(DraftRow.campaign == filters.campaign)
    if filters.kind is not None:
        conds.append(DraftRow.kind == filters.kind)
    if filters.has_violations is not None:
        conds.append(DraftRow.has_violations.is_(filters.has_violations))
    if filters.is_fallback is not None:
        conds.append(DraftRow.is_fallback.is_(filters.is_fallback))
    if filters.customer_id is not None:
        conds.append(DraftRow.customer_id == filters.customer_id)
    return conds


_ORDER: dict[str, tuple[UnaryExpression[Any], UnaryExpression[Any]]] = {
    "score_desc": (DraftRow.top_score.desc(), DraftRow.id.desc()),
    "score_asc": (DraftRow.top_score.asc(), DraftRow.id.asc()),
    "oldest": (DraftRow.created_at.asc(), DraftRow.id.asc()),
    "newest": (DraftRow.created_at.desc(), DraftRow.id.desc()),
}


def list_drafts(
    filters: QueueFilter | None = None,
    sort: SortKey = "oldest",
    page: int = 1,
    page_size: int = 25,
    settings: Settings | None = None,
) -> QueuePage:
    """One page of the queue plus counts per status, from indexed summary columns only.

    A page past the end is clamped to the last page, so a reviewer who decided
    the last drafts of the last page lands on a page with drafts, not an empty one.
    """
    if sort not in _ORDER:
        raise InputError(
            f"unknown sort {sort!r}",
            fix=f"use one of: {', '.join(_ORDER)}",
            sort=sort,
        )
    if page < 1 or not 1 <= page_size <= MAX_PAGE_SIZE:
        raise InputError(
            f"page {page} / page size {page_size} out of range",
            fix=f"use page >= 1 and a page size between 1 and {MAX_PAGE_SIZE}",
            page=page,
            page_size=page_size,
        )
    filters = filters or QueueFilter()
    started = time.perf_counter()
    conds = _filter_conditions(filters)
    with session_scope(settings) as session:
        counts = {s: 0 for s in STATUSES}
        counts.update(
            session.execute(
                select(DraftRow.status, func.count()).where(*conds).group_by(DraftRow.status)
            )
            .tuples()
            .all()
        )
        total = counts.get(filters.status, 0) if filters.status else sum(counts.values())
        pages = max(1, -(-total // page_size))
        page = min(page, pages)
        query = select(*_SUMMARY_COLUMNS).where(*conds)
        if filters.status is not None:
            query = query.where(DraftRow.status == filters.status)
        query = query.order_by(*_ORDER[sort]).limit(page_size).offset((page - 1) * page_size)
        rows = [QueueRow.model_validate(r._mapping) for r in session.execute(query)]
    return QueuePage(
        rows=rows,
        total=total,
        page=page,
        page_size=page_size,
        counts=counts,
        elapsed_ms=(time.perf_counter() - started) * 1000,
    )


def filter_options(settings: Settings | None = None) -> dict[str, list[str]]:
    """Distinct brands and campaigns in the queue, for the console's filter menus."""
    with session_scope(settings) as session:
        brands = list(session.scalars(select(DraftRow.brand).distinct().order_by(DraftRow.brand)))
        campaigns = list(
            session.scalars(
                select(DraftRow.campaign)
                .where(DraftRow.campaign.is_not(None))
                .distinct()
                .order_by(DraftRow.campaign)
            )
        )
    return {"brands": brands, "campaigns": [c for c in campaigns if c is not None]}

"""The record of campaign runs: one row per run, one item per targeted customer.

Why keep it: an unattended job must leave an answer to "what did last night's
run do, and whom did it fail for" that outlives its log output; and the items
let a re-run or an operator find exactly the failed customers.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel
from sqlalchemy import select, update

from genpersona.campaigns.tables import CampaignRunItemRow, CampaignRunRow
from genpersona.db.base import utcnow
from genpersona.db.engine import session_scope
from genpersona.review.tables import DraftRow
from genpersona.settings import Settings


class CampaignRunSummary(BaseModel):
    id: int
    brand: str
    name: str
    kind: str
    segment: dict[str, Any]
    distributed: bool
    status: str
    targeted: int
    generated: int
    skipped: int
    failed: int
    started_at: datetime
    finished_at: datetime | None


def start_run(
    *,
    brand: str,
    name: str,
    kind: str,
    brief: str,
    n: int,
    segment: dict[str, Any],
    distributed: bool,
    targeted: int,
    settings: Settings | None = None,
) -> int:
    with session_scope(settings) as session:
        row = CampaignRunRow(
            brand=brand,
            name=name,
            kind=kind,
            brief=brief,
            n=n,
            segment=segment,
            distributed=distributed,
            status="running",
            targeted=targeted,
            generated=0,
            skipped=0,
            failed=0,
            started_at=utcnow(),
        )
        session.add(row)
        session.flush()
        return row.id


def record_item(
    run_id: int,
    *,
    brand: str,
    customer_id: str,
    status: str,
    draft_id: int | None,
    error: str | None,
    message: str | None,
    settings: Settings | None = None,
) -> None:
    """Store one customer's result and bump the run's counters in the same transaction."""
    with session_scope(settings) as session:
        session.add(
            CampaignRunItemRow(
                run_id=run_id,
                brand=brand,
                customer_id=customer_id,
                status=status,
                draft_id=draft_id,
                error=error,
                message=(message or "")[:2000] or None,
            )
        )
        run = session.get(CampaignRunRow, run_id)
        if run is not None:
            setattr(run, status, getattr(run, status) + 1)


def finish_run(run_id: int, status: str, settings: Settings | None = None) -> None:
    with session_scope(settings) as session:
        run = session.get(CampaignRunRow, run_id)
        if run is not None:
            run.status = status
            run.finished_at = utcnow()


def mark_interrupted(brand: str, name: str, settings: Settings | None = None) -> int:
    """Mark runs of campaign ``name`` still ``running`` as ``interrupted`` (their process
    died: a SIGKILLed worker never finishes its row); returns how many. Called when a
    scheduled period's stale claim is resumed, so the record says which run died."""
    with session_scope(settings) as session:
        changed = session.execute(
            update(CampaignRunRow)
            .where(
                CampaignRunRow.brand == brand,
                CampaignRunRow.name == name,
                CampaignRunRow.status == "running",
            )
            .values(status="interrupted", finished_at=utcnow())
        )
        return int(changed.rowcount)  # type: ignore[attr-defined]


def list_runs(
    brand: str | None = None, limit: int = 20, settings: Settings | None = None
) -> list[CampaignRunSummary]:
    with session_scope(settings) as session:
        stmt = select(CampaignRunRow).order_by(CampaignRunRow.id.desc()).limit(limit)
        if brand:
            stmt = stmt.where(CampaignRunRow.brand == brand)
        return [
            CampaignRunSummary.model_validate(row, from_attributes=True)
            for row in session.scalars(stmt)
        ]


def run_items(run_id: int, settings: Settings | None = None) -> list[dict[str, Any]]:
    with session_scope(settings) as session:
        rows = session.scalars(
            select(CampaignRunItemRow)
            .where(CampaignRunItemRow.run_id == run_id)
            .order_by(CampaignRunItemRow.id)
        )
        return [
            {
                "customer_id": r.customer_id,
                "status": r.status,
                "draft_id": r.draft_id,
                "error": r.error,
                "message": r.message,
            }
            for r in rows
        ]


def pending_draft_id(idempotency_key: str, settings: Settings | None = None) -> int | None:
    """The pending draft already made for this exact request, if any (re-runs skip it)."""
    with session_scope(settings) as session:
        return session.scalar(
            select(DraftRow.id).where(
                DraftRow.idempotency_key == idempotency_key, DraftRow.status == "pending"
            )
        )


def pending_draft_ids(keys: list[str], settings: Settings | None = None) -> dict[str, int]:
    """``pending_draft_id`` for many keys in one query (a batch of a campaign)."""
    if not keys:
        return {}
    with session_scope(settings) as session:
        rows = session.execute(
            select(DraftRow.idempotency_key, DraftRow.id).where(
                DraftRow.idempotency_key.in_(keys), DraftRow.status == "pending"
            )
        )
        return {str(k): int(i) for k, i in rows}


class ItemRecord(BaseModel):
    customer_id: str
    status: str
    draft_id: int | None = None
    error: str | None = None
    message: str | None = None


def record_items(
    run_id: int, brand: str, items: list[ItemRecord], settings: Settings | None = None
) -> None:
    """Many customers' results and the run's counters in one transaction (a batch)."""
    if not items:
        return
    with session_scope(settings) as session:
        session.add_all(
            CampaignRunItemRow(
                run_id=run_id,
                brand=brand,
                customer_id=i.customer_id,
                status=i.status,
                draft_id=i.draft_id,
                error=i.error,
                message=(i.message or "")[:2000] or None,
            )
            for i in items
        )
        run = session.get(CampaignRunRow, run_id)
        if run is not None:
            for status in ("generated", "skipped", "failed"):
                count = sum(i.status == status for i in items)
                if count:
                    setattr(run, status, getattr(run, status) + count)

"""Low-level reads and writes of drafts inside a caller's session (shared by queue and decisions)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from genpersona.errors import DraftNotFound
from genpersona.review.audit import audit_values, record_many
from genpersona.review.convert import (
    draft_from_rows,
    draft_values,
    variant_values,
    violation_values,
)
from genpersona.review.tables import DraftRow, DraftVariantRow, DraftViolationRow
from genpersona.types.content import Draft


def insert_drafts(
    session: Session,
    drafts: list[Draft],
    *,
    actor: str,
    regenerated_from: int | None = None,
) -> tuple[list[int], list[bool]]:
    """Insert drafts whose key has no pending draft; returns (id per draft, whether new)."""
    keys = list({d.idempotency_key for d in drafts})
    existing: dict[str, int] = {}
    for start in range(0, len(keys), 500):
        chunk = keys[start : start + 500]
        existing.update(
            session.execute(
                select(DraftRow.idempotency_key, DraftRow.id).where(
                    DraftRow.idempotency_key.in_(chunk), DraftRow.status == "pending"
                )
            )
            .tuples()
            .all()
        )
    fresh: list[Draft] = []
    fresh_keys: set[str] = set()
    for draft in drafts:
        key = draft.idempotency_key
        if key in existing or key in fresh_keys:
            continue
        fresh.append(draft)
        fresh_keys.add(key)
    new_ids: list[int] = []
    if fresh:
        values = [draft_values(d) | {"regenerated_from": regenerated_from} for d in fresh]
        new_ids = list(
            session.scalars(
                insert(DraftRow).returning(DraftRow.id, sort_by_parameter_order=True), values
            )
        )
        variants: list[dict[str, Any]] = []
        violations: list[dict[str, Any]] = []
        audits: list[dict[str, Any]] = []
        for draft, draft_id in zip(fresh, new_ids, strict=True):
            existing[draft.idempotency_key] = draft_id
            variants += variant_values(draft, draft_id)
            violations += violation_values(draft, draft_id)
            audits.append(
                audit_values(
                    actor,
                    "submitted",
                    draft_id=draft_id,
                    brand=draft.brand,
                    customer_id=draft.customer_id,
                    payload={
                        "idempotency_key": draft.idempotency_key,
                        "variants": len(draft.variants),
                        "top_score": draft.top.scores.total,
                        "regenerated_from": regenerated_from,
                    },
                )
            )
        session.execute(insert(DraftVariantRow), variants)
        if violations:
            session.execute(insert(DraftViolationRow), violations)
        record_many(session, audits)
    new_set = set(new_ids)
    ids = [existing[d.idempotency_key] for d in drafts]
    seen: set[int] = set()
    created: list[bool] = []
    for draft_id in ids:
        created.append(draft_id in new_set and draft_id not in seen)
        seen.add(draft_id)
    return ids, created


def load_draft(session: Session, draft_id: int) -> Draft:
    row = session.get(DraftRow, draft_id)
    if row is None:
        raise DraftNotFound(
            f"draft {draft_id} does not exist",
            fix="pick a draft id from the review queue (genpersona console) or the generate response",
            draft_id=draft_id,
        )
    variants = list(
        session.scalars(select(DraftVariantRow).where(DraftVariantRow.draft_id == draft_id))
    )
    return draft_from_rows(row, variants)

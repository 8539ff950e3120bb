"""Between the agent's ``Draft`` and the review tables, in both directions.

The summary columns (top score, top text, flags) are derived here once, at
insert time, so the queue never has to open a variant to filter or sort.
"""

from __future__ import annotations

from typing import Any

from genpersona.db.base import utcnow
from genpersona.errors import InputError
from genpersona.review.tables import DraftRow, DraftVariantRow
from genpersona.types.content import Draft, Rationale, Scores, Trace, Variant, VariantContent
from genpersona.types.violations import Violation

#: The queue line shows this much of the top variant.
PREVIEW_CHARS = 240


def draft_values(draft: Draft) -> dict[str, Any]:
    """Insert values for the ``drafts`` row of a new (pending, version 1) draft."""
    if not draft.variants:
        raise InputError(
            f"draft for brand {draft.brand!r} has no variants",
            fix="submit a draft with at least one variant (the safe fallback counts)",
            brand=draft.brand,
        )
    top = draft.top
    return {
        "brand": draft.brand,
        "kind": draft.kind,
        "customer_id": draft.customer_id,
        "campaign": draft.campaign,
        "brief": draft.brief,
        "status": "pending",
        "idempotency_key": draft.idempotency_key,
        "version": 1,
        "top_score": float(top.scores.total),
        "top_text": top.content.main_text()[:PREVIEW_CHARS],
        "has_violations": draft.has_violations,
        "is_fallback": draft.is_fallback,
        "violation_count": sum(len(v.violations) for v in draft.variants),
        "model": draft.rationale.model[:128],
        "prompt_version": draft.rationale.prompt_version[:64],
        "rationale": draft.rationale.model_dump(mode="json"),
        "trace": draft.trace.model_dump(mode="json"),
        "created_at": draft.created_at.replace(tzinfo=None) if draft.created_at else utcnow(),
        "regenerated_from": None,
    }


def variant_values(draft: Draft, draft_id: int) -> list[dict[str, Any]]:
    return [
        {
            "draft_id": draft_id,
            "idx": v.index,
            "content": v.content.model_dump(mode="json"),
            "scores": v.scores.model_dump(mode="json"),
            "total_score": float(v.scores.total),
            "violations": [x.model_dump(mode="json") for x in v.violations],
            "fixes_applied": list(v.fixes_applied),
            "attempts": v.attempts,
            "is_fallback": v.is_fallback,
            "recipe_id": v.content.recipe_id,
        }
        for v in draft.variants
    ]


def violation_values(draft: Draft, draft_id: int) -> list[dict[str, Any]]:
    return [
        {
            "draft_id": draft_id,
            "variant_idx": v.index,
            "rule_id": x.rule_id[:64],
            "severity": x.severity,
        }
        for v in draft.variants
        for x in v.violations
    ]


def variant_from_row(row: DraftVariantRow) -> Variant:
    return Variant(
        index=row.idx,
        content=VariantContent.model_validate(row.content),
        scores=Scores.model_validate(row.scores),
        violations=[Violation.model_validate(x) for x in row.violations],
        fixes_applied=list(row.fixes_applied),
        attempts=row.attempts,
        is_fallback=row.is_fallback,
    )


def draft_from_rows(row: DraftRow, variants: list[DraftVariantRow]) -> Draft:
    return Draft(
        id=row.id,
        brand=row.brand,
        kind=row.kind,
        customer_id=row.customer_id,
        campaign=row.campaign,
        brief=row.brief,
        status=row.status,
        variants=[variant_from_row(v) for v in sorted(variants, key=lambda v: v.idx)],
        rationale=Rationale.model_validate(row.rationale),
        trace=Trace.model_validate(row.trace),
        idempotency_key=row.idempotency_key,
        version=row.version,
        created_at=row.created_at,
    )

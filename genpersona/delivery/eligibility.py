"""Which of a draft's variants may reach a recipient, and loading the drafts that have any.

``eligible_variants`` is the one place that decides what "approved" means for
delivery: an *approved* draft offers the variants in its approved set
(``draft_variants.approved``, migration 0006: every clean variant unless the
reviewer left some out — the same rule as ``review.approved.approved_variants``),
so the policy has a choice among reviewed copy; an *edited* draft delivers only
the reviewer's text.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from genpersona.delivery.policy import EligibleVariant
from genpersona.review.tables import DraftRow, DraftVariantRow, ReviewRow
from genpersona.types.content import VariantContent

DELIVERABLE = ("approved", "edited")


@dataclass(frozen=True)
class StoredVariant:
    index: int
    content: dict[str, Any]
    violations: list[dict[str, Any]]
    is_fallback: bool
    #: in the reviewer's approved set
    approved: bool = True

    @property
    def blocked(self) -> bool:
        return any(v.get("severity") == "block" for v in self.violations)


@dataclass(frozen=True)
class DeliverableDraft:
    """A decided draft as delivery sees it (plain data, read in one short query)."""

    id: int
    brand: str
    kind: str
    campaign: str | None
    customer_id: str | None
    status: str
    chosen_variant: int | None
    recipe_id: str | None
    variants: list[StoredVariant]
    edited_content: dict[str, Any] | None = None
    anonymous: dict[str, Any] | None = field(default=None)


def eligible_variants(draft: DeliverableDraft) -> list[EligibleVariant]:
    """The copy a policy may choose from; empty means the draft is not deliverable."""
    if draft.status == "edited":
        if draft.edited_content is None:
            return []
        index = draft.chosen_variant if draft.chosen_variant is not None else 0
        return [
            EligibleVariant(
                variant_index=index,
                recipe_id=draft.edited_content.get("recipe_id") or draft.recipe_id,
                content=VariantContent.model_validate(draft.edited_content),
            )
        ]
    if draft.status != "approved":
        return []
    return [
        EligibleVariant(
            variant_index=v.index,
            # each variant is written from its own recipe (the arm learning allocates over);
            # drafts from before recipes fall back to the prompt template's name
            recipe_id=v.content.get("recipe_id") or draft.recipe_id,
            content=VariantContent.model_validate(v.content),
        )
        for v in sorted(draft.variants, key=lambda v: v.index)
        if v.approved and not v.blocked
    ]


def recipe_id_of(rationale: dict[str, Any] | None) -> str | None:
    """Until recipes exist as rows, the prompt template and its version name the recipe."""
    rationale = rationale or {}
    template = rationale.get("prompt_template") or ""
    version = rationale.get("prompt_version") or ""
    if not template and not version:
        return None
    return f"{template}@{version}"[:64]


def _assemble(session: Session, rows: list[DraftRow]) -> list[DeliverableDraft]:
    if not rows:
        return []
    ids = [r.id for r in rows]
    variants: dict[int, list[StoredVariant]] = {i: [] for i in ids}
    for draft_id, idx, content, violations, is_fallback, approved in session.execute(
        select(
            DraftVariantRow.draft_id,
            DraftVariantRow.idx,
            DraftVariantRow.content,
            DraftVariantRow.violations,
            DraftVariantRow.is_fallback,
            DraftVariantRow.approved,
        ).where(DraftVariantRow.draft_id.in_(ids))
    ):
        variants[draft_id].append(
            StoredVariant(idx, content, list(violations or []), is_fallback, bool(approved))
        )
    edited: dict[int, dict[str, Any]] = {}
    edited_ids = [r.id for r in rows if r.status == "edited"]
    if edited_ids:
        for draft_id, content in session.execute(
            select(ReviewRow.draft_id, ReviewRow.edited_content)
            .where(ReviewRow.draft_id.in_(edited_ids), ReviewRow.decision == "edited")
            .order_by(ReviewRow.id)
        ):
            if content is not None:
                edited[draft_id] = content  # the latest edit wins
    return [
        DeliverableDraft(
            id=r.id,
            brand=r.brand,
            kind=r.kind,
            campaign=r.campaign,
            customer_id=r.customer_id,
            status=r.status,
            chosen_variant=r.chosen_variant,
            recipe_id=recipe_id_of(r.rationale),
            variants=variants[r.id],
            edited_content=edited.get(r.id),
            anonymous=(r.rationale or {}).get("anonymous"),
        )
        for r in rows
    ]


def load_by_id(session: Session, draft_id: int) -> DeliverableDraft | None:
    row = session.get(DraftRow, draft_id)
    return _assemble(session, [row])[0] if row is not None else None


def latest_for_customer(
    session: Session, brand: str, campaign: str, customer_id: str
) -> DeliverableDraft | None:
    """The customer's most recently decided approved or edited draft of the campaign."""
    row = session.scalars(
        select(DraftRow)
        .where(
            DraftRow.customer_id == customer_id,
            DraftRow.brand == brand,
            DraftRow.campaign == campaign,
            DraftRow.status.in_(DELIVERABLE),
        )
        .order_by(DraftRow.decided_at.desc(), DraftRow.id.desc())
        .limit(1)
    ).first()
    return _assemble(session, [row])[0] if row is not None else None


def anonymous_drafts(session: Session, brand: str, campaign: str) -> list[DeliverableDraft]:
    """Approved drafts written for a context rather than a person (no customer id)."""
    rows = list(
        session.scalars(
            select(DraftRow)
            .where(
                DraftRow.customer_id.is_(None),
                DraftRow.brand == brand,
                DraftRow.campaign == campaign,
                DraftRow.status.in_(DELIVERABLE),
            )
            .order_by(DraftRow.id)
            .limit(500)
        )
    )
    return _assemble(session, rows)


def campaign_recipients(
    session: Session, brand: str, campaign: str, statuses: tuple[str, ...]
) -> list[tuple[str, int]]:
    """(customer id, draft id) of each customer's latest decided draft, in customer order."""
    latest: dict[str, tuple[datetime, int]] = {}
    for customer_id, draft_id, decided_at in session.execute(
        select(DraftRow.customer_id, DraftRow.id, DraftRow.decided_at).where(
            DraftRow.brand == brand,
            DraftRow.campaign == campaign,
            DraftRow.customer_id.is_not(None),
            DraftRow.status.in_(statuses),
        )
    ):
        if customer_id is None:
            continue
        key = (decided_at or datetime.min, draft_id)
        if customer_id not in latest or key > latest[customer_id]:
            latest[customer_id] = key
    return [(c, latest[c][1]) for c in sorted(latest)]

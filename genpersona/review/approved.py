"""What a decided draft may send: its approved set of variants, or the reviewer's edit.

Delivery reads this and nothing else, so the rule "only reviewed copy reaches
a customer" lives in one place: an approved draft offers the variants flagged
``approved`` (migration 0006), an edited draft offers exactly the edited text,
and every other status offers nothing.
"""

from __future__ import annotations

from collections.abc import Sequence

from pydantic import BaseModel
from sqlalchemy import select
from sqlalchemy.orm import Session

from genpersona.review.tables import DraftRow, DraftVariantRow, ReviewRow
from genpersona.types.content import VariantContent


class ApprovedVariant(BaseModel):
    draft_id: int
    variant_index: int
    content: VariantContent
    #: the reviewer's words (an edit of variant ``variant_index``), not the model's
    edited: bool = False


def approved_variants(session: Session, draft_id: int) -> list[ApprovedVariant]:
    """The copy a draft may send, in variant order; empty unless approved or edited."""
    return approved_variants_many(session, [draft_id]).get(draft_id, [])


def approved_variants_many(
    session: Session, draft_ids: Sequence[int]
) -> dict[int, list[ApprovedVariant]]:
    """Same for many drafts in three queries (exports of a whole campaign)."""
    ids = list(dict.fromkeys(draft_ids))
    out: dict[int, list[ApprovedVariant]] = {}
    status: dict[int, str] = {}
    for start in range(0, len(ids), 500):
        chunk = ids[start : start + 500]
        status.update(
            session.execute(select(DraftRow.id, DraftRow.status).where(DraftRow.id.in_(chunk)))
            .tuples()
            .all()
        )
    approved = [i for i in ids if status.get(i) == "approved"]
    edited = [i for i in ids if status.get(i) == "edited"]
    for start in range(0, len(approved), 500):
        for draft_id, idx, content in session.execute(
            select(DraftVariantRow.draft_id, DraftVariantRow.idx, DraftVariantRow.content)
            .where(
                DraftVariantRow.draft_id.in_(approved[start : start + 500]),
                DraftVariantRow.approved.is_(True),
            )
            .order_by(DraftVariantRow.draft_id, DraftVariantRow.idx)
        ):
            out.setdefault(draft_id, []).append(
                ApprovedVariant(
                    draft_id=draft_id,
                    variant_index=idx,
                    content=VariantContent.model_validate(content),
                )
            )
    for start in range(0, len(edited), 500):
        for draft_id, idx, content in session.execute(
            select(ReviewRow.draft_id, ReviewRow.variant_index, ReviewRow.edited_content)
            .where(
                ReviewRow.draft_id.in_(edited[start : start + 500]),
                ReviewRow.decision == "edited",
            )
            .order_by(ReviewRow.draft_id, ReviewRow.id)
        ):
            if content is None or idx is None:
                continue
            out[draft_id] = [  # the latest edit wins (a draft is edited once; be safe)
                ApprovedVariant(
                    draft_id=draft_id,
                    variant_index=idx,
                    content=VariantContent.model_validate(content),
                    edited=True,
                )
            ]
    return out

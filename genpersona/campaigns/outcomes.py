"""Record what customers did with a sent variant: the raw input of the learning loop.

Outcomes are checked against the draft they name (it must exist and have that
variant) so the log never holds results for copy we did not produce; brand,
campaign and customer are copied from the draft, not trusted from the caller.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Protocol

from sqlalchemy import func, select

from genpersona.campaigns.tables import OutcomeRow
from genpersona.db.base import utcnow
from genpersona.db.engine import session_scope
from genpersona.errors import DraftNotFound, InputError
from genpersona.review.tables import DraftRow, DraftVariantRow
from genpersona.settings import Settings


class OutcomeLike(Protocol):
    draft_id: int
    variant_index: int
    type: str
    customer_id: str | None
    ts: datetime | None
    outcome_id: str | None


def record_outcomes(
    outcomes: Sequence[OutcomeLike], *, settings: Settings | None = None
) -> list[int]:
    """Store a batch all-or-nothing; a re-sent ``outcome_id`` returns the stored row's id."""
    ids: list[int] = []
    with session_scope(settings) as session:
        drafts: dict[int, tuple[DraftRow, int]] = {}
        for i, outcome in enumerate(outcomes):
            if outcome.draft_id not in drafts:
                draft = session.get(DraftRow, outcome.draft_id)
                if draft is None:
                    raise DraftNotFound(
                        f"outcome {i} names draft {outcome.draft_id}, which does not exist",
                        fix="send outcomes only for draft ids returned by the API or a campaign",
                        draft_id=outcome.draft_id,
                        index=i,
                    )
                n_variants = session.scalar(
                    select(func.count()).where(DraftVariantRow.draft_id == draft.id)
                )
                drafts[outcome.draft_id] = (draft, int(n_variants or 0))
            draft, n_variants = drafts[outcome.draft_id]
            if outcome.variant_index >= n_variants:
                raise InputError(
                    f"outcome {i}: draft {draft.id} has {n_variants} variants, "
                    f"no variant_index {outcome.variant_index}",
                    fix=f"use a variant_index from 0 to {n_variants - 1}",
                    draft_id=draft.id,
                    index=i,
                )
            if outcome.customer_id is not None and draft.customer_id not in (
                None,
                outcome.customer_id,
            ):
                raise InputError(
                    f"outcome {i}: draft {draft.id} was written for another customer",
                    fix="send the customer_id the draft was generated for, or omit it",
                    draft_id=draft.id,
                    index=i,
                )
            if outcome.outcome_id:
                existing = session.scalar(
                    select(OutcomeRow.id).where(OutcomeRow.outcome_key == outcome.outcome_id)
                )
                if existing is not None:
                    ids.append(existing)
                    continue
            row = OutcomeRow(
                draft_id=draft.id,
                variant_index=outcome.variant_index,
                type=outcome.type,
                brand=draft.brand,
                campaign=draft.campaign,
                customer_id=draft.customer_id or outcome.customer_id,
                ts=_naive(outcome.ts) or utcnow(),
                outcome_key=outcome.outcome_id,
            )
            session.add(row)
            session.flush()
            ids.append(row.id)
    return ids


def _naive(ts: datetime | None) -> datetime | None:
    """Store UTC without tzinfo, like every other timestamp column here."""
    if ts is None:
        return None
    return ts.astimezone(UTC).replace(tzinfo=None) if ts.tzinfo else ts

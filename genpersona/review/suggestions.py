"""Suggested brand-guide rules from reviewers' repeated edits.

Every edit's word-level diff yields short (old -> new) swaps; each swap is
counted per brand in the edit's own transaction. When the same swap has been
made in ``MIN_OCCURRENCES`` different drafts it becomes an *open* suggestion
("use 'shop' instead of 'buy'") that a marketer can accept, which writes a
preferred-term rule into the brand guide, or dismiss.
"""

from __future__ import annotations

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from genpersona.db.base import utcnow
from genpersona.db.engine import rowcount, session_scope
from genpersona.errors import InvalidTransition, SuggestionNotFound
from genpersona.review.audit import record
from genpersona.review.guide_writer import add_preferred_term
from genpersona.review.models import RuleSuggestion
from genpersona.review.tables import RuleSuggestionRow
from genpersona.settings import Settings

MIN_OCCURRENCES = 3
MAX_EXAMPLES = 10


def record_substitutions(
    session: Session, brand: str, draft_id: int, pairs: list[tuple[str, str]]
) -> None:
    """Count each swap of one edit (inside the edit's transaction)."""
    for old, new in pairs:
        old, new = old[:128], new[:128]
        row = session.scalars(
            select(RuleSuggestionRow).where(
                RuleSuggestionRow.brand == brand,
                RuleSuggestionRow.old_term == old,
                RuleSuggestionRow.new_term == new,
            )
        ).one_or_none()
        if row is None:
            try:
                with session.begin_nested():  # a concurrent edit may insert the same swap
                    session.add(
                        RuleSuggestionRow(
                            brand=brand,
                            old_term=old,
                            new_term=new,
                            occurrences=1,
                            example_draft_ids=[draft_id],
                            status="open" if MIN_OCCURRENCES <= 1 else "candidate",
                        )
                    )
                continue
            except IntegrityError:
                row = session.scalars(
                    select(RuleSuggestionRow).where(
                        RuleSuggestionRow.brand == brand,
                        RuleSuggestionRow.old_term == old,
                        RuleSuggestionRow.new_term == new,
                    )
                ).one()
        examples = list(row.example_draft_ids or [])
        if draft_id not in examples and len(examples) < MAX_EXAMPLES:
            examples.append(draft_id)
        session.execute(
            update(RuleSuggestionRow)
            .where(RuleSuggestionRow.id == row.id)
            .values(
                occurrences=RuleSuggestionRow.occurrences + 1,
                example_draft_ids=examples,
                updated_at=utcnow(),
            )
        )
        session.execute(
            update(RuleSuggestionRow)
            .where(
                RuleSuggestionRow.id == row.id,
                RuleSuggestionRow.status == "candidate",
                RuleSuggestionRow.occurrences >= MIN_OCCURRENCES,
            )
            .values(status="open")
        )


def _to_model(row: RuleSuggestionRow) -> RuleSuggestion:
    return RuleSuggestion.model_validate(row, from_attributes=True)


def list_suggestions(
    brand: str | None = None, status: str | None = "open", settings: Settings | None = None
) -> list[RuleSuggestion]:
    """Most-repeated first."""
    query = select(RuleSuggestionRow).order_by(
        RuleSuggestionRow.occurrences.desc(), RuleSuggestionRow.id
    )
    if brand is not None:
        query = query.where(RuleSuggestionRow.brand == brand)
    if status is not None:
        query = query.where(RuleSuggestionRow.status == status)
    with session_scope(settings) as session:
        return [_to_model(r) for r in session.scalars(query)]


def _decide(session: Session, suggestion_id: int, status: str, reviewer: str) -> RuleSuggestionRow:
    row = session.get(RuleSuggestionRow, suggestion_id)
    if row is None:
        raise SuggestionNotFound(
            f"rule suggestion {suggestion_id} does not exist",
            fix="pick a suggestion from list_suggestions() or the console's 'Suggested rules' page",
            suggestion_id=suggestion_id,
        )
    if row.status != "open":
        raise InvalidTransition(
            f"rule suggestion {suggestion_id} is {row.status}, not open",
            fix="only open suggestions can be accepted or dismissed; reload the list",
            suggestion_id=suggestion_id,
            status=row.status,
        )
    result = session.execute(
        update(RuleSuggestionRow)
        .where(RuleSuggestionRow.id == suggestion_id, RuleSuggestionRow.status == "open")
        .values(status=status, decided_at=utcnow(), decided_by=reviewer)
    )
    if rowcount(result) != 1:
        raise InvalidTransition(
            f"rule suggestion {suggestion_id} was decided by someone else just now",
            fix="reload the list of suggested rules",
            suggestion_id=suggestion_id,
        )
    return row


def accept_suggestion(
    suggestion_id: int, reviewer: str = "system", settings: Settings | None = None
) -> RuleSuggestion:
    """Write 'use NEW instead of OLD' into the brand guide and mark the suggestion accepted.

    The guide is written inside the database transaction: if the guide cannot
    be written (invalid result, missing file) the suggestion stays open.
    """
    with session_scope(settings) as session:
        row = _decide(session, suggestion_id, "accepted", reviewer)
        reason = (
            f"reviewers replaced '{row.old_term}' with '{row.new_term}' in "
            f"{row.occurrences} drafts; accepted by {reviewer} on {utcnow():%Y-%m-%d}"
        )
        path = add_preferred_term(row.brand, row.new_term, row.old_term, reason, settings)
        record(
            session,
            reviewer,
            "rule_accepted",
            brand=row.brand,
            payload={
                "suggestion_id": suggestion_id,
                "use": row.new_term,
                "instead_of": row.old_term,
                "occurrences": row.occurrences,
                "guide": str(path),
            },
        )
    return _get(suggestion_id, settings)


def dismiss_suggestion(
    suggestion_id: int, reviewer: str = "system", settings: Settings | None = None
) -> RuleSuggestion:
    with session_scope(settings) as session:
        row = _decide(session, suggestion_id, "dismissed", reviewer)
        record(
            session,
            reviewer,
            "rule_dismissed",
            brand=row.brand,
            payload={"suggestion_id": suggestion_id, "old": row.old_term, "new": row.new_term},
        )
    return _get(suggestion_id, settings)


def _get(suggestion_id: int, settings: Settings | None) -> RuleSuggestion:
    with session_scope(settings) as session:
        row = session.get(RuleSuggestionRow, suggestion_id)
        assert row is not None
        return _to_model(row)

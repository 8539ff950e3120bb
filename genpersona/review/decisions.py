"""Reviewers' decisions on drafts, with optimistic concurrency and an audit entry each.

Every decision is one conditional UPDATE — ``WHERE id = ? AND version = ? AND
status = 'pending'`` — issued as the transaction's first statement, so two
reviewers deciding the same draft can never both win: the second update
matches no row and raises ``DraftConflict`` naming who decided first. The
decision row, the audit entry, the exemplar and the rule-suggestion counts
commit in the same transaction; only the exemplar's embedding happens after
commit (see ``exemplars.py``).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import timedelta
from typing import Any

from sqlalchemy import insert, select, update
from sqlalchemy.orm import Session

from genpersona.brands.loader import load_guide
from genpersona.db.base import utcnow
from genpersona.db.engine import rowcount, session_scope
from genpersona.errors import (
    DraftConflict,
    DraftNotFound,
    EditBreaksRules,
    InputError,
    InvalidTransition,
)
from genpersona.guard.engine import check
from genpersona.review.audit import audit_values, record, record_many
from genpersona.review.diffs import diff_content, edit_size, substitutions
from genpersona.review.exemplars import add_exemplar, embed_exemplars
from genpersona.review.models import (
    REGENERATED_REASON,
    REJECT_REASONS,
    BulkResult,
    BulkSkip,
    DecisionResult,
    Reviewer,
)
from genpersona.review.store import insert_drafts, load_draft
from genpersona.review.suggestions import record_substitutions
from genpersona.review.tables import DraftRow, DraftVariantRow, ReviewRow
from genpersona.settings import Settings
from genpersona.types.content import Draft, VariantContent

MAX_NOTE_CHARS = 2000


def _reviewer(name: str) -> str:
    try:
        return Reviewer(name=name).name
    except ValueError as exc:
        raise InputError(
            f"reviewer name {name!r} is not valid",
            fix="give a non-empty reviewer name of at most 64 characters",
            reviewer=name,
        ) from exc


def _claim(
    session: Session,
    draft_id: int,
    expected_version: int,
    reviewer: str,
    status: str,
    variant_index: int | None = None,
) -> DraftRow:
    """Move a pending draft at ``expected_version`` to ``status``, or raise why not."""
    now = utcnow()
    result = session.execute(
        update(DraftRow)
        .where(
            DraftRow.id == draft_id,
            DraftRow.version == expected_version,
            DraftRow.status == "pending",
        )
        .values(
            status=status,
            version=DraftRow.version + 1,
            decided_at=now,
            decided_by=reviewer,
            chosen_variant=variant_index,
        )
        .execution_options(synchronize_session=False)
    )
    row = session.get(DraftRow, draft_id, populate_existing=True)
    if row is None:
        raise DraftNotFound(
            f"draft {draft_id} does not exist",
            fix="reload the queue; the draft may have been erased with its customer",
            draft_id=draft_id,
        )
    if rowcount(result) != 1:
        if row.status != "pending":
            when = f" at {row.decided_at:%Y-%m-%d %H:%M} UTC" if row.decided_at else ""
            message = f"draft {draft_id} was already {row.status} by {row.decided_by}{when}"
        else:
            message = f"draft {draft_id} changed while you were looking at it"
        raise DraftConflict(
            f"{message} (you saw version {expected_version}, it is now version {row.version})",
            fix="reload the draft to see the current decision; your decision was not saved",
            draft_id=draft_id,
            expected_version=expected_version,
            current_version=row.version,
            status=row.status,
            decided_by=row.decided_by,
        )
    return row


def _variant_content(session: Session, draft_id: int, variant_index: int) -> VariantContent:
    content = session.scalars(
        select(DraftVariantRow.content).where(
            DraftVariantRow.draft_id == draft_id, DraftVariantRow.idx == variant_index
        )
    ).one_or_none()
    if content is None:
        if session.get(DraftRow, draft_id) is None:
            raise DraftNotFound(
                f"draft {draft_id} does not exist",
                fix="reload the queue; the draft may have been erased with its customer",
                draft_id=draft_id,
            )
        known = list(
            session.scalars(select(DraftVariantRow.idx).where(DraftVariantRow.draft_id == draft_id))
        )
        raise InputError(
            f"draft {draft_id} has no variant {variant_index}",
            fix=f"pick one of the draft's variants: {sorted(known)}",
            draft_id=draft_id,
            variant_index=variant_index,
        )
    return VariantContent.model_validate(content)


def _review(row: DraftRow, decision: str, reviewer: str, **kwargs: Any) -> dict[str, Any]:
    return {
        "draft_id": row.id,
        "decision": decision,
        "reviewer": reviewer,
        "variant_index": kwargs.get("variant_index"),
        "reason_code": kwargs.get("reason_code"),
        "note": kwargs.get("note"),
        "edited_content": kwargs.get("edited_content"),
        "diff": kwargs.get("diff"),
        "edit_size": kwargs.get("edit_size", 0),
        "draft_version": row.version - 1,
        "brand": row.brand,
        "campaign": row.campaign,
        "customer_id": row.customer_id,
        "created_at": row.decided_at or utcnow(),
    }


def _result(row: DraftRow, reviewer: str, **kwargs: Any) -> DecisionResult:
    return DecisionResult(
        draft_id=row.id, status=row.status, version=row.version, reviewer=reviewer, **kwargs
    )


def _approved_set(session: Session, draft_id: int, requested: Sequence[int] | None) -> list[int]:
    """The variants an approval covers, primary first (the explicit first pick, else top score).

    Default: every variant with no blocking violation, because the delivery
    policy needs a choice among approved copy at send time.
    """
    rows = session.execute(
        select(DraftVariantRow.idx, DraftVariantRow.total_score, DraftVariantRow.violations)
        .where(DraftVariantRow.draft_id == draft_id)
        .order_by(DraftVariantRow.idx)
    ).all()
    blocking = {
        idx: [v["rule_id"] for v in violations if v.get("severity") == "block"]
        for idx, _, violations in rows
    }
    if requested is None:
        ranked = sorted(rows, key=lambda r: (-r.total_score, r.idx))
        chosen = [r.idx for r in ranked if not blocking[r.idx]]
        if not chosen:
            raise InvalidTransition(
                f"every variant of draft {draft_id} breaks brand rules",
                fix="edit the flagged words and approve the edit, or reject the draft",
                draft_id=draft_id,
            )
        return chosen
    chosen = list(dict.fromkeys(requested))
    unknown = [i for i in chosen if i not in blocking]
    if not chosen or unknown:
        raise InputError(
            f"draft {draft_id} has no variant {unknown[0]}"
            if unknown
            else f"no variants given to approve for draft {draft_id}",
            fix=f"pick one or more of the draft's variants: {sorted(blocking)}",
            draft_id=draft_id,
            variant_indexes=chosen,
        )
    for idx in chosen:
        if blocking[idx]:
            raise InvalidTransition(
                f"variant {idx} of draft {draft_id} breaks brand rules "
                f"({', '.join(blocking[idx])})",
                fix="edit the flagged words and approve the edit, leave the variant out, or reject",
                draft_id=draft_id,
                variant_index=idx,
                rules=blocking[idx],
            )
    return chosen


def _approve_in(
    session: Session,
    draft_id: int,
    variant_indexes: Sequence[int] | None,
    reviewer: str,
    expected_version: int,
) -> DecisionResult:
    first = variant_indexes[0] if variant_indexes else None
    row = _claim(session, draft_id, expected_version, reviewer, "approved", first)
    chosen = _approved_set(session, draft_id, variant_indexes)
    primary = chosen[0]
    if row.chosen_variant != primary:
        row.chosen_variant = primary
    session.execute(
        update(DraftVariantRow)
        .where(DraftVariantRow.draft_id == draft_id, DraftVariantRow.idx.in_(chosen))
        .values(approved=True)
        .execution_options(synchronize_session=False)
    )
    content = _variant_content(session, draft_id, primary)
    session.execute(insert(ReviewRow), [_review(row, "approved", reviewer, variant_index=primary)])
    exemplar_id = add_exemplar(session, row, content, "approved")
    record(
        session,
        reviewer,
        "approved",
        draft_id=draft_id,
        brand=row.brand,
        customer_id=row.customer_id,
        payload={
            "variant_index": primary,
            "variant_indexes": sorted(chosen),
            "version": row.version,
            "text": content.all_text(),
            "exemplar_id": exemplar_id,
        },
    )
    return _result(
        row,
        reviewer,
        variant_index=primary,
        variant_indexes=sorted(chosen),
        exemplar_id=exemplar_id,
    )


def approve(
    draft_id: int,
    variant_index: int,
    reviewer: str,
    expected_version: int,
    settings: Settings | None = None,
) -> DecisionResult:
    """Approve one variant as written; it becomes an exemplar for this brand and kind."""
    return approve_set(draft_id, reviewer, expected_version, [variant_index], settings)


def approve_set(
    draft_id: int,
    reviewer: str,
    expected_version: int,
    variant_indexes: Sequence[int] | None = None,
    settings: Settings | None = None,
) -> DecisionResult:
    """Approve a set of variants (default: every one without a blocking violation).

    Delivery then chooses among the set per recipient; the first index given
    (or the top-scored one) becomes the exemplar and the draft's chosen variant.
    """
    reviewer = _reviewer(reviewer)
    with session_scope(settings) as session:
        result = _approve_in(session, draft_id, variant_indexes, reviewer, expected_version)
    embed_exemplars([result.exemplar_id] if result.exemplar_id else [], settings)
    return result


def edit_and_approve(
    draft_id: int,
    variant_index: int,
    new_content: VariantContent,
    reviewer: str,
    expected_version: int,
    settings: Settings | None = None,
) -> DecisionResult:
    """Approve a reviewer's edit of a variant; the word-level diff is kept with the decision.

    An 'edit' that changes nothing is recorded as a plain approval, so the
    edit statistics only count real edits.
    """
    reviewer = _reviewer(reviewer)
    if not new_content.main_text().strip():
        raise InputError(
            f"the edited copy for draft {draft_id} has no main text",
            fix="fill in the subject, headline or answer before approving the edit",
            draft_id=draft_id,
        )
    with session_scope(settings) as session:
        original = _variant_content(session, draft_id, variant_index)  # variants never change
        brand, kind = session.execute(
            select(DraftRow.brand, DraftRow.kind).where(DraftRow.id == draft_id)
        ).one()
    ops = diff_content(original, new_content)
    if not ops:
        return approve(draft_id, variant_index, reviewer, expected_version, settings)
    edit_warnings = _guard_edit(draft_id, brand, kind, new_content, settings)
    size = edit_size(ops)
    with session_scope(settings) as session:
        row = _claim(session, draft_id, expected_version, reviewer, "edited", variant_index)
        edited = new_content.model_dump(mode="json")
        session.execute(
            insert(ReviewRow),
            [
                _review(
                    row,
                    "edited",
                    reviewer,
                    variant_index=variant_index,
                    edited_content=edited,
                    diff=ops,
                    edit_size=size,
                )
            ],
        )
        exemplar_id = add_exemplar(session, row, new_content, "edited")
        record_substitutions(session, row.brand, draft_id, substitutions(ops))
        record(
            session,
            reviewer,
            "edited",
            draft_id=draft_id,
            brand=row.brand,
            customer_id=row.customer_id,
            payload={
                "variant_index": variant_index,
                "version": row.version,
                "before": original.all_text(),
                "after": new_content.all_text(),
                "diff": ops,
                "edit_size": size,
                "exemplar_id": exemplar_id,
                "warnings": edit_warnings,
            },
        )
        result = _result(
            row,
            reviewer,
            variant_index=variant_index,
            variant_indexes=[variant_index],
            exemplar_id=exemplar_id,
        )
    embed_exemplars([exemplar_id], settings)
    return result


def _guard_edit(
    draft_id: int, brand: str, kind: str, content: VariantContent, settings: Settings | None
) -> list[str]:
    """A reviewer's words pass the same brand rules as the model's before they are approved.

    Edits bypassing the guardrails would let an off-brand claim or a creepy
    line reach customers through the one door meant to make copy safer.
    Returns the non-blocking warnings, kept in the audit entry.
    """
    report = check(content, load_guide(brand, settings), kind=kind)  # type: ignore[arg-type]
    if report.blocking:
        raise EditBreaksRules(
            f"the edited copy for draft {draft_id} breaks brand rules: "
            + "; ".join(f"{v.rule_id}: {v.message}" for v in report.blocking),
            fix="change the flagged words (see each violation's suggestion) and approve again",
            draft_id=draft_id,
            violations=report.blocking,
        )
    return [f"{v.rule_id}: {v.message}" for v in report.violations]


def _check_reason(reason_code: str, note: str) -> None:
    if reason_code not in REJECT_REASONS:
        raise InputError(
            f"unknown rejection reason {reason_code!r}",
            fix=f"use one of: {', '.join(REJECT_REASONS)}",
            reason_code=reason_code,
        )
    if reason_code == "other" and not note.strip():
        raise InputError(
            "rejection reason 'other' needs a note",
            fix="say in the note what is wrong with the draft",
            reason_code=reason_code,
        )
    if len(note) > MAX_NOTE_CHARS:
        raise InputError(
            f"the note is {len(note)} characters long",
            fix=f"keep notes under {MAX_NOTE_CHARS} characters",
        )


def reject(
    draft_id: int,
    reason_code: str,
    note: str,
    reviewer: str,
    expected_version: int,
    settings: Settings | None = None,
) -> DecisionResult:
    """Reject with a reason from ``REJECT_REASONS`` plus free text (insights count the codes)."""
    reviewer = _reviewer(reviewer)
    note = note or ""
    _check_reason(reason_code, note)
    with session_scope(settings) as session:
        row = _claim(session, draft_id, expected_version, reviewer, "rejected")
        session.execute(
            insert(ReviewRow),
            [_review(row, "rejected", reviewer, reason_code=reason_code, note=note)],
        )
        record(
            session,
            reviewer,
            "rejected",
            draft_id=draft_id,
            brand=row.brand,
            customer_id=row.customer_id,
            payload={"reason_code": reason_code, "note": note, "version": row.version},
        )
        return _result(row, reviewer)


def bulk_approve(
    ids: list[int],
    reviewer: str,
    expected_versions: dict[int, int] | None = None,
    settings: Settings | None = None,
) -> BulkResult:
    """Approve every variant of each clean draft (top one first); report every skip and why.

    Clean means no guardrail violation on any variant and real model copy (not
    the safe fallback): anything flagged deserves a reviewer's own look. Each
    draft is its own transaction, so one conflict does not undo the others.
    ``expected_versions`` (id -> version the reviewer saw) turns a draft that
    changed since the page was shown into a skip instead of a silent approval.
    """
    reviewer = _reviewer(reviewer)
    expected_versions = expected_versions or {}
    out = BulkResult()
    exemplar_ids: list[int] = []
    unique_ids = list(dict.fromkeys(ids))
    with session_scope(settings) as session:
        rows = {
            r.id: r for r in session.scalars(select(DraftRow).where(DraftRow.id.in_(unique_ids)))
        }
    for draft_id in unique_ids:
        row = rows.get(draft_id)
        reason = None
        if row is None:
            reason = "not found"
        elif row.status != "pending":
            reason = f"already {row.status} by {row.decided_by}"
        elif row.has_violations:
            reason = "has guardrail violations: review it on its own"
        elif row.is_fallback:
            reason = "safe fallback copy, not model copy: review it on its own"
        elif draft_id in expected_versions and expected_versions[draft_id] != row.version:
            reason = f"changed since you loaded it (version {row.version})"
        if reason is not None:
            out.skipped.append(BulkSkip(draft_id=draft_id, reason=reason))
            continue
        assert row is not None
        try:
            with session_scope(settings) as session:
                result = _approve_in(session, draft_id, None, reviewer, row.version)
        except DraftConflict as exc:
            out.skipped.append(BulkSkip(draft_id=draft_id, reason=exc.message))
            continue
        out.approved.append(draft_id)
        if result.exemplar_id:
            exemplar_ids.append(result.exemplar_id)
    embed_exemplars(exemplar_ids, settings)
    return out


def expire_stale(
    older_than: timedelta, actor: str = "system", settings: Settings | None = None
) -> list[int]:
    """Expire pending drafts created before now - ``older_than``; returns their ids."""
    if older_than < timedelta(0):
        raise InputError(
            f"older_than is negative ({older_than})",
            fix="pass a positive age such as timedelta(days=7)",
        )
    actor = _reviewer(actor)
    now = utcnow()
    cutoff = now - older_than
    with session_scope(settings) as session:
        expired = session.execute(
            update(DraftRow)
            .where(DraftRow.status == "pending", DraftRow.created_at < cutoff)
            .values(
                status="expired", version=DraftRow.version + 1, decided_at=now, decided_by=actor
            )
            .returning(
                DraftRow.id,
                DraftRow.version,
                DraftRow.brand,
                DraftRow.campaign,
                DraftRow.customer_id,
                DraftRow.decided_at,
            )
            .execution_options(synchronize_session=False)
        ).all()
        if expired:
            session.execute(
                insert(ReviewRow),
                [
                    {
                        "draft_id": r.id,
                        "decision": "expired",
                        "reviewer": actor,
                        "variant_index": None,
                        "reason_code": None,
                        "note": f"pending for more than {older_than}",
                        "edited_content": None,
                        "diff": None,
                        "edit_size": 0,
                        "draft_version": r.version - 1,
                        "brand": r.brand,
                        "campaign": r.campaign,
                        "customer_id": r.customer_id,
                        "created_at": now,
                    }
                    for r in expired
                ],
            )
            record_many(
                session,
                [
                    audit_values(
                        actor,
                        "expired",
                        draft_id=r.id,
                        brand=r.brand,
                        customer_id=r.customer_id,
                        payload={"older_than_s": older_than.total_seconds()},
                        at=now,
                    )
                    for r in expired
                ],
            )
    return sorted(r.id for r in expired)


#: Produces a fresh draft for (old draft, reviewer's note, settings): the agent's
#: ``regenerate_draft``. Passed in by the caller (API, CLI, console, campaigns) because the
#: review queue sits below the agent and must not import it.
Regenerator = Callable[[Draft, str, Settings | None], Draft]


def regenerate(
    draft_id: int,
    note: str,
    reviewer: str,
    expected_version: int | None = None,
    settings: Settings | None = None,
    *,
    regenerate_fn: Regenerator,
) -> DecisionResult:
    """Ask the agent for a fresh draft with the reviewer's note; the old one is closed.

    The model call happens outside any transaction (it takes seconds). Then,
    in one transaction, the old draft is rejected with reason 'regenerated'
    (only if nobody decided it meanwhile) and the new draft is queued with a
    link to it. If someone decided the old draft during generation the new
    draft is discarded and ``DraftConflict`` is raised.
    """
    reviewer = _reviewer(reviewer)
    note = (note or "").strip()
    if len(note) > MAX_NOTE_CHARS:
        raise InputError(
            f"the note is {len(note)} characters long",
            fix=f"keep notes to the model under {MAX_NOTE_CHARS} characters",
        )
    with session_scope(settings) as session:
        current = load_draft(session, draft_id)
    version = expected_version if expected_version is not None else current.version
    if current.status != "pending" or current.version != version:
        with session_scope(settings) as session:
            _claim(session, draft_id, version, reviewer, "rejected")  # raises the conflict
    fresh = regenerate_fn(current, note, settings)
    queued_by_agent = fresh.id is not None and fresh.id != draft_id
    try:
        with session_scope(settings) as session:
            return _close_regenerated(session, draft_id, version, reviewer, note, fresh)
    except DraftConflict:
        if queued_by_agent:
            _discard(fresh.id, reviewer, draft_id, settings)  # type: ignore[arg-type]
        raise


def _discard(new_id: int, reviewer: str, original_id: int, settings: Settings | None) -> None:
    """Close a regenerated draft whose original someone else decided during generation."""
    with session_scope(settings) as session:
        row = session.get(DraftRow, new_id)
        if row is None or row.status != "pending":
            return
        _claim(session, new_id, row.version, reviewer, "expired")
        record(
            session,
            reviewer,
            "expired",
            draft_id=new_id,
            brand=row.brand,
            customer_id=row.customer_id,
            payload={"why": f"draft {original_id} was decided by someone else during regeneration"},
        )


def _close_regenerated(
    session: Session, draft_id: int, version: int, reviewer: str, note: str, fresh: Draft
) -> DecisionResult:
    row = _claim(session, draft_id, version, reviewer, "rejected")
    session.execute(
        insert(ReviewRow),
        [_review(row, "regenerated", reviewer, reason_code=REGENERATED_REASON, note=note)],
    )
    if fresh.id is not None and fresh.id != draft_id:
        new_id = fresh.id  # the agent queued it itself; just link it
        session.execute(
            update(DraftRow).where(DraftRow.id == new_id).values(regenerated_from=draft_id)
        )
    else:
        clean = fresh.model_copy(update={"id": None, "status": "pending", "version": 1})
        ids, _ = insert_drafts(session, [clean], actor=reviewer, regenerated_from=draft_id)
        new_id = ids[0]
    record(
        session,
        reviewer,
        "regenerated",
        draft_id=draft_id,
        brand=row.brand,
        customer_id=row.customer_id,
        payload={"note": note, "new_draft_id": new_id, "version": row.version},
    )
    return _result(row, reviewer, new_draft_id=new_id)

"""Approval of a set of variants, and what delivery may send (approved_variants)."""

# ruff: noqa: F811  (pytest fixtures imported from review_support are used as arguments)
from __future__ import annotations

import pytest
from review_support import backend, draft_factory, memory_vectors, pg_database_url  # noqa: F401
from sqlalchemy import text

from genpersona.db.engine import get_engine, session_scope
from genpersona.errors import DraftConflict, InputError, InvalidTransition
from genpersona.review.approved import approved_variants, approved_variants_many
from genpersona.review.queue import (
    approve,
    approve_set,
    bulk_approve,
    edit_and_approve,
    get_draft_detail,
    reject,
    submit_draft,
)
from genpersona.types.violations import Violation


def _blocked(draft_factory, idx: int = 1):  # type: ignore[no-untyped-def]
    draft = draft_factory(kind="subject_line")
    draft.variants[idx].violations = [
        Violation(rule_id="banned_term", severity="block", message="'cheapest' is banned")
    ]
    return draft


def test_default_set_is_every_clean_variant_top_scored_first(
    backend, draft_factory, memory_vectors
) -> None:
    d = submit_draft(_blocked(draft_factory, 1))
    result = approve_set(d.id, "alice", expected_version=1)
    assert result.variant_indexes == [0, 2]
    scores = {v.index: v.scores.total for v in d.variants}
    assert result.variant_index == max([0, 2], key=lambda i: (scores[i], -i))
    with session_scope() as session:
        got = approved_variants(session, d.id)
    assert [v.variant_index for v in got] == [0, 2]
    assert got[0].content == d.variants[0].content and not got[0].edited
    detail = get_draft_detail(d.id)
    assert detail.chosen_variant == result.variant_index
    assert detail.audit[0].payload["variant_indexes"] == [0, 2]


def test_reviewer_can_leave_variants_out(backend, draft_factory, memory_vectors) -> None:
    d = submit_draft(draft_factory(kind="subject_line"))
    result = approve_set(d.id, "alice", 1, [2, 0])
    assert result.variant_index == 2 and result.variant_indexes == [0, 2]
    with session_scope() as session:
        assert [v.variant_index for v in approved_variants(session, d.id)] == [0, 2]


def test_a_blocked_or_unknown_variant_in_the_set_refuses_the_whole_approval(
    backend, draft_factory, memory_vectors
) -> None:
    d = submit_draft(_blocked(draft_factory, 1))
    with pytest.raises(InvalidTransition, match="banned_term"):
        approve_set(d.id, "alice", 1, [0, 1])
    with pytest.raises(InputError, match="no variant 7"):
        approve_set(d.id, "alice", 1, [0, 7])
    with pytest.raises(InputError, match="no variants given"):
        approve_set(d.id, "alice", 1, [])
    detail = get_draft_detail(d.id)
    assert detail.draft.status == "pending" and detail.draft.version == 1
    with session_scope() as session:
        assert approved_variants(session, d.id) == []
        flagged = session.execute(
            text("SELECT count(*) FROM draft_variants WHERE draft_id = :d AND approved"),
            {"d": d.id},
        ).scalar()
    assert flagged == 0


def test_all_variants_blocked_has_no_default_set(backend, draft_factory, memory_vectors) -> None:
    draft = draft_factory(kind="subject_line")
    for v in draft.variants:
        v.violations = [Violation(rule_id="claim", severity="block", message="unapproved claim")]
    d = submit_draft(draft)
    with pytest.raises(InvalidTransition, match="every variant"):
        approve_set(d.id, "alice", 1)


def test_an_edit_offers_exactly_the_edited_text(backend, draft_factory, memory_vectors) -> None:
    d = submit_draft(draft_factory(kind="subject_line"))
    new = d.variants[1].content.model_copy(update={"subject": "Tea sets for slow Sundays"})
    result = edit_and_approve(d.id, 1, new, "bob", expected_version=1)
    assert result.variant_indexes == [1]
    with session_scope() as session:
        [only] = approved_variants(session, d.id)
    assert only.edited and only.variant_index == 1 and only.content.subject == new.subject


def test_pending_rejected_and_conflicting_drafts_offer_nothing(
    backend, draft_factory, memory_vectors
) -> None:
    pending = submit_draft(draft_factory(kind="subject_line"))
    rejected = submit_draft(draft_factory(kind="subject_line"))
    reject(rejected.id, "off_brand", "", "carol", expected_version=1)
    approved = submit_draft(draft_factory(kind="subject_line"))
    approve(approved.id, 0, "alice", expected_version=1)
    with pytest.raises(DraftConflict):
        approve_set(approved.id, "bob", 1)
    with session_scope() as session:
        many = approved_variants_many(session, [pending.id, rejected.id, approved.id, 999])
    assert list(many) == [approved.id]
    assert [v.variant_index for v in many[approved.id]] == [0]  # bob's set was not stored


def test_bulk_approve_approves_every_variant_of_a_clean_draft(
    backend, draft_factory, memory_vectors
) -> None:
    d = submit_draft(draft_factory(kind="subject_line"))
    assert bulk_approve([d.id], "alice").approved == [d.id]
    with session_scope() as session:
        assert [v.variant_index for v in approved_variants(session, d.id)] == [0, 1, 2]


def test_migration_0006_flags_the_chosen_variant_of_earlier_approvals(tmp_path) -> None:
    from genpersona.db.migrate import downgrade, upgrade

    engine = get_engine()
    downgrade(engine, "0005")
    with engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO drafts (id, brand, kind, status, idempotency_key, version, top_score,"
                " top_text, has_violations, is_fallback, violation_count, model, prompt_version,"
                " rationale, trace, created_at, chosen_variant, brief) VALUES (1, 'giftloft',"
                " 'subject_line', 'approved', 'k', 2, 0.5, 't', false, false, 0, 'm', 'v1',"
                " '{}', '{}', '2026-01-01', 1, '')"
            )
        )
        for idx in range(3):
            conn.execute(
                text(
                    "INSERT INTO draft_variants (draft_id, idx, content, scores, total_score,"
                    " violations, fixes_applied, attempts, is_fallback) VALUES (1, :i,"
                    " '{\"subject\": \"s\"}', '{}', 0.5, '[]', '[]', 1, false)"
                ),
                {"i": idx},
            )
    upgrade(engine)
    with session_scope() as session:
        assert [v.variant_index for v in approved_variants(session, 1)] == [1]


def test_delivery_offers_only_the_approved_set(backend, draft_factory, memory_vectors) -> None:
    """Both delivery read paths (ORM and the prebuilt fast path) honour a left-out variant."""
    from genpersona.delivery import lookup
    from genpersona.delivery.eligibility import eligible_variants, load_by_id

    d = submit_draft(draft_factory(kind="subject_line"))
    approve_set(d.id, "alice", 1, [2, 0])
    with session_scope() as session:
        slow = load_by_id(session, d.id)
    lookup.clear_cache()
    fast = lookup.draft(get_engine(), d.id, None)
    assert slow is not None and fast is not None
    assert [v.variant_index for v in eligible_variants(slow)] == [0, 2]
    assert [v.variant_index for v in eligible_variants(fast)] == [0, 2]
    with session_scope() as session:
        assert [v.variant_index for v in approved_variants(session, d.id)] == [0, 2]

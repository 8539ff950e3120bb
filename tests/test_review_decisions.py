"""Decisions: approve, edit, reject, bulk, expire, regenerate; optimistic concurrency; both databases."""

# ruff: noqa: F811  (pytest fixtures imported from review_support are used as arguments)
from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from review_support import backend, draft_factory, memory_vectors, pg_database_url  # noqa: F401

from genpersona.db.base import utcnow
from genpersona.errors import DraftConflict, DraftNotFound, InputError, InvalidTransition
from genpersona.review.exemplars import list_exemplars
from genpersona.review.models import QueueFilter
from genpersona.review.queue import (
    approve,
    bulk_approve,
    edit_and_approve,
    expire_stale,
    get_draft,
    get_draft_detail,
    list_drafts,
    regenerate,
    reject,
    submit_draft,
    submit_drafts,
)
from genpersona.types.content import VariantContent
from genpersona.types.violations import Violation


def test_approve_records_decision_audit_and_exemplar(
    backend, draft_factory, memory_vectors
) -> None:
    d = submit_draft(draft_factory(kind="subject_line"))
    result = approve(d.id, 1, "alice", expected_version=1)
    assert result.status == "approved" and result.version == 2 and result.variant_index == 1

    detail = get_draft_detail(d.id)
    assert detail.draft.status == "approved" and detail.draft.version == 2
    assert detail.decided_by == "alice" and detail.chosen_variant == 1
    assert [(r.decision, r.reviewer, r.draft_version) for r in detail.reviews] == [
        ("approved", "alice", 1)
    ]
    assert [a.action for a in detail.audit] == ["approved", "submitted"]
    assert detail.audit[0].payload["text"] == d.variants[1].content.all_text()

    [ex] = list_exemplars()
    assert ex.id == result.exemplar_id and ex.decision == "approved"
    assert ex.text == d.variants[1].content.all_text()
    assert memory_vectors.count("exemplars") == 1
    fetched = memory_vectors.get("exemplars", [f"ex:{ex.id}"])
    assert fetched.metadatas == [{"brand": d.brand, "kind": d.kind}]  # no text, no customer


def test_second_reviewer_gets_a_clear_conflict_and_nothing_changes(backend, draft_factory) -> None:
    d = submit_draft(draft_factory())
    approve(d.id, 0, "alice", expected_version=1)
    with pytest.raises(DraftConflict) as err:
        reject(d.id, "off_brand", "", "bob", expected_version=1)
    assert "already approved by alice" in err.value.message
    assert "version 1" in err.value.message and "version 2" in err.value.message
    assert err.value.data["decided_by"] == "alice"
    detail = get_draft_detail(d.id)
    assert detail.draft.status == "approved" and len(detail.reviews) == 1


def test_two_reviewers_at_once_exactly_one_wins(backend, draft_factory) -> None:
    drafts = submit_drafts([draft_factory() for _ in range(5)])
    for d in drafts:
        barrier = threading.Barrier(2)
        outcomes: dict[str, str] = {}

        def decide(
            name: str,
            action: str,
            draft_id: int = d.id,  # type: ignore[assignment]
            barrier: threading.Barrier = barrier,
            outcomes: dict[str, str] = outcomes,
        ) -> None:
            barrier.wait()
            try:
                if action == "approve":
                    approve(draft_id, 0, name, expected_version=1)
                else:
                    reject(draft_id, "off_brand", "", name, expected_version=1)
                outcomes[name] = "won"
            except DraftConflict:
                outcomes[name] = "conflict"

        threads = [
            threading.Thread(target=decide, args=("alice", "approve")),
            threading.Thread(target=decide, args=("bob", "reject")),
        ]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert sorted(outcomes.values()) == ["conflict", "won"], outcomes
        detail = get_draft_detail(d.id)
        winner = next(n for n, o in outcomes.items() if o == "won")
        assert detail.decided_by == winner and len(detail.reviews) == 1
        assert detail.draft.version == 2


def test_bad_variant_or_reviewer_leaves_the_draft_pending(backend, draft_factory) -> None:
    d = submit_draft(draft_factory())
    with pytest.raises(InputError, match="has no variant 7"):
        approve(d.id, 7, "alice", expected_version=1)
    with pytest.raises(InputError, match="reviewer name"):
        approve(d.id, 0, "   ", expected_version=1)
    with pytest.raises(DraftNotFound):
        approve(12345, 0, "alice", expected_version=1)
    after = get_draft(d.id)
    assert after.status == "pending" and after.version == 1


def test_a_variant_that_breaks_a_blocking_rule_cannot_be_approved_as_is(
    backend, draft_factory, memory_vectors
) -> None:
    draft = draft_factory(kind="subject_line")
    draft.variants[0].violations = [
        Violation(rule_id="banned_term", severity="block", message="'cheapest' is banned")
    ]
    d = submit_draft(draft)
    with pytest.raises(InvalidTransition, match="banned_term"):
        approve(d.id, 0, "alice", expected_version=1)
    assert get_draft(d.id).status == "pending"
    assert list_exemplars() == []
    # fixing the words in an edit is the way through
    fixed = d.variants[0].content.model_copy(update={"subject": "Lovely new tea sets"})
    assert edit_and_approve(d.id, 0, fixed, "alice", expected_version=1).status == "edited"


def test_edit_keeps_a_word_diff_and_the_edited_text_becomes_the_exemplar(
    backend, draft_factory, memory_vectors
) -> None:
    d = submit_draft(draft_factory(kind="subject_line"))
    old = d.variants[0].content
    new = old.model_copy(update={"subject": "Shop " + (old.subject or ""), "preheader": None})
    result = edit_and_approve(d.id, 0, new, "bob", expected_version=1)
    assert result.status == "edited"
    [review] = get_draft_detail(d.id).reviews
    assert review.decision == "edited" and review.edited_content == new
    ops = {(op["field"], op["op"]) for op in review.diff or []}
    assert ("subject", "insert") in ops and ("preheader", "delete") in ops
    assert review.edit_size == 1 + len((old.preheader or "").split())
    [ex] = list_exemplars()
    assert ex.decision == "edited" and ex.text == new.all_text()


def test_an_edit_that_changes_nothing_is_an_approval(
    backend, draft_factory, memory_vectors
) -> None:
    d = submit_draft(draft_factory())
    result = edit_and_approve(d.id, 0, d.variants[0].content, "bob", expected_version=1)
    assert result.status == "approved"


def test_an_empty_edit_is_refused(backend, draft_factory) -> None:
    d = submit_draft(draft_factory(kind="subject_line"))
    with pytest.raises(InputError, match="no main text"):
        edit_and_approve(d.id, 0, VariantContent(subject="  "), "bob", expected_version=1)
    assert get_draft(d.id).status == "pending"


def test_reject_needs_a_known_reason_and_a_note_for_other(backend, draft_factory) -> None:
    d = submit_draft(draft_factory())
    with pytest.raises(InputError, match="unknown rejection reason"):
        reject(d.id, "meh", "", "chen", expected_version=1)
    with pytest.raises(InputError, match="needs a note"):
        reject(d.id, "other", " ", "chen", expected_version=1)
    assert get_draft(d.id).status == "pending"
    reject(d.id, "too_personal", "mentions their order time", "chen", expected_version=1)
    [review] = get_draft_detail(d.id).reviews
    assert (review.decision, review.reason_code, review.note) == (
        "rejected",
        "too_personal",
        "mentions their order time",
    )


def test_bulk_approve_takes_only_clean_pending_drafts(
    backend, draft_factory, memory_vectors
) -> None:
    clean = [draft_factory() for _ in range(3)]
    flagged = draft_factory()
    flagged.variants[2].violations = [Violation(rule_id="style.caps", severity="warn", message="x")]
    fallback = draft_factory()
    for v in fallback.variants:
        v.is_fallback = True
    decided = draft_factory()
    stale = draft_factory()
    saved = submit_drafts([*clean, flagged, fallback, decided, stale])
    ids = [d.id for d in saved]
    reject(ids[5], "off_brand", "", "chen", expected_version=1)
    approve(ids[6], 0, "chen", expected_version=1)  # version 2 now: the page showed version 1

    result = bulk_approve([*ids, 999, ids[0]], "alice", expected_versions={i: 1 for i in ids})
    assert result.approved == ids[:3]
    reasons = {s.draft_id: s.reason for s in result.skipped}
    assert "violations" in reasons[ids[3]]
    assert "fallback" in reasons[ids[4]]
    assert reasons[ids[5]] == "already rejected by chen"
    assert reasons[ids[6]] == "already approved by chen"
    assert reasons[999] == "not found"
    for d in saved[:3]:
        detail = get_draft_detail(d.id)
        assert detail.chosen_variant == d.top.index and detail.decided_by == "alice"
    assert len(list_exemplars()) == 4  # three bulk + chen's approval


def test_expire_stale_closes_only_old_pending_drafts(backend, draft_factory) -> None:
    now = utcnow()
    old = submit_draft(draft_factory(created_at=now - timedelta(days=10)))
    old_decided = submit_draft(draft_factory(created_at=now - timedelta(days=10)))
    fresh = submit_draft(draft_factory(created_at=now - timedelta(hours=1)))
    approve(old_decided.id, 0, "alice", expected_version=1)
    assert expire_stale(timedelta(days=7)) == [old.id]
    assert get_draft(old.id).status == "expired"
    assert get_draft(fresh.id).status == "pending"
    assert get_draft(old_decided.id).status == "approved"
    assert get_draft_detail(old.id).reviews[0].decision == "expired"
    assert expire_stale(timedelta(days=7)) == []
    with pytest.raises(InputError):
        expire_stale(timedelta(days=-1))


def test_regenerate_closes_the_old_draft_and_links_the_new_one(backend, draft_factory) -> None:
    d = submit_draft(draft_factory(kind="subject_line"))
    notes: list[str] = []

    def fake_regenerate(draft, note, settings=None):  # type: ignore[no-untyped-def]
        notes.append(note)
        fresh = draft_factory(kind="subject_line")
        # as the real pipeline does: queue it under a new key, return it with its id
        return submit_draft(
            fresh.model_copy(update={"idempotency_key": "regen-" + draft.idempotency_key})
        )

    result = regenerate(
        d.id, "warmer, mention the tea party", "alice", regenerate_fn=fake_regenerate
    )
    assert notes == ["warmer, mention the tea party"]
    assert result.status == "rejected" and result.new_draft_id not in (None, d.id)
    old = get_draft_detail(d.id)
    assert old.reviews[0].decision == "regenerated" and old.reviews[0].reason_code == "regenerated"
    new = get_draft_detail(result.new_draft_id)
    assert new.draft.status == "pending" and new.regenerated_from == d.id
    assert list_drafts(QueueFilter()).total == 1


def test_regenerate_of_an_unsaved_result_queues_it(backend, draft_factory) -> None:
    d = submit_draft(draft_factory())
    result = regenerate(
        d.id,
        "",
        "alice",
        regenerate_fn=lambda draft, note, settings=None: draft_factory().model_copy(
            update={"idempotency_key": draft.idempotency_key}
        ),
    )
    assert get_draft_detail(result.new_draft_id).regenerated_from == d.id


def test_regenerate_loses_to_a_decision_made_during_generation(backend, draft_factory) -> None:
    d = submit_draft(draft_factory())

    def slow_regenerate(draft, note, settings=None):  # type: ignore[no-untyped-def]
        approve(draft.id, 0, "bob", expected_version=1)  # bob decides while the model runs
        return submit_draft(draft_factory().model_copy(update={"idempotency_key": "regen-x"}))

    with pytest.raises(DraftConflict, match="already approved by bob"):
        regenerate(d.id, "shorter", "alice", regenerate_fn=slow_regenerate)
    assert get_draft(d.id).status == "approved"
    # the discarded regeneration does not linger in the queue
    assert list_drafts(QueueFilter()).total == 0


def test_regenerate_refuses_a_decided_draft_before_calling_the_model(
    backend, draft_factory
) -> None:
    d = submit_draft(draft_factory())
    reject(d.id, "off_brand", "", "bob", expected_version=1)
    called: list[int] = []
    with pytest.raises(DraftConflict):
        regenerate(
            d.id,
            "again",
            "alice",
            regenerate_fn=lambda draft, note, settings=None: called.append(1),
        )
    assert called == []

"""Review queue: submitting (idempotent), reading and paging, on SQLite and PostgreSQL."""

# ruff: noqa: F811  (pytest fixtures imported from review_support are used as arguments)
from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from review_support import backend, draft_factory, memory_vectors, pg_database_url  # noqa: F401
from sqlalchemy import func, select

from genpersona.db.base import utcnow
from genpersona.db.engine import session_scope
from genpersona.errors import DraftNotFound, InputError
from genpersona.review.models import QueueFilter
from genpersona.review.queue import (
    approve,
    filter_options,
    get_draft,
    get_draft_detail,
    list_drafts,
    submit_draft,
    submit_drafts,
)
from genpersona.review.seed import seed_queue
from genpersona.review.tables import AuditRow, DraftRow
from genpersona.types.violations import Span, Violation


def test_submit_and_read_back_round_trips_the_draft(backend, draft_factory) -> None:
    draft = draft_factory(kind="hero", campaign="garden-refresh")
    draft.variants[1].violations = [
        Violation(
            rule_id="banned_term",
            severity="block",
            message="'cheapest' is banned",
            span=Span(start=0, end=8, text="cheapest"),
        )
    ]
    saved = submit_draft(draft)
    assert saved.id is not None and saved.status == "pending" and saved.version == 1

    loaded = get_draft(saved.id)
    assert loaded.brand == draft.brand and loaded.kind == "hero"
    assert loaded.campaign == "garden-refresh"
    assert [v.content for v in loaded.variants] == [v.content for v in draft.variants]
    assert loaded.variants[1].violations[0].span.text == "cheapest"
    assert loaded.rationale == draft.rationale
    assert loaded.has_violations and not loaded.is_fallback

    row = list_drafts(QueueFilter()).rows[0]
    assert row.id == saved.id
    assert row.top_score == pytest.approx(draft.top.scores.total)
    assert row.top_text == draft.top.content.main_text()
    assert row.has_violations and row.violation_count == 1
    detail = get_draft_detail(saved.id)
    assert [a.action for a in detail.audit] == ["submitted"]


def test_same_request_twice_gives_one_pending_draft(backend, draft_factory) -> None:
    draft = draft_factory()
    first = submit_draft(draft)
    again = submit_draft(draft.model_copy(update={"brief": draft.brief}))
    assert again.id == first.id
    with session_scope() as s:
        assert s.scalar(select(func.count()).select_from(DraftRow)) == 1

    # once decided, the same request may queue a fresh draft
    approve(first.id, 0, "alice", 1)
    third = submit_draft(draft)
    assert third.id != first.id and third.status == "pending"


def test_duplicate_keys_inside_one_batch_are_one_draft(backend, draft_factory) -> None:
    a = draft_factory()
    b = draft_factory()
    out = submit_drafts([a, b, a])
    assert out[0].id == out[2].id != out[1].id
    assert list_drafts().total == 2


def test_concurrent_submits_of_one_request_store_one_draft(backend, draft_factory) -> None:
    draft = draft_factory()
    barrier = threading.Barrier(4)
    ids: list[int] = []
    errors: list[BaseException] = []

    def worker() -> None:
        try:
            barrier.wait()
            ids.append(submit_draft(draft).id)  # type: ignore[arg-type]
        except BaseException as exc:  # noqa: BLE001
            errors.append(exc)

    threads = [threading.Thread(target=worker) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    assert len(set(ids)) == 1
    assert list_drafts().total == 1


def test_a_draft_without_variants_is_refused_and_nothing_is_stored(backend, draft_factory) -> None:
    good = draft_factory()
    bad = draft_factory().model_copy(update={"variants": []})
    with pytest.raises(InputError, match="no variants"):
        submit_drafts([good, bad])
    assert list_drafts().total == 0


def test_unknown_draft_is_a_clear_not_found(backend) -> None:
    with pytest.raises(DraftNotFound, match="draft 999 does not exist"):
        get_draft(999)


def test_filters_counts_sorting_and_paging(backend, draft_factory) -> None:
    now = utcnow()
    drafts = []
    for i in range(12):
        d = draft_factory(
            brand="giftloft" if i % 3 else "teahouse",
            kind="subject_line" if i % 2 else "hero",
            campaign="spring" if i < 6 else "autumn",
            created_at=now - timedelta(hours=12 - i),
        )
        drafts.append(d)
    drafts[0].variants[0].violations = [
        Violation(rule_id="banned_term", severity="block", message="x")
    ]
    for v in drafts[1].variants:
        v.is_fallback = True
    ids = [d.id for d in submit_drafts(drafts)]
    approve(ids[5], 0, "alice", 1)

    everything = list_drafts(QueueFilter(status=None), page_size=50)
    assert everything.total == 12
    pending = list_drafts(QueueFilter(), page_size=50)
    assert pending.total == 11
    assert pending.counts["pending"] == 11 and pending.counts["approved"] == 1

    tea = list_drafts(QueueFilter(brand="teahouse"), page_size=50)
    assert {r.brand for r in tea.rows} == {"teahouse"} and tea.total == 4
    assert list_drafts(QueueFilter(campaign="autumn")).total == 6
    assert list_drafts(QueueFilter(kind="hero")).total == 6
    flagged = list_drafts(QueueFilter(has_violations=True))
    assert [r.id for r in flagged.rows] == [ids[0]]
    fallback = list_drafts(QueueFilter(is_fallback=True))
    assert [r.id for r in fallback.rows] == [ids[1]]
    clean = list_drafts(QueueFilter(has_violations=False, is_fallback=False), page_size=50)
    assert all(r.clean for r in clean.rows) and clean.total == 9
    # counts are per status under the other filters
    assert list_drafts(QueueFilter(campaign="spring")).counts == {
        "pending": 5,
        "approved": 1,
        "edited": 0,
        "rejected": 0,
        "expired": 0,
    }

    by_score = list_drafts(QueueFilter(), sort="score_desc", page_size=50).rows
    assert [r.top_score for r in by_score] == sorted((r.top_score for r in by_score), reverse=True)
    oldest = list_drafts(QueueFilter(), sort="oldest", page_size=50).rows
    assert oldest[0].id == ids[0] and oldest[-1].id == ids[11]
    newest = list_drafts(QueueFilter(), sort="newest", page_size=50).rows
    assert newest[0].id == ids[11]

    p1 = list_drafts(QueueFilter(), page=1, page_size=4)
    p2 = list_drafts(QueueFilter(), page=2, page_size=4)
    p3 = list_drafts(QueueFilter(), page=3, page_size=4)
    assert p1.pages == 3
    seen = [r.id for r in p1.rows + p2.rows + p3.rows]
    assert len(seen) == len(set(seen)) == 11
    past_end = list_drafts(QueueFilter(), page=99, page_size=4)
    assert past_end.page == 3 and [r.id for r in past_end.rows] == [r.id for r in p3.rows]

    opts = filter_options()
    assert opts["brands"] == ["giftloft", "teahouse"]
    assert opts["campaigns"] == ["autumn", "spring"]


def test_bad_paging_and_sort_are_clear_errors(backend) -> None:
    with pytest.raises(InputError, match="unknown sort"):
        list_drafts(sort="random")  # type: ignore[arg-type]
    with pytest.raises(InputError, match="page size"):
        list_drafts(page_size=0)
    with pytest.raises(InputError, match="page"):
        list_drafts(page=0)


def test_seeded_queue_has_realistic_mix(backend) -> None:
    ids = seed_queue(200, seed=3)
    assert len(ids) == 200
    page = list_drafts(QueueFilter(), page_size=200)
    assert 0 < sum(r.has_violations for r in page.rows) < 100
    assert sum(r.is_fallback for r in page.rows) < 40
    with session_scope() as s:
        assert s.scalar(select(func.count()).select_from(AuditRow)) == 200

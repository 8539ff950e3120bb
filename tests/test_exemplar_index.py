"""The in-process exemplar copy: served only while one aggregate query proves it current."""

# ruff: noqa: F811  (pytest fixtures imported from review_support are used as arguments)
from __future__ import annotations

from datetime import timedelta

import numpy as np
import pytest
from review_support import backend, draft_factory, memory_vectors, pg_database_url  # noqa: F401
from sqlalchemy import delete, insert, select, update

from genpersona.db.base import utcnow
from genpersona.db.engine import session_scope
from genpersona.review.exemplar_index import EXEMPLAR_INDEX, ClickWeighting, click_adjustment
from genpersona.review.exemplars import embed_exemplars, similar_exemplars
from genpersona.review.queue import approve, submit_draft
from genpersona.review.tables import ExemplarRow
from genpersona.types.content import VariantContent


def _approved(draft_factory, brief: str, text_: str) -> int:  # type: ignore[no-untyped-def]
    d = draft_factory(brand="giftloft", kind="subject_line").model_copy(update={"brief": brief})
    d.variants[0].content = VariantContent(subject=text_)
    d.variants[0].violations = []
    saved = submit_draft(d)
    return approve(saved.id, 0, "alice", expected_version=1).exemplar_id  # type: ignore[return-value]


def test_unchanged_exemplars_are_not_reloaded(backend, draft_factory, memory_vectors) -> None:
    EXEMPLAR_INDEX.clear()
    first = _approved(draft_factory, "spring tea party", "Tea party season is here")
    assert [e.id for e in similar_exemplars("giftloft", "subject_line", "tea party")] == [first]
    loads = EXEMPLAR_INDEX.loads
    for _ in range(3):
        similar_exemplars("giftloft", "subject_line", "tea party")
    assert EXEMPLAR_INDEX.loads == loads
    second = _approved(draft_factory, "christmas lights", "Deck the halls early")
    found = similar_exemplars("giftloft", "subject_line", "christmas lights")
    assert EXEMPLAR_INDEX.loads == loads + 1  # a new decision is seen at once
    assert {e.id for e in found} == {first, second}


def test_an_erased_exemplar_is_never_served_even_when_its_id_is_reused(
    backend, draft_factory, memory_vectors
) -> None:
    """SQLite may hand a deleted max id to the next row: newest created_at tells them apart."""
    EXEMPLAR_INDEX.clear()
    keep = _approved(draft_factory, "garden party", "Garden party picks")
    gone = _approved(draft_factory, "secret brief", "MARKER-7f3 private words")
    assert gone in {e.id for e in similar_exemplars("giftloft", "subject_line", "secret")}
    with session_scope() as s:
        row = s.get(ExemplarRow, gone)
        values = {c.name: getattr(row, c.name) for c in ExemplarRow.__table__.columns}
        s.execute(delete(ExemplarRow).where(ExemplarRow.id == gone))
    with session_scope() as s:  # the same id, count and max id again, but a different row
        values.update(text="Fresh autumn words", created_at=utcnow() + timedelta(seconds=1))
        s.execute(insert(ExemplarRow).values(**values))
    embed_exemplars([gone])
    found = similar_exemplars("giftloft", "subject_line", "secret brief")
    assert {e.id for e in found} == {keep, gone}
    assert all("MARKER-7f3" not in e.text for e in found)
    with session_scope() as s:
        s.execute(delete(ExemplarRow))
    assert similar_exemplars("giftloft", "subject_line", "secret brief") == []


def test_no_embedded_exemplars_means_no_vector_store_call(
    backend, draft_factory, memory_vectors, monkeypatch
) -> None:
    calls: list[str] = []
    monkeypatch.setattr(memory_vectors, "query", lambda *a, **k: calls.append("query") or [])
    monkeypatch.setattr(memory_vectors, "get", lambda *a, **k: calls.append("get"))
    assert similar_exemplars("giftloft", "subject_line", "anything") == []
    assert calls == []
    with session_scope() as s:
        assert s.scalar(select(ExemplarRow.id)) is None


def _set_outcomes(stats: dict[int, tuple[int, int]]) -> None:
    with session_scope() as s:
        for exemplar_id, (n, c) in stats.items():
            s.execute(
                update(ExemplarRow)
                .where(ExemplarRow.id == exemplar_id)
                .values(exposures=n, clicks=c)
            )


def test_shrinkage_moves_little_on_few_exposures_and_drops_a_clear_loser() -> None:
    weighting = ClickWeighting(strength=30.0, weight=0.1, drop_below=0.5)
    adjust, keep = click_adjustment(
        np.array([5, 400, 400, 400]), np.array([0, 0, 20, 60]), weighting
    )
    # pooled rate 80/1205; 5 sends without a click barely move an exemplar ...
    assert -0.02 < adjust[0] < 0 and keep[0]
    # ... 400 without a click is a clear loser, 60 of 400 a clear winner
    assert not keep[1] and keep[3] and adjust[3] > 0.05
    assert adjust[3] > adjust[2] > adjust[1]
    # no click anywhere (or only one exemplar delivered): nothing to weight by
    assert click_adjustment(np.array([10, 10]), np.array([0, 0]), weighting)[0].tolist() == [0, 0]
    assert click_adjustment(np.array([10, 0]), np.array([3, 0]), weighting)[1].all()


def test_a_losing_exemplar_drops_out_and_a_winner_rises(
    backend, draft_factory, memory_vectors
) -> None:
    """Outcomes feed generation: the few-shot examples follow what customers clicked."""
    EXEMPLAR_INDEX.clear()
    brief = "winter tea gifts"
    texts = ["Tea gifts: Earl Grey tins", "Tea gifts: green tea sets", "Tea gifts: a chai mug"]
    ids = [_approved(draft_factory, brief, t) for t in texts]
    before = similar_exemplars("giftloft", "subject_line", brief, k=3)
    order = [e.id for e in before]
    assert set(order) == set(ids)
    top, middle, last = order
    assert before[2].score <= before[1].score  # the winner-to-be starts last
    _set_outcomes({top: (300, 1), middle: (300, 30), last: (300, 90)})
    after = similar_exemplars("giftloft", "subject_line", brief, k=3)
    assert [e.id for e in after] == [last, middle]  # the loser is no longer shown
    assert after[0].exposures == 300 and after[0].clicks == 90
    assert after[0].score == pytest.approx(before[2].score, abs=1e-6)  # score stays the cosine
    _set_outcomes({top: (0, 0), middle: (0, 0), last: (0, 0)})  # outcomes erased: cosine again
    assert [e.id for e in similar_exemplars("giftloft", "subject_line", brief, k=3)] == order

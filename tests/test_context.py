"""context_for: personalized bundle with evidence, ranking by brief, opt-out, anonymous."""

# ruff: noqa: F811  (the shared fixtures imported from _data_fixtures are used as arguments)
from __future__ import annotations

import json

import pytest

from genpersona.context.retrieval import context_for
from genpersona.customers.records import add_memory_fact
from genpersona.customers.rights import set_opt_out
from genpersona.embeddings.factory import get_caching_embedder
from genpersona.errors import CustomerNotFound
from genpersona.types.audience import AnonymousContext
from tests._data_fixtures import memory_vectors, retail_frame, shop, write_parquet  # noqa: F401


def test_personalized_bundle_has_profile_memories_and_recs_with_evidence(shop):
    bundle = context_for(shop, "10001", "Christmas candles and lanterns", k_memories=3, k_items=4)
    assert bundle.personalized and bundle.consent.personalization
    assert bundle.profile is not None and bundle.profile.frequency == 5
    assert bundle.profile.favourite_themes[0] == "candles and lanterns"
    assert bundle.profile.locale == "en-GB" and bundle.profile.timezone == "Europe/London"
    assert 0 < len(bundle.memories) <= 3
    assert all(m.evidence.event_ids for m in bundle.memories)
    assert all(not m.knowingly_shared for m in bundle.memories)
    assert bundle.recommendations and len(bundle.recommendations) <= 4
    assert all(r.evidence.source for r in bundle.recommendations)


def test_a_brief_is_embedded_once_for_many_customers(shop, monkeypatch):
    embedder = get_caching_embedder()
    calls: list[list[str]] = []
    inner_embed = embedder.inner.embed
    monkeypatch.setattr(
        embedder.inner, "embed", lambda texts: calls.append(texts) or inner_embed(texts)
    )
    brief = "Christmas candles and lanterns"
    first = context_for(shop, "10001", brief, k_memories=2)
    context_for(shop, "10002", brief, k_memories=2)
    assert calls == [[brief]]
    assert first.memories == context_for(shop, "10001", brief, k_memories=2).memories


def test_memories_are_ranked_by_relevance_to_the_brief(shop):
    add_memory_fact(shop, "10002", "Loves lavender scented soap gifts", "chat", True)
    top = context_for(shop, "10002", "lavender scented soap", k_memories=1).memories[0]
    assert top.text == "Loves lavender scented soap gifts" and top.knowingly_shared
    baking = context_for(shop, "10002", "kitchen and baking cake stand", k_memories=1).memories[0]
    assert "kitchen and baking" in baking.text


def test_same_results_with_the_naive_filtered_query(shop):
    add_memory_fact(shop, "10002", "Loves lavender scented soap gifts", "chat", True)
    by_id = context_for(shop, "10002", "lavender soap", k_memories=3)
    filtered = context_for(shop, "10002", "lavender soap", k_memories=3, memory_strategy="filtered")
    assert [m.fact_id for m in by_id.memories] == [m.fact_id for m in filtered.memories]


def test_opt_out_leaves_nothing_personal(shop):
    personal = context_for(shop, "10002", "baking")
    set_opt_out(shop, "10002")
    bundle = context_for(shop, "10002", "baking")
    assert not bundle.personalized
    assert bundle.profile is None and bundle.memories == []
    assert all(r.reason.startswith("popular") for r in bundle.recommendations)
    assert all(not r.evidence.stock_codes for r in bundle.recommendations)
    dumped = json.dumps(bundle.model_dump(mode="json"))
    for m in personal.memories:
        assert m.text not in dumped
    assert "France" not in dumped and "fr-FR" not in dumped
    set_opt_out(shop, "10002", opted_out=False)
    assert context_for(shop, "10002", "baking").personalized


def test_anonymous_and_unknown_customers(shop):
    anon = context_for(shop, None, "gifts", anonymous=AnonymousContext(country="Germany"))
    assert not anon.personalized and anon.profile is None and anon.recommendations
    assert anon.anonymous.country == "Germany"
    with pytest.raises(CustomerNotFound):
        context_for(shop, "99999", "gifts")


def test_expired_and_chat_facts_respect_consent(shop):
    from datetime import datetime, timedelta

    from genpersona.customers.records import set_consent

    add_memory_fact(shop, "10003", "Planning a garden party in June", "chat", True)
    add_memory_fact(
        shop, "10003", "Asked about lavender last week", "chat", True,
        expires_at=datetime.now() - timedelta(days=1),
    )  # fmt: skip
    texts = [m.text for m in context_for(shop, "10003", "party lavender", k_memories=20).memories]
    assert "Planning a garden party in June" in texts
    assert "Asked about lavender last week" not in texts
    set_consent(shop, "10003", chat_memory=False)
    texts = [m.text for m in context_for(shop, "10003", "party", k_memories=20).memories]
    assert "Planning a garden party in June" not in texts


def test_common_fact_vectors_are_warmed_once_and_rank_exactly_as_the_store(shop):
    """After the first request for a brand, shared fact texts skip the vector store; the
    ranking is the same as the naive filtered query's."""
    from genpersona.context.fact_vectors import FACT_VECTORS
    from genpersona.context.retrieval import warm_context

    warmed = warm_context(shop)
    assert warmed["fact_vectors"] > 0
    assert warm_context(shop)["fact_vectors"] == 0  # once per process and brand
    hits = FACT_VECTORS.hits
    for cid in ("10001", "10002"):
        by_id = context_for(shop, cid, "candles", k_memories=3)
        filtered = context_for(shop, cid, "candles", k_memories=3, memory_strategy="filtered")
        assert [m.fact_id for m in by_id.memories] == [m.fact_id for m in filtered.memories]
        assert [m.score for m in by_id.memories] == pytest.approx(
            [m.score for m in filtered.memories], abs=1e-4
        )
    assert FACT_VECTORS.hits > hits and FACT_VECTORS.misses == 0


def test_a_fact_added_after_warming_is_fetched_and_ranked(shop):
    from genpersona.context.retrieval import warm_context

    warm_context(shop)
    add_memory_fact(shop, "10002", "Collects lavender scented soap", "chat", True)
    top = context_for(shop, "10002", "lavender scented soap", k_memories=1).memories[0]
    assert top.text == "Collects lavender scented soap"

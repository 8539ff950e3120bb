"""The pipeline's stages one by one: context, parsing, knowledge, scoring, rationale, trace."""

from __future__ import annotations

import time

import numpy as np
import pytest
from agent_support import CATALOG, MEMORY_TEXT, World, make_guide

from genpersona.agent import knowledge, scoring
from genpersona.agent.context_stage import anonymous_line, build_context
from genpersona.agent.generation import parse_output, seed_for
from genpersona.agent.rationale import customer_line
from genpersona.agent.trace import StageTimer, union_seconds
from genpersona.embeddings.fake import FakeEmbedder
from genpersona.errors import GenerationError
from genpersona.llm.base import LLMResult
from genpersona.types.audience import AnonymousContext
from genpersona.types.content import ChatTurn, ContentRequest, Variant, VariantContent
from genpersona.vectors.memory import InMemoryVectorStore


@pytest.fixture(autouse=True)
def _fresh_caches():
    scoring.clear_caches()
    yield
    scoring.clear_caches()


def _req(kind: str = "subject_line", customer: str | None = "c1", **kw) -> ContentRequest:
    if kind == "chat_answer":
        kw.setdefault(
            "conversation", [ChatTurn(role="customer", text="How long does delivery take?")]
        )
    return ContentRequest(brand="teashop", kind=kind, customer_id=customer, **kw)


# --- context -------------------------------------------------------------------------
def test_opt_out_context_holds_no_personal_data() -> None:
    world = World()
    world.opted_out.add("c1")
    actx = build_context(_req(), world.deps())
    assert not actx.personalized
    assert actx.bundle.profile is None and actx.bundle.memories == []
    assert all(r.reason.startswith("popular") for r in actx.bundle.recommendations)


def test_hero_features_only_items_that_exist_in_the_catalog() -> None:
    world = World()
    actx = build_context(_req("hero"), world.deps())
    codes = [f.stock_code for f in actx.featured]
    assert codes and all(c in CATALOG for c in codes)
    assert "ZZZ" not in codes  # recommended, but not in the catalog
    assert actx.featured[0].description == CATALOG[codes[0]].description  # the catalog's own words


def test_hero_without_any_catalog_item_is_a_clear_error() -> None:
    world = World()
    deps = world.deps(catalog_items=lambda brand, codes, s: {})
    with pytest.raises(GenerationError) as err:
        build_context(_req("hero"), deps)
    assert "catalog" in err.value.message and "ingest" in err.value.fix


def test_anonymous_visitor_gets_context_not_a_profile() -> None:
    world = World()
    anon = AnonymousContext(country="France", referrer="instagram.com",
                            local_time=__import__("datetime").datetime(2026, 4, 2, 19, 0))  # fmt: skip
    actx = build_context(_req(customer=None, anonymous=anon), world.deps())
    assert not actx.personalized and actx.bundle.profile is None
    assert (
        anonymous_line(anon)
        == "visiting from France, in the evening, in spring, arrived from instagram.com"
    )


# --- parsing --------------------------------------------------------------------------
def test_parse_subject_with_quotes_and_preheader() -> None:
    world = World()
    actx = build_context(_req(), world.deps())
    vc = parse_output("subject_line", ' "Tea time, your way"\nPreheader: New cups inside', actx)
    assert vc.subject == "Tea time, your way" and vc.preheader == "New cups inside"


def test_parse_hero_fills_missing_fields_and_keeps_catalog_items() -> None:
    world = World()
    actx = build_context(_req("hero"), world.deps())
    vc = parse_output("hero", " Pour a little joy", actx)
    assert vc.headline == "Pour a little joy"
    assert vc.cta == "Take a look" and "vintage rose teapot" in (vc.subheadline or "")
    assert [f.stock_code for f in vc.featured_items] == [f.stock_code for f in actx.featured]
    full = parse_output("hero", " Pour joy\nSubheadline: Teapots galore.\nCTA: Shop now", actx)
    # the button is the guide's, whatever the model wrote
    assert (full.subheadline, full.cta) == ("Teapots galore.", vc.cta)


def test_parse_chat_answer_drops_tags_and_cut_off_sentence() -> None:
    world = World()
    actx = build_context(_req("chat_answer"), world.deps())
    vc = parse_output("chat_answer", " <message>It takes 3 to 5 days. We also offer gift wr", actx)
    assert vc.answer == "It takes 3 to 5 days."


def test_seeds_differ_per_candidate_and_attempt_and_repeat_per_request() -> None:
    key = _req().idempotency_key()
    seeds = {seed_for(key, c, a) for c in range(5) for a in range(3)}
    assert len(seeds) == 15 and seed_for(key, 1, 0) == seed_for(key, 1, 0)


# --- knowledge --------------------------------------------------------------------------
def test_knowledge_retrieves_the_matching_policy_and_reindexes_on_guide_edit() -> None:
    store, emb = InMemoryVectorStore(), FakeEmbedder()
    guide = make_guide()
    hits = knowledge.retrieve(guide, "how long does delivery take to my house", emb, store)
    assert hits and hits[0].question == "How long does delivery take?"
    assert store.count("knowledge") == 3 * 2  # each entry, and its question as a phrasing
    edited = make_guide(version="2026.11.2", knowledge=[
        {"question": "How long does delivery take?", "answer": "Next day, always."}])  # fmt: skip
    hits = knowledge.retrieve(edited, "how long does delivery take", emb, store)
    assert store.count("knowledge") == 2 and hits[0].answer == "Next day, always."


def test_chat_context_carries_retrieved_knowledge() -> None:
    world = World()
    actx = build_context(_req("chat_answer"), world.deps())
    assert actx.knowledge and actx.knowledge[0].question.startswith("How long does delivery")


# --- scoring -----------------------------------------------------------------------------
def _variant(text: str, **kw) -> Variant:
    return Variant(index=0, content=VariantContent(subject=text), **kw)


def test_scores_prefer_on_theme_on_voice_and_new_copy() -> None:
    world = World()
    deps = world.deps(past_texts=lambda b, c, k, s: ["Garden party bunting for summer"])
    actx = build_context(_req(), deps)
    sctx = scoring.build_scoring_context(actx, deps)
    ranked = scoring.score_variants(
        [_variant("Vintage tea sets and teapots for your table"),
         _variant("Garden party bunting for summer"),
         _variant("Last chance, act fast")],
        sctx, deps.embedder, 0.0,  # the sub-scores themselves, before quality weighting
    )  # fmt: skip
    by_text = {v.content.subject: v.scores for v in ranked}
    tea = by_text["Vintage tea sets and teapots for your table"]
    bunting = by_text["Garden party bunting for summer"]
    pushy = by_text["Last chance, act fast"]
    assert ranked[0].content.subject.startswith("Vintage tea sets")
    assert tea.relevance > bunting.relevance and tea.specificity > bunting.specificity
    assert tea.specificity == 1.0  # closer to this customer than to every other one
    assert pushy.brand_voice < 0.5 < tea.brand_voice or pushy.brand_voice < tea.brand_voice
    assert bunting.novelty < 0.05 and tea.novelty > 0.5


def test_chat_answers_are_not_weighted_by_the_one_line_copy_classifier() -> None:
    world = World()
    deps = world.deps()
    actx = build_context(_req("chat_answer"), deps)
    sctx = scoring.build_scoring_context(actx, deps)
    answer = Variant(index=0, content=VariantContent(answer=(
        "Most UK orders arrive in 2 to 4 working days. You will get a tracking link by "
        "email as soon as your parcel leaves our warehouse.")))  # fmt: skip
    (ranked,) = scoring.score_batch_item([answer], sctx, actx, deps)
    (unweighted,) = scoring.score_variants([answer], sctx, deps.embedder, 0.0)
    assert "chat_answer" not in scoring.QUALITY_KINDS
    assert ranked.scores.total == pytest.approx(unweighted.scores.total, abs=1e-3)
    assert ranked.scores.total > 0


def test_length_fit_and_fallback_penalty() -> None:
    assert scoring.length_fit("x" * 40, 60) == 1.0
    assert scoring.length_fit("x" * 90, 60) == 0.5
    assert scoring.length_fit("", 60) == 0.0
    assert scoring.length_fit("x" * 12, 60) == pytest.approx(0.5)
    world = World()
    deps = world.deps()
    sctx = scoring.build_scoring_context(build_context(_req(), deps), deps)
    a, b = scoring.score_variants(
        [_variant("Teapots for you"), _variant("Teapots for you", is_fallback=True)],
        sctx,
        deps.embedder,
    )
    assert a.is_fallback is False and a.scores.total - b.scores.total == pytest.approx(
        0.25, abs=1e-3
    )


def test_opted_out_drafts_get_no_specificity_or_relevance_claims() -> None:
    world = World()
    world.opted_out.add("c1")
    deps = world.deps()
    sctx = scoring.build_scoring_context(build_context(_req(), deps), deps)
    (v,) = scoring.score_variants([_variant("Vintage tea sets")], sctx, deps.embedder)
    assert v.scores.specificity == 0.0 and v.scores.novelty == 1.0


# --- rationale and trace ---------------------------------------------------------------
def test_customer_line_quotes_only_shared_facts_or_behaviour() -> None:
    world = World()
    actx = build_context(_req(), world.deps())
    assert (
        customer_line(actx, _variant("Rose teapots to collect"))
        == f"Because you told us: “{MEMORY_TEXT}”"
    )
    assert (
        customer_line(actx, _variant("Vintage tea sets"))
        == "Because you often buy vintage tea sets"
    )
    world.opted_out.add("c1")
    actx = build_context(_req(), world.deps())
    assert "Not personalised" in customer_line(actx, _variant("Vintage tea sets"))


def test_trace_counts_overlapping_model_calls_once() -> None:
    assert union_seconds([(0, 2), (1, 3), (5, 6)]) == 4
    timer = StageTimer()
    with timer.stage("context"):
        pass
    now = time.perf_counter()
    res = LLMResult(text="x", model="m", backend="fake", prompt_tokens=5, completion_tokens=2)
    timer.record_llm(res, now, now + 0.5)
    timer.record_llm(res, now + 0.25, now + 0.5)
    trace = timer.finish()
    assert trace.model_ms == pytest.approx(500, abs=1) and trace.prompt_tokens == 10
    assert [s.stage for s in trace.stages] == ["context"]
    assert np.isfinite(trace.total_ms)
    assert trace.model_calls == 2 and trace.cached_prompt_tokens == 0


def test_trace_splits_prompt_evaluation_from_decoding_and_counts_cached_tokens() -> None:
    """What the latency bench reads: per draft, how many prompt tokens the server served
    from its cache and its own prompt-eval and decode clocks (summed over calls)."""
    timer = StageTimer()
    now = time.perf_counter()
    for cached, eval_ms in ((0, 900.0), (360, 250.0), (360, 240.0)):
        res = LLMResult(text="x", model="m", backend="local", prompt_tokens=455,
                        completion_tokens=30, cached_prompt_tokens=cached,
                        prompt_eval_ms=eval_ms, decode_ms=800.0)  # fmt: skip
        timer.record_llm(res, now, now + 1)
    no_clock = LLMResult(text="x", model="m", backend="fake", prompt_tokens=10)
    timer.record_llm(no_clock, now, now + 1)  # a backend without timings adds none
    trace = timer.finish()
    assert trace.model_calls == 4 and trace.prompt_tokens == 3 * 455 + 10
    assert trace.cached_prompt_tokens == 720
    assert trace.prompt_eval_ms == pytest.approx(1390) and trace.decode_ms == pytest.approx(2400)


def test_timed_embedder_caches_repeats_and_charges_the_current_run() -> None:
    from genpersona.agent.trace import CURRENT_TIMER, TimedEmbedder
    from genpersona.embeddings.caching import CachingEmbedder

    inner = FakeEmbedder()
    emb = TimedEmbedder(CachingEmbedder(inner))  # as default_deps builds it
    timer = StageTimer()
    token = CURRENT_TIMER.set(timer)
    try:
        a = emb.embed(["tea", "cups"])
        b = emb.embed(["cups", "tea", "tea"])
    finally:
        CURRENT_TIMER.reset(token)
    assert inner.calls == 1  # the second call was served from the cache
    assert np.allclose(a[0], b[1]) and b.shape == (3, inner.dim)
    assert timer.finish().embed_ms > 0


def test_overhead_subtracts_the_union_of_llm_and_embedder_time_never_both() -> None:
    """Scoring is prepared while candidates decode: overlapping model time counts once."""
    from genpersona.agent.trace import overhead_ms

    timer = StageTimer()
    now = time.perf_counter()
    res = LLMResult(text="x", model="m", backend="fake", prompt_tokens=1, completion_tokens=1)
    timer.record_llm(res, now, now + 1.0)
    timer.record_embed(now + 0.5, now + 1.5)
    trace = timer.finish()
    assert trace.model_ms == pytest.approx(1000, abs=1)
    assert trace.embed_ms == pytest.approx(1000, abs=1)
    assert trace.models_ms == pytest.approx(1500, abs=1)
    assert overhead_ms(trace, include_embeddings=False) == pytest.approx(
        max(0.0, trace.total_ms - 1500), abs=1
    )

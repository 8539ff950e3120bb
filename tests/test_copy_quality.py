"""The copy-quality scorer on fixed lines: keyword lists, fragments and echoes of the
prompt's context always rank below fluent lines for the same customer."""

from __future__ import annotations

import pytest
from agent_support import World

from genpersona.agent.context_stage import build_context
from genpersona.agent.quality import SENDABLE_THRESHOLD, assess, echo, load_model
from genpersona.agent.quality_ranking import line_embedder
from genpersona.agent.scoring import build_scoring_context, context_terms, score_variants
from genpersona.embeddings.fake import FakeEmbedder
from genpersona.types.content import ContentRequest, Variant, VariantContent

# not the recipes' own examples: a copy of one of those is penalised (see below)
FLUENT = [
    "Paper bunting for a summer garden party",
    "A little something for the tree this year",
    "Tea for two, and a cake stand to match",
    "Soft candlelight for the darker evenings",
    "Bags for your next long weekend shopping trip",
    "Your windowsill has been waiting for this",
]
DEGENERATE = [
    "A new bag, big bags, christmas, jumbo bags",  # the issue's demo outputs
    "Home Decor, Christmas, assorted colour bird ornament",
    "Party supplies, home decor, alarm clock, green",
    "Housewarming gift, new winter season gift pick",
    "Vintage tea sets, rose teapots, spring",  # the test customer's own themes, as a list
    "Tea sets vintage rose teapots",
    "Gifts for the",  # fragments
    "Fresh bunting for",
    "Tea for two, in roses and",
    "Because you like vintage tea sets and rose teapots",  # echo of the context
]


def test_the_issue_keyword_lists_score_below_the_threshold_and_fluent_lines_above() -> None:
    ctx = ["christmas", "jumbo bags", "home decor", "party supplies"]
    for line in DEGENERATE[:4]:
        assert assess(line, ctx).quality < SENDABLE_THRESHOLD, line
    for line in FLUENT:
        assert assess(line, ctx).quality >= SENDABLE_THRESHOLD, line


def test_echo_catches_verbatim_context_and_the_prompts_framing() -> None:
    ctx = ["vintage tea sets", "rose teapots"]
    assert echo("Vintage tea sets for you", ctx) == 1.0
    assert echo("Customer likes: tea", ctx) == 1.0
    assert echo("Based on your interest in teapots", ctx) == 1.0
    # the recipes' angle lines written back (seen as top lines in the 100-customer eval)
    assert echo("One product from the baking set piece retrospot", ctx) == 1.0
    assert echo("A customer who often buys a bag of 10", ctx) == 1.0
    assert echo("A little something for the tree", ctx) == 0.0


@pytest.mark.parametrize("weight", [0.3, 0.5, 1.0])
def test_no_degenerate_line_outranks_a_fluent_one_for_the_same_customer(weight: float) -> None:
    world = World()
    deps = world.deps()
    actx = build_context(
        ContentRequest(brand="teashop", kind="subject_line", customer_id="c1", brief="spring"),
        deps,
    )
    texts = FLUENT + DEGENERATE
    variants = [Variant(index=i, content=VariantContent(subject=t)) for i, t in enumerate(texts)]
    sctx = build_scoring_context(actx, deps)
    ranked = score_variants(variants, sctx, deps.embedder, weight)
    order = [v.content.subject for v in ranked]
    worst_fluent = max(order.index(t) for t in FLUENT)
    best_bad = min(order.index(t) for t in DEGENERATE)
    assert worst_fluent < best_bad, order
    assert all(v.scores.quality >= 0 for v in ranked)
    # with weight 0 the 2026.11 ranking is kept (the eval's "previous" arm)
    old = score_variants(variants, sctx, deps.embedder, 0.0)
    assert {v.scores.total for v in old} != {v.scores.total for v in ranked}


def test_list_of_the_customers_themes_earns_no_relevance_credit() -> None:
    world = World()
    deps = world.deps()
    actx = build_context(
        ContentRequest(brand="teashop", kind="subject_line", customer_id="c1"), deps
    )
    themes = ", ".join(actx.bundle.profile.favourite_themes)  # type: ignore[union-attr]
    lst = Variant(index=0, content=VariantContent(subject=themes))
    fluent = Variant(
        index=1, content=VariantContent(subject="Tea for two, and a cake stand to match")
    )
    sctx = build_scoring_context(actx, deps)
    assert themes.split(",")[0] in " ".join(context_terms(actx))
    raw = score_variants([lst, fluent], sctx, deps.embedder, 0.0)
    weighted = score_variants([lst, fluent], sctx, deps.embedder, 0.5)
    raw_rel = {v.index: v.scores.relevance for v in raw}
    w_rel = {v.index: v.scores.relevance for v in weighted}
    assert w_rel[0] < 0.2 * max(raw_rel[0], 1e-6) + 1e-6  # the list's closeness counts for ~nothing
    assert weighted[0].index == 1


def test_a_catalogue_name_cut_short_is_read_as_a_fragment() -> None:
    from genpersona.agent.quality import CUT_KEEP, cut_short

    ctx = ["Hot water bottle keep calm", "Doormat spotty home sweet home", "home decor"]
    # real model outputs of the session-6 eval and a session-7 probe
    assert cut_short("New hot water bottles and hot water bottle keep", ctx)
    assert cut_short("Doormat spotty home sweet, and more baking.", ctx)
    # the whole name, or a short borrowed opening, is not cut
    assert not cut_short("Hot water bottle keep calm, back in stock", ctx)
    assert not cut_short("A hot water bottle for cold nights", ctx)
    line = "Doormat spotty home sweet, and more baking."
    whole = assess(line, ["home decor"]).quality
    assert assess(line, ctx).quality == pytest.approx(whole * CUT_KEEP, abs=1e-3)


def test_new_lexical_features_read_repetition_label_lists_and_guesses() -> None:
    from genpersona.agent.quality import FEATURES, features

    def f(text: str, name: str) -> float:
        return features(text)[FEATURES.index(name)]

    assert f("The new kitchen for the new season", "repeated_content") == 1.0
    assert f("Lanterns for the long evenings ahead", "repeated_content") == 0.0
    assert f("New season gifts and storage", "and_list") == 1.0
    assert f("We are so delighted with the bags and the candles and the lanterns", "and_list") > 0.5
    assert f("Tea for two, and a cake stand to match", "and_list") == 0.0
    assert f("A present she will unwrap once", "person_guess") == 1.0
    assert f("It is a long winter evening", "statement_opener") == 1.0
    assert f("Bake something lovely this weekend", "statement_opener") == 0.0


def test_shipped_model_matches_the_feature_list() -> None:
    model = load_model()
    assert model.trained_on["positives"] > 1000 and len(model.coef) == len(model.features)


# --- copies of the prompt's own examples ------------------------------------------------------
def test_copied_from_tells_a_copy_and_a_near_copy_from_a_borrowed_opening() -> None:
    from genpersona.agent.quality_examples import NEAR_FROM, NEAR_FULL, copied_from

    shots = ["Fresh bunting for your next garden party", "Time to top up the tealights"]
    assert copied_from("fresh bunting for your next garden party!", shots) == 1.0
    assert copied_from("Fresh bunting for your next summer party", shots) >= NEAR_FULL - 0.05
    assert copied_from("Fresh ideas for a rainy afternoon indoors", shots) < NEAR_FROM
    assert copied_from("Anything", []) == 0.0
    # a whole clause lifted from inside an example is a copy; a short borrowed run is not
    lifted = ["It has been a while, come and see what is new"]
    assert copied_from("It has been a while", lifted) == 1.0
    assert copied_from("Come and see what is new!", lifted) == 1.0
    assert copied_from("It has been", lifted) < NEAR_FULL  # three words: a shared opening
    assert copied_from("It has been a while since your last tea party", lifted) < NEAR_FULL


def test_a_copied_recipe_example_ranks_below_every_fresh_line() -> None:
    """The model writing a few-shot line back (subject or preheader) is fluent and on-voice,
    and still ranks under every fresh sendable line; the guide's own fallback is exempt."""
    from genpersona.agent.quality_ranking import prompt_examples

    world = World()
    deps = world.deps()
    actx = build_context(
        ContentRequest(brand="teashop", kind="subject_line", customer_id="c1", brief="spring"),
        deps,
    )
    shots = prompt_examples(actx, deps.settings.prompts_dir)
    assert "Fresh bunting for your next garden party" in shots  # a recipe example
    fresh = [Variant(index=i, content=VariantContent(subject=t)) for i, t in enumerate(FLUENT)]
    copies = [
        VariantContent(subject="Fresh bunting for your next garden party"),
        VariantContent(subject="The tree is up, now for the baubles"),
        VariantContent(subject="Fresh bunting for your next summer party"),
        VariantContent(  # a fresh subject over a preheader lifted from an example
            subject="A teapot for slow spring mornings",
            preheader="Three tiers of pretty, for scones, cupcakes and the odd biscuit.",
        ),
    ]
    variants = fresh + [Variant(index=100 + i, content=c) for i, c in enumerate(copies)]
    sctx = build_scoring_context(actx, deps)
    ranked = score_variants(variants, sctx, deps.embedder, 0.5)
    order = [v.index for v in ranked]
    assert max(order.index(v.index) for v in fresh) < min(order.index(100 + i) for i in range(4))
    by_index = {v.index: v for v in ranked}
    assert all(by_index[100 + i].scores.copied >= 0.85 for i in range(4))
    assert all(by_index[100 + i].scores.quality < SENDABLE_THRESHOLD for i in range(4))
    assert all(v.scores.copied < 0.6 for v in ranked if v.index < 100)
    # the guide's fallback line is the guide's on purpose: not a copy
    guide_line = actx.guide.examples["subject_line"].do[0]
    fb = Variant(index=9, content=VariantContent(subject=guide_line), is_fallback=True)
    assert score_variants([fb], sctx, deps.embedder, 0.5)[0].scores.copied == 0.0


# --- the semantic head, on the shipped MiniLM ----------------------------------------------------
@pytest.mark.real_model
@pytest.mark.slow
def test_semantic_head_on_minilm_vectors_keeps_lists_below_and_sentences_above() -> None:
    from genpersona.agent.quality import is_sendable
    from genpersona.embeddings.minilm import MiniLMEmbedder

    model = load_model()
    assert model.semantic is not None and model.wants("minilm") and not model.wants("fake")
    lines = FLUENT + DEGENERATE[:6]
    vecs = MiniLMEmbedder(batch_size=8).embed(lines)
    ctx = ["christmas", "jumbo bags", "home decor", "party supplies"]
    verdict = {t: is_sendable(t, ctx, vector=v) for t, v in zip(lines, vecs, strict=True)}
    assert not any(verdict[t] for t in DEGENERATE[:6]), verdict  # lists and fragments
    # a known weakness of the semantic head (reported in docs/experiments/copy-quality.md):
    # some short fluent shop lines read as unsendable ("Your windowsill has been waiting
    # for this", "Bags for your next long weekend shopping trip"); most do not
    assert sum(verdict[t] for t in FLUENT) >= 4, verdict
    # the vector changes the reading (it is not ignored)
    assert model.sendable(lines[0], vecs[0]) != model.sendable(lines[0])


class _InSpace(FakeEmbedder):
    """A fake reading lines in another model's space (as the int8 MiniLM reads MiniLM's)."""

    def __init__(self, name: str, space: str) -> None:
        super().__init__()
        self.name, self._space = name, space

    @property
    def space(self) -> str:
        return self._space


def test_line_embedder_prefers_the_configured_reader_of_a_space_the_classifier_reads() -> None:
    """``copy_quality_embedder``: the classifier reads candidate lines with the configured
    reader when its head knows the reader's space (an int8 MiniLM in MiniLM's), else as
    before: the scoring embedder, then the shipped one, else the lexical head."""
    shipped, scoring_fake = _InSpace("minilm", "minilm"), FakeEmbedder()
    reader = _InSpace("minilm-int8", "minilm")
    assert line_embedder(scoring_fake, shipped, True, reader) is reader
    assert line_embedder(scoring_fake, shipped, True, None) is shipped
    assert line_embedder(scoring_fake, shipped, True, _InSpace("x", "fake")) is shipped
    assert line_embedder(scoring_fake, shipped, False, reader) is None
    assert line_embedder(scoring_fake, None, True, None) is None

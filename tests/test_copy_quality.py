"""The copy-quality scorer on fixed lines: keyword lists, fragments and echoes of the
prompt's context always rank below fluent lines for the same customer."""

from __future__ import annotations

import pytest
from agent_support import World

from genpersona.agent.context_stage import build_context
from genpersona.agent.quality import SENDABLE_THRESHOLD, assess, echo, load_model
from genpersona.agent.scoring import build_scoring_context, context_terms, score_variants
from genpersona.types.content import ContentRequest, Variant, VariantContent

FLUENT = [
    "Fresh bunting for your next garden party",
    "A little something for the tree this year",
    "Tea for two, and a cake stand to match",
    "Little lanterns for long winter evenings",
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


def test_shipped_model_matches_the_feature_list() -> None:
    model = load_model()
    assert model.trained_on["positives"] > 1000 and len(model.coef) == len(model.features)

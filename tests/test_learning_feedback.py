"""Outcomes feed the rest of the product: the click model in ranking and in the recipe prior,
exemplars weighted by their clicks, and the Celery beat entry that keeps both current."""

# ruff: noqa: F811  (pytest fixtures imported from review_support are used as arguments)
from __future__ import annotations

from datetime import timedelta

import numpy as np
from agent_support import World
from review_support import backend, draft_factory, memory_vectors, pg_database_url  # noqa: F401
from sqlalchemy import select
from test_learning_update import T0, _seed_campaign

from genpersona.agent.clicks import CLICK_TERM_CAP, rank_with_clicks
from genpersona.campaigns.tables import OutcomeRow
from genpersona.clickmodel.embed_cache import EmbeddingCache
from genpersona.clickmodel.features import featurize
from genpersona.clickmodel.model import ClickModel, relative_targets
from genpersona.clickmodel.train import model_root
from genpersona.db.engine import session_scope
from genpersona.delivery.tables import ExposureRow
from genpersona.embeddings.fake import FakeEmbedder
from genpersona.learning.beat import LEARN_TASK, app, update_every_brand
from genpersona.learning.exemplar_outcomes import refresh_exemplar_outcomes
from genpersona.learning.tables import AllocationRow
from genpersona.learning.thompson import BetaPrior, PolicyConfig
from genpersona.learning.update import compute_allocation, learn_update, recipe_lift
from genpersona.review.exemplar_index import EXEMPLAR_INDEX
from genpersona.review.exemplars import similar_exemplars
from genpersona.review.queue import approve, submit_draft
from genpersona.review.tables import DraftRow, DraftVariantRow, ExemplarRow
from genpersona.settings import get_settings
from genpersona.types.content import Scores, Variant, VariantContent

WINNERS = ["surprise gift ideas for her", "a surprise gift she will love", "surprise gifts inside"]
LOSERS = ["new catalogue available", "catalogue update for this week", "our catalogue"]


def _train_fake_model() -> ClickModel:
    """A click model that learned 'surprise' wins and 'catalogue' loses, saved as LATEST."""
    cache = EmbeddingCache(get_settings().home_dir / "emb", FakeEmbedder())
    texts, n, c, g = [], [], [], []
    for i, (w, lo) in enumerate(zip(WINNERS * 4, LOSERS * 4, strict=True)):
        texts += [w, lo]
        n += [1000, 1000]
        c += [60, 30]
        g += [f"t{i}", f"t{i}"]
    target, weight = relative_targets(np.array(n), np.array(c), np.array(g))
    model = ClickModel.fit(
        featurize(texts, cache), target, weight, alpha=1.0, base_rate=0.04, embedder="fake-384",
        source="fixture",
    )  # fmt: skip
    model.save(model_root(get_settings()))
    return model


def _variants(*subjects: str, total: float = 0.6) -> list[Variant]:
    return [
        Variant(index=i, content=VariantContent(subject=s), scores=Scores(total=total))
        for i, s in enumerate(subjects)
    ]


# --- 1. the click model in ranking ------------------------------------------------------------
def test_click_term_stores_predicted_ctr_and_breaks_a_tie_toward_the_predicted_winner() -> None:
    _train_fake_model()
    deps = World().deps()
    ranked = rank_with_clicks(_variants("our catalogue of mugs", "a surprise mug"), "email", deps)
    assert [v.content.subject for v in ranked] == ["a surprise mug", "our catalogue of mugs"]
    assert all(v.scores.click_ctr is not None and 0 < v.scores.click_ctr < 1 for v in ranked)
    assert ranked[0].scores.click_ctr > ranked[1].scores.click_ctr  # type: ignore[operator]
    weight = deps.settings.click_model_weight
    for v in ranked:  # modest: never more than the cap times the weight
        assert abs(v.scores.total - 0.6) <= weight * CLICK_TERM_CAP + 1e-4


def test_click_term_never_overrules_a_clearly_better_candidate() -> None:
    _train_fake_model()
    better, worse = _variants("our catalogue of mugs", "a surprise mug")
    better.scores.total, worse.scores.total = 0.8, 0.6
    ranked = rank_with_clicks([better, worse], "email", World().deps())
    assert ranked[0].content.subject == "our catalogue of mugs"


def test_without_a_trained_model_or_its_embedder_the_term_is_omitted() -> None:
    deps = World().deps()
    variants = _variants("our catalogue of mugs", "a surprise mug")
    assert rank_with_clicks(variants, "email", deps) == variants  # nothing trained
    _train_fake_model()
    other = World().deps(embedder=FakeEmbedder(dim=64))  # not the model's embedder
    assert rank_with_clicks(variants, "email", other) == variants
    assert rank_with_clicks(variants, "chat_answer", deps) == variants  # answers are not clicked
    assert all(v.scores.click_ctr is None for v in variants)


# --- 2. the click model as the prior of new recipes ---------------------------------------------
def _variant_rows(campaign: str, ctr: dict[str, float]) -> None:
    with session_scope() as s:
        draft = DraftRow(brand="giftloft", kind="email", campaign=campaign, idempotency_key="k1",
                         rationale={}, trace={})  # fmt: skip
        s.add(draft)
        s.flush()
        for i, (recipe, p) in enumerate(ctr.items()):
            s.add(DraftVariantRow(draft_id=draft.id, idx=i, content={}, scores={"click_ctr": p},
                                  violations=[], fixes_applied=[], approved=True,
                                  recipe_id=recipe))  # fmt: skip


def test_recipe_prior_is_tilted_by_the_click_model_for_a_recipe_without_data() -> None:
    _variant_rows("xmas", {"gift_idea": 0.06, "win_back": 0.03, "new_arrivals": 0.04})
    with session_scope() as s:
        lift = recipe_lift(s, "giftloft", "xmas", ["gift_idea", "win_back", "new_arrivals", "x"])
    assert lift["gift_idea"] > lift["new_arrivals"] > lift["win_back"]
    assert lift["x"] == 1.0  # no prediction: no tilt
    # a brand-new recipe with no exposures starts from the prediction, not from the average
    counts = {"gift_idea": (0, 0), "win_back": (0, 0)}
    prior = BetaPrior.from_mean_strength(0.04, 400.0)
    cfg = PolicyConfig(warmup_exposures=0, floor=0.05)
    arms, _ = compute_allocation(counts, prior, cfg, seed=3, lift=lift)
    by = {a.recipe_id: a for a in arms}
    assert by["gift_idea"].p_best > 0.6 and by["gift_idea"].click_lift > 1
    flat, _ = compute_allocation(counts, prior, cfg, seed=3)
    assert abs(flat[0].p_best - 0.5) < 0.05  # without the tilt: a coin flip


def test_learn_update_stores_the_click_lift_of_each_recipe() -> None:
    _seed_campaign(n_customers=60)
    _variant_rows("xmas", {"gift_idea": 0.06, "win_back": 0.03, "new_arrivals": 0.04})
    with session_scope() as s:
        alloc = learn_update(s, "giftloft", "xmas")
    lifts = {a.recipe_id: a.click_lift for a in alloc.arms}
    assert lifts["gift_idea"] > 1 > lifts["win_back"]


# --- 3. outcomes weight the exemplars, end to end -------------------------------------------
def _approve(draft_factory, text: str) -> tuple[int, int]:  # type: ignore[no-untyped-def]
    d = draft_factory(brand="giftloft", kind="subject_line", campaign="xmas")
    d = d.model_copy(update={"brief": "tea gifts"})
    d.variants[0].content = VariantContent(subject=text)
    d.variants[0].violations = []
    saved = submit_draft(d)
    result = approve(saved.id, 0, "alice", expected_version=1)
    return saved.id, result.exemplar_id  # type: ignore[return-value]


def _deliver(draft_id: int, sends: int, clicks: int, tag: str) -> None:
    with session_scope() as s:
        for k in range(sends):
            s.add(ExposureRow(brand="giftloft", campaign="xmas", customer_id=f"{tag}{k}",
                              recipient_key=f"{tag}{k}", channel="email", draft_id=draft_id,
                              variant_index=0, recipe_id="gift_idea", policy_name="uniform",
                              policy_version="1", propensity=1.0, probabilities=[],
                              seed=k, holdout=False, fallback=False, tag=f"{tag}{k}",
                              created_at=T0))  # fmt: skip
            if k < clicks:
                s.add(OutcomeRow(draft_id=draft_id, variant_index=0, type="clicked",
                                 brand="giftloft", campaign="xmas", customer_id=f"{tag}{k}",
                                 ts=T0 + timedelta(hours=1)))  # fmt: skip


def test_refreshed_outcomes_make_the_clicked_exemplar_the_first_example(
    backend, draft_factory, memory_vectors
) -> None:
    EXEMPLAR_INDEX.clear()
    loser_draft, loser = _approve(draft_factory, "Tea gifts: Earl Grey tins")
    winner_draft, winner = _approve(draft_factory, "Tea gifts: a chai mug")
    _, quiet = _approve(draft_factory, "Tea gifts: green tea sets")
    _deliver(loser_draft, 200, 0, "a")
    _deliver(winner_draft, 200, 40, "b")
    with session_scope() as s:
        assert refresh_exemplar_outcomes(s, "giftloft") == 2
        stats = {r.id: (r.exposures, r.clicks) for r in s.scalars(select(ExemplarRow))}
        assert refresh_exemplar_outcomes(s, "giftloft") == 0  # unchanged rows are not rewritten
    assert stats == {loser: (200, 0), winner: (200, 40), quiet: (0, 0)}
    found = [e.id for e in similar_exemplars("giftloft", "subject_line", "tea gifts", k=3)]
    assert found[0] == winner and loser not in found and quiet in found


# --- 4. the Celery beat entry -------------------------------------------------------------------
def test_beat_entry_runs_learn_update_for_every_brand_on_the_configured_interval() -> None:
    entry = app.conf.beat_schedule["learning-update"]
    assert entry == {"task": LEARN_TASK, "schedule": get_settings().learn_update_every_s}
    assert "campaigns-tick" in app.conf.beat_schedule  # the campaign entries are kept
    assert LEARN_TASK in app.tasks
    _seed_campaign(n_customers=90, campaign="xmas")
    _seed_campaign(n_customers=90, campaign="spring", seed=1)
    out = update_every_brand()
    assert sorted(a["campaign"] for a in out["giftloft"]["allocations"]) == ["spring", "xmas"]
    again = app.tasks[LEARN_TASK].apply().get()  # the task itself, run eagerly
    assert [a["version"] for a in again["giftloft"]["allocations"]] == [3, 4]
    with session_scope() as s:
        assert len(list(s.scalars(select(AllocationRow)))) == 4


def test_beat_entry_with_no_exposures_does_nothing() -> None:
    assert update_every_brand() == {}

"""The click model's promotion gate and its brand-only terms (recipes, customer features)."""

from __future__ import annotations

import json

import numpy as np
import pytest
from learning_support import saved_base_click_model

from genpersona.clickmodel.embed_cache import EmbeddingCache, text_key
from genpersona.clickmodel.features import CustomerFeatures, extra_terms, featurize
from genpersona.clickmodel.gate import clicked_pairs, compare, decisions, group_pairs, rule
from genpersona.clickmodel.model import ClickModel, loaded_model
from genpersona.clickmodel.train import (
    EXPOSURE_HOLDOUT,
    ExposureExample,
    embedding_cache,
    held_out,
    model_root,
    update_on_exposures,
    working_response,
)
from genpersona.embeddings.fake import FakeEmbedder
from genpersona.settings import get_settings

LAPSED = CustomerFeatures(rfm_tier="at_risk", lifecycle="lapsed", orders=2)
ACTIVE = CustomerFeatures(rfm_tier="loyal", lifecycle="active", orders=7)


def _exposures(rate, n: int = 900, seed: int = 0) -> list[ExposureExample]:  # type: ignore[no-untyped-def]
    """``rate(recipe, customer)`` -> click probability; copy text is unique per exposure."""
    rng = np.random.default_rng(seed)
    rows = []
    for k in range(n):
        recipe = ("gift_idea", "win_back", "new_arrivals")[k % 3]
        person = LAPSED if (k // 3) % 2 else ACTIVE
        rows.append(
            ExposureExample(
                text=f"Hello {k}, winter picks #{k % 7}",
                recipe_id=recipe,
                customer=person,
                clicked=int(rng.random() < rate(recipe, person)),
                group=f"camp{(k // 6) % 2}",  # every campaign has every cell
                unit=f"c{k}",
            )
        )
    return rows


def test_units_and_rule_on_hand_made_scores() -> None:
    # one group, three rows with rates .1 .2 .3: scores in the same order get 3 of 3 pairs
    right, total = group_pairs(
        np.array([1.0, 2.0, 3.0]), np.array(["g"] * 3), np.array([10] * 3), np.array([1, 2, 3])
    )
    assert right.tolist() == [3.0] and total.tolist() == [3.0]
    # a clicked row scored above one of two unclicked rows and tied with the other: 1.5 of 2
    right, total = clicked_pairs(
        np.array([1.0, 0.0, 1.0]), np.array(["g"] * 3), np.array([1, 0, 0])
    )
    assert right.tolist() == [1.5] and total.tolist() == [2.0]
    good = (np.ones(50), np.ones(50))
    bad = (np.zeros(50), np.ones(50))
    cand, cur, low, high = compare(good, bad, n_boot=200)
    assert cand.value == 1.0 and cur is not None and cur.value == 0.0 and low == high == 1.0
    assert rule(cand, cur, low, high)[0]
    cand, cur, low, high = compare(good, good, n_boot=200)
    promote, reason = rule(cand, cur, low, high)
    assert not promote and "does not beat" in reason


def test_working_response_is_relative_log_odds_in_inverse_variance_units() -> None:
    y = np.array([1] * 10 + [0] * 90)
    target, w = working_response(y, np.array(["g"] * 100))
    p0 = 10.5 / 101
    assert w == pytest.approx(np.full(100, p0 * (1 - p0)))
    assert target[0] == pytest.approx((1 - p0) / (p0 * (1 - p0)))
    assert float(np.sum(w * target)) == pytest.approx(100 * (0.1 - p0), abs=1e-9)


def test_exposures_that_favour_a_recipe_are_promoted_and_move_latest() -> None:
    settings = get_settings()
    base = saved_base_click_model()
    rows = _exposures(lambda r, c: 0.30 if r == "gift_idea" else 0.04)
    model, decision = update_on_exposures(settings, FakeEmbedder(), rows, source="brand")
    assert decision.promote and not decision.forced, decision
    assert decision.holdout == EXPOSURE_HOLDOUT and decision.current_version == base.meta.version
    assert decision.candidate is not None and decision.current is not None
    assert decision.candidate.low > decision.current.value and (decision.diff_low or 0) > 0
    assert loaded_model(model_root(settings)).meta.version == model.meta.version
    offsets = model.meta.recipe_offsets
    assert offsets["gift_idea"] > offsets["win_back"] and offsets["gift_idea"] > 0.3
    # held-out customers were never trained on, and the split is the same every time
    held = [r for r in rows if held_out(f"exp|{r.group}|{r.unit}")]
    assert 0.2 < len(held) / len(rows) < 0.4
    assert model.meta.n_train == base.meta.n_train + len(rows) - len(held)
    # copy written for one customer is not left in the on-disk embedding cache
    cache = EmbeddingCache(settings.home_dir / "learning" / "embeddings", FakeEmbedder())
    assert len(cache) == 4 and all(text_key(r.text) not in cache._index for r in rows)
    # the text-only path ranking uses is unchanged in width and still scores
    text = featurize(["any copy"], embedding_cache(settings, FakeEmbedder()))
    assert model.score(text).shape == (1,)
    stored = json.loads((model_root(settings) / model.meta.version / "decision.json").read_text())
    assert stored["promote"] is True and stored["latest"] == model.meta.version
    assert [d.candidate_version for d in decisions(model_root(settings))] == [model.meta.version]


def test_exposures_without_a_signal_are_not_promoted_unless_forced() -> None:
    settings = get_settings()
    base = saved_base_click_model()
    rows = _exposures(lambda r, c: 0.08, seed=3)
    model, decision = update_on_exposures(settings, FakeEmbedder(), rows, source="brand")
    assert not decision.promote and decision.latest == base.meta.version, decision
    assert "does not beat" in decision.reason or "includes 0" in decision.reason
    assert (model_root(settings) / "LATEST").read_text() == base.meta.version
    assert (model_root(settings) / model.meta.version / "meta.json").exists()  # kept, not live
    forced, again = update_on_exposures(settings, FakeEmbedder(), rows, source="b", force=True)
    assert again.promote and again.forced and again.reason.startswith("forced; the gate said")
    assert (model_root(settings) / "LATEST").read_text() == forced.meta.version
    assert [d.promote for d in decisions(model_root(settings))] == [False, True]


def test_customer_features_let_a_recipe_win_for_some_customers_only() -> None:
    settings = get_settings()
    saved_base_click_model()

    def rate(recipe: str, person: CustomerFeatures) -> float:
        if recipe == "win_back":
            return 0.30 if person.lifecycle == "lapsed" else 0.02
        return 0.02 if person.lifecycle == "lapsed" else 0.12

    rows = _exposures(rate, n=1800, seed=5)
    model, _ = update_on_exposures(settings, FakeEmbedder(), rows, source="brand", force=True)
    assert "recipe=win_back|life=lapsed" in model.meta.extra_names
    lapsed = model.extra_score(["win_back", "gift_idea"], [LAPSED, LAPSED])
    active = model.extra_score(["win_back", "gift_idea"], [ACTIVE, ACTIVE])
    assert lapsed[0] > lapsed[1] and active[0] < active[1]
    # averaged over a lapsed audience the interaction favours win-back (the recipe prior's tilt)
    assert model.interaction_score("win_back", [LAPSED] * 3) > model.interaction_score(
        "gift_idea", [LAPSED] * 3
    )
    assert model.interaction_score("win_back", []) == 0.0
    # the saved model reloads with the same brand-only terms
    again = ClickModel.load(model_root(settings), model.meta.version)
    assert again.meta.extra_names == model.meta.extra_names
    assert np.allclose(again.extra_score(["win_back"], [LAPSED]), lapsed[:1])


def test_extra_terms_names() -> None:
    assert extra_terms("r", None) == {"recipe=r": 1.0}
    terms = extra_terms("r", LAPSED)
    assert {"recipe=r|life=lapsed", "recipe=r|tier=at_risk", "tier=at_risk", "log_orders"} <= set(
        terms
    )
    assert extra_terms(None, CustomerFeatures()) == {}


def test_recipe_prior_tilt_uses_the_audience_through_the_interactions() -> None:
    from genpersona.db.engine import session_scope
    from genpersona.learning.update import recipe_lift

    settings = get_settings()
    saved_base_click_model()

    def rate(recipe: str, person: CustomerFeatures) -> float:
        if recipe == "win_back":
            return 0.30 if person.lifecycle == "lapsed" else 0.02
        return 0.02 if person.lifecycle == "lapsed" else 0.12

    model, _ = update_on_exposures(
        settings, FakeEmbedder(), _exposures(rate, n=1800, seed=5), source="b", force=True
    )
    recipes = ["gift_idea", "win_back"]
    with session_scope() as s:
        lapsed = recipe_lift(s, "giftloft", "x", recipes, model=model, customers=[LAPSED] * 4)
        active = recipe_lift(s, "giftloft", "x", recipes, model=model, customers=[ACTIVE] * 4)
        plain = recipe_lift(s, "giftloft", "x", recipes)
    assert lapsed["win_back"] > 1 > lapsed["gift_idea"]
    assert active["win_back"] < 1 < active["gift_idea"]
    assert plain == {"gift_idea": 1.0, "win_back": 1.0}  # no model, no stored predictions


def test_pairs_of_the_same_text_are_left_out() -> None:
    # two packages with one headline (different images) and a third: only 2 pairs count
    right, total = group_pairs(
        np.array([1.0, 1.0, 0.0]),
        np.array(["t"] * 3),
        np.array([100] * 3),
        np.array([9, 5, 1]),
        ["same", "same", "other"],
    )
    assert total.tolist() == [2.0] and right.tolist() == [2.0]

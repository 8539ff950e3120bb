"""Passage choice for chat: stems and shop synonyms in the lexical score, the margin term,
the fitted parameters, paraphrases indexed; and the calibrated harm thresholds load."""

from __future__ import annotations

import json

from genpersona.agent.passage_search import (
    PARAMS_PATH,
    EntryScore,
    RetrievalParams,
    confidence,
    content_stems,
    lexical_scores,
    params_for,
    rank,
)
from genpersona.brands.loader import load_guide
from genpersona.embeddings.fake import FakeEmbedder
from genpersona.guard.validators.harmful import HAND_SET, THRESHOLDS, THRESHOLDS_PATH
from genpersona.vectors.memory import InMemoryVectorStore

GUIDE = load_guide("giftloft")


def test_stems_fold_shop_synonyms() -> None:
    assert content_stems("postage") == content_stems("deliveries")
    assert content_stems("a voucher") == content_stems("gift cards")
    assert content_stems("it was chipped") == content_stems("damaged")
    assert content_stems("notes") != content_stems("not")


def test_lexical_score_prefers_the_entry_with_the_words_and_penalises_unknown_ones() -> None:
    scores = lexical_scores(GUIDE, "Can I buy a voucher?")
    assert max(range(len(scores)), key=scores.__getitem__) == 10  # gift cards
    unknown = lexical_scores(GUIDE, "Can I buy a voucher for my car's engine?")
    assert unknown[10] < scores[10]


def test_a_paraphrase_is_retrieved_like_the_question() -> None:
    params = RetrievalParams(embedder="fake")
    ranked = rank(GUIDE, "Do you ship abroad?", FakeEmbedder(), InMemoryVectorStore(), params)
    assert ranked[0].index == 2 and ranked[0].dense > 0.99


def test_confidence_rewards_a_clear_lead() -> None:
    entry = GUIDE.knowledge[0]
    near = [EntryScore(index=i, entry=entry, dense=0, lexical=0, score=s)
            for i, s in enumerate([0.6, 0.58])]  # fmt: skip
    clear = [EntryScore(index=i, entry=entry, dense=0, lexical=0, score=s)
             for i, s in enumerate([0.6, 0.3])]  # fmt: skip
    params = RetrievalParams(embedder="x", margin_weight=3.0)
    assert confidence(clear, params) > confidence(near, params)
    assert confidence(near, RetrievalParams(embedder="x")) == 0.6


def test_fitted_parameters_are_for_minilm_only() -> None:
    fitted = json.loads(PARAMS_PATH.read_text())["embedders"]["minilm"]
    assert params_for("minilm").threshold == fitted["threshold"]
    assert "dataset.jsonl" in fitted["fitted_on"]
    assert params_for("fake") == RetrievalParams(embedder="fake")  # dense only, 0.45


def test_harm_thresholds_come_from_the_calibration_file() -> None:
    data = json.loads(THRESHOLDS_PATH.read_text())
    assert data["thresholds"] == THRESHOLDS
    assert "dev.jsonl" in data["fitted_on"] and "heldout" in data
    assert all(0.45 <= t < HAND_SET for t in THRESHOLDS.values())

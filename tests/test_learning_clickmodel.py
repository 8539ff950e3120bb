"""Click model on a tiny synthetic set with the fake embedder; persistence; the cache."""

from __future__ import annotations

import numpy as np
import pytest

from genpersona.clickmodel.embed_cache import EmbeddingCache
from genpersona.clickmodel.features import featurize, lexical
from genpersona.clickmodel.model import ClickModel, loaded_model, relative_targets
from genpersona.clickmodel.train import (
    OutcomeExample,
    embedding_cache,
    held_out,
    model_root,
    predict_ctr,
    update_on_outcomes,
)
from genpersona.embeddings.fake import FakeEmbedder
from genpersona.errors import ClickModelMissing, LearningInputError
from genpersona.settings import get_settings

WINNERS = ["surprise gift ideas for her", "a surprise gift she will love", "surprise gifts inside"]
LOSERS = ["new catalogue available", "catalogue update for this week", "our catalogue"]


def _fixture(cache: EmbeddingCache) -> ClickModel:
    texts, n, c, g = [], [], [], []
    for i, (w, lo) in enumerate(zip(WINNERS * 4, LOSERS * 4, strict=True)):
        texts += [w, lo]
        n += [1000, 1000]
        c += [60, 30]
        g += [f"t{i}", f"t{i}"]
    x = featurize(texts, cache)
    target, weight = relative_targets(np.array(n), np.array(c), np.array(g))
    return ClickModel.fit(
        x, target, weight, alpha=1.0, base_rate=0.045, embedder="fake-384", source="fixture"
    )


def test_model_ranks_the_word_that_wins_higher(tmp_path) -> None:
    cache = EmbeddingCache(tmp_path, FakeEmbedder())
    model = _fixture(cache)
    ctr = model.predict_ctr_from_features(
        featurize(["surprise gift box", "catalogue of boxes"], cache)
    )
    assert ctr[0] > ctr[1]
    assert 0 < ctr[1] < ctr[0] < 1


def test_save_load_round_trip_and_update_is_a_new_version(tmp_path) -> None:
    cache = EmbeddingCache(tmp_path / "emb", FakeEmbedder())
    model = _fixture(cache)
    model.save(tmp_path / "cm")
    again = ClickModel.load(tmp_path / "cm")
    assert again.meta.version == model.meta.version
    assert np.allclose(again.coef, model.coef)
    x = featurize(["catalogue sale"], cache)
    target, w = relative_targets(np.array([1000, 1000]), np.array([80, 10]), np.array(["a", "a"]))
    updated = model.update(featurize(["catalogue sale", "gift"], cache), target, w, source="brand")
    assert updated.meta.version != model.meta.version
    assert updated.meta.n_train == model.meta.n_train + 2
    assert updated.score(x)[0] > model.score(x)[0]


def test_missing_model_says_how_to_train(tmp_path) -> None:
    with pytest.raises(ClickModelMissing) as err:
        ClickModel.load(tmp_path)
    assert "learn train" in err.value.fix


def test_relative_targets_reject_impossible_counts() -> None:
    with pytest.raises(LearningInputError):
        relative_targets(np.array([10, 10]), np.array([11, 1]), np.array(["a", "a"]))


def test_embedding_cache_embeds_each_text_once_and_persists(tmp_path) -> None:
    emb = FakeEmbedder()
    cache = EmbeddingCache(tmp_path, emb)
    a = cache.embed(["one", "two", "one"])
    assert emb.calls == 1
    assert np.allclose(a[0], a[2])
    cache.embed(["two"])
    assert emb.calls == 1
    reopened = EmbeddingCache(tmp_path, FakeEmbedder())
    assert len(reopened) == 2
    assert np.allclose(reopened.embed(["two"])[0], a[1])


def test_lexical_features_shape_and_cues() -> None:
    feats = lexical(["Why you need this?", "plain"])
    assert feats.shape[0] == 2
    assert feats[0].sum() > feats[1].sum()


def test_update_on_brand_outcomes_then_predict_ctr() -> None:
    settings = get_settings()
    embedder = FakeEmbedder()
    base = _fixture(embedding_cache(settings, embedder))
    base.save(model_root(settings))
    group = next(g for g in ("c1", "c2", "c3", "c4", "c5") if not held_out(f"csv|{g}"))
    examples = [
        OutcomeExample(text="loyalty points doubled", impressions=500, clicks=40, group=group),
        OutcomeExample(text="monthly newsletter", impressions=500, clicks=5, group=group),
    ]
    before = predict_ctr(["loyalty points doubled"], settings=settings, embedder=embedder)
    # one trained group and none held out: nothing to judge on, so only --force promotes it
    updated, decision = update_on_outcomes(settings, embedder, examples, source="brand", force=True)
    assert decision.promote and decision.forced and decision.latest == updated.meta.version
    assert loaded_model(model_root(settings)).meta.version == updated.meta.version
    after = predict_ctr(["loyalty points doubled"], settings=settings, embedder=embedder)
    assert after[0] > before[0]
    with pytest.raises(LearningInputError):
        update_on_outcomes(settings, embedder, [], source="brand")

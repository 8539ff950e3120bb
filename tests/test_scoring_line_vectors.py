"""The copy-quality classifier's line vectors come from the scoring pass: one embedder
call per batch, no text embedded twice; extra semantic heads load only when current."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
from agent_support import World

from genpersona.agent import quality, quality_ranking
from genpersona.agent.context_stage import build_context
from genpersona.agent.quality import FEATURES, QualityModel, SemanticHead
from genpersona.agent.quality_ranking import variant_lines
from genpersona.agent.scoring import (
    build_scoring_context,
    build_scoring_contexts,
    clear_caches,
    other_customers,
    score_batch_item,
    variant_texts,
)
from genpersona.embeddings.fake import FakeEmbedder
from genpersona.guard.semantic import model_for
from genpersona.types.content import ContentRequest, Variant, VariantContent

LINES = [
    ("Tea for two, and a cake stand to match", "Pour a slow cup this Sunday"),
    ("Soft candlelight for the darker evenings", "Little lights for long nights"),
    ("A little something for the tree this year", "Baubles, wrapped and ready"),
]


class Recording(FakeEmbedder):
    """A fake embedder that keeps every text it was asked to embed, call by call."""

    def __init__(self, name: str = "fake") -> None:
        super().__init__()
        self.name = name
        self.batches: list[list[str]] = []

    def embed(self, texts: list[str]) -> np.ndarray:
        self.batches.append(list(texts))
        return super().embed(texts)

    def texts(self) -> list[str]:
        return [t for b in self.batches for t in b]


@pytest.fixture(autouse=True)
def _fresh_others() -> None:
    clear_caches()  # other customers' vectors are cached by embedder name


def _model_with_head_for(name: str, dim: int = 384) -> QualityModel:
    base = quality.load_model()
    rng = np.random.default_rng(3)
    head = SemanticHead(
        embedder=name,
        dim=dim,
        lex_coef=list(base.coef),
        emb_coef=[float(x) for x in rng.normal(0, 4, dim)],
    )
    return base.model_copy(update={"semantic": None, "extra_heads": {name: head}})


def _variants() -> list[Variant]:
    return [
        Variant(index=i, content=VariantContent(subject=s, preheader=p))
        for i, (s, p) in enumerate(LINES)
    ]


def _actx(deps, customer: str = "c1"):  # type: ignore[no-untyped-def]
    return build_context(
        ContentRequest(brand="teashop", kind="subject_line", customer_id=customer), deps
    )


def test_lines_join_the_batch_scoring_pass_when_the_classifier_reads_that_embedder(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    emb = Recording()
    monkeypatch.setattr(quality_ranking, "load_model", lambda: _model_with_head_for("fake"))
    deps = World().deps(embedder=emb)
    items = [(_actx(deps, c), _variants()) for c in ("c1", "c2")]
    other_customers("teashop", deps)  # cached for minutes: not part of a batch's pass
    model_for(emb)  # the semantic guard's topic model, fitted once per embedder
    emb.batches.clear()
    contexts = build_scoring_contexts(
        [(a, variant_texts(vs), variant_lines(vs)) for a, vs in items], deps
    )
    assert len(emb.batches) == 1  # one call for the whole batch
    assert len(emb.texts()) == len(set(emb.texts()))  # no text twice
    lines = {t for pair in LINES for t in pair}
    assert lines <= set(emb.texts())
    for sctx in contexts:
        assert sctx.lines.embedder == "fake" and set(sctx.lines.vectors) == lines
    for (actx, vs), sctx in zip(items, contexts, strict=True):
        ranked = score_batch_item(vs, sctx, actx, deps)
        assert len(ranked) == len(vs)
    assert len(emb.batches) == 1  # scoring the items embedded nothing more


def test_without_a_head_for_the_scorer_the_lines_go_to_the_shipped_embedder_once_per_batch(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    shipped, scorer = Recording("fake"), Recording("cheap")
    monkeypatch.setattr(quality_ranking, "load_model", lambda: _model_with_head_for("fake"))
    deps = World().deps(embedder=shipped, scorer=scorer)
    items = [(_actx(deps, c), _variants()) for c in ("c1", "c2")]
    other_customers("teashop", deps)
    model_for(scorer)
    shipped.batches.clear()
    scorer.batches.clear()
    contexts = build_scoring_contexts(
        [(a, variant_texts(vs), variant_lines(vs)) for a, vs in items], deps
    )
    lines = {t for pair in LINES for t in pair}
    assert len(shipped.batches) == 1 and set(shipped.texts()) == lines  # the lines, once
    assert not lines & set(scorer.texts())  # the scorer embeds candidates, not lines
    for (actx, vs), sctx in zip(items, contexts, strict=True):
        assert sctx.lines.embedder == "fake"
        score_batch_item(vs, sctx, actx, deps)
    assert len(shipped.batches) == 1


def test_the_head_changes_the_quality_and_lexical_is_used_without_one(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    emb = Recording()
    deps = World().deps(embedder=emb)
    actx = _actx(deps)
    vs = _variants()

    def qualities() -> list[float]:
        sctx = build_scoring_context(actx, deps, variant_texts(vs), variant_lines(vs))
        ranked = score_batch_item(vs, sctx, actx, deps)
        return [v.scores.quality for v in sorted(ranked, key=lambda v: v.index)]

    lexical = qualities()  # the shipped model has no head for "fake"
    model = _model_with_head_for("fake")
    monkeypatch.setattr(quality_ranking, "load_model", lambda: model)
    monkeypatch.setattr(quality, "load_model", lambda: model)
    assert qualities() != lexical


def _write_model(folder: Path, head_version: str) -> Path:
    base = quality.load_model()
    model_path = folder / "quality_model.json"
    model_path.write_text(base.model_copy(update={"extra_heads": {}}).model_dump_json())
    head = {
        "version": head_version,
        "features": FEATURES,
        "head": {"embedder": "static-x", "dim": 4, "lex_coef": base.coef,
                 "emb_coef": [1.0, 0.0, 0.0, 0.0]},
    }  # fmt: skip
    (folder / "quality_head_static-x.json").write_text(json.dumps(head))
    return model_path


def test_an_extra_head_file_is_used_only_with_its_model_version(tmp_path: Path) -> None:
    current = tmp_path / "current"
    stale = tmp_path / "stale"
    current.mkdir()
    stale.mkdir()
    model = quality.load_model.__wrapped__(_write_model(current, quality.load_model().version))
    assert model.wants("static-x")
    vec = np.array([1.0, 0.0, 0.0, 0.0], np.float32)
    assert model.sendable("Tea for two", vec, "static-x") != model.sendable("Tea for two")
    # another embedder's vector of the same size does not go through this head
    assert model.sendable("Tea for two", vec, "other") == model.sendable("Tea for two")
    old = quality.load_model.__wrapped__(_write_model(stale, "copy-quality-2000.01.1"))
    assert not old.wants("static-x")


def test_every_shipped_extra_head_matches_the_shipped_model() -> None:
    """A retrained model (new version or features) needs its extra heads retrained too:
    ``python -m evals.copy.train --embedder static``; a stale head is silently unused."""
    model = quality.load_model()
    for path in quality.MODEL_PATH.parent.glob("quality_head_*.json"):
        held = quality.HeadFile.model_validate_json(path.read_text())
        assert held.version == model.version and held.features == model.features, path.name


def test_copy_quality_vectors_off_embeds_no_line(monkeypatch: pytest.MonkeyPatch) -> None:
    emb = Recording()
    monkeypatch.setattr(quality_ranking, "load_model", lambda: _model_with_head_for("fake"))
    world_deps = World().deps(embedder=emb)
    deps = replace(
        world_deps, settings=world_deps.settings.model_copy(update={"copy_quality_vectors": False})
    )
    items = [(_actx(deps, c), _variants()) for c in ("c1", "c2")]
    contexts = build_scoring_contexts(
        [(a, variant_texts(vs), variant_lines(vs)) for a, vs in items], deps
    )
    alone = {t for pair in LINES for t in pair}
    assert not alone & set(emb.texts())  # the lines alone were never embedded
    for (actx, vs), sctx in zip(items, contexts, strict=True):
        assert sctx.lines.embedder is None
        score_batch_item(vs, sctx, actx, deps)
    assert not alone & set(emb.texts())

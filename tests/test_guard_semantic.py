"""The semantic creepy-line check: classifier logic on the fake embedder, one real-MiniLM
test on euphemisms and innocent near-misses."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import numpy as np
import pytest

from genpersona.brands.guide import BrandGuide
from genpersona.brands.loader import load_guide
from genpersona.embeddings.fake import FakeEmbedder
from genpersona.guard.engine import SEMANTIC_FAMILY, check
from genpersona.guard.semantic import MODELS_DIR, NONE, SemanticGuard, TopicModel, fit

DAY = date(2026, 11, 22)
# close (in the fake embedder's bag of words) to a money-trouble prototype
MONEY = "Money a bit tight this month? We get it"


@pytest.fixture()
def fake() -> FakeEmbedder:
    return FakeEmbedder()


@pytest.fixture(scope="module")
def guide() -> BrandGuide:
    return load_guide("giftloft")


def semantic_rules(report) -> list[str]:
    return [v.rule_id for v in report.violations if v.rule_id.startswith("sensitive.semantic.")]


def test_a_euphemism_blocks_with_a_typed_violation(fake: FakeEmbedder, guide: BrandGuide) -> None:
    report = check(MONEY, guide, kind="subject_line", send_date=DAY, semantic=SemanticGuard(fake))
    assert semantic_rules(report) == ["sensitive.semantic.financial_distress"]
    v = report.violations[-1]
    assert v.severity == "block" and v.field == "subject" and not report.passed
    assert SEMANTIC_FAMILY in report.rules_checked


def test_an_innocent_anchor_passes(fake: FakeEmbedder, guide: BrandGuide) -> None:
    report = check(
        "Hot water bottles for chilly nights",
        guide,
        kind="subject_line",
        send_date=DAY,
        semantic=SemanticGuard(fake),
    )
    assert report.passed and semantic_rules(report) == []


def test_a_shared_embedding_costs_no_embedder_call(fake: FakeEmbedder, guide: BrandGuide) -> None:
    sg = SemanticGuard(fake)
    _ = sg.model  # fitted (or cached) before counting
    vec = fake.embed([MONEY])[0]
    calls = fake.calls
    report = check(MONEY, guide, kind="subject_line", send_date=DAY, semantic=sg, embedding=vec)
    assert fake.calls == calls and semantic_rules(report)
    check(MONEY, guide, kind="subject_line", send_date=DAY, semantic=sg)
    assert fake.calls == calls + 1  # no vector given: the guard embeds the draft itself


def test_the_precomputed_vector_is_what_gets_judged(fake: FakeEmbedder, guide: BrandGuide) -> None:
    innocent = fake.embed(["Hot water bottles for chilly nights"])[0]
    report = check(
        MONEY, guide, kind="subject_line", send_date=DAY, semantic=SemanticGuard(fake),
        embedding=innocent,
    )  # fmt: skip
    assert semantic_rules(report) == []


def test_without_semantic_the_check_is_word_rules_only(guide: BrandGuide) -> None:
    report = check(MONEY, guide, kind="subject_line", send_date=DAY)
    assert semantic_rules(report) == [] and SEMANTIC_FAMILY not in report.rules_checked


def test_a_category_the_guide_drops_is_not_checked(fake: FakeEmbedder, guide: BrandGuide) -> None:
    cats = [c for c in guide.sensitive.categories if c != "financial_distress"]
    lenient = guide.model_copy(
        update={"sensitive": guide.sensitive.model_copy(update={"categories": cats})}
    )
    report = check(MONEY, lenient, kind="subject_line", send_date=DAY, semantic=SemanticGuard(fake))
    assert semantic_rules(report) == []


def test_a_topic_the_customer_shared_is_allowed(fake: FakeEmbedder, guide: BrandGuide) -> None:
    sg = SemanticGuard(fake)
    kw = {"kind": "subject_line", "send_date": DAY, "semantic": sg}
    assert semantic_rules(check(MONEY, guide, **kw, shared_facts=["likes owls"]))
    shared = ["told us money is tight this month and she is counting every penny"]
    assert semantic_rules(check(MONEY, guide, **kw, shared_facts=shared)) == []


def test_threshold_override(fake: FakeEmbedder, guide: BrandGuide) -> None:
    strict = SemanticGuard(fake, thresholds={"financial_distress": 1.01})
    report = check(MONEY, guide, kind="subject_line", send_date=DAY, semantic=strict)
    assert semantic_rules(report) == []


def test_model_round_trips_through_npz(tmp_path: Path, fake: FakeEmbedder) -> None:
    texts = ["money tight", "rent due", "lovely mugs", "warm socks"]
    model = fit(fake.embed(texts), ["financial_distress"] * 2 + [NONE] * 2, {"x": 0.9})
    path = tmp_path / "m.npz"
    model.save(path)
    back = TopicModel.load(path)
    assert back.classes == model.classes and back.thresholds == model.thresholds
    v = fake.embed(["rent due"])[0]
    assert np.allclose(back.probabilities(v), model.probabilities(v), atol=1e-6)


def test_the_shipped_minilm_model_covers_every_topic() -> None:
    model = TopicModel.load(MODELS_DIR / "minilm.npz")
    topics = {c for c in model.classes if c != NONE}
    assert topics == {
        "pregnancy", "health", "life_events", "religion", "ethnicity", "sexuality",
        "financial_distress", "surveillance",
    }  # fmt: skip
    assert model.coef.shape == (len(model.classes), 384)
    assert all(0.5 <= t <= 1.0 for t in model.thresholds.values())


@pytest.mark.real_model
def test_real_minilm_catches_euphemisms_and_passes_innocents(guide: BrandGuide) -> None:
    from genpersona.embeddings.factory import get_embedder

    sg = SemanticGuard(get_embedder("minilm"))
    kw = {"kind": "subject_line", "send_date": DAY, "semantic": sg}
    for line in [
        "Eating for two? Treat yourself",
        "Money a bit tight until payday? We get it",
        "Saw you eyeing the teapots at midnight",
    ]:
        assert semantic_rules(check(line, guide, **kw)), line
    for line in [
        "Heart-shaped lanterns for your window",
        "Baby-blue bunting for the garden",
        "Hot water bottles in knitted covers",
        "Save the date: our winter fair",
    ]:
        report = check(line, guide, **kw)
        assert report.passed, (line, report.violations)


def test_semantic_violations_alone_match_the_full_check(
    fake: FakeEmbedder, guide: BrandGuide
) -> None:
    from genpersona.guard.engine import semantic_violations

    sg = SemanticGuard(fake)
    vec = fake.embed([MONEY])[0]
    alone = semantic_violations(MONEY, guide, sg, kind="subject_line", embedding=vec)
    full = check(MONEY, guide, kind="subject_line", send_date=DAY, semantic=sg, embedding=vec)
    assert [v.rule_id for v in alone] == semantic_rules(full)
    shared = ["told us money is tight this month and she is counting every penny"]
    assert semantic_violations(MONEY, guide, sg, kind="subject_line", shared_facts=shared) == []


def test_only_a_shipped_model_counts_as_calibrated(fake: FakeEmbedder) -> None:
    from genpersona.guard.semantic import clear_model_cache, training_lines, use_model

    assert not SemanticGuard(fake).calibrated  # fitted on the built-in lines at first use
    texts, labels = training_lines()
    fitted = fit(fake.embed(texts), labels, {})
    shipped = TopicModel(
        fitted.classes, fitted.coef, fitted.intercept, fitted.thresholds, "shipped"
    )
    use_model(fake, shipped)
    try:
        assert SemanticGuard(fake).calibrated
    finally:
        clear_model_cache()

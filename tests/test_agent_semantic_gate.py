"""The pipeline's score stage runs the guard's semantic check on the vectors it embeds."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from agent_support import World

from genpersona.agent import scoring
from genpersona.agent.pipeline import generate
from genpersona.embeddings.fake import FakeEmbedder
from genpersona.guard.semantic import (
    TopicModel,
    clear_model_cache,
    fit,
    model_for,
    training_lines,
    use_model,
)
from genpersona.llm.fake import FakeLLM
from genpersona.types.content import ContentRequest

EUPHEMISM = "Money a bit tight this month? We get it"  # close to a money-trouble prototype
CLEAN = "Rose teapots for your spring table"


@pytest.fixture(autouse=True)
def _fresh() -> Iterator[None]:
    scoring.clear_caches()
    clear_model_cache()
    yield
    scoring.clear_caches()
    clear_model_cache()


def _calibrate_fake() -> None:
    """Give the fake embedder a model that counts as calibrated (as MiniLM's shipped one)."""
    fake = FakeEmbedder()
    texts, labels = training_lines()
    m = fit(fake.embed(texts), labels, {})
    use_model(fake, TopicModel(m.classes, m.coef, m.intercept, m.thresholds, "shipped"))


def _req() -> ContentRequest:
    return ContentRequest(
        brand="teashop", kind="subject_line", customer_id="c1", brief="spring tea", n=2
    )


def test_a_euphemism_candidate_is_dropped_without_an_extra_embedder_call() -> None:
    _calibrate_fake()
    world = World(FakeLLM([EUPHEMISM, CLEAN]))
    deps = world.deps()
    draft = generate(_req(), deps=deps, submit=False)
    texts = [v.content.subject for v in draft.variants]
    # more candidates are written than shown (the fake repeats its two replies): every
    # euphemism is dropped, the clean line stays
    assert texts and set(texts) == {CLEAN}
    # the check itself embedded nothing: same calls as with an uncalibrated model below
    with_gate = deps.embedder.calls
    scoring.clear_caches()
    clear_model_cache()
    model_for(FakeEmbedder())  # uncalibrated: fitted now, outside the counted run
    deps2 = World(FakeLLM([EUPHEMISM, CLEAN])).deps()
    generate(_req(), deps=deps2, submit=False)
    assert deps2.embedder.calls == with_gate


def test_when_every_candidate_is_blocked_they_stay_with_the_violation() -> None:
    _calibrate_fake()
    world = World(FakeLLM([EUPHEMISM, EUPHEMISM + "!"]))
    draft = generate(_req(), deps=world.deps(), submit=False)
    assert draft.variants
    assert all(
        any(x.rule_id == "sensitive.semantic.financial_distress" for x in v.violations)
        for v in draft.variants
    )


def test_an_uncalibrated_model_never_blocks_in_the_pipeline() -> None:
    world = World(FakeLLM([EUPHEMISM, CLEAN]))
    draft = generate(_req(), deps=world.deps(), submit=False)
    assert len(draft.variants) == 2

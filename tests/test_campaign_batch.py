"""The batched campaign runner: same drafts as one by one, resumable after a crash."""

from __future__ import annotations

import hashlib
from typing import Any

import pytest
from campaign_support import CUSTOMERS, seed_brand
from sqlalchemy import delete, func, select

from genpersona.agent.batch import StageCpu
from genpersona.agent.deps import AgentDeps, default_deps
from genpersona.campaigns.batch_runner import run_campaign_batched
from genpersona.campaigns.runner import run_campaign
from genpersona.campaigns.segments import Segment
from genpersona.campaigns.store import list_runs
from genpersona.campaigns.tables import CampaignRunItemRow
from genpersona.context.models import ContextBundle
from genpersona.context.retrieval import context_for as real_context_for
from genpersona.db.engine import session_scope
from genpersona.llm.base import GenerationParams, LLMResult
from genpersona.llm.fake import FakeLLM
from genpersona.review.queue import get_draft
from genpersona.review.tables import DraftRow
from genpersona.settings import get_settings

#: words a reply is built from: fluent, on-voice and clear of every guard rule, so whether
#: a line needs a re-ask depends only on what the test means it to (its length)
WORDS = ("tree", "table", "mantel", "garden", "kitchen", "evening", "weekend", "hallway")


def reply(prompt: str, params: GenerationParams) -> str:
    """A pure function of prompt and seed, like a seeded server. The prompt's leak canary is
    random per process, so it is left out: with it, the same test wrote different lines on
    every run and an unlucky one could need a third round of re-asks."""
    stable = "\n".join(line for line in prompt.splitlines() if "internal ref" not in line)
    digest = hashlib.sha256(f"{params.seed}|{stable}".encode()).digest()
    return f"Cosy picks for your {WORDS[digest[0] % 8]} and {WORDS[digest[1] % 8]}"


def crashing_deps(after: int) -> AgentDeps:
    """Real deps whose context lookup dies like a killed process (not an ordinary error)
    on customer number ``after + 1``."""
    deps = default_deps(FakeLLM(reply), get_settings())
    calls = {"n": 0}

    def context_for(*args: Any, **kwargs: Any) -> ContextBundle:
        calls["n"] += 1
        if calls["n"] > after:
            raise KeyboardInterrupt("killed mid-run")
        return real_context_for(*args, **kwargs)

    deps.context_for = context_for
    return deps


@pytest.fixture
def seeded(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GENPERSONA_CAMPAIGN_BATCH_SIZE", "2")
    monkeypatch.setenv("GENPERSONA_CAMPAIGN_CONCURRENCY", "3")
    get_settings.cache_clear()
    seed_brand()


def _variants(draft_ids: list[int]) -> dict[str, list[tuple[str, float]]]:
    out = {}
    for i in draft_ids:
        d = get_draft(i)
        out[d.customer_id or ""] = [(v.content.all_text(), v.scores.total) for v in d.variants]
    return out


def _forget_drafts() -> None:
    with session_scope() as s:
        s.execute(delete(CampaignRunItemRow))
        s.execute(delete(DraftRow))


def test_batched_runner_writes_the_same_drafts_as_one_by_one(seeded: None) -> None:
    segment, args = Segment(), ("giftloft", "subject_line")
    one = run_campaign(*args, segment, "Christmas gifts", "xmas", 3, llm=FakeLLM(reply))
    assert one.generated == len(CUSTOMERS)
    expected = _variants(one.draft_ids)
    _forget_drafts()
    cpu = StageCpu()
    batched = run_campaign_batched(
        *args, segment, "Christmas gifts", "xmas", 3, llm=FakeLLM(reply), cpu=cpu
    )
    assert (batched.generated, batched.failed, batched.status) == (len(CUSTOMERS), 0, "completed")
    assert _variants(batched.draft_ids) == expected
    assert {"context", "prompt", "generate+guard", "scoring", "storage"} <= set(cpu.seconds)
    assert list_runs()[0].generated == len(CUSTOMERS)


def test_a_run_killed_mid_way_resumes_without_duplicates_or_gaps(seeded: None) -> None:
    args = ("giftloft", "subject_line", Segment(), "Gifts", "resume", 3)
    with pytest.raises(KeyboardInterrupt):
        run_campaign_batched(*args, deps=crashing_deps(after=3))  # dies on the 4th customer
    with session_scope() as s:
        stored_before = s.scalar(select(func.count()).select_from(DraftRow))
    assert 0 < stored_before < len(CUSTOMERS)  # whole batches were stored, the rest lost
    assert list_runs()[0].status == "failed"
    again = run_campaign_batched(*args, llm=FakeLLM(reply))
    assert again.skipped == stored_before
    assert again.generated == len(CUSTOMERS) - stored_before
    with session_scope() as s:
        rows = s.execute(
            select(DraftRow.customer_id, func.count()).group_by(DraftRow.customer_id)
        ).all()
        per_customer = {str(cid): int(count) for cid, count in rows}
    assert per_customer == dict.fromkeys(CUSTOMERS, 1)


def test_one_customers_failure_does_not_stop_the_batch(seeded: None) -> None:
    deps = default_deps(FakeLLM(reply), get_settings())

    def context_for(brand: str, customer_id: str | None, *a: Any, **kw: Any) -> ContextBundle:
        if customer_id == "c5":
            raise RuntimeError("database hiccup")
        return real_context_for(brand, customer_id, *a, **kw)

    deps.context_for = context_for
    report = run_campaign_batched(
        "giftloft", "subject_line", Segment(), "Gifts", "picky", 2, deps=deps
    )
    failed = [r for r in report.results if r.status == "failed"]
    assert [r.customer_id for r in failed] == ["c5"] and failed[0].error == "RuntimeError"
    assert report.generated == len(CUSTOMERS) - 1 and report.status == "partial"


def test_scoring_embedder_is_separate_and_a_missing_static_model_says_how_to_fix(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Any
) -> None:
    from genpersona.embeddings.static import StaticEmbedder
    from genpersona.errors import EmbedderModelMissing

    with pytest.raises(EmbedderModelMissing) as err:
        StaticEmbedder(tmp_path / "absent")
    assert "distill_from_minilm" in (err.value.fix or "")
    deps = default_deps(FakeLLM(reply), get_settings())
    assert deps.scoring_embedder is deps.embedder  # unset: scoring uses the main embedder


def wordy_first(prompt: str, params: GenerationParams) -> str:
    """Odd seeds write a line far past the guide's length on a first try; a re-ask (its
    prompt carries the repair note) is short."""
    if "Change from the last try" not in prompt and (params.seed or 0) % 2:
        return "Cosy picks " + " ".join(["for your lovely home"] * 12)
    return reply(prompt, params)


class CountingLLM(FakeLLM):
    """Counts the batched calls (one model request each on a server)."""

    def __init__(self) -> None:
        super().__init__(wordy_first)
        self.batches: list[int] = []

    def complete_batch(
        self, prompts: list[str], params: GenerationParams, seeds: list[int]
    ) -> list[LLMResult]:
        self.batches.append(len(prompts))
        return super().complete_batch(prompts, params, seeds)


def _wordy_batched_as_one_by_one(name: str, shown: int) -> tuple[Any, CountingLLM]:
    """The same campaign one by one, then batched with a counting model: the batched run
    wrote the same drafts (asserted here); its report and model are returned."""
    args = ("giftloft", "subject_line", Segment(), "Christmas gifts", name, shown)
    one = run_campaign(*args, llm=FakeLLM(wordy_first))
    expected = _variants(one.draft_ids)
    _forget_drafts()
    llm = CountingLLM()
    batched = run_campaign_batched(*args, llm=llm)
    assert batched.generated == len(CUSTOMERS)
    assert _variants(batched.draft_ids) == expected
    return batched, llm


def test_candidates_and_their_re_asks_go_to_the_model_round_by_round(
    seeded: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    """All of a draft's first attempts are one request, every re-ask of the same round one
    more: two requests per customer here, not one per candidate and attempt; and the drafts
    are the ones the one-by-one runner writes. (Every failing candidate re-asked: half the
    candidates fail here, so with the default only a draft showing more than half re-asks.)"""
    monkeypatch.setenv("GENPERSONA_COPY_REASK_ALL", "true")
    get_settings.cache_clear()
    batched, llm = _wordy_batched_as_one_by_one("wordy", 3)
    written = get_settings().copy_candidates
    assert len(llm.batches) == 2 * len(CUSTOMERS)  # first attempts, then the re-asks
    assert llm.batches[0] == written and 0 < llm.batches[1] < written
    assert any(v.attempts == 2 for d in batched.draft_ids for v in get_draft(d).variants)


@pytest.mark.parametrize(("shown", "rounds"), [(3, 1), (4, 2)])
def test_no_re_ask_once_enough_candidates_passed_for_the_variants_shown(
    seeded: None, shown: int, rounds: int
) -> None:
    """Half of the 6 candidates fail their first try (odd seeds). Showing 3, the 3 that
    passed are enough: one request per customer, the others are not re-asked. Showing 4,
    the failing ones are re-asked in a second round. Both runners decide the same way."""
    batched, llm = _wordy_batched_as_one_by_one(f"enough-{shown}", shown)
    assert len(llm.batches) == rounds * len(CUSTOMERS)
    for d in batched.draft_ids:
        draft = get_draft(d)
        assert len(draft.variants) == shown
        assert all("lovely home" not in v.content.all_text() for v in draft.variants)
        if rounds == 1:
            assert draft.trace.not_reasked == 3 and draft.trace.reasked == 0
            assert all(v.attempts == 1 for v in draft.variants)
        else:
            assert draft.trace.not_reasked == 0 and draft.trace.reasked == 3

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
from genpersona.llm.base import GenerationParams
from genpersona.llm.fake import FakeLLM
from genpersona.review.queue import get_draft
from genpersona.review.tables import DraftRow
from genpersona.settings import get_settings


def reply(prompt: str, params: GenerationParams) -> str:
    """A pure function of prompt and seed, like a seeded server."""
    digest = hashlib.sha256(f"{params.seed}|{prompt}".encode()).hexdigest()[:6]
    return f"Cosy picks for your home {digest}"


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

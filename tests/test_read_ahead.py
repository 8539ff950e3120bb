"""The batch path's read-ahead: the same rows as the per-customer reads, in a few queries,
on SQLite and (when GENPERSONA_TEST_PG_URL is set) PostgreSQL."""

from __future__ import annotations

import random
import shutil
import uuid
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from campaign_support import CUSTOMERS, seed_brand
from review_support import backend, pg_database_url  # noqa: F401
from sqlalchemy import delete, select, update

from genpersona.agent.batch import read_batch
from genpersona.agent.deps import default_deps
from genpersona.agent.lookups import past_texts, past_texts_many
from genpersona.campaigns.batch_runner import run_campaign_batched
from genpersona.campaigns.segments import Segment
from genpersona.context import retrieval
from genpersona.context.retrieval import clear_context_caches, context_for, read_customer_rows
from genpersona.customers.records import add_memory_fact
from genpersona.data.tables import Brand, Customer
from genpersona.db.engine import session_scope
from genpersona.errors import CustomerNotFound
from genpersona.llm.fake import FakeLLM
from genpersona.review.queue import get_draft, submit_drafts
from genpersona.review.seed import make_draft
from genpersona.review.tables import DraftRow
from genpersona.settings import get_settings
from genpersona.types.content import ContentRequest


@pytest.fixture
def shop(
    backend: str,  # noqa: F811 - the fixture of review_support
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> str:
    """A seeded brand of its own (the PostgreSQL database is shared by the session's tests),
    with the demo brand's guide under its name, and memory facts: shared, chat (hidden
    without chat-memory consent) and expired."""
    slug = f"shop-{uuid.uuid4().hex[:8]}"
    guides = tmp_path / "guides"
    guides.mkdir()
    shutil.copy(get_settings().brand_guides_dir / "giftloft.yaml", guides / f"{slug}.yaml")
    monkeypatch.setenv("GENPERSONA_BRAND_GUIDES_DIR", str(guides))
    get_settings.cache_clear()
    seed_brand(slug=slug)
    clear_context_caches()
    _set(slug, ("c1", "c2", "c3"), consent_chat_memory=True)
    for cid in ("c1", "c2", "c3"):
        add_memory_fact(slug, cid, f"Loves tea sets ({cid})", "behaviour", False)
        add_memory_fact(slug, cid, "Told us they bake every Sunday", "chat", True)
    add_memory_fact(slug, "c1", "Bought lanterns last winter", "behaviour", False,
                    expires_at=datetime.now() - timedelta(days=1))  # fmt: skip
    _set(slug, ("c1",), consent_chat_memory=False)  # its chat fact is kept, not shown
    _set(slug, ("c3",), consent_personalization=False)
    return slug


def _set(brand: str, customers: tuple[str, ...], **values: bool) -> None:
    with session_scope() as s:
        brand_id = s.scalar(select(Brand.id).where(Brand.slug == brand))
        s.execute(
            update(Customer)
            .where(Customer.brand_id == brand_id, Customer.external_id.in_(customers))
            .values(**values)
        )


def test_context_from_rows_read_ahead_is_the_per_customer_context(shop: str) -> None:
    settings = get_settings()
    rows = read_customer_rows(shop, [*CUSTOMERS, "nobody"], settings)
    assert set(rows.customers) == set(CUSTOMERS)  # unknown ids are simply absent
    for cid in CUSTOMERS:
        alone = context_for(shop, cid, "tea and cake", settings=settings)
        ahead = context_for(shop, cid, "tea and cake", settings=settings, prefetched=rows)
        assert ahead == alone, cid
    c1 = context_for(shop, "c1", "tea", settings=settings, prefetched=rows)
    assert [m.text for m in c1.memories] == ["Loves tea sets (c1)"]  # no chat, no expired
    c2 = context_for(shop, "c2", "tea", settings=settings, prefetched=rows)
    assert len(c2.memories) == 2
    assert not context_for(shop, "c3", "tea", settings=settings, prefetched=rows).personalized
    with pytest.raises(CustomerNotFound):  # not read ahead: the per-customer read decides
        context_for(shop, "nobody", "tea", settings=settings, prefetched=rows)


def test_rows_read_ahead_are_not_used_for_another_brand(shop: str) -> None:
    settings = get_settings()
    other = f"shop-{uuid.uuid4().hex[:8]}"
    seed_brand(slug=other)
    rows = read_customer_rows(other, ["c1"], settings)
    calls = {"n": 0}
    real = retrieval.FAST_READER.first

    def counting(*args: Any, **kwargs: Any) -> Any:
        calls["n"] += 1
        return real(*args, **kwargs)

    mp = pytest.MonkeyPatch()
    mp.setattr(retrieval.FAST_READER, "first", counting)
    try:
        bundle = context_for(shop, "c1", "tea", settings=settings, prefetched=rows)
    finally:
        mp.undo()
    assert calls["n"] == 1 and bundle.customer_id == "c1"  # read for this brand, not reused


def test_past_texts_for_many_customers_are_each_customers_past_texts(shop: str) -> None:
    settings = get_settings()
    rng = random.Random(3)
    drafts = [
        make_draft(rng, brand=shop, kind=kind, customer_id=cid, campaign=f"run{i}")
        for i in range(4)
        for cid, kind in (("c1", "subject_line"), ("c2", "subject_line"), ("c1", "hero"))
    ]
    stored = submit_drafts(drafts, settings)
    with session_scope() as s:  # a rejected draft is no novelty baseline
        s.execute(update(DraftRow).where(DraftRow.id == stored[0].id).values(status="rejected"))
    many = past_texts_many(shop, ["c1", "c2", "c4"], "subject_line", settings, limit=3)
    for cid in ("c1", "c2", "c4"):
        assert many[cid] == past_texts(shop, cid, "subject_line", settings, limit=3), cid
    assert len(many["c2"]) == 3 and many["c4"] == []


def _reply(prompt: str, params: Any) -> str:
    return f"Cosy picks for your kitchen, seed {params.seed % 97}"


def test_a_batch_reads_its_customers_ahead_and_writes_the_same_drafts(
    shop: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("GENPERSONA_CAMPAIGN_BATCH_SIZE", "5")
    get_settings.cache_clear()
    first = {"n": 0}
    real = retrieval.FAST_READER.first

    def counting(*args: Any, **kwargs: Any) -> Any:
        first["n"] += 1
        return real(*args, **kwargs)

    monkeypatch.setattr(retrieval.FAST_READER, "first", counting)
    args = (shop, "subject_line", Segment(), "Gifts", "ahead", 3)
    ahead = run_campaign_batched(*args, llm=FakeLLM(_reply))
    assert ahead.generated == len(CUSTOMERS)  # c3, opted out, gets non-personal copy
    assert first["n"] == 0  # no customer was read on its own
    texts = {d.customer_id: d.variants[0].content.all_text() for d in _drafts(ahead.draft_ids)}
    with session_scope() as s:  # gone, not expired: both runs rank against the same past
        s.execute(delete(DraftRow).where(DraftRow.brand == shop))
    deps = default_deps(FakeLLM(_reply), get_settings())
    deps.read_ahead = None
    alone = run_campaign_batched(*args, deps=deps)
    assert first["n"] == alone.generated  # one read per customer without it
    assert {d.customer_id: d.variants[0].content.all_text() for d in _drafts(alone.draft_ids)} == (
        texts
    )


def _drafts(ids: list[int]) -> list[Any]:
    return [get_draft(i) for i in ids]


def test_a_failed_read_ahead_falls_back_to_reading_each_customer(shop: str) -> None:
    deps = default_deps(FakeLLM(_reply), get_settings())

    def broken(*a: Any) -> Any:
        raise RuntimeError("connection reset")

    deps.read_ahead = broken
    requests = [ContentRequest(brand=shop, kind="subject_line", customer_id="c1", brief="x")]
    assert read_batch(requests, deps) is None
    report = run_campaign_batched(shop, "subject_line", Segment(), "Gifts", "broken", 3, deps=deps)
    assert report.failed == 0 and report.generated > 0

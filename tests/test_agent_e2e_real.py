"""End to end with real components: local Gemma 3 270M, MiniLM, embedded Chroma, SQLite.

A slice of the real UCI Online Retail data (three customers' whole histories)
is ingested as the demo brand, then the agent drafts a subject line, a hero and
a chat answer for real customers and queues them.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from genpersona.agent.chat import chat_reply
from genpersona.agent.deps import default_deps
from genpersona.agent.lookups import catalog_items
from genpersona.agent.pipeline import generate
from genpersona.agent.sampling import sample_customers
from genpersona.review.queue import get_draft
from genpersona.settings import get_settings
from genpersona.types.content import ContentRequest

pytestmark = [pytest.mark.real_model, pytest.mark.slow]


@pytest.fixture
def ingested(shared_data: Path, tmp_path: Path) -> list[str]:
    from genpersona.data.ingest_online_retail import ingest_online_retail
    from genpersona.recs.store import fit_recommender

    frame = pd.read_parquet(shared_data / "online_retail.parquet")
    frame = frame[frame["Country"] == "United Kingdom"]
    busiest = frame.dropna(subset=["CustomerID"]).groupby("CustomerID")["InvoiceNo"].nunique()
    chosen = busiest[(busiest >= 8) & (busiest <= 15)].index[:3]
    path = tmp_path / "slice.parquet"
    frame[frame["CustomerID"].isin(chosen)].to_parquet(path)
    ingest_online_retail(
        path,
        "giftloft",
        brand_name="The Gift Loft",
        settings=get_settings(),
        fit_recs=fit_recommender,
    )
    return sample_customers("giftloft", 3, get_settings(), min_orders=1)


def test_real_drafts_for_real_customers_are_guarded_grounded_and_queued(
    ingested: list[str],
) -> None:
    settings = get_settings()
    assert len(ingested) >= 2
    deps = default_deps(settings=settings)
    assert deps.llm.backend == "local" and deps.embedder.name != "fake"

    for cid in ingested[:2]:
        draft = generate(
            ContentRequest(
                brand="giftloft",
                kind="subject_line",
                customer_id=cid,
                brief="new season gift picks",
                n=2,
            ),  # fmt: skip
            deps=deps,
        )
        stored = get_draft(draft.id)
        assert len(stored.variants) == 2
        for v in stored.variants:
            assert v.content.subject and not any(x.severity == "block" for x in v.violations)
        assert stored.rationale.backend == "local" and stored.rationale.personalized
        assert stored.rationale.customer_line
        assert draft.trace.model_ms > 0 and draft.trace.completion_tokens > 0

    hero = generate(
        ContentRequest(brand="giftloft", kind="hero", customer_id=ingested[0], n=1), deps=deps
    )
    codes = [f.stock_code for f in hero.top.content.featured_items]
    assert codes and set(codes) <= set(catalog_items("giftloft", codes, settings))

    reply = chat_reply("giftloft", ingested[1], [], "How long does delivery take?", deps=deps)
    assert reply.answer and reply.draft_id is not None
    assert reply.outcome == "answer" and reply.knowledge_used == ["faq:1"]


def test_real_top_subject_lines_are_not_keyword_lists(ingested: list[str]) -> None:
    """The issue's demo failure: with the local model, no customer's top subject line is the
    prompt's interests copied back as a list or a fragment (shape rules of evals/copy)."""
    from evals.copy.run import shape

    deps = default_deps()
    shapes: dict[str, tuple[str, str]] = {}
    for cid in ingested:
        draft = generate(
            ContentRequest(brand="giftloft", kind="subject_line", customer_id=cid,
                           brief="our new season gift picks", n=3),
            deps=deps, submit=False,
        )  # fmt: skip
        top = draft.top.content
        assert top.recipe_id and "/2026.12.4/" in top.recipe_id
        shapes[cid] = (shape(top.main_text()), top.main_text())
        assert draft.trace.candidates > len(draft.variants)  # more written than shown
    # never a keyword list; the fragment rule is a glance heuristic with false alarms (it
    # flagged "More of the bags they keep coming back to." for its final preposition, and
    # the local model's output varies between runs with parallel slots), so one is allowed
    assert not [v for v in shapes.values() if v[0] == "keyword_list"], shapes
    assert sum(v[0] == "fragment" for v in shapes.values()) <= 1, shapes

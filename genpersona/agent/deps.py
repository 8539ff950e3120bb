"""The pipeline's collaborators, gathered in one replaceable object.

The agent calls into many other concepts (context, guardrails, review queue,
catalog, vector store). Passing them as one ``AgentDeps`` keeps every stage a
plain function of its inputs: tests swap any collaborator for a fake without
monkeypatching.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from genpersona.agent.lookups import (
    catalog_items,
    find_pending,
    other_interest_texts,
    past_texts,
    theme_shares,
)
from genpersona.agent.read_ahead import ReadAhead, read_ahead
from genpersona.agent.trace import timed
from genpersona.brands.guide import BrandGuide
from genpersona.brands.loader import load_guide
from genpersona.context.models import ContextBundle
from genpersona.context.retrieval import context_for
from genpersona.customers.ledger import SentMessage, sent_messages
from genpersona.customers.records import add_memory_fact
from genpersona.embeddings.base import Embedder
from genpersona.embeddings.factory import get_caching_embedder
from genpersona.llm.base import LLM
from genpersona.llm.factory import get_llm
from genpersona.review.exemplars import similar_exemplars
from genpersona.review.queue import submit_draft
from genpersona.settings import Settings, get_settings
from genpersona.types.content import Draft, FeaturedItem
from genpersona.vectors.base import VectorStore
from genpersona.vectors.factory import get_vector_store

ContextFn = Callable[..., ContextBundle]
ExemplarFn = Callable[[str, str, str, int, "AgentDeps"], list[Any]]


def store_exemplars(brand: str, kind: str, text: str, k: int, deps: AgentDeps) -> list[Any]:
    """Approved exemplars closest to ``text``, from this run's store and embedder."""
    return similar_exemplars(
        brand, kind, text, k=k, settings=deps.settings, store=deps.store, embedder=deps.embedder
    )


def queue_submit(draft: Draft, settings: Settings) -> Draft:
    return submit_draft(draft, settings=settings)


def remember_shared(brand: str, customer_id: str, text: str, settings: Settings) -> None:
    """A preference the customer stated in chat, stored as knowingly shared."""
    add_memory_fact(brand, customer_id, text, "chat", knowingly_shared=True, settings=settings)


@dataclass
class AgentDeps:
    """Everything the pipeline talks to. Build with ``default_deps`` and override fields."""

    settings: Settings
    llm: LLM
    embedder: Embedder
    store: VectorStore
    load_guide: Callable[[str], BrandGuide]
    context_for: ContextFn = context_for
    similar_exemplars: ExemplarFn = store_exemplars
    submit: Callable[[Draft, Settings], Draft] = queue_submit
    catalog_items: Callable[[str, list[str], Settings], dict[str, FeaturedItem]] = catalog_items
    past_texts: Callable[[str, str, str, Settings], list[str]] = past_texts
    other_interests: Callable[[str, Settings], list[tuple[str, str]]] = other_interest_texts
    #: theme label -> share of the brand's customers who favour it (leads with rare themes)
    theme_shares: Callable[[str, Settings], dict[str, float]] = theme_shares
    find_pending: Callable[[str, Settings], Draft | None] = find_pending
    remember: Callable[[str, str, str, Settings], None] = remember_shared
    #: what the customer was recently sent (the delivery ledger), for chat and hero copy
    sent_messages: Callable[[str, str, Settings], list[SentMessage]] = sent_messages
    #: the batch path's reads for many customers at once (``agent.read_ahead``); its rows
    #: go to ``context_for`` as ``prefetched=``, so set it to None when ``context_for``
    #: is one that takes no such rows (a fake): each customer is then read on its own
    read_ahead: Callable[[str, str, list[str], Settings], ReadAhead] | None = read_ahead
    extra: dict[str, Any] = field(default_factory=dict)
    #: scores candidates when set (a cheaper model, ``scoring_embedder``); retrieval and
    #: exemplars keep ``embedder``, whose vectors the stores hold
    scorer: Embedder | None = None
    #: reads candidate lines for the copy-quality classifier when set (a cheaper model in
    #: MiniLM's space, ``copy_quality_embedder``); otherwise the scoring or main embedder
    line_reader: Embedder | None = None

    @property
    def scoring_embedder(self) -> Embedder:
        return self.scorer or self.embedder


def default_deps(llm: LLM | None = None, settings: Settings | None = None) -> AgentDeps:
    """The real collaborators from settings (cached by their own factories)."""
    settings = settings or get_settings()
    return AgentDeps(
        settings=settings,
        llm=llm or get_llm(settings=settings),
        embedder=timed(get_caching_embedder(settings=settings)),
        store=get_vector_store(settings),
        load_guide=lambda name: load_guide(name, settings),
        scorer=(
            timed(get_caching_embedder(settings.scoring_embedder, settings=settings))
            if settings.scoring_embedder and settings.scoring_embedder != settings.embedder
            else None
        ),
        line_reader=(
            timed(get_caching_embedder(settings.copy_quality_embedder, settings=settings))
            if settings.copy_quality_embedder
            else None
        ),
    )

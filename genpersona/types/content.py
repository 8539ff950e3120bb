"""The content boundary types: what is asked (ContentRequest) and what comes back (Draft).

These are the contract between the pipeline (``genpersona.agent``), the guard, the
review queue (``genpersona.review``), campaigns and the API: the queue stores a Draft
as produced, and the console shows it. They live in the bottom layer so none of those
packages has to import another to name a draft.
"""

from __future__ import annotations

import hashlib
import json
from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, Field, model_validator

from genpersona.types.audience import AnonymousContext, Consent
from genpersona.types.violations import Violation

ContentKind = Literal["subject_line", "hero", "chat_answer"]
DraftStatus = Literal["pending", "approved", "edited", "rejected", "expired"]


class ChatTurn(BaseModel):
    role: Literal["customer", "assistant"]
    text: str = Field(max_length=4000)


class ContentRequest(BaseModel):
    brand: str = Field(min_length=1, max_length=64)
    kind: ContentKind
    customer_id: str | None = Field(default=None, max_length=64)
    anonymous: AnonymousContext | None = None
    brief: str = Field(default="", max_length=2000)
    campaign: str | None = Field(default=None, max_length=128)
    n: int = Field(default=3, ge=1, le=10)
    channel: Literal["email", "web", "chat"] | None = None
    conversation: list[ChatTurn] = Field(default_factory=list, max_length=50)
    send_date: datetime | None = None
    regenerate_note: str | None = Field(default=None, max_length=1000)
    #: recipe names (``prompts/recipes.yaml``) the candidates are written from; empty: all
    recipes: list[str] = Field(default_factory=list, max_length=20)
    #: stock codes to feature first (e.g. the co-purchase partner of what was just bought)
    feature_items: list[str] = Field(default_factory=list, max_length=10)

    @model_validator(mode="after")
    def _check(self) -> ContentRequest:
        if self.kind == "chat_answer" and not self.conversation:
            raise ValueError(
                "chat_answer needs a conversation with at least the customer's message"
            )
        return self

    @property
    def resolved_channel(self) -> str:
        return (
            self.channel
            or {"subject_line": "email", "hero": "web", "chat_answer": "chat"}[self.kind]
        )

    def idempotency_key(self) -> str:
        """Same brand, customer, kind, brief, campaign and conversation -> same key.

        Recipes and featured items count only when set, so requests without them keep
        the keys they always had (pending drafts stay deduplicated across the upgrade)."""
        payload = self.model_dump(
            mode="json",
            include={"brand", "kind", "customer_id", "brief", "campaign", "conversation"},
        )
        if self.recipes:
            payload["recipes"] = list(self.recipes)
        if self.feature_items:
            payload["feature_items"] = list(self.feature_items)
        return hashlib.sha256(json.dumps(payload, sort_keys=True).encode()).hexdigest()[:32]


class FeaturedItem(BaseModel):
    stock_code: str
    description: str
    price: float | None = None


class VariantContent(BaseModel):
    """The copy itself; which fields are set depends on the kind."""

    subject: str | None = None
    preheader: str | None = None
    headline: str | None = None
    subheadline: str | None = None
    cta: str | None = None
    featured_items: list[FeaturedItem] = Field(default_factory=list)
    answer: str | None = None
    #: the recipe (angle/template version/exemplar policy) this variant was written from
    recipe_id: str | None = None

    def main_text(self) -> str:
        return self.subject or self.headline or self.answer or ""

    def all_text(self) -> str:
        parts = [
            self.subject,
            self.preheader,
            self.headline,
            self.subheadline,
            self.cta,
            self.answer,
        ]
        return "\n".join(p for p in parts if p)


class Scores(BaseModel):
    brand_voice: float = 0.0
    relevance: float = 0.0
    specificity: float = 0.0
    length_fit: float = 0.0
    novelty: float = 0.0
    #: copy quality (sendable vs degenerate: keyword list, fragment, echo), see agent.quality
    quality: float = 0.0
    #: mean token log-probability under the model when the backend returns it (else None)
    fluency: float | None = None
    echo: float = 0.0
    #: the click model's predicted click rate of the main line (None: no trained model, or
    #: its embedder is not configured); only its order among one draft's candidates means much
    click_ctr: float | None = None
    #: closeness to the nearest few-shot line of the prompt (1.0: copied verbatim)
    copied: float = 0.0
    total: float = 0.0


class Variant(BaseModel):
    index: int
    content: VariantContent
    scores: Scores = Field(default_factory=Scores)
    violations: list[Violation] = Field(default_factory=list)
    fixes_applied: list[str] = Field(default_factory=list)
    attempts: int = 1
    is_fallback: bool = False
    #: the model's mean token log-probability of this text (None: fallback, or not returned)
    lm_logprob: float | None = None


class Rationale(BaseModel):
    """'Why this draft': facts, items, consent, rules, model, prompt version."""

    customer_line: str = ""  # e.g. "Because you often buy vintage tea sets"
    facts_used: list[str] = Field(default_factory=list)
    items_used: list[str] = Field(default_factory=list)
    consent: Consent = Field(default_factory=Consent)
    personalized: bool = False
    rules_checked: list[str] = Field(default_factory=list)
    model: str = ""
    backend: str = ""
    prompt_template: str = ""
    prompt_version: str = ""
    exemplar_ids: list[int] = Field(default_factory=list)
    # the request's inputs that are not columns of a draft, kept so a reviewer's
    # "regenerate" can replay the same request with a note (optional, additive)
    conversation: list[ChatTurn] = Field(default_factory=list)
    anonymous: AnonymousContext | None = None
    channel: str | None = None
    knowledge_used: list[str] = Field(default_factory=list)
    #: chat only: answer (from the passages), handoff (brand's handoff line) or decline
    chat_outcome: Literal["answer", "handoff", "decline"] | None = None
    #: chat only: the passages the answer was built from ({id, source, title, text, score})
    passages: list[dict[str, Any]] = Field(default_factory=list)


class StageTiming(BaseModel):
    stage: str
    ms: float


class Trace(BaseModel):
    stages: list[StageTiming] = Field(default_factory=list)
    prompt_tokens: int = 0
    completion_tokens: int = 0
    model_ms: float = 0.0
    total_ms: float = 0.0
    first_try_passed: int = 0
    repaired: int = 0
    reasked: int = 0
    fallbacks: int = 0
    #: candidates the guard sent back that were not re-asked: enough others had passed
    not_reasked: int = 0
    violations_caught: int = (
        0  # violations found across all attempts (fixed, re-asked or fell back)
    )
    candidates: int = 0
    embed_ms: float = 0.0  # time inside the text embedder (scoring, knowledge, exemplar lookup)
    #: time inside either model: the union of LLM and embedder intervals, which overlap when
    #: scoring is prepared while candidates decode (so model_ms + embed_ms would double-count)
    models_ms: float = 0.0
    #: prompt tokens the server served from its prompt cache (part of ``prompt_tokens``)
    cached_prompt_tokens: int = 0
    #: model calls made (candidates, re-asks and redraws of empty lines)
    model_calls: int = 0
    #: the server's own prompt-evaluation and decoding clocks, summed over calls (with
    #: parallel slots they overlap, so they can add up to more than ``model_ms``)
    prompt_eval_ms: float = 0.0
    decode_ms: float = 0.0


class Draft(BaseModel):
    id: int | None = None
    brand: str
    kind: ContentKind
    customer_id: str | None
    campaign: str | None = None
    brief: str = ""
    status: DraftStatus = "pending"
    variants: list[Variant]
    rationale: Rationale
    trace: Trace = Field(default_factory=Trace)
    idempotency_key: str
    version: int = 1  # optimistic-concurrency counter, bumped by every decision
    created_at: datetime | None = None

    @property
    def top(self) -> Variant:
        return max(self.variants, key=lambda v: v.scores.total)

    @property
    def has_violations(self) -> bool:
        return any(v.violations for v in self.variants)

    @property
    def is_fallback(self) -> bool:
        return all(v.is_fallback for v in self.variants)

"""Stage 1: the request becomes everything the prompt may use, and nothing more.

The consent decision is made here, once: without personalization consent the
context carries no profile, no memories and no personal recommendations, so no
later stage can leak what it never received. Anonymous visitors get only the
request's own context (country, time of day, season, referrer).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from genpersona.agent.deps import AgentDeps
from genpersona.agent.grounding import Grounding, ground
from genpersona.agent.prompting import canary_for
from genpersona.agent.read_ahead import ReadAhead
from genpersona.agent.trace import substage
from genpersona.brands.guide import BrandGuide, KnowledgeEntry
from genpersona.context.models import ContextBundle, Evidence, RecommendedItem
from genpersona.errors import GenerationError
from genpersona.types.audience import AnonymousContext, Consent
from genpersona.types.content import ContentRequest, FeaturedItem

_POPULAR = {"popular", "popular_country", "popular_season"}


class ExemplarRef(BaseModel):
    id: int
    text: str


class AgentContext(BaseModel):
    """The output of the context stage: the one input of prompting, generation and scoring."""

    model_config = ConfigDict(arbitrary_types_allowed=True)

    request: ContentRequest
    guide: BrandGuide
    bundle: ContextBundle
    exemplars: list[ExemplarRef] = Field(default_factory=list)
    knowledge: list[KnowledgeEntry] = Field(default_factory=list)
    featured: list[FeaturedItem] = Field(default_factory=list)
    canary: str
    #: chat only: the outcome decided before any model call and the passages behind it
    grounding: Grounding | None = None
    #: texts -> unit vectors for the guard's semantic checks (the run's embedder)
    embed: Any = None
    #: chat and hero: the copy this customer was recently sent (the delivery ledger), so the
    #: answer or the banner does not contradict the email's offer
    sent: list[str] = Field(default_factory=list)
    #: subject lines and heroes for a known customer: theme label -> share of the brand's
    #: customers who favour it, so the candidates lead with what sets this one apart
    theme_shares: dict[str, float] = Field(default_factory=dict)
    #: the texts already drafted for this customer, when the batch path read them ahead;
    #: None: scoring reads them itself
    past: list[str] | None = None

    @property
    def personalized(self) -> bool:
        return self.bundle.personalized

    @property
    def last_message(self) -> str:
        turns = [t for t in self.request.conversation if t.role == "customer"]
        return turns[-1].text if turns else ""


def time_of_day(moment: datetime) -> str:
    hour = moment.hour
    if 5 <= hour < 12:
        return "morning"
    if 12 <= hour < 17:
        return "afternoon"
    if 17 <= hour < 22:
        return "evening"
    return "night"


def season_of(moment: datetime) -> str:
    """Northern-hemisphere season: the demo brand is a UK shop."""
    return {12: "winter", 1: "winter", 2: "winter", 3: "spring", 4: "spring", 5: "spring",
            6: "summer", 7: "summer", 8: "summer"}.get(moment.month, "autumn")  # fmt: skip


def anonymous_line(anon: AnonymousContext | None) -> str:
    """The visitor's context as one short line for the prompt (no identity, ever)."""
    if anon is None:
        return ""
    parts: list[str] = []
    if anon.country:
        parts.append(f"visiting from {anon.country}")
    if anon.local_time:
        parts.append(f"in the {time_of_day(anon.local_time)}")
    season = anon.season or (season_of(anon.local_time) if anon.local_time else None)
    if season:
        parts.append(f"in {season}")
    if anon.referrer:
        parts.append(f"arrived from {anon.referrer}")
    return ", ".join(parts)


def _empty_bundle(request: ContentRequest) -> ContextBundle:
    return ContextBundle(
        brand=request.brand,
        customer_id=request.customer_id,
        brief=request.brief,
        personalized=False,
        consent=Consent(),
        anonymous=request.anonymous,
    )


def _strip_personal(bundle: ContextBundle) -> ContextBundle:
    """Belt and braces: whatever context_for returned, opt-out keeps only popular items."""
    if bundle.personalized:
        return bundle
    return bundle.model_copy(
        update={
            "profile": None,
            "memories": [],
            "recommendations": [r for r in bundle.recommendations if r.reason in _POPULAR],
        }
    )


def choose_featured(
    request: ContentRequest, bundle: ContextBundle, deps: AgentDeps, k: int = 2
) -> list[FeaturedItem]:
    """Hero items come only from the recommendations, and only if the catalog has them."""
    codes = [r.stock_code for r in bundle.recommendations]
    found = deps.catalog_items(request.brand, codes, deps.settings)
    featured = [found[c] for c in codes if c in found][:k]
    if not featured:
        raise GenerationError(
            f"no catalog item to feature in a hero for brand {request.brand!r}"
            + (f" and customer {request.customer_id}" if request.customer_id else ""),
            fix="ingest the brand's catalog (`genpersona ingest ...`) so recommendations exist",
            brand=request.brand,
            recommended=codes,
        )
    return featured


#: the kinds that must agree with what the customer was sent, and how many lines they see
SENT_KINDS = ("chat_answer", "hero")
MAX_SENT = 3
#: the kinds whose candidates each lead with one of the customer's themes (``lead_interests``)
LEAD_KINDS = ("subject_line", "hero")


def feature_first(request: ContentRequest, bundle: ContextBundle, deps: AgentDeps) -> ContextBundle:
    """The request's ``feature_items`` (e.g. the co-purchase partner a cross-sell trigger
    picked) lead the recommendations, so the prompt's products and a hero's featured items
    start with them. Only for personalised bundles (the pick comes from the customer's own
    purchase) and only for codes the catalog has."""
    if not request.feature_items or not bundle.personalized:
        return bundle
    found = deps.catalog_items(request.brand, list(request.feature_items), deps.settings)
    lead = [
        RecommendedItem(
            stock_code=code,
            description=found[code].description,
            price=found[code].price,
            score=1.0,
            reason="co_purchase",
            evidence=Evidence(source="trigger", note="picked for this campaign"),
        )
        for code in request.feature_items
        if code in found
    ]
    if not lead:
        return bundle
    picked = {r.stock_code for r in lead}
    rest = [r for r in bundle.recommendations if r.stock_code not in picked]
    return bundle.model_copy(update={"recommendations": lead + rest})


def build_context(
    request: ContentRequest, deps: AgentDeps, ahead: ReadAhead | None = None
) -> AgentContext:
    """``ahead``: the batch's rows read ahead (the throughput path); none are queried again."""
    guide = deps.load_guide(request.brand)
    with substage("context.retrieval"):
        bundle = feature_first(request, _bundle(request, deps, ahead), deps)
    query = request.brief or request.kind.replace("_", " ")
    if request.kind == "chat_answer":
        query = " ".join(t.text for t in request.conversation[-3:] if t.role == "customer")
    with substage("context.exemplars"):
        exemplars = [
            ExemplarRef(id=e.id, text=e.text)
            for e in deps.similar_exemplars(request.brand, request.kind, query, 3, deps)
        ]
    kb: list[KnowledgeEntry] = []
    grounding: Grounding | None = None
    if request.kind == "chat_answer":
        with substage("context.knowledge"):
            last = [t.text for t in request.conversation if t.role == "customer"][-1:]
            grounding = ground(guide, last[0] if last else "", bundle, deps)
            by_question = {k.question: k for k in guide.knowledge}
            kb = [by_question[p.title] for p in grounding.passages if p.title in by_question]
    featured: list[FeaturedItem] = []
    if request.kind == "hero":
        with substage("context.catalog"):
            featured = choose_featured(request, bundle, deps)
    sent: list[str] = []
    if request.kind in SENT_KINDS and request.customer_id and bundle.personalized:
        with substage("context.ledger"):
            messages = deps.sent_messages(request.brand, request.customer_id, deps.settings)
            sent = list(dict.fromkeys(m.text for m in messages))[:MAX_SENT]
    shares: dict[str, float] = {}
    if request.kind in LEAD_KINDS and bundle.personalized:
        with substage("context.themes"):
            shares = deps.theme_shares(request.brand, deps.settings)
    return AgentContext(
        request=request,
        theme_shares=shares,
        guide=guide,
        bundle=bundle,
        sent=sent,
        exemplars=exemplars,
        knowledge=kb,
        featured=featured,
        canary=canary_for(request.brand),
        grounding=grounding,
        embed=deps.embedder.embed,
        past=ahead.past_of(request.customer_id) if ahead and request.customer_id else None,
    )


def _bundle(
    request: ContentRequest, deps: AgentDeps, ahead: ReadAhead | None = None
) -> ContextBundle:
    if request.customer_id is None and request.anonymous is None:
        if request.kind != "hero":
            return _empty_bundle(request)
        # no one to personalise for, but a hero still needs popular items to feature
        bundle = deps.context_for(
            request.brand, None, request.brief, anonymous=AnonymousContext(), settings=deps.settings
        )
    else:
        rows = {"prefetched": ahead.rows} if ahead is not None else {}
        bundle = deps.context_for(
            request.brand,
            request.customer_id,
            request.brief,
            anonymous=request.anonymous,
            settings=deps.settings,
            **rows,
        )
    return _strip_personal(bundle)

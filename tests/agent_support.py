"""Small hand-built world for the agent's unit tests: a guide, customers, a catalog.

Everything the pipeline talks to is replaced through ``AgentDeps`` except what
the test is about; the review queue runs for real on the per-test SQLite file.
"""

from __future__ import annotations

from typing import Any

from genpersona.agent.deps import AgentDeps
from genpersona.brands.guide import BrandGuide
from genpersona.context.models import (
    ContextBundle,
    Evidence,
    MemoryFactView,
    ProfileSummary,
    RecommendedItem,
)
from genpersona.embeddings.fake import FakeEmbedder
from genpersona.llm.fake import FakeLLM
from genpersona.settings import get_settings
from genpersona.types.audience import AnonymousContext, Consent
from genpersona.types.content import Draft, FeaturedItem
from genpersona.vectors.memory import InMemoryVectorStore

BRAND = "teashop"

CATALOG = {
    "T100": FeaturedItem(stock_code="T100", description="Vintage rose teapot", price=18.5),
    "T200": FeaturedItem(stock_code="T200", description="Gold rim tea cups", price=12.0),
    "G300": FeaturedItem(stock_code="G300", description="Garden bird feeder", price=9.0),
    "P900": FeaturedItem(stock_code="P900", description="Paper party bunting", price=3.0),
}

MEMORY_TEXT = "I collect rose teapots from the 1950s"
PURCHASED = "Vintage rose teapot"


def make_guide(**overrides: Any) -> BrandGuide:
    data: dict[str, Any] = {
        "id": BRAND,
        "name": "Tea Shop",
        "version": "2026.11.1",
        "locale": "en-GB",
        "voice": ["warm", "playful", "never pushy"],
        "examples": {
            "subject_line": {
                "do": ["Tea for two, cake for one", "Your cups are calling"],
                "dont": ["BUY NOW OR MISS OUT", "Last chance, act fast"],
            },
            "hero": {"do": ["Pour something lovely | Teapots for slow mornings | See teapots"]},
            "chat_answer": {"do": ["Happy to help with that!"]},
        },
        "fallbacks": {
            "subject_line": [
                "Something lovely from the Tea Shop",
                "A little something for your teapot",
            ],
            "hero": ["Something lovely for your table"],
            "chat_answer": ["Thanks for asking! A colleague will get back to you shortly."],
        },
        "fallback_cta": "Take a look",
        "banned_terms": [{"term": "cheap", "reason": "we are not cheap", "severity": "block"}],
        "limits": {"subject_line": {"max_chars": 60}, "hero": {"max_chars": 70}},
        "knowledge": [
            {
                "question": "How long does delivery take?",
                "answer": "UK delivery takes 3 to 5 working days.",
            },
            {
                "question": "Can I return an item?",
                "answer": "Returns are free within 30 days of delivery.",
            },
            {"question": "Do you gift wrap?", "answer": "Yes, add gift wrap at checkout."},
        ],
    }
    data.update(overrides)
    return BrandGuide(**data)


def bundle_for(customer_id: str | None, *, consent: bool = True, chat_memory: bool = False,
               anonymous: AnonymousContext | None = None) -> ContextBundle:  # fmt: skip
    if customer_id is None:
        return ContextBundle(
            brand=BRAND, customer_id=None, brief="", personalized=False, consent=Consent(),
            anonymous=anonymous,
            recommendations=[_rec("P900", "popular")],
        )  # fmt: skip
    if not consent:
        return ContextBundle(
            brand=BRAND, customer_id=customer_id, brief="", personalized=False,
            consent=Consent(personalization=False, email=True),
            recommendations=[_rec("P900", "popular")],
        )  # fmt: skip
    return ContextBundle(
        brand=BRAND,
        customer_id=customer_id,
        brief="",
        personalized=True,
        consent=Consent(personalization=True, email=True, chat_memory=chat_memory),
        profile=ProfileSummary(
            customer_id=customer_id,
            country="United Kingdom",
            favourite_themes=["vintage tea sets", "teapots"],
        ),  # fmt: skip
        memories=[
            MemoryFactView(
                fact_id=1,
                text=MEMORY_TEXT,
                source="chat",
                knowingly_shared=True,
                evidence=Evidence(source="chat"),
            ),  # fmt: skip
        ],
        recommendations=[
            _rec("T100", "content"),
            _rec("T200", "co_purchase"),
            _rec("ZZZ", "blend"),
        ],
    )


def _rec(code: str, reason: str) -> RecommendedItem:
    desc = CATALOG[code].description if code in CATALOG else "Ghost item not in catalog"
    return RecommendedItem(stock_code=code, description=desc, reason=reason,  # type: ignore[arg-type]
                           evidence=Evidence(source="test", stock_codes=[code]))  # fmt: skip


class World:
    """Per-test collaborators; ``opted_out`` customers get no personalization."""

    def __init__(self, llm: FakeLLM | None = None, guide: BrandGuide | None = None) -> None:
        self.guide = guide or make_guide()
        self.llm = llm or FakeLLM(["Tea for you, made with love"])
        self.opted_out: set[str] = set()
        self.chat_memory: set[str] = set()
        self.remembered: list[tuple[str, str]] = []
        self.submitted: list[Draft] = []
        self.context_calls: list[tuple] = []

    def context_for(self, brand, customer_id, brief, *, anonymous=None, settings=None):  # type: ignore[no-untyped-def]
        self.context_calls.append((brand, customer_id, brief))
        return bundle_for(
            customer_id, consent=customer_id not in self.opted_out,
            chat_memory=customer_id in self.chat_memory, anonymous=anonymous,
        )  # fmt: skip

    def deps(self, **overrides: Any) -> AgentDeps:
        settings = get_settings()
        store = InMemoryVectorStore()
        base: dict[str, Any] = {
            "settings": settings,
            "llm": self.llm,
            "embedder": FakeEmbedder(),
            "store": store,
            "load_guide": lambda name: self.guide,
            "context_for": self.context_for,
            "read_ahead": None,  # this context_for reads no prefetched rows
            "similar_exemplars": lambda brand, kind, text, k, deps: [],
            "catalog_items": lambda brand, codes, s: {c: CATALOG[c] for c in codes if c in CATALOG},
            "past_texts": lambda brand, cid, kind, s: [],
            "other_interests": lambda brand, s: [
                ("c-other-1", "garden birds, outdoor living"),
                ("c-other-2", "party bunting, paper decorations"),
                ("c-other-3", "christmas baubles"),
            ],
            "theme_shares": lambda brand, s: {},  # favourite order
            "remember": lambda brand, cid, text, s: self.remembered.append((cid, text)),
        }
        base.update(overrides)
        return AgentDeps(**base)

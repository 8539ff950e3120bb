"""What the agent knows about one customer for one brief: the output of ``context_for``.

Every personal item carries its evidence (the events or facts it came from),
so a draft can say "based on your ..." and a reviewer can check it.
Under opt-out, ``personalized`` is False and every personal field is empty.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

from genpersona.recs.models import Evidence, RecommendedItem
from genpersona.types.audience import AnonymousContext, Consent

__all__ = [
    "AnonymousContext",
    "Consent",
    "ContextBundle",
    "Evidence",
    "MemoryFactView",
    "ProfileSummary",
    "RecommendedItem",
]


class ProfileSummary(BaseModel):
    customer_id: str
    country: str | None = None
    locale: str = "en-GB"
    timezone: str | None = None
    recency_days: int | None = None
    frequency: int = 0
    monetary: float = 0.0
    favourite_themes: list[str] = Field(default_factory=list)
    typical_order_weekday: str | None = None
    typical_order_hour: int | None = None
    price_band: Literal["budget", "mid", "premium"] | None = None


class MemoryFactView(BaseModel):
    fact_id: int
    text: str
    source: str
    score: float = 0.0
    evidence: Evidence
    #: True when the customer knowingly shared it (stated in chat or a form);
    #: False for facts inferred from behaviour. Only shared facts may be quoted.
    knowingly_shared: bool = False


class ContextBundle(BaseModel):
    brand: str
    customer_id: str | None
    brief: str
    personalized: bool
    consent: Consent
    profile: ProfileSummary | None = None
    memories: list[MemoryFactView] = Field(default_factory=list)
    recommendations: list[RecommendedItem] = Field(default_factory=list)
    anonymous: AnonymousContext | None = None

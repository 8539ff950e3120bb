"""What delivery hands to a template: flat copy fields plus the ids webhooks come back with."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Literal

from pydantic import BaseModel, Field

from genpersona.types.content import FeaturedItem, VariantContent

Channel = Literal["email", "web"]

#: the copy fields every answer carries (null when the content kind has none)
COPY_FIELDS = ("subject", "preheader", "headline", "subheadline", "cta")


class DeliveredContent(BaseModel):
    """One recipient's copy. ``fallback`` means generic copy (holdout, opt-out, nothing approved)."""

    brand: str
    campaign: str
    channel: Channel
    subject: str | None = None
    preheader: str | None = None
    headline: str | None = None
    subheadline: str | None = None
    cta: str | None = None
    featured_items: list[FeaturedItem] = Field(default_factory=list)
    draft_id: int | None = None
    variant: int | None = None
    tag: str | None = None
    holdout: bool = False
    fallback: bool = False
    reason: str | None = None
    #: best send instant for this recipient (UTC ISO), set by exports; omitted when unknown
    send_at: str | None = None
    #: never part of a pull answer (the caller knows whom it asked about); exports use it
    customer_id: str | None = Field(default=None, exclude=True)

    @classmethod
    def with_copy(cls, content: VariantContent, **fields: Any) -> DeliveredContent:
        copy = {name: getattr(content, name) for name in COPY_FIELDS}
        return cls(**copy, featured_items=list(content.featured_items), **fields)

    def body(self) -> dict[str, Any]:
        """The flat JSON a template reads, with a fixed key order (same bytes every time)."""
        body = self.model_dump(mode="json")
        if body.get("send_at") is None:
            body.pop("send_at", None)
        return body


def generic_content(fallbacks: Mapping[Any, list[str]], fallback_cta: str | None) -> VariantContent:
    """The brand's generic copy: its guide's first safe line per kind, no personal data."""
    subjects, heroes = fallbacks.get("subject_line") or [], fallbacks.get("hero") or []
    subject = subjects[0] if subjects else None
    headline = heroes[0] if heroes else None
    return VariantContent(subject=subject, headline=headline, cta=fallback_cta)

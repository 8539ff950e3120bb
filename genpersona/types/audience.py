"""Who a draft is for, as far as a request and a rationale need to say: consent flags and
the context of an anonymous visitor. Kept here so a Draft does not depend on the context
package that computes them."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel


class Consent(BaseModel):
    personalization: bool = False
    email: bool = False
    chat_memory: bool = False


class AnonymousContext(BaseModel):
    """What we may use for a visitor with no profile: only the request's context."""

    country: str | None = None
    local_time: datetime | None = None
    season: str | None = None
    referrer: str | None = None

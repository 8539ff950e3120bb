"""The shapes a webhook passes through: the raw request, parsed events, the answer."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime

from pydantic import BaseModel, Field

from genpersona.types.outcomes import OutcomeType


@dataclass(frozen=True)
class RawWebhook:
    """What arrived over HTTP, free of any web framework (so tests and benches build it)."""

    provider: str
    body: bytes
    #: header names lower-cased
    headers: Mapping[str, str] = field(default_factory=dict)
    #: the URL the request arrived at (Mandrill signs it)
    url: str = ""


class VendorEvent(BaseModel):
    """One platform event, reduced to what maps it onto an exposure. No email addresses."""

    provider: str
    #: the platform's event id (or a digest of the fields that identify the event)
    event_key: str = Field(max_length=128)
    vendor_type: str
    #: None: a platform event with no outcome meaning (deferred, processed-later...)
    type: OutcomeType | None
    ts: datetime | None = None
    tag: str | None = None
    draft_id: int | None = None
    variant_index: int | None = None
    campaign: str | None = None
    external_user_id: str | None = None
    machine_open: bool = False


class WebhookReport(BaseModel):
    """The 2xx answer: what was done with each event, so a platform's log explains itself."""

    provider: str
    received: int = 0
    stored: int = 0
    #: already stored (a replayed batch, or the same event twice in one batch)
    duplicates: int = 0
    #: no exposure or draft matches the ids it carries (logged, not stored)
    unmatched: int = 0
    #: event types with no outcome meaning (e.g. deferred)
    ignored: int = 0
    by_type: dict[str, int] = Field(default_factory=dict)

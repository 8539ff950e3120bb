"""Request and response bodies of the HTTP API that are not agent contract models.

``ContentRequest`` and ``Draft`` (``genpersona.types.content``) are used as they
are; the models here cover chat, events, outcomes and the data controls. Every
string and list has a bound so that one request cannot make the service hold or
store unbounded text (the body-size limit guards the bytes, these guard shape).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, Field, field_validator, model_validator

from genpersona.types.audience import AnonymousContext
from genpersona.types.content import ChatTurn
from genpersona.types.outcomes import OutcomeType

#: events a caller may send; "purchase"/"return" normally come from ingest but a
#: shop can also stream them live
EventType = Literal["view", "click", "email_open", "purchase", "return", "chat"]

_ID = Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.:@-]+$")


class ChatRequest(BaseModel):
    brand: str = Field(min_length=1, max_length=64)
    customer_id: str | None = Field(default=None, max_length=64)
    anonymous: AnonymousContext | None = None
    conversation: list[ChatTurn] = Field(default_factory=list, max_length=50)
    #: long messages are condensed, not refused (Settings.chat_message_window); the
    #: configurable ceiling is Settings.chat_message_max_chars
    message: str = Field(min_length=1, max_length=1_000_000)

    @field_validator("message")
    @classmethod
    def _not_blank(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("message is blank; send the customer's words")
        return value


class ChatResponse(BaseModel):
    answer: str
    draft_id: int | None = None
    rationale: str = ""
    personalized: bool = False
    is_fallback: bool = False
    remembered: list[str] = Field(
        default_factory=list, description="What the customer stated that was stored as memory."
    )
    outcome: Literal["answer", "handoff", "decline"] = Field(
        default="answer",
        description="answer: from the passages; handoff: the brand's handoff line; decline: "
        "off-topic, abusive or manipulative message",
    )
    knowledge_used: list[str] = Field(
        default_factory=list, description="Ids of the passages the answer used (faq:3, ...)."
    )
    passages: list[dict[str, Any]] = Field(
        default_factory=list, description="The passages themselves: id, source, title, text."
    )


class EventIn(BaseModel):
    type: EventType
    ts: datetime | None = Field(default=None, description="When it happened; default: now.")
    stock_code: str | None = Field(default=None, max_length=32)
    quantity: int | None = Field(default=None, ge=-100_000, le=100_000)
    unit_price: float | None = Field(default=None, ge=0, le=1_000_000)
    order_id: str | None = Field(default=None, max_length=64)
    country: str | None = Field(default=None, max_length=64)
    payload: dict[str, Any] | None = None

    @model_validator(mode="after")
    def _check(self) -> EventIn:
        if self.type in {"view", "click", "purchase", "return"} and not self.stock_code:
            raise ValueError(f"a {self.type!r} event needs stock_code (the item it is about)")
        if self.type == "chat" and not (self.payload and str(self.payload.get("text", "")).strip()):
            raise ValueError("a 'chat' event needs payload.text (what the customer said)")
        return self


class EventsBatch(BaseModel):
    brand: str = Field(min_length=1, max_length=64)
    customer_id: str = _ID
    events: list[EventIn] = Field(min_length=1, max_length=500)
    create_customer: bool = Field(
        default=False,
        description="Create an unknown customer (with no consent given) instead of answering 404.",
    )


class EventsAccepted(BaseModel):
    brand: str
    customer_id: str
    accepted: int
    event_ids: list[Any] = Field(default_factory=list)


class OutcomeIn(BaseModel):
    draft_id: int = Field(ge=1)
    variant_index: int = Field(ge=0, le=50)
    type: OutcomeType
    customer_id: str | None = Field(default=None, max_length=64)
    ts: datetime | None = None
    outcome_id: str | None = Field(
        default=None,
        max_length=128,
        description="Caller's id; a re-sent outcome with the same id is stored once.",
    )


class OutcomesBatch(BaseModel):
    outcomes: list[OutcomeIn] = Field(min_length=1, max_length=1000)


class OutcomesAccepted(BaseModel):
    accepted: int
    outcome_ids: list[int]


class ConsentChange(BaseModel):
    brand: str
    customer_id: str
    opted_out: bool
    detail: dict[str, Any] = Field(default_factory=dict)


class ErrorBody(BaseModel):
    """The shape of every 4xx/5xx answer, documented in the OpenAPI schema."""

    error: str
    message: str
    fix: str = ""
    data: dict[str, Any] = Field(default_factory=dict)

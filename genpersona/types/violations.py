"""What a guardrail finds: shared by the guard (which finds it), the agent (which repairs
it) and the review queue (which shows it to a reviewer)."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel

Severity = Literal["block", "warn"]


class Span(BaseModel):
    start: int
    end: int
    text: str


class Violation(BaseModel):
    rule_id: str  # e.g. "banned_term", "claim.unregistered", "creepy.health"
    severity: Severity
    message: str
    span: Span | None = None
    suggestion: str | None = None
    auto_fixable: bool = False
    # optional extensions (guard engine): which content field, and the exact safe replacement
    field: str | None = None
    replacement: str | None = None

"""Typed inputs and outputs of the review queue, shared by the library and the console."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, Field, field_validator

from genpersona.types.content import ContentKind, Draft, DraftStatus, VariantContent

SortKey = Literal["score_desc", "score_asc", "oldest", "newest"]
Decision = Literal["approved", "edited", "rejected", "expired", "regenerated"]

#: Rejection reasons offered to reviewers; the code is what insights count.
REJECT_REASONS: dict[str, str] = {
    "off_brand": "Off-brand voice or tone",
    "claim": "Wrong or unapproved claim / offer",
    "too_personal": "Too personal (creepy line)",
    "irrelevant": "Not relevant to this customer",
    "language": "Grammar, spelling or punctuation",
    "length": "Too long or too short",
    "duplicate": "Repeats a recent message",
    "other": "Other (explain in the note)",
}
#: Set by the system, never picked by a reviewer: the draft was replaced by a regenerated one.
REGENERATED_REASON = "regenerated"

#: Reviewer names are stored with every decision; keep them short and printable.
MAX_REVIEWER_LEN = 64


class QueueFilter(BaseModel):
    """What the queue shows. ``None`` means 'any' for every field."""

    brand: str | None = None
    campaign: str | None = None
    kind: ContentKind | None = None
    status: DraftStatus | None = "pending"
    has_violations: bool | None = None
    is_fallback: bool | None = None
    customer_id: str | None = None


class QueueRow(BaseModel):
    """One line of the queue: only indexed summary columns, never the JSON blobs."""

    id: int
    brand: str
    kind: ContentKind
    campaign: str | None
    customer_id: str | None
    status: DraftStatus
    version: int
    top_score: float
    top_text: str
    has_violations: bool
    violation_count: int
    is_fallback: bool
    created_at: datetime
    decided_at: datetime | None = None
    decided_by: str | None = None

    @property
    def clean(self) -> bool:
        """Safe for bulk approval: nothing flagged and real model copy."""
        return not self.has_violations and not self.is_fallback


class QueuePage(BaseModel):
    rows: list[QueueRow]
    total: int  # rows matching the filter (all pages)
    page: int
    page_size: int
    counts: dict[str, int]  # per status, under the same filter minus the status
    elapsed_ms: float = 0.0

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.page_size))


class ReviewRecord(BaseModel):
    id: int
    draft_id: int
    decision: Decision
    reviewer: str
    variant_index: int | None = None
    reason_code: str | None = None
    note: str | None = None
    edited_content: VariantContent | None = None
    diff: list[dict[str, Any]] | None = None
    edit_size: int = 0
    draft_version: int
    created_at: datetime


class AuditEntry(BaseModel):
    id: int
    at: datetime
    actor: str
    action: str
    draft_id: int | None
    brand: str | None
    customer_id: str | None
    payload: dict[str, Any]


class DraftDetail(BaseModel):
    """A draft plus everything the console shows beside it."""

    draft: Draft
    decided_at: datetime | None = None
    decided_by: str | None = None
    chosen_variant: int | None = None
    regenerated_from: int | None = None
    reviews: list[ReviewRecord] = Field(default_factory=list)
    audit: list[AuditEntry] = Field(default_factory=list)


class DecisionResult(BaseModel):
    draft_id: int
    status: DraftStatus
    version: int
    reviewer: str
    variant_index: int | None = None
    #: the approved set (approve_set); the edited variant for an edit
    variant_indexes: list[int] = Field(default_factory=list)
    exemplar_id: int | None = None
    new_draft_id: int | None = None  # set by regenerate


class BulkSkip(BaseModel):
    draft_id: int
    reason: str


class BulkResult(BaseModel):
    approved: list[int] = Field(default_factory=list)
    skipped: list[BulkSkip] = Field(default_factory=list)


class Exemplar(BaseModel):
    id: int
    brand: str
    kind: ContentKind
    text: str
    content: VariantContent
    brief: str = ""
    campaign: str | None = None
    decision: Literal["approved", "edited"]
    source_draft_id: int | None = None
    created_at: datetime
    score: float = 0.0  # similarity to the query, when retrieved
    #: deliveries and clicks of this copy (``learn update``), behind its retrieval weight
    exposures: int = 0
    clicks: int = 0


class RuleSuggestion(BaseModel):
    id: int
    brand: str
    old_term: str
    new_term: str
    occurrences: int
    example_draft_ids: list[int]
    status: Literal["candidate", "open", "accepted", "dismissed"]
    created_at: datetime
    decided_by: str | None = None


class Reviewer(BaseModel):
    """Validates the name stored with every decision."""

    name: str = Field(min_length=1, max_length=MAX_REVIEWER_LEN)

    @field_validator("name")
    @classmethod
    def _strip(cls, value: str) -> str:
        value = " ".join(value.split())
        if not value:
            raise ValueError("reviewer name is empty")
        return value

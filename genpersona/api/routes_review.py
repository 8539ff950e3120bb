"""Review from scripts: the queue and its decisions over HTTP (/v1/review/...).

The same decision functions as the console, so the same optimistic
concurrency (``expected_version``: a draft someone else decided answers 409
naming who) and the same audit entry per decision. Approving a draft approves
a set of its variants: every clean one unless ``variants`` lists which.
"""

from __future__ import annotations

from typing import Any, Literal

from fastapi import APIRouter, Path, Query
from pydantic import BaseModel, Field

from genpersona.api.deps import ServicesDep, SettingsDep
from genpersona.api.schemas import ErrorBody
from genpersona.api.scopes import require_scope
from genpersona.review.models import DecisionResult, DraftDetail, QueueFilter, QueuePage
from genpersona.types.content import ContentKind, DraftStatus, VariantContent

router = APIRouter(prefix="/v1/review", tags=["review"], dependencies=[require_scope("review")])

_DECISION_ERRORS: dict[int | str, dict[str, Any]] = {
    404: {"model": ErrorBody, "description": "no such draft"},
    409: {"model": ErrorBody, "description": "decided or changed by someone else meanwhile"},
    422: {"model": ErrorBody, "description": "bad variant, reason or edit"},
}
DraftPath = Path(ge=1)
_REVIEWER = Field(min_length=1, max_length=64, description="Stored with the decision.")
_VERSION = Field(ge=1, description="The draft version you reviewed (from GET .../drafts/{id}).")


class ApproveBody(BaseModel):
    reviewer: str = _REVIEWER
    expected_version: int = _VERSION
    variants: list[int] | None = Field(
        default=None,
        max_length=10,
        description="Variant indexes to approve; default every variant without a blocking "
        "violation. The first one listed becomes the exemplar.",
    )


class RejectBody(BaseModel):
    reviewer: str = _REVIEWER
    expected_version: int = _VERSION
    reason_code: str = Field(min_length=1, max_length=32)
    note: str = Field(default="", max_length=2000)


class EditBody(BaseModel):
    reviewer: str = _REVIEWER
    expected_version: int = _VERSION
    variant_index: int = Field(ge=0, le=50)
    content: VariantContent


@router.get("/drafts", response_model=QueuePage)
def list_review_drafts(
    services: ServicesDep,
    settings: SettingsDep,
    brand: str | None = Query(None, max_length=64),
    campaign: str | None = Query(None, max_length=128),
    kind: ContentKind | None = None,
    status: DraftStatus | Literal["any"] = "pending",
    customer_id: str | None = Query(None, max_length=64),
    sort: Literal["score_desc", "score_asc", "oldest", "newest"] = "oldest",
    page: int = Query(1, ge=1),
    page_size: int = Query(25, ge=1, le=500),
) -> QueuePage:
    """One page of the queue (summary columns only) and the counts per status."""
    filters = QueueFilter(
        brand=brand,
        campaign=campaign,
        kind=kind,
        status=None if status == "any" else status,
        customer_id=customer_id,
    )
    return services.review_list(filters, sort, page, page_size, settings)


@router.get(
    "/drafts/{draft_id}", response_model=DraftDetail, responses={404: _DECISION_ERRORS[404]}
)
def show_review_draft(
    services: ServicesDep, settings: SettingsDep, draft_id: int = DraftPath
) -> DraftDetail:
    """The draft with every variant, its decisions and audit trail, and its current version."""
    return services.review_detail(draft_id, settings)


@router.post(
    "/drafts/{draft_id}/approve", response_model=DecisionResult, responses=_DECISION_ERRORS
)
def approve_review_draft(
    body: ApproveBody, services: ServicesDep, settings: SettingsDep, draft_id: int = DraftPath
) -> DecisionResult:
    return services.review_approve(
        draft_id, body.reviewer, body.expected_version, body.variants, settings
    )


@router.post("/drafts/{draft_id}/reject", response_model=DecisionResult, responses=_DECISION_ERRORS)
def reject_review_draft(
    body: RejectBody, services: ServicesDep, settings: SettingsDep, draft_id: int = DraftPath
) -> DecisionResult:
    return services.review_reject(
        draft_id, body.reason_code, body.note, body.reviewer, body.expected_version, settings
    )


@router.post("/drafts/{draft_id}/edit", response_model=DecisionResult, responses=_DECISION_ERRORS)
def edit_review_draft(
    body: EditBody, services: ServicesDep, settings: SettingsDep, draft_id: int = DraftPath
) -> DecisionResult:
    """Approve the reviewer's words for one variant (they pass the brand rules first)."""
    return services.review_edit(
        draft_id, body.variant_index, body.content, body.reviewer, body.expected_version, settings
    )

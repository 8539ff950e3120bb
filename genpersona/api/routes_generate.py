"""Generation: POST /v1/generate and GET /v1/drafts/{id}.

Handlers are plain ``def`` on purpose: generation is blocking (the model call,
SQL), so FastAPI runs them in its thread pool instead of stalling the event loop.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Path

from genpersona.api.deps import ServicesDep, SettingsDep
from genpersona.api.schemas import ErrorBody
from genpersona.api.scopes import require_scope
from genpersona.types.content import ContentRequest, Draft

router = APIRouter(prefix="/v1", tags=["generation"])

_ERRORS: dict[int | str, dict[str, Any]] = {
    404: {"model": ErrorBody, "description": "unknown brand, customer or draft"},
    422: {"model": ErrorBody, "description": "invalid body (fields named in data.fields)"},
}


@router.post(
    "/generate",
    response_model=Draft,
    responses=_ERRORS,
    dependencies=[require_scope("content:write")],
)
def generate(request: ContentRequest, services: ServicesDep, settings: SettingsDep) -> Draft:
    """Generate ranked variants for one customer (or an anonymous visitor) into the review queue."""
    return services.generate(request, settings)


@router.get(
    "/drafts/{draft_id}",
    response_model=Draft,
    responses=_ERRORS,
    dependencies=[require_scope("content:read")],
)
def get_draft(services: ServicesDep, settings: SettingsDep, draft_id: int = Path(ge=1)) -> Draft:
    """One draft with its variants, scores, rationale and review status."""
    return services.get_draft(draft_id, settings)

"""Pull endpoint (the Braze Connected Content / data-feed pattern): approved copy per recipient.

An email platform calls ``GET /v1/content/{brand}/{campaign}/{customer_id}`` at
send time, once per message part, and reads flat JSON fields in its template
(``{{content.subject}}``). Hence: the answer is flat, repeats return the same
bytes with an ETag (``If-None-Match`` -> 304), and ``Cache-Control`` lets the
platform reuse it; Braze caches a GET by URL for 5 minutes by default
(https://www.braze.com/docs/user_guide/personalization_and_dynamic_content/connected_content/local_connected_content_variables/).
A recipient without approved copy gets a 404 whose body still carries the
brand's safe generic copy and ``fallback: true``, so a template can fall back
cleanly instead of rendering an empty string.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any, Literal

from fastapi import APIRouter, Path, Query, Request
from fastapi.responses import Response

from genpersona.api.deps import ServicesDep, SettingsDep
from genpersona.api.schemas import ErrorBody
from genpersona.api.scopes import require_scope
from genpersona.errors import ContentNotFound
from genpersona.settings import Settings

router = APIRouter(
    prefix="/v1/content", tags=["delivery"], dependencies=[require_scope("content:read")]
)

BrandPath = Path(min_length=1, max_length=64)
CampaignPath = Path(min_length=1, max_length=128)
CustomerPath = Path(min_length=1, max_length=64)
_RESPONSES: dict[int | str, dict[str, Any]] = {
    404: {"model": ErrorBody, "description": "no approved copy: generic copy, fallback: true"},
    422: {"model": ErrorBody},
}


def _json_bytes(body: dict[str, Any]) -> bytes:
    return json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode()


def _respond(request: Request, body: dict[str, Any], status: int, settings: Settings) -> Response:
    payload = _json_bytes(body)
    etag = '"' + hashlib.sha256(payload).hexdigest()[:32] + '"'
    headers = {
        "ETag": etag,
        # per-recipient copy: shared caches must not keep it
        "Cache-Control": f"private, max-age={settings.delivery_cache_max_age_s}",
    }
    if status == 200 and etag in request.headers.get("if-none-match", ""):
        return Response(status_code=304, headers=headers)
    return Response(payload, status_code=status, media_type="application/json", headers=headers)


def _not_found(request: Request, exc: ContentNotFound, settings: Settings) -> Response:
    """The generic copy flat at the top (what a template reads), the error shape beside it."""
    error = exc.to_dict()
    copy = dict(error["data"])
    shape = {k: error[k] for k in ("error", "message", "fix")}
    return _respond(request, copy | shape | {"data": {"reason": copy["reason"]}}, 404, settings)


@router.get("/{brand}/{campaign}/anonymous", responses=_RESPONSES)
def pull_anonymous(
    request: Request,
    services: ServicesDep,
    settings: SettingsDep,
    brand: str = BrandPath,
    campaign: str = CampaignPath,
    channel: Literal["web", "email"] = Query("web"),
    country: str | None = Query(None, max_length=64),
    referrer: str | None = Query(None, max_length=512),
    hour: int | None = Query(None, ge=0, le=23, description="The visitor's local hour."),
    visitor_id: str | None = Query(
        None, max_length=128, description="A first-party visitor id; only its digest is stored."
    ),
) -> Response:
    """Contextual copy for a visitor with no profile (web hero): no personal data, no LLM call."""
    content = services.pull_anonymous(
        brand,
        campaign,
        channel,
        {"country": country, "referrer": referrer, "hour": hour, "visitor_id": visitor_id},
        settings,
    )
    return _respond(request, content.body(), 200, settings)


@router.get("/{brand}/{campaign}/{customer_id}", responses=_RESPONSES)
def pull_customer(
    request: Request,
    services: ServicesDep,
    settings: SettingsDep,
    brand: str = BrandPath,
    campaign: str = CampaignPath,
    customer_id: str = CustomerPath,
    channel: Literal["email", "web"] = Query("email"),
) -> Response:
    """The recipient's approved copy as flat JSON; logs one exposure per recipient and channel."""
    try:
        content = services.pull_content(brand, campaign, customer_id, channel, settings)
    except ContentNotFound as exc:
        return _not_found(request, exc, settings)
    return _respond(request, content.body(), 200, settings)

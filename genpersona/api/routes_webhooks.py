"""POST /v1/webhooks/{provider}: email platforms report what recipients did.

The body is read raw (signatures cover the exact bytes) and handed to the
delivery layer. Answers: 200 with counts, also for events we cannot match
(a platform that gets errors retries, then disables the hook); 401 bad
signature; 400 unparseable body (nothing stored); 404 unknown provider; 503
provider not configured. Outside the API key (platforms sign instead).
"""

from __future__ import annotations

from fastapi import APIRouter, Request, Response
from starlette.concurrency import run_in_threadpool

from genpersona.api.deps import ServicesDep, SettingsDep
from genpersona.api.schemas import ErrorBody
from genpersona.delivery.webhooks.models import RawWebhook, WebhookReport

router = APIRouter(prefix="/v1/webhooks", tags=["webhooks"])


@router.post(
    "/{provider}",
    response_model=WebhookReport,
    responses={
        400: {"model": ErrorBody},
        401: {"model": ErrorBody},
        404: {"model": ErrorBody},
        503: {"model": ErrorBody},
    },
)
async def post_webhook(
    provider: str, request: Request, services: ServicesDep, settings: SettingsDep
) -> WebhookReport:
    """Ingest one webhook batch from sendgrid, mandrill, braze or customerio."""
    raw = RawWebhook(
        provider=provider,
        body=await request.body(),
        headers={k.lower(): v for k, v in request.headers.items()},
        url=str(request.url),
    )
    return await run_in_threadpool(services.ingest_webhook, raw, settings)


@router.head("/{provider}", include_in_schema=False)
async def head_webhook(provider: str) -> Response:
    """Mandrill checks a new webhook URL with a HEAD request before saving it."""
    return Response(status_code=200)

"""One customer's step of a campaign: build the request, skip a pending draft, generate.

Shared by the in-process loop (``runner``) and the Celery task (``tasks``) so both
behave the same; neither imports the other for it.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Literal

from pydantic import BaseModel

from genpersona.agent.pipeline import generate as pipeline_generate
from genpersona.campaigns import store
from genpersona.errors import GenpersonaError, SegmentError
from genpersona.llm.base import LLM
from genpersona.settings import Settings
from genpersona.types.content import ContentKind, ContentRequest, Draft

ItemStatus = Literal["generated", "skipped", "failed"]
GenerateFn = Callable[[ContentRequest], Draft]


class CustomerResult(BaseModel):
    customer_id: str
    status: ItemStatus
    draft_id: int | None = None
    error: str | None = None
    message: str | None = None
    fix: str | None = None


def build_request(
    brand: str,
    kind: ContentKind,
    customer_id: str,
    brief: str,
    campaign: str,
    n: int,
    *,
    recipes: Sequence[str] = (),
    feature_items: Sequence[str] = (),
) -> ContentRequest:
    """The one place a campaign request is built, so in-process and worker keys match.

    ``recipes`` (a definition's ``recipes:``) restrict the angles the candidates are
    written from; ``feature_items`` are stock codes the draft features first."""
    if kind == "chat_answer":
        raise SegmentError(
            "campaigns cannot generate chat answers (they answer a live conversation)",
            fix="use --kind subject_line or --kind hero",
        )
    return ContentRequest(
        brand=brand,
        kind=kind,
        customer_id=customer_id,
        brief=brief,
        campaign=campaign,
        n=n,
        recipes=list(recipes),
        feature_items=list(feature_items),
    )


def generate_for_customer(
    request: ContentRequest,
    *,
    settings: Settings,
    llm: LLM | None = None,
    generate: GenerateFn | None = None,
) -> CustomerResult:
    """Generate one customer's draft unless a pending one exists; never raises.

    Shared by the in-process loop and the Celery task so both behave the same.
    """
    customer_id = request.customer_id or ""
    try:
        existing = store.pending_draft_id(request.idempotency_key(), settings)
        if existing is not None:
            return CustomerResult(customer_id=customer_id, status="skipped", draft_id=existing)
        if generate is None:
            draft = pipeline_generate(request, llm=llm, settings=settings, submit=True)
        else:
            draft = generate(request)
        return CustomerResult(customer_id=customer_id, status="generated", draft_id=draft.id)
    except Exception as exc:  # one customer's bug must not stop a whole unattended run
        return failure_result(customer_id, exc)


def failure_result(customer_id: str, exc: BaseException) -> CustomerResult:
    """A failed customer's result: the error's type, message and fix, for the run record."""
    if isinstance(exc, GenpersonaError):
        return CustomerResult(
            customer_id=customer_id,
            status="failed",
            error=type(exc).__name__,
            message=exc.message,
            fix=exc.fix or None,
        )
    return CustomerResult(
        customer_id=customer_id,
        status="failed",
        error=type(exc).__name__,
        message=str(exc) or repr(exc),
        fix="see the server log; re-run the campaign to retry only the failed customers",
    )

"""The draft stage: ranked variants, the rationale and the run's counters become one Draft."""

from __future__ import annotations

import hashlib

from genpersona.agent.generation import CandidateResult
from genpersona.agent.trace import StageTimer
from genpersona.types.content import ContentRequest, Draft, Rationale, Variant


def request_key(request: ContentRequest) -> str:
    """The request's own idempotency key; anonymous visitors' context is part of it, so
    a visitor from France never gets the pending draft written for one from Spain."""
    key = request.idempotency_key()
    if request.anonymous is None:
        return key
    extra = request.anonymous.model_dump_json()
    return hashlib.sha256(f"{key}|{extra}".encode()).hexdigest()[:32]


def rules_checked(results: list[CandidateResult]) -> list[str]:
    return sorted({rule for r in results for rule in r.rules_checked})


def assemble_draft(
    request: ContentRequest,
    key: str,
    variants: list[Variant],
    rationale: Rationale,
    results: list[CandidateResult],
    timer: StageTimer,
) -> Draft:
    """The draft, with what the guard did to every candidate counted into the run's trace."""
    trace = timer.trace
    trace.first_try_passed = sum(r.first_try_passed for r in results)
    trace.repaired = sum(r.repaired for r in results)
    trace.reasked = sum(r.reasked for r in results)
    trace.fallbacks = sum(r.variant.is_fallback for r in results)
    trace.not_reasked = sum(r.given_up for r in results)
    trace.violations_caught = sum(len(a.violations) for r in results for a in r.attempts)
    trace.candidates = len(results)
    return Draft(
        brand=request.brand,
        kind=request.kind,
        customer_id=request.customer_id,
        campaign=request.campaign,
        brief=request.brief,
        variants=variants,
        rationale=rationale,
        idempotency_key=key,
    )


def stamped(draft: Draft, timer: StageTimer) -> Draft:
    """The draft carrying the run's trace as of now (a copy: later stages keep timing)."""
    return draft.model_copy(update={"trace": timer.finish().model_copy(deep=True)})

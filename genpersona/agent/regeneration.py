"""A reviewer's "regenerate": the same request replayed with their note to the model.

Callers (API, CLI, console, campaigns) hand ``regenerate_draft`` to
``genpersona.review.decisions.regenerate``, which sits below the agent and so cannot
import it.
"""

from __future__ import annotations

import hashlib

from genpersona.agent.deps import AgentDeps
from genpersona.agent.pipeline import generate
from genpersona.llm.base import LLM
from genpersona.settings import Settings
from genpersona.types.content import ContentRequest, Draft


def regenerate_key(draft: Draft, note: str) -> str:
    payload = f"{draft.idempotency_key}|regenerate|{draft.id}|{note.strip()}"
    return hashlib.sha256(payload.encode()).hexdigest()[:32]


def request_from_draft(draft: Draft, note: str | None = None) -> ContentRequest:
    """Rebuild the request a draft came from (its replay inputs live in the rationale)."""
    r = draft.rationale
    return ContentRequest(
        brand=draft.brand,
        kind=draft.kind,
        customer_id=draft.customer_id,
        anonymous=r.anonymous,
        brief=draft.brief,
        campaign=draft.campaign,
        n=max(1, min(10, len(draft.variants))),
        channel=r.channel,
        conversation=r.conversation,
        regenerate_note=note,
    )


def regenerate_draft(
    draft: Draft,
    note: str,
    settings: Settings | None = None,
    *,
    llm: LLM | None = None,
    deps: AgentDeps | None = None,
) -> Draft:
    """A fresh draft for the same request with the reviewer's note passed to the model."""
    request = request_from_draft(draft, note)
    return generate(
        request, llm=llm, settings=settings, deps=deps, idempotency_key=regenerate_key(draft, note)
    )

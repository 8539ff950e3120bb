"""Chat answers: one customer message in, one grounded, guarded, personalised answer out.

A chat answer is the ``chat_answer`` kind of the same pipeline (brand FAQ
retrieved from the vector store, customer context, guardrails, queue for
audit). On top, with the customer's ``chat_memory`` consent, preferences they
state in the chat ("I collect vintage tea sets") are remembered as knowingly
shared facts — unless the statement touches a sensitive topic, which is never
stored.
"""

from __future__ import annotations

import re

from pydantic import BaseModel, Field

from genpersona.agent.deps import AgentDeps, default_deps
from genpersona.agent.pipeline import generate
from genpersona.guard.engine import check
from genpersona.llm.base import LLM
from genpersona.settings import Settings, get_settings
from genpersona.types.audience import AnonymousContext
from genpersona.types.content import ChatTurn, ContentRequest, Draft

_PREFERENCE = re.compile(
    r"\b(i\s+(?:really\s+)?(?:love|like|adore|collect|prefer|enjoy)|i'?m\s+(?:into|a fan of)"
    r"|my\s+favou?rite)\b[^.!?\n]{3,120}",
    re.IGNORECASE,
)


class ChatReply(BaseModel):
    """What a chatbot needs (the answer and a 'because' line) plus the queued draft."""

    answer: str
    rationale: str = ""
    personalized: bool = False
    is_fallback: bool = False
    draft_id: int | None = None
    remembered: list[str] = Field(default_factory=list)
    knowledge_used: list[str] = Field(default_factory=list)
    draft: Draft


def stated_preferences(message: str) -> list[str]:
    """Sentences where the customer tells us what they like, verbatim and trimmed."""
    return [m.group(0).strip().rstrip(",;") for m in _PREFERENCE.finditer(message)][:3]


def _safe_to_remember(text: str, deps: AgentDeps, brand: str) -> bool:
    """Never store a statement that crosses the creepy line (health, religion, ...)."""
    report = check(text, deps.load_guide(brand), kind="chat_answer")
    return not any(v.rule_id.startswith(("sensitive", "creepy")) for v in report.violations)


def chat_reply(
    brand: str,
    customer_id: str | None,
    conversation: list[ChatTurn],
    message: str,
    *,
    anonymous: AnonymousContext | None = None,
    llm: LLM | None = None,
    settings: Settings | None = None,
    deps: AgentDeps | None = None,
    n: int = 1,
    submit: bool = True,
) -> ChatReply:
    """Answer ``message`` given the earlier ``conversation`` (oldest first)."""
    settings = settings or (deps.settings if deps else get_settings())
    deps = deps or default_deps(llm, settings)
    turns = [*conversation, ChatTurn(role="customer", text=message)]
    request = ContentRequest(
        brand=brand,
        kind="chat_answer",
        customer_id=customer_id,
        anonymous=anonymous,
        conversation=turns[-20:],
        n=n,
        channel="chat",
    )
    draft = generate(request, settings=settings, submit=submit, deps=deps)
    top = draft.top
    remembered: list[str] = []
    if customer_id and draft.rationale.consent.chat_memory:
        for fact in stated_preferences(message):
            if _safe_to_remember(fact, deps, brand):
                deps.remember(brand, customer_id, fact, settings)
                remembered.append(fact)
    return ChatReply(
        answer=top.content.answer or "",
        rationale=draft.rationale.customer_line,
        personalized=draft.rationale.personalized,
        is_fallback=top.is_fallback,
        draft_id=draft.id,
        remembered=remembered,
        knowledge_used=draft.rationale.knowledge_used,
        draft=draft,
    )

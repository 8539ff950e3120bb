"""Chat answers: one customer message in, one grounded, guarded, personalised answer out.

The message is condensed first (``chat_input.condense``: the last questions kept,
head and tail windows, ``Settings.chat_message_window``), then grounded
(``grounding.ground``: answer from a passage, hand off, or decline) before any
model call; docs/guides/chat-safety.md explains the whole path.

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

from genpersona.agent.chat_input import condense
from genpersona.agent.deps import AgentDeps, default_deps
from genpersona.agent.pipeline import generate
from genpersona.errors import GuardrailError, InputError, LLMError
from genpersona.guard.engine import check
from genpersona.llm.base import LLM
from genpersona.settings import Settings, get_settings
from genpersona.types.audience import AnonymousContext
from genpersona.types.content import (
    ChatTurn,
    ContentRequest,
    Draft,
    Rationale,
    Variant,
    VariantContent,
)

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
    #: answer (from the passages), handoff (the brand's handoff line) or decline
    outcome: str = "answer"
    #: the passages the answer used: {id, source, title, text, score}
    passages: list[dict] = Field(default_factory=list)
    draft: Draft

    @property
    def handoff(self) -> bool:
        return self.outcome == "handoff"


def stated_preferences(message: str) -> list[str]:
    """Sentences where the customer tells us what they like, verbatim and trimmed."""
    return [m.group(0).strip().rstrip(",;") for m in _PREFERENCE.finditer(message)][:3]


def _safe_to_remember(text: str, deps: AgentDeps, brand: str) -> bool:
    """Never store a statement that crosses the creepy line (health, religion, ...)."""
    report = check(text, deps.load_guide(brand), kind="chat_answer")
    return not any(v.rule_id.startswith(("sensitive", "creepy")) for v in report.violations)


def handoff_reply(brand: str, customer_id: str | None, deps: AgentDeps, reason: str) -> ChatReply:
    """The brand's handoff line as a reply, for when the pipeline could not produce one."""
    line = deps.load_guide(brand).handoff_line
    draft = Draft(
        brand=brand,
        kind="chat_answer",
        customer_id=customer_id,
        brief=reason[:500],
        variants=[Variant(index=0, content=VariantContent(answer=line), is_fallback=True)],
        rationale=Rationale(chat_outcome="handoff", channel="chat"),
        idempotency_key="handoff",
    )
    return ChatReply(answer=line, is_fallback=True, outcome="handoff", draft=draft)


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
    if len(message) > settings.chat_message_max_chars:
        raise InputError(
            f"the chat message has {len(message)} characters, more than the "
            f"{settings.chat_message_max_chars} accepted",
            fix="send the customer's message only, or raise GENPERSONA_CHAT_MESSAGE_MAX_CHARS",
            length=len(message),
        )
    window = settings.chat_message_window
    message = condense(message, window)
    history = [t.model_copy(update={"text": condense(t.text, window)}) for t in conversation]
    turns = [*history, ChatTurn(role="customer", text=message)]
    request = ContentRequest(
        brand=brand,
        kind="chat_answer",
        customer_id=customer_id,
        anonymous=anonymous,
        conversation=turns[-20:],
        n=n,
        channel="chat",
    )
    try:
        draft = generate(request, settings=settings, submit=submit, deps=deps)
    except (GuardrailError, LLMError) as exc:
        # nothing safe could be said (or the model is down): the customer still gets the
        # brand's handoff line, never an error page
        return handoff_reply(brand, customer_id, deps, str(exc))
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
        outcome=draft.rationale.chat_outcome or ("handoff" if top.is_fallback else "answer"),
        passages=draft.rationale.passages,
        draft=draft,
    )

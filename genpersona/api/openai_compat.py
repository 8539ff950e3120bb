"""OpenAI-compatible chat: POST /v1/chat/completions and GET /v1/models.

Chat front ends (the official ``openai`` client, LangChain's ``ChatOpenAI``,
Vercel's AI SDK, LibreChat, Open WebUI) speak this protocol; here a *model* is
a brand and the *customer* comes from ``metadata.customer_id`` or ``user``
(neither: an anonymous visitor, personalized only by the request's context).

One code path: the answer comes from ``services.chat_reply``, exactly what
POST /v1/chat calls, so both routes get the same grounding, guardrails, review
queue and chat memory. What this module adds is the protocol: the message
list becomes the conversation (caller text stays untrusted data; system and
developer messages are not used, since callers cannot instruct the brand's
assistant), streaming, and stored conversations.

Streaming (``stream: true``) has two guard modes:
- ``whole`` (default): the whole answer is checked before the first byte, then
  sent in sentence-sized ``chat.completion.chunk`` events. The streamed text is
  exactly the non-streamed text.
- ``chunk`` (``metadata.guard = "chunk"``): each sentence is checked again as
  it is sent, and if one is blocked the rest of the answer is replaced by the
  brand's safe fallback line.
Either way the stream ends with a chunk carrying ``finish_reason`` and the
genpersona extras, then ``data: [DONE]``.
"""

from __future__ import annotations

import json
import re
import time
import uuid
from collections.abc import Callable, Iterator
from typing import Any

from fastapi import APIRouter
from fastapi.responses import JSONResponse, StreamingResponse

from genpersona.agent.chat_input import condense
from genpersona.api.deps import ServicesDep, SettingsDep
from genpersona.api.openai_schemas import (
    ChatCompletionRequest,
    Extras,
    ModelCard,
    ModelList,
    chunk,
    completion,
)
from genpersona.api.scopes import require_scope
from genpersona.api.services import Services
from genpersona.context.models import AnonymousContext
from genpersona.errors import InputError
from genpersona.settings import Settings
from genpersona.types.content import ChatTurn

router = APIRouter(prefix="/v1", tags=["openai"], dependencies=[require_scope("chat")])

#: a sentence ends at . ! ? or … (plus closing quotes/brackets) and the spaces after it
_SENTENCE_END = re.compile(r"[.!?\u2026]+[\"')\]\u201d\u2019]*\s+")
_MAX_TURNS = 50
#: ChatTurn.text's bound (genpersona.types.content)
_TURN_MAX = 4000


def sentence_chunks(text: str) -> list[str]:
    """``text`` cut after each sentence; the pieces join back to exactly ``text``."""
    out: list[str] = []
    start = 0
    for match in _SENTENCE_END.finditer(text):
        out.append(text[start : match.end()])
        start = match.end()
    if start < len(text):
        out.append(text[start:])
    return out


def _conversation(
    body: ChatCompletionRequest, settings: Settings
) -> tuple[list[ChatTurn], str, int]:
    """(earlier turns, the customer's new message, how many messages were not used)."""
    used = [m for m in body.messages if m.role in ("user", "assistant")]
    ignored = len(body.messages) - len(used)
    if not used or used[-1].role != "user":
        raise InputError(
            "the last message must be the customer's (role 'user')",
            fix="end messages with {'role': 'user', 'content': '...'}",
        )
    message = used[-1].text()
    if not message.strip():
        raise InputError("the last user message is blank", fix="send the customer's words")
    # no length check here: chat_reply refuses a message over chat_message_max_chars with
    # the same error on both routes; shorter ones are condensed, never cut
    turns = [
        ChatTurn(
            role="customer" if m.role == "user" else "assistant",
            text=_turn_text(m.text(), settings),
        )
        for m in used[:-1]
        if m.text().strip()
    ]
    return turns[-_MAX_TURNS:], message, ignored


def _turn_text(text: str, settings: Settings) -> str:
    """An earlier turn as given, or, when longer than the message window (and ChatTurn's
    bound), condensed as chat_reply would read it: the last questions kept, not cut off,
    and a stored conversation still reloads."""
    limit = min(settings.chat_message_window, _TURN_MAX)
    return text if len(text) <= limit else condense(text, limit)


def _anonymous(body: ChatCompletionRequest) -> AnonymousContext | None:
    fields = {k: body.meta(k) for k in ("country", "season", "referrer")}
    fields = {k: v for k, v in fields.items() if v}
    return AnonymousContext(**fields) if fields else None


def _guard_mode(body: ChatCompletionRequest) -> str:
    mode = body.meta("guard") or "whole"
    if mode not in ("whole", "chunk"):
        raise InputError(
            f"unknown guard mode {mode!r} in metadata.guard",
            fix="use 'whole' (check before the first byte, default) or 'chunk'",
        )
    return mode


def answer(
    body: ChatCompletionRequest, services: Services, settings: Settings
) -> tuple[str, Extras]:
    """The checked answer and its extras: history in, ``services.chat_reply``, history out."""
    brand = body.model
    customer = body.meta("customer_id") or (body.user.strip() if body.user else None) or None
    mode = _guard_mode(body)
    turns, message, ignored = _conversation(body, settings)
    conversation_id = body.meta("conversation_id")
    stored: list[dict[str, Any]] = []
    if conversation_id:
        stored = services.load_conversation(brand, customer, conversation_id, settings)
        turns = [ChatTurn.model_validate(t) for t in stored] + turns
    anonymous = _anonymous(body) if customer is None else None
    reply = services.chat_reply(brand, customer, turns[-_MAX_TURNS:], message, anonymous, settings)
    if conversation_id and customer:
        new = [t.model_dump() for t in turns[len(stored) :]]
        services.save_conversation(
            brand,
            customer,
            conversation_id,
            [
                *stored,
                *new,
                {"role": "customer", "text": _turn_text(message, settings)},
                {"role": "assistant", "text": reply.answer},
            ],
            settings,
        )
    extras = Extras(
        draft_id=reply.draft_id,
        rationale=reply.rationale,
        personalized=reply.personalized,
        is_fallback=reply.is_fallback,
        remembered=list(reply.remembered),
        customer_id=customer,
        conversation_id=conversation_id,
        guard=mode,
        ignored_messages=ignored,
    )
    return reply.answer, extras


def _sse(data: dict[str, Any] | str) -> bytes:
    payload = data if isinstance(data, str) else json.dumps(data, separators=(",", ":"))
    return f"data: {payload}\n\n".encode()


def stream_events(
    text: str,
    extras: Extras,
    model: str,
    id_: str,
    created: int,
    check: Callable[[str], bool] | None = None,
    fallback: Callable[[], str] | None = None,
) -> Iterator[bytes]:
    """SSE events of one answer; with ``check`` (chunk mode) each sentence is checked first."""
    yield _sse(chunk(id_, created, model, {"role": "assistant", "content": ""}))
    for piece in sentence_chunks(text):
        if check is not None and fallback is not None and check(piece):
            extras = extras.model_copy(update={"stream_replaced": True, "is_fallback": True})
            yield _sse(chunk(id_, created, model, {"content": fallback()}))
            break
        yield _sse(chunk(id_, created, model, {"content": piece}))
    yield _sse(chunk(id_, created, model, {}, finish="stop", extras=extras))
    yield _sse("[DONE]")


@router.get("/models", response_model=ModelList)
def list_models(services: ServicesDep, settings: SettingsDep) -> ModelList:
    """Each brand with a guide is a model: pass its id as ``model``."""
    return ModelList(data=[ModelCard(id=b) for b in services.list_brands(settings)])


@router.post("/chat/completions", response_model=None)
def chat_completions(
    body: ChatCompletionRequest, services: ServicesDep, settings: SettingsDep
) -> JSONResponse | StreamingResponse:
    """An on-brand answer as a ``chat.completion`` (or a stream of chunks)."""
    text, extras = answer(body, services, settings)
    created = int(time.time())
    id_ = f"chatcmpl-{extras.draft_id}" if extras.draft_id else f"chatcmpl-{uuid.uuid4().hex}"
    if not body.stream:
        return JSONResponse(completion(id_, created, body.model, text, extras))
    check: Callable[[str], bool] | None = None
    fallback: Callable[[], str] | None = None
    if extras.guard == "chunk" and not extras.is_fallback:
        brand = body.model

        def blocked(piece: str) -> bool:
            return services.chunk_blocked(brand, piece, settings)

        def safe_line() -> str:
            return services.fallback_answer(brand, settings)

        check, fallback = blocked, safe_line
    events = stream_events(text, extras, body.model, id_, created, check, fallback)
    return StreamingResponse(
        events,
        media_type="text/event-stream",
        headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
    )

"""POST /v1/chat: the chatbot backend's call for one personalized, on-brand answer."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from genpersona.api.deps import ServicesDep, SettingsDep
from genpersona.api.schemas import ChatRequest, ChatResponse, ErrorBody

router = APIRouter(prefix="/v1", tags=["chat"])


def to_chat_response(reply: Any) -> ChatResponse:
    """Map the agent's ChatReply (or a Draft) onto the small shape a chatbot needs.

    Why a mapping and not the agent's model itself: the chatbot wants one answer
    string and one "because ..." line, while the agent's reply carries the whole
    draft for the review queue.
    """
    if isinstance(reply, ChatResponse):
        return reply
    data = reply.model_dump(mode="python") if hasattr(reply, "model_dump") else dict(reply)
    draft = data.get("draft") or {}
    rationale = data.get("rationale", draft.get("rationale", ""))
    if isinstance(rationale, dict):
        rationale = rationale.get("customer_line", "")
    answer = data.get("answer")
    if answer is None and draft.get("variants"):
        top = max(draft["variants"], key=lambda v: v.get("scores", {}).get("total", 0.0))
        answer = top["content"].get("answer") or ""
    draft_id = data.get("draft_id", draft.get("id"))
    personalized = data.get("personalized")
    if personalized is None:
        personalized = bool((draft.get("rationale") or {}).get("personalized", False))
    is_fallback = data.get("is_fallback")
    if is_fallback is None:
        is_fallback = bool(draft.get("variants")) and all(
            v.get("is_fallback") for v in draft["variants"]
        )
    return ChatResponse(
        answer=answer or "",
        draft_id=draft_id,
        rationale=rationale or "",
        personalized=bool(personalized),
        is_fallback=bool(is_fallback),
    )


@router.post(
    "/chat",
    response_model=ChatResponse,
    responses={
        404: {"model": ErrorBody, "description": "unknown brand or customer"},
        422: {"model": ErrorBody, "description": "invalid body"},
    },
)
def chat(body: ChatRequest, services: ServicesDep, settings: SettingsDep) -> ChatResponse:
    """Answer the customer's ``message`` given the earlier ``conversation``."""
    reply = services.chat_reply(
        body.brand, body.customer_id, body.conversation, body.message, body.anonymous, settings
    )
    return to_chat_response(reply)

"""POST /v1/chat: the chatbot backend's call for one personalized, on-brand answer."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from genpersona.api.deps import ServicesDep, SettingsDep
from genpersona.api.schemas import ChatRequest, ChatResponse, ErrorBody
from genpersona.api.scopes import require_scope

router = APIRouter(prefix="/v1", tags=["chat"], dependencies=[require_scope("chat")])


def to_chat_response(reply: Any) -> ChatResponse:
    """The agent's ChatReply reduced to what a chatbot shows; the full draft stays queued."""
    return ChatResponse.model_validate(reply, from_attributes=True)


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

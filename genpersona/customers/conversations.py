"""Server-side chat history by conversation id, so a chat front end need not resend it.

Kept only while the customer has given chat-memory consent: without it a
conversation id is refused (the caller sends the history itself, as before),
and a conversation stored before consent was withdrawn is deleted at the next
use instead of being read. Anonymous visitors have no consent to give, so they
always send their own history. Turns are plain ``{"role", "text"}`` dicts; the
chat route validates them as ``ChatTurn`` like any caller-sent history.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import delete, select

from genpersona.customers.tables import ChatConversationRow
from genpersona.data.repo import get_brand, get_customer
from genpersona.db.base import utcnow
from genpersona.db.engine import session_scope
from genpersona.errors import ConversationNotStored
from genpersona.settings import Settings

#: oldest turns are dropped past this (the chat prompt uses the last 20 anyway)
MAX_TURNS = 50


def _refused(brand: str, customer_id: str | None, why: str) -> ConversationNotStored:
    return ConversationNotStored(
        f"conversation history cannot be kept server-side: {why}",
        fix="send the earlier messages in the request instead of a conversation id, or record "
        "the customer's chat-memory consent first",
        brand=brand,
        customer_id=customer_id,
    )


def load_turns(
    brand: str, customer_id: str | None, conversation_id: str, settings: Settings | None = None
) -> list[dict[str, Any]]:
    """The stored turns (oldest first), [] for a new conversation; refuses without consent."""
    if not customer_id:
        raise _refused(brand, customer_id, "the visitor is anonymous")
    with session_scope(settings) as session:
        customer = get_customer(session, get_brand(session, brand), customer_id)
        consented = customer.consent_chat_memory
        turns: list[dict[str, Any]] = []
        if not consented:  # deleted in this committed transaction, then refused
            session.execute(
                delete(ChatConversationRow).where(ChatConversationRow.customer_id == customer.id)
            )
        else:
            row = session.scalar(
                select(ChatConversationRow).where(
                    ChatConversationRow.customer_id == customer.id,
                    ChatConversationRow.conversation_id == conversation_id,
                )
            )
            turns = list(row.turns) if row is not None else []
    if not consented:
        raise _refused(brand, customer_id, "the customer has not given chat-memory consent")
    return turns


def save_turns(
    brand: str,
    customer_id: str,
    conversation_id: str,
    turns: list[dict[str, Any]],
    settings: Settings | None = None,
) -> None:
    """Replace the stored turns (keeping the newest ``MAX_TURNS``); refuses without consent."""
    with session_scope(settings) as session:
        customer = get_customer(session, get_brand(session, brand), customer_id)
        if not customer.consent_chat_memory:
            raise _refused(brand, customer_id, "the customer has not given chat-memory consent")
        row = session.scalar(
            select(ChatConversationRow).where(
                ChatConversationRow.customer_id == customer.id,
                ChatConversationRow.conversation_id == conversation_id,
            )
        )
        kept = turns[-MAX_TURNS:]
        if row is None:
            session.add(
                ChatConversationRow(
                    customer_id=customer.id,
                    conversation_id=conversation_id,
                    turns=kept,
                    updated_at=utcnow(),
                )
            )
        else:
            row.turns = kept
            row.updated_at = utcnow()

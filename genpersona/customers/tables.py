"""Server-side chat conversations, kept only with the customer's chat-memory consent.

A row belongs to one customer (foreign key, so erasing the customer erases
their conversations with everything else); the schema is created by migration
``0009``.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, DateTime, ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from genpersona.db.base import Base, utcnow


class ChatConversationRow(Base):
    __tablename__ = "chat_conversations"
    __table_args__ = (UniqueConstraint("customer_id", "conversation_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    customer_id: Mapped[int] = mapped_column(
        ForeignKey("customers.id", ondelete="CASCADE"), index=True
    )
    conversation_id: Mapped[str] = mapped_column(String(128))
    turns: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    updated_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)

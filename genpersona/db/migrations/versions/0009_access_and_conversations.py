"""Scoped API keys, console accounts, server-side chat conversations.

Revision ID: 0009
Revises: 0008
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "api_keys",
        sa.Column("id", sa.String(32), nullable=False),
        sa.Column("name", sa.String(128), nullable=False),
        sa.Column("digest", sa.String(64), nullable=False),
        sa.Column("scopes", sa.JSON, nullable=False),
        sa.Column("created_at", sa.DateTime, nullable=False),
        sa.Column("revoked_at", sa.DateTime, nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_api_keys"),
    )
    op.create_table(
        "console_accounts",
        sa.Column("name", sa.String(64), nullable=False),
        sa.Column("password_hash", sa.String(256), nullable=False),
        sa.Column("role", sa.String(16), nullable=False),
        sa.Column("disabled", sa.Boolean, nullable=False),
        sa.Column("created_at", sa.DateTime, nullable=False),
        sa.Column("updated_at", sa.DateTime, nullable=False),
        sa.PrimaryKeyConstraint("name", name="pk_console_accounts"),
    )
    op.create_table(
        "chat_conversations",
        sa.Column("id", sa.Integer, nullable=False, autoincrement=True),
        sa.Column("customer_id", sa.Integer, nullable=False),
        sa.Column("conversation_id", sa.String(128), nullable=False),
        sa.Column("turns", sa.JSON, nullable=False),
        sa.Column("updated_at", sa.DateTime, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_chat_conversations"),
        sa.ForeignKeyConstraint(
            ["customer_id"],
            ["customers.id"],
            name="fk_chat_conversations_customer_id_customers",
            ondelete="CASCADE",
        ),
        sa.UniqueConstraint(
            "customer_id", "conversation_id", name="uq_chat_conversations_customer_id"
        ),
    )
    op.create_index("ix_chat_conversations_customer_id", "chat_conversations", ["customer_id"])


def downgrade() -> None:
    op.drop_table("chat_conversations")
    op.drop_table("console_accounts")
    op.drop_table("api_keys")

"""API keys and console accounts. The schema is created by migration ``0009``.

Neither table holds a usable secret: keys are stored as SHA-256 digests (a key
is 32 random bytes, so a fast hash is enough and lets every request be checked
in microseconds), passwords as argon2id hashes (people choose guessable
passwords, so the hash must be slow). Rows are never deleted: revoking a key or
disabling an account keeps who had access, and when, for the audit trail.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, Boolean, DateTime, String
from sqlalchemy.orm import Mapped, mapped_column

from genpersona.db.base import Base, utcnow


class ApiKeyRow(Base):
    __tablename__ = "api_keys"

    #: the public part of the key (``gpk_<id>_<secret>``), shown by ``keys list``
    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    name: Mapped[str] = mapped_column(String(128))
    digest: Mapped[str] = mapped_column(String(64))
    scopes: Mapped[list[str]] = mapped_column(JSON, default=list)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)


class ConsoleAccountRow(Base):
    __tablename__ = "console_accounts"

    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    password_hash: Mapped[str] = mapped_column(String(256))
    role: Mapped[str] = mapped_column(String(16))
    disabled: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)

"""Scoped API keys: create, list, revoke, verify.

A key looks like ``gpk_<id>_<secret>``. The id is public (it is what ``keys
list`` shows and what logs may name); only the SHA-256 digest of the whole key
is stored. Verifying looks the row up by id, then compares digests with
``hmac.compare_digest``, so response timings tell nothing about how much of a
guessed key was right. Nothing is cached: a revoked key fails on the very next
request, in every worker.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from datetime import datetime

from pydantic import BaseModel
from sqlalchemy import bindparam, select

from genpersona.accounts.scopes import Scope, parse_scopes
from genpersona.accounts.tables import ApiKeyRow
from genpersona.db.base import utcnow
from genpersona.db.engine import get_engine, session_scope
from genpersona.db.fast_read import FAST_READER
from genpersona.errors import InputError, KeyNotFound
from genpersona.settings import Settings

PREFIX = "gpk_"
_KEY = re.compile(r"^gpk_([0-9a-f]{12})_[A-Za-z0-9_-]{20,100}$")
#: compared against when the presented key has no usable id, so both paths hash and compare
_DUMMY_DIGEST = hashlib.sha256(b"genpersona-no-such-key").hexdigest()


class ApiKeyInfo(BaseModel):
    """A key as listed: never the secret."""

    id: str
    name: str
    scopes: list[Scope]
    created_at: datetime
    revoked_at: datetime | None = None

    @property
    def active(self) -> bool:
        return self.revoked_at is None


class NewApiKey(BaseModel):
    info: ApiKeyInfo
    #: shown once at creation; not stored anywhere
    secret: str


def digest(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8", "surrogatepass")).hexdigest()


def _info(row: ApiKeyRow) -> ApiKeyInfo:
    return ApiKeyInfo(
        id=row.id,
        name=row.name,
        scopes=list(row.scopes),
        created_at=row.created_at,
        revoked_at=row.revoked_at,
    )


def create_key(
    name: str, scopes: list[str] | tuple[str, ...], *, settings: Settings | None = None
) -> NewApiKey:
    name = name.strip()
    if not 1 <= len(name) <= 128:
        raise InputError(
            "a key needs a name of 1 to 128 characters",
            fix="pass --name, e.g. --name shop-chatbot (who uses the key)",
        )
    granted = parse_scopes(scopes)
    key_id = secrets.token_hex(6)
    secret = f"{PREFIX}{key_id}_{secrets.token_urlsafe(32)}"
    with session_scope(settings) as session:
        row = ApiKeyRow(
            id=key_id, name=name, digest=digest(secret), scopes=list(granted), created_at=utcnow()
        )
        session.add(row)
        session.flush()
        info = _info(row)
    return NewApiKey(info=info, secret=secret)


def list_keys(*, settings: Settings | None = None) -> list[ApiKeyInfo]:
    with session_scope(settings) as session:
        rows = session.scalars(select(ApiKeyRow).order_by(ApiKeyRow.created_at, ApiKeyRow.id))
        return [_info(r) for r in rows]


def revoke_key(key_id: str, *, settings: Settings | None = None) -> ApiKeyInfo:
    """Revoke at once; revoking twice is harmless (the first time is kept)."""
    key_id = key_id.removeprefix(PREFIX).split("_")[0]
    with session_scope(settings) as session:
        row = session.get(ApiKeyRow, key_id)
        if row is None:
            raise KeyNotFound(
                f"no API key with id {key_id!r}",
                fix="see the ids with `genpersona keys list`",
                key_id=key_id,
            )
        if row.revoked_at is None:
            row.revoked_at = utcnow()
        return _info(row)


def key_id_of(token: str) -> str | None:
    """The public id inside a presented key, or None when it is not shaped like one."""
    match = _KEY.match(token)
    return match.group(1) if match else None


_LOOKUP = select(
    ApiKeyRow.id,
    ApiKeyRow.name,
    ApiKeyRow.digest,
    ApiKeyRow.scopes,
    ApiKeyRow.created_at,
    ApiKeyRow.revoked_at,
).where(ApiKeyRow.id == bindparam("key_id"))


def verify_key(token: str, *, settings: Settings | None = None) -> ApiKeyInfo | None:
    """The active key ``token`` is, or None (unknown, malformed or revoked).

    One prebuilt SELECT on the read fast path (genpersona.db.fast_read), since it runs on
    every request; it reads committed rows, so a revocation counts from the next request.
    """
    key_id = key_id_of(token)
    row = None
    if key_id is not None:
        row = FAST_READER.first(get_engine(settings), _LOOKUP, {"key_id": key_id})
    expected = row.digest if row is not None else _DUMMY_DIGEST
    matches = hmac.compare_digest(digest(token).encode(), expected.encode())
    if row is None or not matches or row.revoked_at is not None:
        return None
    return ApiKeyInfo(id=row.id, name=row.name, scopes=list(row.scopes), created_at=row.created_at)


def any_keys(*, settings: Settings | None = None) -> bool:
    """Whether a key was ever created (revoked ones count: revoking the last key must not
    turn authentication off)."""
    with session_scope(settings) as session:
        return session.scalar(select(ApiKeyRow.id).limit(1)) is not None

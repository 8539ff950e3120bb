"""Console accounts: names, argon2id password hashes, roles, disabling.

argon2id (argon2-cffi's defaults) because people pick guessable passwords and a
stolen database must not give them back cheaply. Sign-in failures give one
message for "no such account", "disabled" and "wrong password", so the form
does not tell an attacker which names exist.
"""

from __future__ import annotations

import re
from datetime import datetime

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from pydantic import BaseModel
from sqlalchemy import select

from genpersona.accounts.roles import ROLES, Role
from genpersona.accounts.tables import ConsoleAccountRow
from genpersona.db.base import utcnow
from genpersona.db.engine import session_scope
from genpersona.errors import AccountExists, AccountNotFound, InputError, Unauthorized
from genpersona.settings import Settings

MIN_PASSWORD = 10
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.@ -]{0,63}$")
_HASHER = PasswordHasher()
#: verified against when the account does not exist, so both paths cost one argon2 check
_DUMMY_HASH = _HASHER.hash("genpersona-no-such-account")


class Account(BaseModel):
    name: str
    role: Role
    disabled: bool = False
    created_at: datetime
    updated_at: datetime


def _account(row: ConsoleAccountRow) -> Account:
    return Account(
        name=row.name,
        role=row.role,
        disabled=row.disabled,
        created_at=row.created_at,
        updated_at=row.updated_at,
    )


def _check_name(name: str) -> str:
    name = name.strip()
    if not _NAME.match(name):
        raise InputError(
            f"{name[:64]!r} is not a usable account name",
            fix="use 1 to 64 letters, digits, spaces or . _ @ -, starting with a letter or digit",
        )
    return name


def _check_role(role: str) -> Role:
    if role not in ROLES:
        raise InputError(f"unknown role {role!r}", fix=f"use one of: {', '.join(ROLES)}")
    return role


def _check_password(password: str) -> str:
    if len(password) < MIN_PASSWORD:
        raise InputError(
            f"the password is shorter than {MIN_PASSWORD} characters",
            fix=f"choose a password of at least {MIN_PASSWORD} characters (a passphrase is best)",
        )
    return password


def create_account(
    name: str, password: str, role: str = "reviewer", *, settings: Settings | None = None
) -> Account:
    name, checked_role = _check_name(name), _check_role(role)
    hashed = _HASHER.hash(_check_password(password))
    with session_scope(settings) as session:
        if session.get(ConsoleAccountRow, name) is not None:
            raise AccountExists(
                f"an account named {name!r} already exists",
                fix="choose another name, or change its password with `accounts set-password`",
                name=name,
            )
        now = utcnow()
        row = ConsoleAccountRow(
            name=name,
            password_hash=hashed,
            role=checked_role,
            disabled=False,
            created_at=now,
            updated_at=now,
        )
        session.add(row)
        session.flush()
        return _account(row)


def list_accounts(*, settings: Settings | None = None) -> list[Account]:
    with session_scope(settings) as session:
        return [
            _account(r)
            for r in session.scalars(select(ConsoleAccountRow).order_by(ConsoleAccountRow.name))
        ]


def _update(name: str, settings: Settings | None, **values: object) -> Account:
    with session_scope(settings) as session:
        row = session.get(ConsoleAccountRow, name.strip())
        if row is None:
            raise AccountNotFound(
                f"no console account named {name!r}",
                fix="see the names with `genpersona accounts list`",
                name=name,
            )
        for key, value in values.items():
            setattr(row, key, value)
        row.updated_at = utcnow()
        return _account(row)


def set_password(name: str, password: str, *, settings: Settings | None = None) -> Account:
    return _update(name, settings, password_hash=_HASHER.hash(_check_password(password)))


def set_role(name: str, role: str, *, settings: Settings | None = None) -> Account:
    return _update(name, settings, role=_check_role(role))


def set_disabled(name: str, disabled: bool = True, *, settings: Settings | None = None) -> Account:
    return _update(name, settings, disabled=disabled)


def authenticate(name: str, password: str, *, settings: Settings | None = None) -> Account:
    """The account, when the password is right and the account enabled; else Unauthorized."""
    with session_scope(settings) as session:
        row = session.get(ConsoleAccountRow, name.strip())
        stored = row.password_hash if row is not None else _DUMMY_HASH
        account = _account(row) if row is not None else None
    ok: bool
    try:
        ok = _HASHER.verify(stored, password)
    except (VerificationError, InvalidHashError):
        ok = False
    if not ok or account is None or account.disabled:
        raise Unauthorized(
            "wrong account name or password",
            fix="check both, or ask an admin: genpersona accounts set-password NAME",
        )
    if _HASHER.check_needs_rehash(stored):
        set_password(account.name, password, settings=settings)
    return account


def get_account(name: str, *, settings: Settings | None = None) -> Account | None:
    with session_scope(settings) as session:
        row = session.get(ConsoleAccountRow, name.strip())
        return _account(row) if row is not None else None


def any_accounts(*, settings: Settings | None = None) -> bool:
    with session_scope(settings) as session:
        return session.scalar(select(ConsoleAccountRow.name).limit(1)) is not None

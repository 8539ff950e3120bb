"""The API's scopes: one per kind of caller, so a leaked chatbot key cannot erase customers.

A scope is granted to a key when it is created and checked on every request
(``genpersona.api.scopes.require_scope``). Adding a scope means adding it here
and to the table in docs/guides/security.md.
"""

from __future__ import annotations

from typing import Literal, get_args

from genpersona.errors import InputError

Scope = Literal[
    "chat",
    "content:read",
    "content:write",
    "events:write",
    "outcomes:write",
    "review",
    "customers:admin",
]

ALL_SCOPES: tuple[Scope, ...] = get_args(Scope)

SCOPE_HELP: dict[Scope, str] = {
    "chat": "answer customers: POST /v1/chat, /v1/chat/completions, GET /v1/models",
    "content:read": "read generated content and drafts (GET /v1/drafts/{id}, /v1/content/...)",
    "content:write": "generate drafts into the review queue (POST /v1/generate)",
    "events:write": "send customer behaviour (POST /v1/events)",
    "outcomes:write": "report what happened to sent variants (POST /v1/outcomes)",
    "review": "decide drafts through the API (/v1/review/...)",
    "customers:admin": "export, erase, opt-out/in and reset customers (/v1/customers/...)",
}


def parse_scopes(values: list[str] | tuple[str, ...]) -> tuple[Scope, ...]:
    """Comma- or repeat-separated scope names -> sorted unique scopes; unknown names raise."""
    names: list[str] = []
    for value in values:
        names += [v.strip() for v in value.split(",") if v.strip()]
    unknown = sorted({n for n in names if n not in ALL_SCOPES})
    if unknown:
        raise InputError(
            f"unknown scope(s): {', '.join(unknown)}",
            fix=f"use one or more of: {', '.join(ALL_SCOPES)}",
            unknown=unknown,
        )
    if not names:
        raise InputError(
            "a key needs at least one scope",
            fix=f"pass --scope with one or more of: {', '.join(ALL_SCOPES)}",
        )
    return tuple(s for s in ALL_SCOPES if s in names)

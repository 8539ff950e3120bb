"""Small parsing helpers shared by the platform modules."""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime
from typing import Any

from genpersona.errors import WebhookPayloadInvalid

#: the ids exports and pull answers hand to the platform (custom args / metadata)
TAG, DRAFT, VARIANT, CAMPAIGN = "gp_tag", "gp_draft_id", "gp_variant", "gp_campaign"


def load_json(provider: str, text: str | bytes, what: str = "the body") -> Any:
    try:
        return json.loads(text)
    except (ValueError, UnicodeDecodeError) as exc:
        raise WebhookPayloadInvalid(
            f"{provider} webhook: {what} is not valid JSON ({exc})",
            fix=f"send {what} as the JSON the {provider} documentation describes; nothing was stored",
            provider=provider,
        ) from exc


def invalid(provider: str, message: str) -> WebhookPayloadInvalid:
    return WebhookPayloadInvalid(
        f"{provider} webhook: {message}",
        fix=f"send the payload shape the {provider} documentation describes; nothing was stored",
        provider=provider,
    )


def event_list(provider: str, data: Any, key: str | None = None) -> list[dict[str, Any]]:
    """The batch as a list of objects: a bare array, or ``{key: [...]}`` when ``key`` is set."""
    if key is not None and isinstance(data, dict) and key in data:
        data = data[key]
    if not isinstance(data, list):
        raise invalid(provider, "expected a JSON array of events")
    for i, item in enumerate(data):
        if not isinstance(item, dict):
            raise invalid(provider, f"event {i} is not a JSON object")
    return data


def obj(value: Any) -> dict[str, Any]:
    """A nested JSON object, or an empty one when the field is missing or not an object."""
    return value if isinstance(value, dict) else {}


def as_int(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    try:
        return int(str(value).strip())
    except (TypeError, ValueError):
        return None


def as_str(value: Any, limit: int = 128) -> str | None:
    if value is None or isinstance(value, dict | list):
        return None
    text = str(value).strip()
    return text[:limit] or None


def from_unix(value: Any) -> datetime | None:
    try:
        return datetime.fromtimestamp(float(value), UTC).replace(tzinfo=None)
    except (TypeError, ValueError, OverflowError, OSError):
        return None


def digest(*parts: Any) -> str:
    """A stable event id for platforms that send none (Mandrill): what makes an event unique."""
    text = "\x1f".join("" if p is None else str(p) for p in parts)
    return hashlib.sha256(text.encode()).hexdigest()[:40]


def fingerprint(event: dict[str, Any]) -> str:
    """The key of an event that came without an id: the digest of all its fields."""
    return "fp:" + digest(json.dumps(event, sort_keys=True, default=str))


def ids_from(meta: dict[str, Any]) -> dict[str, Any]:
    return {
        "tag": as_str(meta.get(TAG), 32),
        "draft_id": as_int(meta.get(DRAFT)),
        "variant_index": as_int(meta.get(VARIANT)),
        "campaign": as_str(meta.get(CAMPAIGN)),
    }

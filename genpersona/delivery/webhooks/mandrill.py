"""Mandrill (Mailchimp Transactional): form-encoded ``mandrill_events``, a JSON array.

Signature: ``X-Mandrill-Signature`` = base64 HMAC-SHA1, keyed with the
webhook's key, of the webhook URL followed by every POST key and value sorted
by key. Our ids travel in ``msg.metadata``. Mandrill sends no event id, so the
key is a digest of message id, event, time and URL (an open or a click of the
same message at another second is another event).
"""

from __future__ import annotations

from urllib.parse import parse_qsl

from genpersona.delivery.webhooks.common import (
    as_str,
    digest,
    event_list,
    from_unix,
    ids_from,
    invalid,
    load_json,
    obj,
)
from genpersona.delivery.webhooks.machine import is_machine_open
from genpersona.delivery.webhooks.models import RawWebhook, VendorEvent
from genpersona.delivery.webhooks.signatures import verify_mandrill
from genpersona.errors import WebhookNotConfigured
from genpersona.settings import Settings
from genpersona.types.outcomes import OutcomeType

NAME = "mandrill"
SIGNATURE_HEADER = "x-mandrill-signature"
FIELD = "mandrill_events"

TYPES: dict[str, OutcomeType | None] = {
    "send": "sent",
    "open": "opened",
    "click": "clicked",
    "hard_bounce": "bounced",
    "soft_bounce": "bounced",
    "reject": "bounced",
    "spam": "unsubscribed",
    "unsub": "unsubscribed",
    "deferral": None,
}


def form(raw: RawWebhook) -> list[tuple[str, str]]:
    try:
        return parse_qsl(raw.body.decode("utf-8"), keep_blank_values=True, strict_parsing=False)
    except UnicodeDecodeError as exc:
        raise invalid(NAME, "the body is not UTF-8 form data") from exc


def verify(raw: RawWebhook, settings: Settings) -> None:
    key = settings.mandrill_webhook_key
    if not key:
        raise WebhookNotConfigured(
            "Mandrill webhooks are not configured",
            fix="set GENPERSONA_MANDRILL_WEBHOOK_KEY to the webhook's key from Mandrill "
            "(Settings > Webhooks)",
            provider=NAME,
        )
    url = settings.mandrill_webhook_url or raw.url
    verify_mandrill(key, url, form(raw), raw.headers.get(SIGNATURE_HEADER))


def parse(raw: RawWebhook) -> list[VendorEvent]:
    values = dict(form(raw))
    if FIELD not in values:
        raise invalid(NAME, f"the form has no {FIELD!r} field")
    events = event_list(NAME, load_json(NAME, values[FIELD], f"the {FIELD} field"))
    out: list[VendorEvent] = []
    for e in events:
        msg = obj(e.get("msg"))
        meta = obj(msg.get("metadata"))
        vendor_type = as_str(e.get("event")) or as_str(e.get("type")) or "unknown"
        kind = TYPES.get(vendor_type)
        parsed = obj(e.get("user_agent_parsed"))
        robot = True if str(parsed.get("type", "")).lower() == "robot" else None
        out.append(
            VendorEvent(
                provider=NAME,
                event_key=digest(
                    e.get("_id") or msg.get("_id"), vendor_type, e.get("ts"), e.get("url")
                ),
                vendor_type=vendor_type,
                type=kind,
                ts=from_unix(e.get("ts")),
                machine_open=kind == "opened"
                and is_machine_open(as_str(e.get("user_agent"), 512), robot),
                **ids_from(meta),
            )
        )
    return out

"""SendGrid Event Webhook: a JSON array of events; custom args arrive as top-level keys.

Signed Event Webhook: ECDSA over ``X-Twilio-Email-Event-Webhook-Timestamp`` +
the raw body, signature in ``X-Twilio-Email-Event-Webhook-Signature``.
Event ids: ``sg_event_id``. Machine opens: ``sg_machine_open`` (SendGrid sets it
for Apple Mail Privacy Protection prefetches).
"""

from __future__ import annotations

from genpersona.delivery.webhooks.common import (
    as_str,
    event_list,
    fingerprint,
    from_unix,
    ids_from,
    load_json,
)
from genpersona.delivery.webhooks.machine import is_machine_open
from genpersona.delivery.webhooks.models import RawWebhook, VendorEvent
from genpersona.delivery.webhooks.signatures import verify_sendgrid
from genpersona.errors import WebhookNotConfigured
from genpersona.settings import Settings
from genpersona.types.outcomes import OutcomeType

NAME = "sendgrid"
SIGNATURE_HEADER = "x-twilio-email-event-webhook-signature"
TIMESTAMP_HEADER = "x-twilio-email-event-webhook-timestamp"

TYPES: dict[str, OutcomeType | None] = {
    "processed": "sent",
    "delivered": "delivered",
    "open": "opened",
    "click": "clicked",
    "bounce": "bounced",
    "blocked": "bounced",
    "dropped": "bounced",
    "unsubscribe": "unsubscribed",
    "group_unsubscribe": "unsubscribed",
    "spamreport": "unsubscribed",
    "deferred": None,
    "group_resubscribe": None,
}


def verify(raw: RawWebhook, settings: Settings) -> None:
    key = settings.sendgrid_webhook_public_key
    if not key:
        raise WebhookNotConfigured(
            "SendGrid webhooks are not configured",
            fix="set GENPERSONA_SENDGRID_WEBHOOK_PUBLIC_KEY to the Signed Event Webhook's "
            "verification key",
            provider=NAME,
        )
    verify_sendgrid(
        key, raw.headers.get(SIGNATURE_HEADER), raw.headers.get(TIMESTAMP_HEADER), raw.body
    )


def parse(raw: RawWebhook) -> list[VendorEvent]:
    events = event_list(NAME, load_json(NAME, raw.body))
    out: list[VendorEvent] = []
    for e in events:
        vendor_type = as_str(e.get("event")) or "unknown"
        kind = TYPES.get(vendor_type)
        key = as_str(e.get("sg_event_id")) or fingerprint(e)
        out.append(
            VendorEvent(
                provider=NAME,
                event_key=key,
                vendor_type=vendor_type,
                type=kind,
                ts=from_unix(e.get("timestamp")),
                machine_open=kind == "opened"
                and is_machine_open(as_str(e.get("useragent"), 512), e.get("sg_machine_open")),
                **ids_from(e),
            )
        )
    return out

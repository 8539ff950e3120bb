"""Customer.io reporting webhooks: one JSON event per request, HMAC-SHA256 signed.

``X-CIO-Signature`` is hex HMAC-SHA256 of ``v0:<X-CIO-Timestamp>:<body>``.
Matched like Braze: by the campaign name our exports set as the message's
``gp_campaign`` (or a ``campaign_name``) and ``data.customer_id``.
"""

from __future__ import annotations

from genpersona.delivery.webhooks.common import (
    as_str,
    fingerprint,
    from_unix,
    ids_from,
    invalid,
    load_json,
    obj,
)
from genpersona.delivery.webhooks.machine import is_machine_open
from genpersona.delivery.webhooks.models import RawWebhook, VendorEvent
from genpersona.delivery.webhooks.signatures import verify_customerio
from genpersona.errors import WebhookNotConfigured
from genpersona.settings import Settings
from genpersona.types.outcomes import OutcomeType

NAME = "customerio"
TYPES: dict[str, OutcomeType | None] = {
    "sent": "sent",
    "delivered": "delivered",
    "opened": "opened",
    "clicked": "clicked",
    "converted": "converted",
    "bounced": "bounced",
    "dropped": "bounced",
    "unsubscribed": "unsubscribed",
    "spammed": "unsubscribed",
}


def verify(raw: RawWebhook, settings: Settings) -> None:
    secret = settings.customerio_webhook_secret
    if not secret:
        raise WebhookNotConfigured(
            "Customer.io webhooks are not configured",
            fix="set GENPERSONA_CUSTOMERIO_WEBHOOK_SECRET to the reporting webhook's signing key",
            provider=NAME,
        )
    verify_customerio(
        secret, raw.headers.get("x-cio-signature"), raw.headers.get("x-cio-timestamp"), raw.body
    )


def parse(raw: RawWebhook) -> list[VendorEvent]:
    data = load_json(NAME, raw.body)
    events = data if isinstance(data, list) else [data]
    out: list[VendorEvent] = []
    for i, e in enumerate(events):
        if not isinstance(e, dict) or "metric" not in e:
            raise invalid(NAME, f"event {i} is not an object with a 'metric'")
        body = obj(e.get("data"))
        metric = as_str(e.get("metric")) or "unknown"
        kind = TYPES.get(metric) if e.get("object_type", "email") == "email" else None
        ids = ids_from(body)
        out.append(
            VendorEvent(
                provider=NAME,
                event_key=as_str(e.get("event_id")) or fingerprint(e),
                vendor_type=f"{e.get('object_type', 'email')}.{metric}",
                type=kind,
                ts=from_unix(e.get("timestamp")),
                external_user_id=as_str(body.get("customer_id"), 64),
                machine_open=kind == "opened"
                and is_machine_open(as_str(body.get("user_agent"), 512), body.get("machine")),
                **(ids | {"campaign": ids["campaign"] or as_str(body.get("campaign_name"))}),
            )
        )
    return out

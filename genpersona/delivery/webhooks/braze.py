"""Braze Currents, custom HTTP export: ``{"events": [...]}`` with a bearer token.

Braze does not carry per-message metadata into Currents, so an event is
matched by (campaign name, ``external_user_id``) to the exposure of that
customer in that campaign; ``gp_*`` ids are used when a message extra carries
them. Email opens carry ``machine_open`` (Braze sets it for proxy prefetches).
"""

from __future__ import annotations

from genpersona.delivery.webhooks.common import (
    as_str,
    event_list,
    fingerprint,
    from_unix,
    ids_from,
    load_json,
    obj,
)
from genpersona.delivery.webhooks.machine import is_machine_open
from genpersona.delivery.webhooks.models import RawWebhook, VendorEvent
from genpersona.delivery.webhooks.signatures import verify_bearer
from genpersona.errors import WebhookNotConfigured
from genpersona.settings import Settings
from genpersona.types.outcomes import OutcomeType

NAME = "braze"
PREFIX = "users.messages.email."
TYPES: dict[str, OutcomeType | None] = {
    "Send": "sent",
    "Delivery": "delivered",
    "Open": "opened",
    "Click": "clicked",
    "Bounce": "bounced",
    "SoftBounce": "bounced",
    "Unsubscribe": "unsubscribed",
    "MarkAsSpam": "unsubscribed",
    "Deferral": None,
}


def verify(raw: RawWebhook, settings: Settings) -> None:
    token = settings.braze_currents_token
    if not token:
        raise WebhookNotConfigured(
            "Braze Currents is not configured",
            fix="set GENPERSONA_BRAZE_CURRENTS_TOKEN to the bearer token of the Currents export",
            provider=NAME,
        )
    verify_bearer(NAME, token, raw.headers.get("authorization"))


def _type(event_type: str) -> OutcomeType | None:
    if not event_type.startswith(PREFIX):
        return None  # push, SMS, in-app... : not email outcomes
    return TYPES.get(event_type[len(PREFIX) :])


def parse(raw: RawWebhook) -> list[VendorEvent]:
    events = event_list(NAME, load_json(NAME, raw.body), key="events")
    out: list[VendorEvent] = []
    for e in events:
        user = obj(e.get("user"))
        props = obj(e.get("properties"))
        vendor_type = as_str(e.get("event_type")) or "unknown"
        kind = _type(vendor_type)
        ids = ids_from(props)
        out.append(
            VendorEvent(
                provider=NAME,
                event_key=as_str(e.get("id")) or fingerprint(e),
                vendor_type=vendor_type,
                type=kind,
                ts=from_unix(e.get("time")),
                external_user_id=as_str(user.get("external_user_id"), 64),
                machine_open=kind == "opened"
                and is_machine_open(
                    as_str(props.get("user_agent"), 512), props.get("machine_open")
                ),
                **(ids | {"campaign": ids["campaign"] or as_str(props.get("campaign_name"))}),
            )
        )
    return out

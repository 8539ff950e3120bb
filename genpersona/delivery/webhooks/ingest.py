"""The one entry point of a webhook: verify, parse, store, in that order.

The signature is checked on the raw bytes before the body is parsed, so an
unsigned request never reaches the JSON parser; a body that fails to parse
stores nothing (the whole batch is parsed before the transaction starts).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from types import ModuleType

from genpersona.delivery.webhooks import braze, customerio, mandrill, sendgrid
from genpersona.delivery.webhooks.models import RawWebhook, VendorEvent, WebhookReport
from genpersona.delivery.webhooks.store import store_events
from genpersona.errors import UnknownWebhookProvider
from genpersona.settings import Settings

log = logging.getLogger("genpersona.webhooks")


@dataclass(frozen=True)
class Provider:
    name: str
    verify: Callable[[RawWebhook, Settings], None]
    parse: Callable[[RawWebhook], list[VendorEvent]]


def _provider(module: ModuleType) -> Provider:
    return Provider(module.NAME, module.verify, module.parse)


PROVIDERS: dict[str, Provider] = {
    p.name: p for p in map(_provider, (sendgrid, mandrill, braze, customerio))
}


def get_provider(name: str) -> Provider:
    provider = PROVIDERS.get(name)
    if provider is None:
        raise UnknownWebhookProvider(
            f"no webhook for provider {name!r}",
            fix=f"point the platform at /v1/webhooks/<provider>, one of: {', '.join(PROVIDERS)}",
            provider=name,
        )
    return provider


def ingest_webhook(raw: RawWebhook, settings: Settings, *, verify: bool = True) -> WebhookReport:
    """``verify=False`` exists for the benchmark's baseline only; the API always verifies."""
    provider = get_provider(raw.provider)
    if verify:
        provider.verify(raw, settings)
    events = provider.parse(raw)
    report = store_events(provider.name, events, settings)
    log.info(
        "%s webhook: %d received, %d stored, %d duplicates, %d unmatched, %d ignored",
        provider.name,
        report.received,
        report.stored,
        report.duplicates,
        report.unmatched,
        report.ignored,
    )
    return report

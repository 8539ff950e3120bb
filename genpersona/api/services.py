"""What the HTTP layer calls, gathered in one injectable object.

Routes never import the pipeline, the customer controls or the review queue
directly: they call a ``Services`` instance held on ``app.state``. Why: the
service stays importable (and ``/healthz`` answers) even when an optional part
fails to import, tests can swap one callable without monkeypatching modules,
and the defaults import their module lazily at the first call, so starting the
server does not pay for loading the pipeline's dependencies.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import text

from genpersona.agent.models import ChatTurn, ContentRequest, Draft
from genpersona.context.models import AnonymousContext
from genpersona.settings import Settings


def _generate(request: ContentRequest, settings: Settings) -> Draft:
    from genpersona.agent.pipeline import generate

    return generate(request, settings=settings)


def _chat_reply(
    brand: str,
    customer_id: str | None,
    conversation: list[ChatTurn],
    message: str,
    anonymous: AnonymousContext | None,
    settings: Settings,
) -> Any:
    from genpersona.agent.pipeline import chat_reply

    return chat_reply(
        brand, customer_id, conversation, message, anonymous=anonymous, settings=settings
    )


def _get_draft(draft_id: int, settings: Settings) -> Draft:
    from genpersona.review.queue import get_draft

    return get_draft(draft_id, settings)


def _export(brand: str, customer_id: str, settings: Settings) -> dict[str, Any]:
    from genpersona.customers.rights import export_customer

    return export_customer(brand, customer_id, settings=settings)


def _erase(brand: str, customer_id: str, settings: Settings) -> Any:
    from genpersona.customers.rights import erase_customer

    return erase_customer(brand, customer_id, settings=settings)


def _set_opt_out(brand: str, customer_id: str, opted_out: bool, settings: Settings) -> Any:
    from genpersona.customers.rights import set_opt_out

    return set_opt_out(brand, customer_id, opted_out, settings=settings)


def _reset(brand: str, customer_id: str, settings: Settings) -> Any:
    from genpersona.customers.rights import reset_customer

    return reset_customer(brand, customer_id, settings=settings)


def _record_event(
    brand: str, customer_id: str, event_type: str, fields: dict[str, Any], settings: Settings
) -> Any:
    from genpersona.customers.records import record_event

    return record_event(brand, customer_id, event_type, **fields, settings=settings)


def _record_outcomes(outcomes: list[Any], settings: Settings) -> list[int]:
    from genpersona.campaigns.outcomes import record_outcomes

    return record_outcomes(outcomes, settings=settings)


def _pull_content(
    brand: str, campaign: str, customer_id: str, channel: str, settings: Settings
) -> Any:
    from genpersona.delivery.service import deliver_to_customer

    return deliver_to_customer(brand, campaign, customer_id, channel, settings=settings)  # type: ignore[arg-type]


def _pull_anonymous(
    brand: str, campaign: str, channel: str, signals: dict[str, Any], settings: Settings
) -> Any:
    from genpersona.delivery.service import deliver_anonymous

    return deliver_anonymous(brand, campaign, channel, settings=settings, **signals)  # type: ignore[arg-type]


def _check_database(settings: Settings) -> dict[str, Any]:
    from genpersona.db.engine import get_engine

    with get_engine(settings).connect() as conn:
        conn.execute(text("SELECT 1"))
    return {"ok": True, "url": settings.sqlalchemy_url.split("@")[-1]}


def _check_llm(settings: Settings) -> dict[str, Any]:
    from genpersona.llm.factory import get_llm

    return get_llm(settings=settings).health()


@dataclass
class Services:
    """Every operation the API exposes; each takes the app's Settings last."""

    generate: Callable[[ContentRequest, Settings], Draft] = _generate
    chat_reply: Callable[..., Any] = _chat_reply
    get_draft: Callable[[int, Settings], Draft] = _get_draft
    export_customer: Callable[[str, str, Settings], dict[str, Any]] = _export
    erase_customer: Callable[[str, str, Settings], Any] = _erase
    set_opt_out: Callable[[str, str, bool, Settings], Any] = _set_opt_out
    reset_customer: Callable[[str, str, Settings], Any] = _reset
    record_event: Callable[[str, str, str, dict[str, Any], Settings], Any] = _record_event
    record_outcomes: Callable[[list[Any], Settings], list[int]] = _record_outcomes
    #: (brand, campaign, customer_id, channel) -> DeliveredContent; raises ContentNotFound
    pull_content: Callable[[str, str, str, str, Settings], Any] = _pull_content
    #: (brand, campaign, channel, signals) -> DeliveredContent for a visitor with no profile
    pull_anonymous: Callable[[str, str, str, dict[str, Any], Settings], Any] = _pull_anonymous
    #: name -> check; each returns a dict with "ok" or raises
    ready_checks: dict[str, Callable[[Settings], dict[str, Any]]] = field(
        default_factory=lambda: {"database": _check_database, "llm": _check_llm}
    )

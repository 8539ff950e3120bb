"""What the HTTP layer calls, gathered in one injectable object.

Routes never import the pipeline, the customer controls or the review queue
directly: they call a ``Services`` instance held on ``app.state``. Why: tests
(and an application embedding the API) swap one callable without monkeypatching
modules, and each route's dependency on the rest of genpersona is one field here.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import text

from genpersona.agent.chat import chat_reply
from genpersona.agent.pipeline import generate
from genpersona.campaigns.outcomes import record_outcomes
from genpersona.customers.records import record_event
from genpersona.customers.rights import erase_customer, export_customer, reset_customer, set_opt_out
from genpersona.db.engine import get_engine
from genpersona.delivery.service import deliver_anonymous, deliver_to_customer
from genpersona.learning.policy import campaign_policy
from genpersona.llm.factory import get_llm
from genpersona.review.queue import get_draft
from genpersona.settings import Settings
from genpersona.types.audience import AnonymousContext
from genpersona.types.content import ChatTurn, ContentRequest, Draft


def _generate(request: ContentRequest, settings: Settings) -> Draft:
    return generate(request, settings=settings)


def _chat_reply(
    brand: str,
    customer_id: str | None,
    conversation: list[ChatTurn],
    message: str,
    anonymous: AnonymousContext | None,
    settings: Settings,
) -> Any:
    return chat_reply(
        brand, customer_id, conversation, message, anonymous=anonymous, settings=settings
    )


def _get_draft(draft_id: int, settings: Settings) -> Draft:
    return get_draft(draft_id, settings)


def _export(brand: str, customer_id: str, settings: Settings) -> dict[str, Any]:
    return export_customer(brand, customer_id, settings=settings)


def _erase(brand: str, customer_id: str, settings: Settings) -> Any:
    return erase_customer(brand, customer_id, settings=settings)


def _set_opt_out(brand: str, customer_id: str, opted_out: bool, settings: Settings) -> Any:
    return set_opt_out(brand, customer_id, opted_out, settings=settings)


def _reset(brand: str, customer_id: str, settings: Settings) -> Any:
    return reset_customer(brand, customer_id, settings=settings)


def _record_event(
    brand: str, customer_id: str, event_type: str, fields: dict[str, Any], settings: Settings
) -> Any:
    return record_event(brand, customer_id, event_type, **fields, settings=settings)


def _record_outcomes(outcomes: list[Any], settings: Settings) -> list[int]:
    return record_outcomes(outcomes, settings=settings)


def _pull_content(
    brand: str, campaign: str, customer_id: str, channel: str, settings: Settings
) -> Any:
    return deliver_to_customer(
        brand,
        campaign,
        customer_id,
        channel,  # type: ignore[arg-type]  # the route's Query(pattern=...) admits only Channel values
        settings=settings,
        policy=campaign_policy(brand, campaign, settings),
    )


def _pull_anonymous(
    brand: str, campaign: str, channel: str, signals: dict[str, Any], settings: Settings
) -> Any:
    return deliver_anonymous(brand, campaign, channel, settings=settings, **signals)  # type: ignore[arg-type]


def _check_database(settings: Settings) -> dict[str, Any]:
    with get_engine(settings).connect() as conn:
        conn.execute(text("SELECT 1"))
    return {"ok": True, "url": settings.sqlalchemy_url.split("@")[-1]}


def _check_llm(settings: Settings) -> dict[str, Any]:
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

"""What the HTTP layer calls, gathered in one injectable object.

Routes never import the pipeline, the customer controls or the review queue
directly: they call a ``Services`` instance held on ``app.state``. Why: tests
(and an application embedding the API) swap one callable without monkeypatching
modules, and each route's dependency on the rest of genpersona is one field here.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import text

from genpersona.agent.chat import chat_reply
from genpersona.agent.pipeline import generate
from genpersona.brands.loader import list_guides, load_guide
from genpersona.campaigns.beat import send_compaction
from genpersona.campaigns.outcomes import record_outcomes
from genpersona.customers.conversations import load_turns, save_turns
from genpersona.customers.records import record_event
from genpersona.customers.rights import erase_customer, export_customer, reset_customer, set_opt_out
from genpersona.db.engine import get_engine
from genpersona.delivery.attribution import attribute_purchases
from genpersona.delivery.service import deliver_anonymous, deliver_to_customer
from genpersona.delivery.webhooks.ingest import ingest_webhook
from genpersona.guard.engine import check
from genpersona.guard.repair import fallback_content
from genpersona.learning.policy import campaign_policy
from genpersona.llm.factory import get_llm
from genpersona.review.queue import (
    approve_set,
    edit_and_approve,
    get_draft,
    get_draft_detail,
    list_drafts,
    reject,
)
from genpersona.settings import Settings
from genpersona.types.audience import AnonymousContext
from genpersona.types.content import ChatTurn, ContentRequest, Draft

_log = logging.getLogger(__name__)


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
    """``erase_compaction=background``: delete now, compact on a worker (sent at once when a
    broker is set; the beat entry covers it otherwise, or if the send fails)."""
    background = settings.erase_compaction == "background"
    report = erase_customer(brand, customer_id, settings=settings, compact=not background)
    if background:
        try:
            send_compaction(settings)
        except Exception:  # noqa: BLE001 - the pending file keeps the work for the beat entry
            _log.warning("could not send the compaction task; the beat entry will run it")
    return report


def _set_opt_out(brand: str, customer_id: str, opted_out: bool, settings: Settings) -> Any:
    return set_opt_out(brand, customer_id, opted_out, settings=settings)


def _reset(brand: str, customer_id: str, settings: Settings) -> Any:
    return reset_customer(brand, customer_id, settings=settings)


def _record_event(
    brand: str, customer_id: str, event_type: str, fields: dict[str, Any], settings: Settings
) -> Any:
    result = record_event(brand, customer_id, event_type, **fields, settings=settings)
    if event_type == "purchase":  # a purchase after an exposure is its conversion
        attribute_purchases(brand, customer_id, settings)
    return result


def _record_outcomes(outcomes: list[Any], settings: Settings) -> list[int]:
    return record_outcomes(outcomes, settings=settings)


def _ingest_webhook(raw: Any, settings: Settings) -> Any:
    return ingest_webhook(raw, settings)


def _review_list(filters: Any, sort: Any, page: int, page_size: int, settings: Settings) -> Any:
    return list_drafts(filters, sort, page, page_size, settings)


def _review_detail(draft_id: int, settings: Settings) -> Any:
    return get_draft_detail(draft_id, settings)


def _review_approve(
    draft_id: int, reviewer: str, version: int, variants: list[int] | None, settings: Settings
) -> Any:
    return approve_set(draft_id, reviewer, version, variants, settings)


def _review_reject(
    draft_id: int, reason: str, note: str, reviewer: str, version: int, settings: Settings
) -> Any:
    return reject(draft_id, reason, note, reviewer, version, settings)


def _review_edit(
    draft_id: int, variant: int, content: Any, reviewer: str, version: int, settings: Settings
) -> Any:
    return edit_and_approve(draft_id, variant, content, reviewer, version, settings)


def _list_brands(settings: Settings) -> list[str]:
    return sorted(g.id for g in list_guides(settings))


def _chunk_blocked(brand: str, text: str, settings: Settings) -> bool:
    """Whether one streamed sentence breaks a blocking rule (length rules apply to whole
    answers, not to one sentence of them)."""
    report = check(text, load_guide(brand, settings), kind="chat_answer", channel="chat")
    return any(not v.rule_id.startswith("length") for v in report.blocking)


def _fallback_answer(brand: str, settings: Settings) -> str:
    content = fallback_content(
        load_guide(brand, settings), "chat_answer", channel="chat", required=True
    )
    return (content.answer if content else None) or ""


def _load_conversation(
    brand: str, customer_id: str | None, conversation_id: str, settings: Settings
) -> list[dict[str, Any]]:
    return load_turns(brand, customer_id, conversation_id, settings)


def _save_conversation(
    brand: str, customer_id: str, conversation_id: str, turns: list[dict[str, Any]], s: Settings
) -> None:
    save_turns(brand, customer_id, conversation_id, turns, s)


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
    ingest_webhook: Callable[[Any, Settings], Any] = _ingest_webhook
    review_list: Callable[..., Any] = _review_list
    review_detail: Callable[[int, Settings], Any] = _review_detail
    review_approve: Callable[..., Any] = _review_approve
    review_reject: Callable[..., Any] = _review_reject
    review_edit: Callable[..., Any] = _review_edit

    #: the OpenAI-compatible routes: brands as models, per-sentence checks, stored history
    list_brands: Callable[[Settings], list[str]] = _list_brands
    chunk_blocked: Callable[[str, str, Settings], bool] = _chunk_blocked
    fallback_answer: Callable[[str, Settings], str] = _fallback_answer
    load_conversation: Callable[[str, str | None, str, Settings], list[dict[str, Any]]] = (
        _load_conversation
    )
    save_conversation: Callable[[str, str, str, list[dict[str, Any]], Settings], None] = (
        _save_conversation
    )
    #: (brand, campaign, customer_id, channel) -> DeliveredContent; raises ContentNotFound
    pull_content: Callable[[str, str, str, str, Settings], Any] = _pull_content
    #: (brand, campaign, channel, signals) -> DeliveredContent for a visitor with no profile
    pull_anonymous: Callable[[str, str, str, dict[str, Any], Settings], Any] = _pull_anonymous
    #: name -> check; each returns a dict with "ok" or raises
    ready_checks: dict[str, Callable[[Settings], dict[str, Any]]] = field(
        default_factory=lambda: {"database": _check_database, "llm": _check_llm}
    )

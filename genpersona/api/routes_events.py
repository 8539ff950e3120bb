"""Ingestion: POST /v1/events (customer behaviour) and POST /v1/outcomes (draft results).

A batch is validated whole before anything is stored, so a caller that gets a
422 knows that none of its events were kept and can resend the corrected batch;
an unknown customer fails on the first event, before anything is stored.
Outcomes are stored all-or-nothing, and ``outcome_id`` makes resending safe.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from genpersona.api.deps import ServicesDep, SettingsDep
from genpersona.api.schemas import (
    ErrorBody,
    EventsAccepted,
    EventsBatch,
    OutcomesAccepted,
    OutcomesBatch,
)
from genpersona.api.scopes import require_scope

router = APIRouter(prefix="/v1", tags=["ingestion"])


def _event_ref(result: Any) -> Any:
    """What record_event returned, reduced to an id the caller can log."""
    if isinstance(result, int | str) or result is None:
        return result
    for name in ("id", "event_id"):
        value = getattr(result, name, None)
        if value is not None:
            return value
    return None


@router.post(
    "/events",
    response_model=EventsAccepted,
    dependencies=[require_scope("events:write")],
    status_code=202,
    responses={404: {"model": ErrorBody}, 422: {"model": ErrorBody}, 413: {"model": ErrorBody}},
)
def post_events(body: EventsBatch, services: ServicesDep, settings: SettingsDep) -> EventsAccepted:
    """Store a batch of events (view, click, email_open, purchase, return, chat) for one customer."""
    refs = []
    for event in body.events:
        fields = event.model_dump(exclude={"type"}, exclude_none=True)
        if body.create_customer:
            fields["create_customer"] = True
        result = services.record_event(body.brand, body.customer_id, event.type, fields, settings)
        refs.append(_event_ref(result))
    return EventsAccepted(
        brand=body.brand, customer_id=body.customer_id, accepted=len(refs), event_ids=refs
    )


@router.post(
    "/outcomes",
    response_model=OutcomesAccepted,
    dependencies=[require_scope("outcomes:write")],
    status_code=202,
    responses={404: {"model": ErrorBody}, 422: {"model": ErrorBody}, 413: {"model": ErrorBody}},
)
def post_outcomes(
    body: OutcomesBatch, services: ServicesDep, settings: SettingsDep
) -> OutcomesAccepted:
    """Record what happened to sent variants: sent, opened, clicked, converted."""
    ids = services.record_outcomes(list(body.outcomes), settings)
    return OutcomesAccepted(accepted=len(ids), outcome_ids=ids)

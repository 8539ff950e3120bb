"""Event-triggered flows: welcome, post-purchase cross-sell, browse abandonment, win-back.

An event recorded through ``POST /v1/events`` or an ingest reaches ``on_event``
through the customer layer's after-commit hook (``install()`` registers it; the
API app and the CLI call it). ``on_event`` only *books* a fire: one
``trigger_fires`` row per (flow, customer, triggering event) under a unique key,
so a re-delivered event books nothing twice. Debouncing: a customer who already
has a fire of the same flow booked within ``debounce_hours`` gets a row with
status ``debounced`` instead (kept, so "why no email?" has an answer).
``process_due`` later turns due fires into drafts through the stored
definition, re-checking the flow's condition first (a browse abandonment whose
customer bought in the meantime is ``cancelled``).

Flows:
- welcome: the customer's first purchase (one order id among their purchases);
- cross_sell: any purchase; the item to feature is the bought item's strongest
  co-purchase partner the customer does not own yet, read from the recommender's
  co-purchase model directly (``Recommender.bought_with``); the draft features it
  first (``ContentRequest.feature_items``) and the fire's payload records it;
- browse_abandonment: a view with no purchase within ``wait_hours``;
- win_back: checked daily (``check_win_back``): no order for ``days_without_order``
  days; keyed by the date of the last order, so one win-back per lapse.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Select, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from genpersona.campaigns import automation
from genpersona.campaigns.automation_tables import TriggerFireRow
from genpersona.campaigns.definition_store import StoredDefinition, latest_definitions
from genpersona.customers.hooks import RecordedEvent, register_event_hook
from genpersona.data.tables import Brand, Customer, Event
from genpersona.db.engine import session_scope
from genpersona.recs.store import get_recommender
from genpersona.settings import Settings, get_settings

HOOK_NAME = "campaigns.triggers"


def _naive(ts: datetime) -> datetime:
    return ts.replace(tzinfo=None) if ts.tzinfo is not None else ts


def _flows(brand: str, settings: Settings) -> list[StoredDefinition]:
    return [
        s
        for s in latest_definitions(brand, settings)
        if s.definition.trigger is not None and s.definition.enabled
    ]


def _purchase_orders(session: Session, brand: str, customer_id: str) -> int:
    """Distinct orders among the customer's purchases (an event without an order id is one)."""
    rows = session.execute(
        select(Event.id, Event.order_id)
        .join(Customer, Customer.id == Event.customer_id)
        .join(Brand, Brand.id == Customer.brand_id)
        .where(Brand.slug == brand, Customer.external_id == customer_id, Event.type == "purchase")
    ).all()
    return len({order or f"event:{eid}" for eid, order in rows})


def book(
    brand: str,
    flow: str,
    customer_id: str,
    event_key: str,
    event_ts: datetime,
    due_at: datetime,
    debounce: timedelta,
    settings: Settings,
    payload: dict[str, str] | None = None,
) -> str:
    """Book one fire; returns ``booked``, ``debounced`` or ``duplicate``."""
    event_ts, due_at = _naive(event_ts), _naive(due_at)
    with session_scope(settings) as session:
        recent = session.scalar(
            select(TriggerFireRow.id).where(
                TriggerFireRow.brand == brand,
                TriggerFireRow.flow == flow,
                TriggerFireRow.customer_id == customer_id,
                TriggerFireRow.status.in_(("pending", "done")),
                TriggerFireRow.event_ts > event_ts - debounce,
                TriggerFireRow.event_key != event_key,
            )
        )
    status = "debounced" if recent is not None else "pending"
    try:
        with session_scope(settings) as session:
            session.add(
                TriggerFireRow(
                    brand=brand,
                    flow=flow,
                    customer_id=customer_id,
                    event_key=event_key,
                    event_ts=event_ts,
                    due_at=due_at,
                    status=status,
                    reason="debounced" if recent is not None else None,
                    payload=payload or {},
                )
            )
    except IntegrityError:
        return "duplicate"
    return "booked" if status == "pending" else "debounced"


def on_event(event: RecordedEvent, settings: Settings | None = None) -> dict[str, str]:
    """Book the fires this event triggers; {flow name: booked|debounced|duplicate}."""
    settings = settings or get_settings()
    out: dict[str, str] = {}
    for stored in _flows(event.brand, settings):
        d = stored.definition
        t = d.trigger
        assert t is not None
        key: str | None = None
        due = event.ts
        if t.flow == "welcome" and event.type == "purchase":
            with session_scope(settings) as session:
                if _purchase_orders(session, event.brand, event.customer_id) == 1:
                    key = f"order:{event.order_id or event.event_id}"
        elif t.flow == "cross_sell" and event.type == "purchase":
            key = f"order:{event.order_id or event.event_id}"
        elif t.flow == "browse_abandonment" and event.type == "view":
            key = f"view:{event.event_id}"
            due = event.ts + timedelta(hours=t.wait_hours)
        if key is None:
            continue
        out[d.name] = book(
            event.brand,
            d.name,
            event.customer_id,
            key,
            event.ts,
            due + timedelta(hours=t.delay_hours),
            timedelta(hours=t.debounce_hours),
            settings,
            payload={"stock_code": event.stock_code or "", "type": event.type},
        )
    return out


def install(settings: Settings | None = None) -> None:
    """Register the trigger handler on the customer layer's event hook (idempotent)."""

    def hook(event: RecordedEvent) -> None:
        on_event(event, settings)

    register_event_hook(HOOK_NAME, hook)


def _purchases(column: Any, brand: str, customer_id: str) -> Select[Any]:
    """``column`` of the customer's purchase events (the query both checks below refine)."""
    return (
        select(column)
        .join(Customer, Customer.id == Event.customer_id)
        .join(Brand, Brand.id == Customer.brand_id)
        .where(
            Brand.slug == brand,
            Customer.external_id == customer_id,
            Event.type == "purchase",
        )
    )


def _bought_since(brand: str, customer_id: str, since: datetime, settings: Settings) -> bool:
    query = _purchases(Event.id, brand, customer_id).where(Event.ts >= since).limit(1)
    with session_scope(settings) as session:
        return session.scalar(query) is not None


def _owned_codes(brand: str, customer_id: str, settings: Settings) -> set[str]:
    query = (
        _purchases(Event.stock_code, brand, customer_id)
        .where(Event.stock_code.is_not(None))
        .distinct()
    )
    with session_scope(settings) as session:
        return {str(code).strip().upper() for code in session.scalars(query)}


def cross_sell_pick(
    brand: str, customer_id: str, bought: str, settings: Settings | None = None
) -> str | None:
    """The bought item's strongest co-purchase partner the customer does not own, or None
    (no fitted model, an item it does not know, or no partner left)."""
    settings = settings or get_settings()
    loaded = get_recommender(brand, settings)
    if loaded is None or not bought:
        return None
    owned = _owned_codes(brand, customer_id, settings)
    partners = loaded.model.bought_with(bought, k=1, exclude=owned)
    return partners[0].stock_code if partners else None


def process_due(
    now: datetime,
    *,
    settings: Settings | None = None,
    generate: automation.GenerateFn | None = None,
    limit: int = 500,
) -> int:
    """Turn due pending fires into drafts; returns how many were handled."""
    settings = settings or get_settings()
    now = _naive(now)
    with session_scope(settings) as session:
        due = [
            (r.id, r.brand, r.flow, r.customer_id, r.event_ts, dict(r.payload or {}))
            for r in session.scalars(
                select(TriggerFireRow)
                .where(TriggerFireRow.status == "pending", TriggerFireRow.due_at <= now)
                .order_by(TriggerFireRow.due_at)
                .limit(limit)
            )
        ]
    handled = 0
    for fire_id, brand, flow, customer_id, event_ts, payload in due:
        stored = next((s for s in _flows(brand, settings) if s.definition.name == flow), None)
        status, reason, draft_id = "done", None, None
        if stored is None:
            status, reason = "cancelled", "flow_removed"
        elif (
            stored.definition.trigger
            and stored.definition.trigger.flow == "browse_abandonment"
            and _bought_since(brand, customer_id, event_ts, settings)
        ):
            status, reason = "cancelled", "purchased"
        else:
            d = stored.definition
            brief = d.brief
            feature: list[str] = []
            if payload.get("stock_code"):
                brief = f"{brief} (they just bought item {payload['stock_code']})"
                if d.trigger is not None and d.trigger.flow == "cross_sell":
                    pick = cross_sell_pick(brand, customer_id, payload["stock_code"], settings)
                    feature = [pick] if pick else []
                    payload = {**payload, "featured": pick or ""}
            run = automation.run_definition(
                stored.model_copy(update={"definition": d.model_copy(update={"brief": brief})}),
                customer_ids=[customer_id],
                campaign=f"{d.name}-{event_ts:%Y%m%d}",
                settings=settings,
                generate=generate,
                feature_items=feature,
            )
            if run.report is not None and run.report.draft_ids:
                draft_id = run.report.draft_ids[0]
            elif run.report is not None and run.report.failed:
                status, reason = "failed", (run.report.results[0].error or "failed")[:64]
        with session_scope(settings) as session:
            row = session.get(TriggerFireRow, fire_id)
            if row is not None:
                row.status, row.reason, row.draft_id = status, reason, draft_id
                row.payload = payload
        handled += 1
    return handled


def check_win_back(now: datetime, *, settings: Settings | None = None) -> int:
    """Book a win-back for every customer whose last order is older than the flow's threshold."""
    settings = settings or get_settings()
    now = _naive(now)
    booked = 0
    with session_scope(settings) as session:
        brands = list(session.scalars(select(Brand.slug)))
    for brand in brands:
        for stored in _flows(brand, settings):
            t = stored.definition.trigger
            if t is None or t.flow != "win_back":
                continue
            cutoff = now - timedelta(days=t.days_without_order)
            with session_scope(settings) as session:
                lapsed = list(
                    session.execute(
                        select(Customer.external_id, func.max(Event.ts))
                        .join(Event, Event.customer_id == Customer.id)
                        .join(Brand, Brand.id == Customer.brand_id)
                        .where(Brand.slug == brand, Event.type == "purchase")
                        .group_by(Customer.external_id)
                        .having(func.max(Event.ts) < cutoff)
                    ).tuples()
                )
            for customer_id, last in lapsed:
                result = book(
                    brand,
                    stored.definition.name,
                    customer_id,
                    f"lapsed-since:{last:%Y-%m-%d}",
                    last,
                    now + timedelta(hours=t.delay_hours),
                    timedelta(0),
                    settings,
                )
                booked += result == "booked"
    return booked

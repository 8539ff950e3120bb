"""Write paths for customer data: consent changes, memory facts, events (and the
customers an event creates).

Chat, the API and the agent write through these functions, which check consent
before storing anything learned and keep SQL and the vector store in step.
The data-subject rights (export, erase, opt-out, reset) are in ``rights.py``.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from genpersona.context.models import Evidence, MemoryFactView
from genpersona.customers.erasure import CustomerRef
from genpersona.customers.hooks import RecordedEvent, notify
from genpersona.data.derive import derive
from genpersona.data.locales import locale_for_country
from genpersona.data.memory_store import memory_metadata
from genpersona.data.repo import get_brand, get_customer, memory_vector_id
from genpersona.data.tables import (
    EVENT_TYPES,
    FACT_SOURCES,
    Brand,
    Customer,
    Event,
    MemoryFact,
)
from genpersona.data.tombstones import clear_tombstone
from genpersona.db.base import utcnow
from genpersona.db.engine import session_factory
from genpersona.embeddings.factory import get_embedder
from genpersona.errors import ConsentError, InputError
from genpersona.settings import Settings, get_settings
from genpersona.types.audience import Consent
from genpersona.vectors.base import MEMORY
from genpersona.vectors.factory import get_vector_store

MAX_FACT_CHARS = 500


def customer_ref(
    session: Session, brand: str, customer_id: str
) -> tuple[Brand, Customer, CustomerRef]:
    b = get_brand(session, brand)
    c = get_customer(session, b, customer_id)
    return b, c, CustomerRef(brand=b.slug, brand_id=b.id, customer_pk=c.id, external_id=customer_id)


def consent_of(c: Customer) -> Consent:
    return Consent(
        personalization=c.consent_personalization,
        email=c.consent_email,
        chat_memory=c.consent_chat_memory,
    )


def drop_facts(session: Session, customer: Customer, source: str | None = None) -> list[str]:
    stmt = select(MemoryFact.id).where(MemoryFact.customer_id == customer.id)
    if source is not None:
        stmt = stmt.where(MemoryFact.source == source)
    ids = list(session.scalars(stmt))
    if ids:
        session.execute(delete(MemoryFact).where(MemoryFact.id.in_(ids)))
    return [memory_vector_id(i) for i in ids]


def set_consent(
    brand: str,
    customer_id: str,
    *,
    personalization: bool | None = None,
    email: bool | None = None,
    chat_memory: bool | None = None,
    settings: Settings | None = None,
) -> Consent:
    """Change consent per purpose; withdrawing chat-memory consent deletes what chat taught us."""
    settings = settings or get_settings()
    stale: list[str] = []
    with session_factory(settings)() as session, session.begin():
        _, c, _ = customer_ref(session, brand, customer_id)
        if personalization is not None:
            c.consent_personalization = personalization
        if email is not None:
            c.consent_email = email
        if chat_memory is not None:
            c.consent_chat_memory = chat_memory
            if not chat_memory:
                stale = drop_facts(session, c, source="chat")
        c.consent_updated_at = utcnow()
        consent = consent_of(c)
    if stale:
        get_vector_store(settings).delete(MEMORY, ids=stale)
    return consent


def add_memory_fact(
    brand: str,
    customer_id: str,
    text: str,
    source: str,
    knowingly_shared: bool,
    *,
    kind: str = "note",
    evidence: Evidence | None = None,
    expires_at: datetime | None = None,
    settings: Settings | None = None,
) -> MemoryFactView:
    """Store a fact (text in SQL only) and index its vector under ``mem:{id}``."""
    settings = settings or get_settings()
    clean = " ".join((text or "").split())
    if not clean or len(clean) > MAX_FACT_CHARS:
        raise InputError(
            f"memory fact text must be 1-{MAX_FACT_CHARS} characters (got {len(clean)})",
            fix="store one short, self-contained fact per call",
            length=len(clean),
        )
    if source not in FACT_SOURCES:
        raise InputError(
            f"unknown memory fact source {source!r}",
            fix=f"use one of {', '.join(FACT_SOURCES)}",
            source=source,
        )
    vector = get_embedder(settings=settings).embed([clean])
    ev = evidence or Evidence(source=source)
    with session_factory(settings)() as session, session.begin():
        b, c, _ = customer_ref(session, brand, customer_id)
        if not c.consent_personalization:
            raise ConsentError(
                f"customer {customer_id!r} opted out of personalization; nothing may be learned",
                fix="do not store memories for opted-out customers",
                brand=brand,
                customer_id=customer_id,
            )
        if source == "chat" and not c.consent_chat_memory:
            raise ConsentError(
                f"customer {customer_id!r} has not consented to chat memory",
                fix="ask for chat-memory consent (set_consent(..., chat_memory=True)) first",
                brand=brand,
                customer_id=customer_id,
            )
        fact = MemoryFact(
            brand_id=b.id,
            customer_id=c.id,
            text=clean,
            kind=kind,
            source=source,
            knowingly_shared=knowingly_shared,
            provenance={"event_ids": ev.event_ids, "stock_codes": ev.stock_codes, "note": ev.note},
            created_at=utcnow(),
            expires_at=expires_at,
        )
        session.add(fact)
        session.flush()
        fact.vector_id = memory_vector_id(fact.id)
        fact_id = fact.id
    get_vector_store(settings).upsert(
        MEMORY, [memory_vector_id(fact_id)], vector, [memory_metadata(brand)]
    )
    return MemoryFactView(
        fact_id=fact_id,
        text=clean,
        source=source,
        knowingly_shared=knowingly_shared,
        evidence=Evidence(
            source=f"{source}:{kind}",
            event_ids=ev.event_ids,
            stock_codes=ev.stock_codes,
            note=ev.note,
        ),
    )


def record_event(
    brand: str,
    customer_id: str,
    type: str,
    *,
    ts: datetime | None = None,
    stock_code: str | None = None,
    quantity: int | None = None,
    unit_price: float | None = None,
    order_id: str | None = None,
    country: str | None = None,
    payload: dict[str, Any] | None = None,
    source: str = "api",
    create_customer: bool = False,
    refresh_profile: bool = True,
    settings: Settings | None = None,
) -> int:
    """Record one event; purchases and returns refresh the customer's profile and facts."""
    settings = settings or get_settings()
    if type not in EVENT_TYPES:
        raise InputError(
            f"unknown event type {type!r}",
            fix=f"use one of {', '.join(EVENT_TYPES)}",
            type=type,
        )
    if type in ("purchase", "return") and not stock_code:
        raise InputError(
            f"a {type} event needs a stock_code", fix="pass the item's stock code", type=type
        )
    factory = session_factory(settings)
    pending = None
    with factory() as session, session.begin():
        b = get_brand(session, brand)
        c = session.scalar(
            select(Customer).where(Customer.brand_id == b.id, Customer.external_id == customer_id)
        )
        if c is None:
            if not create_customer:
                get_customer(session, b, customer_id)  # raises CustomerNotFound
            clear_tombstone(session, brand, customer_id)  # a knowing new sign-up
            loc = locale_for_country(country)
            c = Customer(
                brand_id=b.id,
                external_id=customer_id,
                country=country,
                locale=loc.locale,
                timezone=loc.timezone,
                consent_personalization=False,
                consent_email=False,
                consent_chat_memory=False,
                source=source,
            )
            session.add(c)
            session.flush()
        event = Event(
            brand_id=b.id,
            customer_id=c.id,
            type=type,
            ts=ts or utcnow(),
            stock_code=stock_code.strip().upper() if stock_code else None,
            quantity=quantity,
            unit_price=unit_price,
            order_id=order_id,
            country=country or c.country,
            payload=payload,
            source=source,
            source_key=uuid.uuid4().hex,
        )
        session.add(event)
        session.flush()
        event_id = event.id
        recorded = RecordedEvent(
            brand=b.slug,
            customer_id=customer_id,
            type=type,
            event_id=event_id,
            ts=event.ts,
            stock_code=event.stock_code,
            order_id=order_id,
        )
        if refresh_profile and type in ("purchase", "return") and c.consent_personalization:
            _, pending = derive(session, b, get_embedder(settings=settings), customer_ids=[c.id])
    if pending is not None:
        pending.apply(factory, get_vector_store(settings))
    notify(recorded)  # after commit: campaign triggers (registered by the orchestration layer)
    return event_id

"""The customer's data controls: export, erase, opt-out, reset, consent; plus the
two write paths the chat and API use (``add_memory_fact``, ``record_event``).

- export: everything held about the customer, as JSON-ready dicts;
- erase: every row, vector and derived text about the customer is deleted, the
  recommender is refitted without them, and the SQLite file is checkpointed and
  vacuumed so their words do not survive as bytes in free pages or the WAL;
- opt-out: personalization consent off; ``context_for`` then carries nothing personal;
- reset: learned preferences and memory facts are gone, purchases are kept, and
  profiles are only re-learned from events after the reset.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from pydantic import BaseModel, Field
from sqlalchemy import delete, inspect, select, text
from sqlalchemy.orm import Session

from genpersona.context.models import Consent, Evidence, MemoryFactView
from genpersona.customers.erasure import CustomerRef, discover, erasers, exporters
from genpersona.data.derive import derive
from genpersona.data.locales import locale_for_country
from genpersona.data.repo import get_brand, get_customer, memory_vector_id
from genpersona.data.tables import (
    EVENT_TYPES,
    FACT_SOURCES,
    Brand,
    Customer,
    CustomerProfile,
    Event,
    MemoryFact,
)
from genpersona.data.tombstones import add_tombstone, clear_tombstone
from genpersona.db.base import Base, utcnow
from genpersona.db.engine import get_engine, session_factory
from genpersona.embeddings.factory import get_embedder
from genpersona.errors import ConsentError, InputError
from genpersona.recs.store import fit_recommender, recommender_path
from genpersona.settings import Settings, get_settings
from genpersona.vectors.base import MEMORY
from genpersona.vectors.factory import get_vector_store

MAX_FACT_CHARS = 500
_OWN_TABLES = {"customers", "events", "memory_facts", "customer_profiles"}


class EraseReport(BaseModel):
    brand: str
    customer_id: str
    rows: dict[str, int] = Field(default_factory=dict)
    vectors_deleted: int = 0
    recommender_refitted: bool = False
    vacuumed: bool = False


class ResetReport(BaseModel):
    brand: str
    customer_id: str
    memory_facts_deleted: int
    profile_deleted: bool
    learning_since: datetime
    recommender_refitted: bool


def _ref(session: Session, brand: str, customer_id: str) -> tuple[Brand, Customer, CustomerRef]:
    b = get_brand(session, brand)
    c = get_customer(session, b, customer_id)
    return b, c, CustomerRef(brand=b.slug, brand_id=b.id, customer_pk=c.id, external_id=customer_id)


def _row(obj: Any) -> dict[str, Any]:
    return {a.key: getattr(obj, a.key) for a in inspect(obj).mapper.column_attrs}


def _consent(c: Customer) -> Consent:
    return Consent(
        personalization=c.consent_personalization,
        email=c.consent_email,
        chat_memory=c.consent_chat_memory,
    )


# --- export --------------------------------------------------------------------------
def export_customer(
    brand: str, customer_id: str, *, settings: Settings | None = None
) -> dict[str, Any]:
    """Everything held about the customer: row, consent, profile, events, memories, and
    whatever other modules registered an exporter for (drafts, reviews...)."""
    settings = settings or get_settings()
    discover()
    with session_factory(settings)() as session:
        b, c, ref = _ref(session, brand, customer_id)
        profile = session.get(CustomerProfile, c.id)
        events = session.scalars(select(Event).where(Event.customer_id == c.id).order_by(Event.id))
        facts = session.scalars(
            select(MemoryFact).where(MemoryFact.customer_id == c.id).order_by(MemoryFact.id)
        )
        customer_row = _row(c)
        customer_row.pop("id")
        customer_row.pop("brand_id")
        data: dict[str, Any] = {
            "format": "genpersona.customer-export/1",
            "exported_at": utcnow().isoformat(),
            "brand": b.slug,
            "customer": customer_row,
            "consent": _consent(c).model_dump(),
            "profile": None if profile is None else _row(profile),
            "events": [_row(e) for e in events],
            "memory_facts": [_row(f) for f in facts],
            "recommender": {
                "model_file": str(recommender_path(b.slug, settings)),
                "note": "the model holds this customer's purchased stock codes (from the events "
                "above) and nothing else",
            },
            "other": {name: fn(session, ref) for name, fn in sorted(exporters().items())},
        }
    return _jsonable(data)


def _jsonable(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    if isinstance(value, datetime):
        return value.isoformat()
    if hasattr(value, "model_dump"):
        return value.model_dump(mode="json")
    return value


# --- erase ---------------------------------------------------------------------------
def _fk_tables_to_customers() -> list[tuple[str, str]]:
    """(table, column) pairs of other modules' tables with a foreign key to customers.id."""
    out = []
    for table in Base.metadata.sorted_tables:
        if table.name in _OWN_TABLES:
            continue
        for fk in table.foreign_keys:
            if fk.column.table.name == "customers" and fk.column.name == "id":
                out.append((table.name, fk.parent.name))
    return out


def erase_customer(
    brand: str, customer_id: str, *, settings: Settings | None = None, refit: bool = True
) -> EraseReport:
    """Delete every row, vector and derived text about the customer (irreversible)."""
    settings = settings or get_settings()
    discover()
    report = EraseReport(brand=brand, customer_id=customer_id)
    factory = session_factory(settings)
    with factory() as session, session.begin():
        b, c, ref = _ref(session, brand, customer_id)
        for name, fn in sorted(erasers().items()):
            report.rows[name] = int(fn(session, ref) or 0)
        for table_name, column in _fk_tables_to_customers():
            table = Base.metadata.tables[table_name]
            result = session.execute(delete(table).where(table.c[column] == c.id))
            report.rows[table_name] = report.rows.get(table_name, 0) + (result.rowcount or 0)
        fact_ids = list(
            session.scalars(select(MemoryFact.id).where(MemoryFact.customer_id == c.id))
        )
        report.rows["memory_facts"] = len(fact_ids)
        session.execute(delete(MemoryFact).where(MemoryFact.customer_id == c.id))
        report.rows["customer_profiles"] = (
            session.execute(
                delete(CustomerProfile).where(CustomerProfile.customer_id == c.id)
            ).rowcount
            or 0
        )
        report.rows["events"] = (
            session.execute(delete(Event).where(Event.customer_id == c.id)).rowcount or 0
        )
        session.execute(delete(Customer).where(Customer.id == c.id))
        report.rows["customers"] = 1
        add_tombstone(session, brand, customer_id)
        brand_id = b.id
    store = get_vector_store(settings)
    ids = [memory_vector_id(i) for i in fact_ids]
    store.delete(MEMORY, ids=ids)
    # belt and braces: vectors written by a crashed process that never reached SQL
    store.delete(MEMORY, where={"$and": [{"brand": brand}, {"customer_id": customer_id}]})
    report.vectors_deleted = len(ids)
    if refit and recommender_path(brand, settings).exists():
        with factory() as session:
            fit_recommender(session, session.get(Brand, brand_id), store, settings)
        report.recommender_refitted = True
    report.vacuumed = compact_database(settings)
    return report


def compact_database(settings: Settings | None = None) -> bool:
    """Checkpoint the WAL and VACUUM a SQLite file so deleted text leaves no bytes behind.

    ``secure_delete`` zeroes freed pages in the main file, but old page images
    live on in the WAL until a checkpoint truncates it. PostgreSQL keeps dead
    tuples until its own VACUUM; we run a plain VACUUM there too (best effort).
    """
    engine = get_engine(settings)
    if engine.dialect.name == "sqlite":
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(text("PRAGMA wal_checkpoint(TRUNCATE)"))
            conn.execute(text("VACUUM"))
            conn.execute(text("PRAGMA wal_checkpoint(TRUNCATE)"))
        return True
    if engine.dialect.name == "postgresql":
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            for table in ("events", "memory_facts", "customer_profiles", "customers"):
                conn.execute(text(f"VACUUM {table}"))
        return True
    return False


# --- consent, opt-out, reset -----------------------------------------------------------
def _drop_facts(session: Session, customer: Customer, source: str | None = None) -> list[str]:
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
        _, c, _ = _ref(session, brand, customer_id)
        if personalization is not None:
            c.consent_personalization = personalization
        if email is not None:
            c.consent_email = email
        if chat_memory is not None:
            c.consent_chat_memory = chat_memory
            if not chat_memory:
                stale = _drop_facts(session, c, source="chat")
        c.consent_updated_at = utcnow()
        consent = _consent(c)
    if stale:
        get_vector_store(settings).delete(MEMORY, ids=stale)
    return consent


def set_opt_out(
    brand: str, customer_id: str, opted_out: bool = True, *, settings: Settings | None = None
) -> Consent:
    """Opt out of (or back into) personalization; data is kept but not used while opted out."""
    return set_consent(brand, customer_id, personalization=not opted_out, settings=settings)


def reset_customer(
    brand: str, customer_id: str, *, settings: Settings | None = None, refit: bool = True
) -> ResetReport:
    """Forget learned preferences and memory facts; keep purchases (order history)."""
    settings = settings or get_settings()
    factory = session_factory(settings)
    now = utcnow()
    with factory() as session, session.begin():
        b, c, _ = _ref(session, brand, customer_id)
        stale = _drop_facts(session, c)
        had_profile = (
            session.execute(
                delete(CustomerProfile).where(CustomerProfile.customer_id == c.id)
            ).rowcount
            or 0
        ) > 0
        c.learning_since = now
        brand_id = b.id
    store = get_vector_store(settings)
    store.delete(MEMORY, ids=stale)
    refitted = False
    if refit and recommender_path(brand, settings).exists():
        with factory() as session:
            fit_recommender(session, session.get(Brand, brand_id), store, settings)
        refitted = True
    return ResetReport(
        brand=brand,
        customer_id=customer_id,
        memory_facts_deleted=len(stale),
        profile_deleted=had_profile,
        learning_since=now,
        recommender_refitted=refitted,
    )


# --- write paths used by chat and the API ------------------------------------------------
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
        b, c, _ = _ref(session, brand, customer_id)
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
        MEMORY, [memory_vector_id(fact_id)], vector, [{"brand": brand, "customer_id": customer_id}]
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
        if refresh_profile and type in ("purchase", "return") and c.consent_personalization:
            _, pending = derive(session, b, get_embedder(settings=settings), customer_ids=[c.id])
    if pending is not None:
        pending.apply(factory, get_vector_store(settings))
    return event_id

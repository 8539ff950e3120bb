"""The customer's data-subject rights: export, erase, opt-out (and back in), reset.

- export: everything held about the customer, as JSON-ready dicts;
- erase: every row, vector and derived text about the customer is deleted, the
  recommender is refitted without them, the vector collections are rebuilt and
  the stores' files scrubbed so nothing of theirs survives as bytes on disk
  (``compaction.py``; docs/guides/privacy-erasure.md);
- opt-out: personalization consent off; ``context_for`` then carries nothing personal;
- reset: learned preferences and memory facts are gone, purchases are kept, and
  profiles are only re-learned from events after the reset.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, Field
from sqlalchemy import delete, inspect, select

from genpersona.context.fact_vectors import FACT_VECTORS
from genpersona.customers import compaction
from genpersona.customers.compaction import mark_pending, run_pending
from genpersona.customers.erasure import derived_caches, discover, erasers, exporters
from genpersona.customers.home_files import HomeFilesReport, scrub_home_files
from genpersona.customers.records import consent_of, customer_ref, drop_facts, set_consent
from genpersona.data.repo import memory_vector_id
from genpersona.data.tables import (
    Brand,
    Customer,
    CustomerProfile,
    Event,
    MemoryFact,
)
from genpersona.data.tombstones import add_tombstone, erased_among
from genpersona.db.base import Base, utcnow
from genpersona.db.engine import rowcount, session_factory
from genpersona.recs.store import fit_recommender, recommender_path
from genpersona.settings import Settings, get_settings
from genpersona.types.audience import Consent
from genpersona.vectors.base import MEMORY
from genpersona.vectors.factory import get_vector_store

_OWN_TABLES = {"customers", "events", "memory_facts", "customer_profiles"}


class EraseReport(BaseModel):
    brand: str
    customer_id: str
    rows: dict[str, int] = Field(default_factory=dict)
    vectors_deleted: int = 0
    recommender_refitted: bool = False
    vacuumed: bool = False
    #: generations now serving the rebuilt vector collections (empty: compaction deferred)
    vectors_rebuilt: list[str] = Field(default_factory=list)
    #: this call finished an erase that had crashed after its rows were deleted
    resumed: bool = False
    #: the compaction (rebuild, scrub, VACUUM) was left pending for a worker or
    #: ``genpersona customer compact``: nothing is served from the deleted data, but its
    #: bytes are still in the stores' files until then
    compaction_pending: bool = False
    #: JSON/JSONL/CSV files under the home (campaign exports...) rewritten without them
    files: HomeFilesReport | None = None
    #: derived caches dropped whole (``register_derived_cache``): name -> files removed
    caches_dropped: dict[str, int] = Field(default_factory=dict)


class ResetReport(BaseModel):
    brand: str
    customer_id: str
    memory_facts_deleted: int
    profile_deleted: bool
    learning_since: datetime
    recommender_refitted: bool


def _row(obj: Any) -> dict[str, Any]:
    return {a.key: getattr(obj, a.key) for a in inspect(obj).mapper.column_attrs}


# --- export --------------------------------------------------------------------------
def export_customer(
    brand: str, customer_id: str, *, settings: Settings | None = None
) -> dict[str, Any]:
    """Everything held about the customer: row, consent, profile, events, memories, and
    whatever other modules registered an exporter for (drafts, reviews...)."""
    settings = settings or get_settings()
    discover()
    with session_factory(settings)() as session:
        b, c, ref = customer_ref(session, brand, customer_id)
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
            "consent": consent_of(c).model_dump(),
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


def _drop_derived_caches(settings: Settings) -> dict[str, int]:
    """Drop every registered derived cache (after the rows are gone, so nothing re-reads
    the customer into them); a re-run after a crash drops them again."""
    return {name: drop(settings.home_dir) for name, drop in sorted(derived_caches().items())}


def erase_customer(
    brand: str,
    customer_id: str,
    *,
    settings: Settings | None = None,
    refit: bool = True,
    compact: bool = True,
) -> EraseReport:
    """Delete every row, vector and derived text about the customer (irreversible).

    Order (each step survives a crash, see ``compaction``): record the pending
    compaction; rewrite JSON/CSV files under the home without them; delete every SQL row and add the tombstone in one transaction (the
    customer is whole or gone); delete their vectors; drop derived caches (the click
    model's embeddings); then ``run_pending``: refit the
    recommender, rebuild vector collections, scrub files, VACUUM. ``compact=False``
    leaves that last part pending for ``genpersona customer compact`` (a batch job).
    Erasing a customer whose erase crashed after the commit finishes the work.
    """
    settings = settings or get_settings()
    discover()
    report = EraseReport(brand=brand, customer_id=customer_id)
    factory = session_factory(settings)
    with factory() as session:
        erased_before = bool(erased_among(session, brand, [customer_id])) and (
            session.scalar(
                select(Customer.id)
                .join(Brand, Brand.id == Customer.brand_id)
                .where(Brand.slug == brand, Customer.external_id == customer_id)
            )
            is None
        )
    if erased_before:  # a re-run: the rows are gone; finish what a crash left pending
        report.resumed = True
        report.caches_dropped = _drop_derived_caches(settings)
        if compact:
            done = run_pending(settings)
            report.recommender_refitted = brand in done.refitted
            report.vacuumed = done.database_vacuumed
            report.vectors_rebuilt = [r.physical for r in done.rebuilt]
        report.compaction_pending = not compact
        return report
    with factory() as session:
        customer_ref(session, brand, customer_id)  # CustomerNotFound before anything is written
    mark_pending(settings, brand, refit and recommender_path(brand, settings).exists())
    checkpoint("pending")
    # before the rows: a crash between the two leaves a whole customer, missing only from
    # derived files that a re-run rewrites again (after the commit, the id would be lost)
    report.files = scrub_home_files(
        settings.home_dir,
        customer_id,
        skip=[settings.chroma_path, recommender_path(brand, settings).parent],
    )
    with factory() as session, session.begin():
        b, c, ref = customer_ref(session, brand, customer_id)
        for name, fn in sorted(erasers().items()):
            report.rows[name] = int(fn(session, ref) or 0)
        for table_name, column in _fk_tables_to_customers():
            table = Base.metadata.tables[table_name]
            result = session.execute(delete(table).where(table.c[column] == c.id))
            report.rows[table_name] = report.rows.get(table_name, 0) + rowcount(result)
        facts = session.execute(
            select(MemoryFact.id, MemoryFact.text).where(MemoryFact.customer_id == c.id)
        ).all()
        fact_ids = [f.id for f in facts]
        report.rows["memory_facts"] = len(fact_ids)
        session.execute(delete(MemoryFact).where(MemoryFact.customer_id == c.id))
        report.rows["customer_profiles"] = (
            rowcount(
                session.execute(delete(CustomerProfile).where(CustomerProfile.customer_id == c.id))
            )
            or 0
        )
        report.rows["events"] = rowcount(
            session.execute(delete(Event).where(Event.customer_id == c.id))
        )
        session.execute(delete(Customer).where(Customer.id == c.id))
        report.rows["customers"] = 1
        add_tombstone(session, brand, customer_id)
        checkpoint("rows-deleted")
    checkpoint("committed")
    store = get_vector_store(settings)
    ids = [memory_vector_id(i) for i in fact_ids]
    store.delete(MEMORY, ids=ids)
    FACT_VECTORS.forget([f.text for f in facts])
    report.vectors_deleted = len(ids)
    checkpoint("vectors-deleted")
    report.caches_dropped = _drop_derived_caches(settings)
    if compact:
        done = run_pending(settings)
        report.recommender_refitted = brand in done.refitted
        report.vacuumed = done.database_vacuumed
        report.vectors_rebuilt = [r.physical for r in done.rebuilt]
    report.compaction_pending = not compact
    return report


def set_opt_out(
    brand: str, customer_id: str, opted_out: bool = True, *, settings: Settings | None = None
) -> Consent:
    """Opt out of (or back into) personalization; data is kept but not used while opted out."""
    return set_consent(brand, customer_id, personalization=not opted_out, settings=settings)


def reset_customer(
    brand: str,
    customer_id: str,
    *,
    settings: Settings | None = None,
    refit: bool = True,
    compact: bool = True,
) -> ResetReport:
    """Forget learned preferences and memory facts; keep purchases (order history).

    The forgotten facts' vectors and text are scrubbed from the stores' files like an
    erase's (``compact=False`` leaves that pending for ``genpersona customer compact``)."""
    settings = settings or get_settings()
    factory = session_factory(settings)
    now = utcnow()
    with factory() as session:
        customer_ref(session, brand, customer_id)  # CustomerNotFound before anything is written
    mark_pending(settings, brand, refit=False)
    with factory() as session, session.begin():
        b, c, _ = customer_ref(session, brand, customer_id)
        stale = drop_facts(session, c)
        had_profile = (
            rowcount(
                session.execute(delete(CustomerProfile).where(CustomerProfile.customer_id == c.id))
            )
            or 0
        ) > 0
        c.learning_since = now
        brand_id = b.id
    store = get_vector_store(settings)
    store.delete(MEMORY, ids=stale)
    refitted = False
    if refit and recommender_path(brand, settings).exists():
        with factory() as session:
            fit_recommender(session, session.get_one(Brand, brand_id), store, settings)
        refitted = True
    if compact:
        run_pending(settings)
    return ResetReport(
        brand=brand,
        customer_id=customer_id,
        memory_facts_deleted=len(stale),
        profile_deleted=had_profile,
        learning_since=now,
        recommender_refitted=refitted,
    )


def checkpoint(name: str) -> None:
    compaction.checkpoint(name)

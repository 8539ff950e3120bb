"""The read fast path gives the same rows as SQLAlchemy Core, never stale, never writing."""

from __future__ import annotations

import sqlite3
from datetime import datetime
from pathlib import Path

import pytest
from review_support import backend, pg_database_url  # noqa: F401
from sqlalchemy import bindparam, select, text

from genpersona.context.retrieval import _CUSTOMER_SQL, _FACTS_SQL
from genpersona.data.tables import Brand, Customer, MemoryFact
from genpersona.db.engine import dispose_engines, get_engine, session_scope
from genpersona.db.fast_read import FAST_READER
from genpersona.settings import get_settings


def _seed(slug: str = "shop", fact_text: str = "Often buys lanterns") -> tuple[int, int]:
    with session_scope() as s:
        brand = Brand(slug=slug, name=slug)
        s.add(brand)
        s.flush()
        cust = Customer(
            brand_id=brand.id,
            external_id="c1",
            country="France",
            consent_personalization=True,
            consent_chat_memory=False,
            learning_since=datetime(2024, 5, 6, 7, 8, 9),
        )
        s.add(cust)
        s.flush()
        s.add_all(
            [
                MemoryFact(brand_id=brand.id, customer_id=cust.id, text=fact_text,
                           source="derived", knowingly_shared=True,
                           provenance={"event_ids": [3, 4], "note": "ünïcode"},
                           expires_at=datetime(2030, 1, 2, 3, 4, 5, 600)),
                MemoryFact(brand_id=brand.id, customer_id=cust.id, text="Said hi",
                           source="chat", provenance={}),
            ]
        )  # fmt: skip
        return brand.id, cust.id


def _core(stmt, params):  # type: ignore[no-untyped-def]
    with get_engine().connect() as conn:
        return [tuple(r) for r in conn.execute(stmt, params).all()]


def test_rows_equal_core_rows_value_for_value_and_type_for_type() -> None:
    brand_id, cust_id = _seed()
    engine = get_engine()
    for stmt, params in (
        (_CUSTOMER_SQL, {"brand_id": brand_id, "external_id": "c1"}),
        (_FACTS_SQL, {"customer_id": cust_id}),
    ):
        fast = FAST_READER.all(engine, stmt, params)
        core = _core(stmt, params)
        assert [tuple(r) for r in fast] == core
        for f_row, c_row in zip(fast, core, strict=True):
            assert [type(v) for v in f_row] == [type(v) for v in c_row]
    row = FAST_READER.first(engine, _CUSTOMER_SQL, {"brand_id": brand_id, "external_id": "c1"})
    # attribute access by column key, and the types the context code relies on
    assert row.consent_personalization is True and row.consent_chat_memory is False
    assert row.learning_since == datetime(2024, 5, 6, 7, 8, 9)
    facts = FAST_READER.all(engine, _FACTS_SQL, {"customer_id": cust_id})
    assert facts[0].provenance == {"event_ids": [3, 4], "note": "ünïcode"}
    assert facts[0].expires_at == datetime(2030, 1, 2, 3, 4, 5, 600)
    assert (
        FAST_READER.first(engine, _CUSTOMER_SQL, {"brand_id": brand_id, "external_id": "x"}) is None
    )


def test_sees_each_committed_write_at_once() -> None:
    _, cust_id = _seed()
    engine = get_engine()
    assert len(FAST_READER.all(engine, _FACTS_SQL, {"customer_id": cust_id})) == 2
    with session_scope() as s:
        s.execute(text("DELETE FROM memory_facts WHERE source = 'chat'"))
    assert [r.text for r in FAST_READER.all(engine, _FACTS_SQL, {"customer_id": cust_id})] == [
        "Often buys lanterns"
    ]


def test_connection_is_read_only_and_holds_no_snapshot() -> None:
    _, cust_id = _seed()
    engine = get_engine()
    FAST_READER.all(engine, _FACTS_SQL, {"customer_id": cust_id})
    conn = FAST_READER._connection(str(engine.url.database))
    assert conn is not None
    with pytest.raises(sqlite3.OperationalError, match="readonly"):
        conn.execute("DELETE FROM memory_facts")
    # a fully fetched read leaves no open read transaction: a truncating checkpoint completes
    with engine.connect() as core:
        busy, _, _ = core.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)").one()
    assert busy == 0
    assert Path(f"{engine.url.database}-wal").stat().st_size == 0


def test_a_replaced_database_file_is_reopened_not_read_stale(tmp_path: Path) -> None:
    db = Path(str(get_engine().url.database))
    _seed(fact_text="old file")
    old = FAST_READER.all(get_engine(), _FACTS_SQL, {"customer_id": 1})
    assert old[0].text == "old file"
    dispose_engines()
    for suffix in ("", "-wal", "-shm"):
        Path(f"{db}{suffix}").unlink(missing_ok=True)
    get_settings.cache_clear()
    _seed(fact_text="new file")
    assert FAST_READER.all(get_engine(), _FACTS_SQL, {"customer_id": 1})[0].text == "new file"


def test_statements_the_fast_path_cannot_run_take_the_core_path() -> None:
    brand_id, _ = _seed()
    stmt = select(Customer.external_id).where(
        Customer.brand_id == brand_id, Customer.external_id.in_(bindparam("ids", expanding=True))
    )
    rows = FAST_READER.all(get_engine(), stmt, {"ids": ["c1", "nobody"]})
    assert [r.external_id for r in rows] == ["c1"]


def test_catalog_lookup_is_the_same_on_fixed_and_expanding_statements() -> None:
    from genpersona.agent.lookups import _FIXED_ARITY, catalog_items
    from genpersona.data.tables import CatalogItem

    brand_id, _ = _seed()
    other_id, _ = _seed(slug="other")
    with session_scope() as s:
        for i in range(40):
            s.add(CatalogItem(brand_id=brand_id, stock_code=f"{i:05d}", description=f"item {i}",
                              price=float(i)))  # fmt: skip
        s.add(CatalogItem(brand_id=other_id, stock_code="99999", description="not ours"))
    settings = get_settings()
    few = catalog_items("shop", ["00003", "nope", "00003", "99999"], settings)
    assert {c: (f.description, f.price) for c, f in few.items()} == {"00003": ("item 3", 3.0)}
    many_codes = [f"{i:05d}" for i in range(0, 40, 2)] + ["99999"]
    assert len(many_codes) > _FIXED_ARITY
    many = catalog_items("shop", many_codes, settings)
    assert sorted(many) == [f"{i:05d}" for i in range(0, 40, 2)]
    assert many["00004"].description == "item 4"


def _read_in_child(db_path: str, cust_id: int, out) -> None:  # type: ignore[no-untyped-def]
    from genpersona.db.engine import get_engine as child_engine

    conn_before = FAST_READER._local.conns[db_path][2]
    rows = FAST_READER.all(child_engine(), _FACTS_SQL, {"customer_id": cust_id})
    out.put((len(rows), FAST_READER._local.conns[db_path][2] is conn_before))


def test_a_forked_child_opens_its_own_connection() -> None:
    import multiprocessing

    _, cust_id = _seed()
    engine = get_engine()
    assert len(FAST_READER.all(engine, _FACTS_SQL, {"customer_id": cust_id})) == 2
    ctx = multiprocessing.get_context("fork")
    out = ctx.Queue()
    child = ctx.Process(target=_read_in_child, args=(str(engine.url.database), cust_id, out))
    child.start()
    rows, reused = out.get(timeout=60)
    child.join(timeout=60)
    assert rows == 2 and reused is False
    # the parent's own connection still works after the child went away
    assert len(FAST_READER.all(engine, _FACTS_SQL, {"customer_id": cust_id})) == 2


def test_context_for_reads_the_same_on_sqlite_and_postgres(backend: str) -> None:  # noqa: F811
    """SQLite takes the fast path, PostgreSQL the Core path: the bundle is the same."""
    import uuid

    from genpersona.context.retrieval import context_for

    slug = f"fr{uuid.uuid4().hex[:8]}"
    _seed(slug=slug)
    bundle = context_for(slug, "c1", "lanterns for winter")
    assert bundle.personalized and bundle.consent.personalization
    assert not bundle.consent.chat_memory
    # the chat fact is left out without chat-memory consent; provenance decoded from JSON
    assert [m.text for m in bundle.memories] == ["Often buys lanterns"]
    assert bundle.memories[0].evidence.event_ids == [3, 4]
    assert bundle.profile is not None and bundle.profile.country == "France"


def test_a_removed_home_is_recreated_for_a_new_engine() -> None:
    import shutil

    settings = get_settings()
    _seed()
    home = settings.home_dir
    dispose_engines()
    shutil.rmtree(home)
    # the settings object still holds the derived URL; the new engine makes the folder again
    assert get_engine(settings).url.database == str(home / "genpersona.db")
    assert FAST_READER.all(get_engine(settings), _FACTS_SQL, {"customer_id": 1}) == []

"""Customer controls: export round-trip, erase (marker found nowhere), reset, consent."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlalchemy import func, select

from genpersona.context.retrieval import clear_context_caches, context_for
from genpersona.customers import erasure
from genpersona.customers.records import add_memory_fact, record_event
from genpersona.customers.rights import erase_customer, export_customer, reset_customer, set_opt_out
from genpersona.data.ingest_online_retail import ingest_online_retail
from genpersona.data.tables import Customer, CustomerProfile, Event, MemoryFact
from genpersona.db.engine import session_scope
from genpersona.errors import ConsentError, CustomerNotFound, InputError
from genpersona.recs.store import clear_recommender_cache, fit_recommender
from genpersona.settings import get_settings
from tests._data_fixtures import memory_vectors, retail_frame, write_parquet  # noqa: F401

MARKER = "zq-marker-7f3a9c51-lilac-teapot"


@pytest.fixture
def shop(tmp_path):
    """Real embedded Chroma and SQLite under GENPERSONA_HOME, fake embedder."""
    clear_context_caches()
    clear_recommender_cache()
    from genpersona.vectors.factory import clear_vector_store_cache

    clear_vector_store_cache()
    ingest_online_retail(
        write_parquet(retail_frame(), tmp_path / "r.parquet"), "shop", fit_recs=fit_recommender
    )
    yield "shop"
    clear_vector_store_cache()
    clear_context_caches()
    clear_recommender_cache()


def _files_containing(root: Path, needle: bytes) -> list[str]:
    hits = []
    for path in root.rglob("*"):
        if path.is_file() and needle in path.read_bytes():
            hits.append(str(path.relative_to(root)))
    return hits


def test_export_round_trips_everything_held(shop):
    add_memory_fact(shop, "10001", f"Told us about {MARKER}", "chat", True)
    data = export_customer(shop, "10001")
    again = json.loads(json.dumps(data))
    assert again == data
    assert data["customer"]["external_id"] == "10001"
    assert data["consent"] == {"personalization": True, "email": True, "chat_memory": True}
    assert len(data["events"]) == 13 and data["profile"]["frequency"] == 5
    assert any(MARKER in f["text"] for f in data["memory_facts"])
    assert all(e["customer_id"] == data["events"][0]["customer_id"] for e in data["events"])


def test_erase_removes_the_marker_everywhere_and_spares_others(shop):
    home = get_settings().home_dir
    add_memory_fact(shop, "10001", f"Said {MARKER} is her favourite", "chat", True)
    record_event(shop, "10001", "chat", payload={"text": f"I love {MARKER}"})
    add_memory_fact(shop, "10002", "Bakes for the village fete", "chat", True)
    other_before = export_customer(shop, "10002")
    assert _files_containing(home, MARKER.encode())  # it really was written

    report = erase_customer(shop, "10001")
    assert report.rows["customers"] == 1 and report.rows["events"] == 14
    assert report.vectors_deleted >= 2 and report.vacuumed

    with pytest.raises(CustomerNotFound):
        export_customer(shop, "10001")
    with pytest.raises(CustomerNotFound):
        context_for(shop, "10001", MARKER)
    assert _files_containing(home, MARKER.encode()) == []
    from genpersona.vectors.factory import get_vector_store

    metas = get_vector_store().query("memory", _any_vector(), k=50)
    assert metas and all("customer_id" not in h.metadata for h in metas)
    other_after = export_customer(shop, "10002")
    for key in ("customer", "consent", "profile", "events", "memory_facts"):
        assert other_after[key] == other_before[key]
    assert context_for(shop, "10002", "fete").personalized


def _any_vector():
    from genpersona.embeddings.factory import get_embedder

    return get_embedder().embed_one("anything")


def test_registered_erasers_run_inside_the_erase(shop):
    seen = []
    erasure.register_eraser(lambda s, ref: seen.append(ref.external_id) or 3, name="test-drafts")
    try:
        report = erase_customer(shop, "10003")
    finally:
        erasure.unregister("test-drafts")
    assert seen == ["10003"] and report.rows["test-drafts"] == 3


def test_reset_forgets_learning_but_keeps_purchases(shop):
    add_memory_fact(shop, "10002", "Prefers pastel colours", "chat", True)
    report = reset_customer(shop, "10002")
    assert report.memory_facts_deleted >= 2 and report.profile_deleted
    with session_scope() as s:
        cid = s.scalar(select(Customer.id).where(Customer.external_id == "10002"))
        assert (
            s.scalar(
                select(func.count()).select_from(MemoryFact).where(MemoryFact.customer_id == cid)
            )
            == 0
        )
        assert s.get(CustomerProfile, cid) is None
        assert (
            s.scalar(select(func.count()).select_from(Event).where(Event.customer_id == cid)) == 10
        )
    bundle = context_for(shop, "10002", "baking")
    assert bundle.memories == [] and bundle.profile.frequency == 0
    assert all(not r.evidence.stock_codes for r in bundle.recommendations)


def test_consent_is_enforced_for_new_memories(shop):
    set_opt_out(shop, "10003")
    with pytest.raises(ConsentError):
        add_memory_fact(shop, "10003", "Likes owls", "chat", True)
    with pytest.raises(InputError):
        add_memory_fact(shop, "10002", "   ", "chat", True)
    with pytest.raises(InputError):
        record_event(shop, "10002", "teleport")


def test_record_purchase_refreshes_profile(shop):
    before = context_for(shop, "10003", "x").profile.frequency
    record_event(
        shop, "10003", "purchase", stock_code="22423", quantity=1, unit_price=12.75, order_id="X1"
    )
    assert context_for(shop, "10003", "x").profile.frequency == before + 1


def test_erase_reaches_drafts_decisions_audit_and_exemplars(shop, tmp_path, monkeypatch):
    """The marker in a reviewed draft (and its exemplar) is gone after erasure too."""
    import random
    import shutil

    guides = tmp_path / "guides"
    guides.mkdir()  # edits are checked against the brand's guide: give 'shop' the demo one
    shutil.copy(get_settings().brand_guides_dir / "giftloft.yaml", guides / "shop.yaml")
    monkeypatch.setenv("GENPERSONA_BRAND_GUIDES_DIR", str(guides))
    get_settings.cache_clear()

    from genpersona.review.queue import edit_and_approve, get_draft, submit_draft
    from genpersona.review.seed import make_draft
    from genpersona.types.content import VariantContent

    home = get_settings().home_dir
    draft = make_draft(
        random.Random(7), brand=shop, kind="subject_line", customer_id="10001",
        violation_rate=0.0, fallback_rate=0.0,
    )  # fmt: skip
    draft.brief = f"about {MARKER}"
    stored = submit_draft(draft)
    edit_and_approve(
        stored.id, 0, VariantContent(subject=f"Your {MARKER} picks are here"), "alice",
        stored.version,
    )  # fmt: skip
    other = submit_draft(make_draft(random.Random(8), brand=shop, customer_id="10002"))
    assert _files_containing(home, MARKER.encode())
    exported = export_customer(shop, "10001")
    assert exported["other"]["review_queue"]["drafts"][0]["id"] == stored.id

    report = erase_customer(shop, "10001")
    assert report.rows["review_queue"] >= 3  # draft, decision, exemplar (+ audit entries)
    assert _files_containing(home, MARKER.encode()) == []
    from genpersona.errors import DraftNotFound

    with pytest.raises(DraftNotFound):
        get_draft(stored.id)
    assert get_draft(other.id).customer_id == "10002"


def test_reimporting_after_erase_does_not_bring_the_customer_back(shop, tmp_path):
    from genpersona.data.tables import ErasedCustomer

    erase_customer(shop, "10001")
    report = ingest_online_retail(tmp_path / "r.parquet", shop, fit_recs=fit_recommender)
    assert report.skipped_erased == 1 and report.new_customers == 0
    with pytest.raises(CustomerNotFound):
        export_customer(shop, "10001")
    with session_scope() as session:
        stored = session.scalars(select(ErasedCustomer.digest)).all()
        assert len(stored) == 1 and "10001" not in stored[0]
    assert export_customer(shop, "10002")["customer"]["external_id"] == "10002"
    # the generic events import honours the suppression list too
    events = tmp_path / "events.jsonl"
    events.write_text(
        json.dumps({"customer_id": "10001", "type": "view", "ts": "2011-10-01T10:00:00"})
        + "\n"
        + json.dumps({"customer_id": "20001", "type": "view", "ts": "2011-10-01T10:00:00"})
        + "\n"
    )
    from genpersona.data.ingest_events import ingest_events

    assert ingest_events(events, shop, fit_recs=fit_recommender).skipped_erased == 1
    with pytest.raises(CustomerNotFound):
        export_customer(shop, "10001")
    # a knowing new sign-up through the API clears the entry
    record_event(shop, "10001", "email_open", create_customer=True)
    assert export_customer(shop, "10001")["customer"]["external_id"] == "10001"
    with session_scope() as session:
        assert session.scalars(select(ErasedCustomer)).all() == []

"""Online-retail ingest on a small UCI-shaped fixture: content, idempotency, bad input."""

from __future__ import annotations

import pandas as pd
import pytest
from sqlalchemy import func, select

from genpersona.data.ingest_online_retail import ingest_online_retail
from genpersona.data.tables import CatalogItem, Customer, CustomerProfile, Event, MemoryFact
from genpersona.db.engine import session_scope
from genpersona.errors import IngestError
from genpersona.recs.store import fit_recommender
from tests._data_fixtures import memory_vectors, retail_frame, write_parquet  # noqa: F401


def _counts() -> dict[str, int]:
    with session_scope() as s:
        return {
            "customers": s.scalar(select(func.count()).select_from(Customer)),
            "events": s.scalar(select(func.count()).select_from(Event)),
            "facts": s.scalar(select(func.count()).select_from(MemoryFact)),
            "items": s.scalar(select(func.count()).select_from(CatalogItem)),
            "profiles": s.scalar(select(func.count()).select_from(CustomerProfile)),
        }


def test_ingest_loads_catalog_customers_events_and_derived_data(tmp_path, memory_vectors):  # noqa: F811
    path = write_parquet(retail_frame(), tmp_path / "retail.parquet")
    report = ingest_online_retail(path, "shop", fit_recs=fit_recommender)
    assert report.customers == 3  # the guest row is not a customer
    assert report.guest_rows == 2
    assert report.events["return"] == 1
    assert report.recommender is not None
    with session_scope() as s:
        items = {i.stock_code: i for i in s.scalars(select(CatalogItem))}
        assert items["71053"].description == "White metal lantern"
        assert items["85123A"].theme == "candles-and-lanterns"
        assert items["22423"].theme == "kitchen-and-baking"
        assert items["22086"].theme == "christmas"
        c = s.scalar(select(Customer).where(Customer.external_id == "10002"))
        assert (c.country, c.locale, c.timezone) == ("France", "fr-FR", "Europe/Paris")
        assert c.consent_personalization and c.consent_email and c.consent_chat_memory
        facts = [
            f.text
            for f in s.scalars(
                select(MemoryFact).join(Customer).where(Customer.external_id == "10001")
            )
        ]
        prof = s.get(
            CustomerProfile, s.scalar(select(Customer.id).where(Customer.external_id == "10001"))
        )
    assert prof.frequency == 5
    assert prof.favourite_themes[0] == "candles-and-lanterns"
    assert prof.typical_order_weekday == "Thursday"
    assert any(t.startswith("Favourite theme: candles and lanterns") for t in facts)
    assert "Orders mostly in November" in facts
    assert any(t.startswith("Usually spends £") for t in facts)
    # vectors: one per fact and per product, no text and no customer id in metadata
    assert memory_vectors.count("memory") == _counts()["facts"]
    meta = memory_vectors.get("memory", [f"mem:{i}" for i in range(1, 200)]).metadatas
    assert meta and all(set(m) == {"brand"} for m in meta)


def test_reingest_is_idempotent_and_keeps_customer_choices(tmp_path, memory_vectors):  # noqa: F811
    from genpersona.customers.rights import set_opt_out

    path = write_parquet(retail_frame(), tmp_path / "retail.parquet")
    ingest_online_retail(path, "shop", fit_recs=fit_recommender)
    before = _counts()
    with session_scope() as s:
        fact_ids = sorted(s.scalars(select(MemoryFact.id)))
    set_opt_out("shop", "10003")
    report = ingest_online_retail(path, "shop", fit_recs=fit_recommender)
    assert report.events_written == 0 and report.new_customers == 0
    assert report.memory_facts_new == 0
    assert _counts() == before
    with session_scope() as s:
        assert sorted(s.scalars(select(MemoryFact.id))) == fact_ids
        c = s.scalar(select(Customer).where(Customer.external_id == "10003"))
        assert c.consent_personalization is False


def test_malformed_file_names_the_row_and_writes_nothing(tmp_path, memory_vectors):  # noqa: F811
    good = write_parquet(retail_frame(), tmp_path / "good.parquet")
    ingest_online_retail(good, "shop", fit_recs=fit_recommender)
    before = _counts()
    frame = retail_frame()
    frame["Quantity"] = frame["Quantity"].astype(object)
    frame.loc[7, "Quantity"] = "six"
    bad = write_parquet(frame.astype({"Quantity": str}), tmp_path / "bad.parquet")
    with pytest.raises(IngestError) as info:
        ingest_online_retail(bad, "shop", fit_recs=fit_recommender)
    assert "row 8" in info.value.message and "Quantity" in info.value.message
    assert info.value.data["row"] == 8
    assert _counts() == before


def test_missing_column_and_unreadable_file(tmp_path, memory_vectors):  # noqa: F811
    frame = retail_frame().drop(columns=["UnitPrice"])
    with pytest.raises(IngestError, match="UnitPrice"):
        ingest_online_retail(
            write_parquet(frame, tmp_path / "x.parquet"), "shop", fit_recs=fit_recommender
        )
    junk = tmp_path / "junk.parquet"
    junk.write_text("not parquet")
    with pytest.raises(IngestError, match="not a readable parquet"):
        ingest_online_retail(junk, "shop", fit_recs=fit_recommender)
    assert _counts()["events"] == 0


def test_failure_mid_transaction_rolls_back(tmp_path, memory_vectors, monkeypatch):  # noqa: F811
    path = write_parquet(retail_frame(), tmp_path / "retail.parquet")
    ingest_online_retail(path, "shop", fit_recs=fit_recommender)
    before = _counts()
    frame = pd.concat(
        [retail_frame(), retail_frame().assign(CustomerID=20001.0, InvoiceNo="600001")]
    )
    bigger = write_parquet(frame, tmp_path / "bigger.parquet")

    def boom(*_a, **_k):
        raise RuntimeError("disk full")

    monkeypatch.setattr("genpersona.data.ingest_online_retail.derive", boom)
    with pytest.raises(RuntimeError):
        ingest_online_retail(bigger, "shop", fit_recs=fit_recommender)
    assert _counts() == before

"""Generic CSV / JSONL events ingest: schema, idempotency, errors naming the line."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import func, select

from genpersona.context.retrieval import clear_context_caches, context_for
from genpersona.data.ingest_events import ingest_events
from genpersona.data.tables import CatalogItem, Customer, Event
from genpersona.db.engine import session_scope
from genpersona.errors import IngestError
from genpersona.recs.store import clear_recommender_cache, fit_recommender
from tests._data_fixtures import memory_vectors  # noqa: F401

CSV = """customer_id,type,ts,stock_code,quantity,unit_price,order_id,country,description,event_id,text
c1,purchase,2024-11-02T09:30:00,SKU-1,2,4.50,o1,United Kingdom,Lavender scented candle,,
c1,purchase,2024-11-02T09:30:00,SKU-2,1,12.00,o1,,Glass lantern,,
c1,purchase,2024-11-20T10:00:00,SKU-1,1,4.50,o2,,,,
c1,purchase,2024-11-27T10:00:00,SKU-3,3,2.00,o3,,Christmas bauble set,,
c2,purchase,2024-06-01T15:00:00,SKU-4,1,30.00,o4,France,Cake stand,,
c2,view,2024-06-02T15:00:00,SKU-1,,,,,,,
c2,chat,2024-06-03T15:00:00,,,,,,,e-chat-1,Do you have gluten free baking tins?
,purchase,2024-06-04T15:00:00,SKU-4,1,30.00,g1,,,,
"""


@pytest.fixture(autouse=True)
def _caches():
    clear_context_caches()
    clear_recommender_cache()
    yield
    clear_context_caches()
    clear_recommender_cache()


def _events() -> int:
    with session_scope() as s:
        return s.scalar(select(func.count()).select_from(Event))


def test_csv_ingest_builds_customers_catalog_and_context(tmp_path, memory_vectors):  # noqa: F811
    path = tmp_path / "events.csv"
    path.write_text(CSV)
    report = ingest_events(path, "mybrand", consent=("personalization",), fit_recs=fit_recommender)
    assert report.rows == 8 and report.customers == 2 and report.guest_rows == 1
    assert report.events == {"purchase": 6, "view": 1, "chat": 1}
    with session_scope() as s:
        items = {i.stock_code: i for i in s.scalars(select(CatalogItem))}
        assert items["SKU-1"].description == "Lavender scented candle"
        assert items["SKU-1"].theme == "candles-and-lanterns"
        c2 = s.scalar(select(Customer).where(Customer.external_id == "c2"))
        assert c2.locale == "fr-FR" and c2.consent_personalization and not c2.consent_email
        chat = s.scalar(select(Event).where(Event.type == "chat"))
        assert chat.payload == {"text": "Do you have gluten free baking tins?"}
    bundle = context_for("mybrand", "c1", "candles")
    assert bundle.personalized and bundle.profile.frequency == 3
    assert "Orders mostly in November" in [
        m.text for m in context_for("mybrand", "c1", "x", k_memories=20).memories
    ]


def test_rerun_is_idempotent_and_new_rows_are_added(tmp_path, memory_vectors):  # noqa: F811
    path = tmp_path / "events.csv"
    path.write_text(CSV)
    ingest_events(path, "mybrand", fit_recs=fit_recommender)
    n = _events()
    again = ingest_events(path, "mybrand", fit_recs=fit_recommender)
    assert again.events_written == 0 and _events() == n
    path.write_text(CSV + "c1,purchase,2024-12-01T10:00:00,SKU-2,1,12.00,o9,,,,\n")
    assert ingest_events(path, "mybrand", fit_recs=fit_recommender).events_written == 1
    assert _events() == n + 1


def test_jsonl_ingest(tmp_path, memory_vectors):  # noqa: F811
    path = tmp_path / "events.jsonl"
    lines = [
        {"customer_id": "u1", "type": "purchase", "ts": "2024-01-01T10:00:00", "stock_code": "A", "quantity": 2, "unit_price": 3.0, "description": "Tea towel"},
        {"customer_id": "u1", "type": "email_open", "ts": "2024-01-02T10:00:00", "text": "winter-campaign"},
    ]  # fmt: skip
    path.write_text("\n".join(json.dumps(x) for x in lines) + "\n")
    report = ingest_events(path, "b2", fit_recs=fit_recommender)
    assert report.events == {"purchase": 1, "email_open": 1}


@pytest.mark.parametrize(
    ("bad_line", "column"),
    [
        ("c3,purchase,not-a-date,SKU-1,1,1.0,,,,,", "ts"),
        ("c3,teleport,2024-01-01,SKU-1,1,1.0,,,,,", "type"),
        ("c3,purchase,2024-01-01,,1,1.0,,,,,", "stock_code"),
        ("c3,purchase,2024-01-01,SKU-1,-2,1.0,,,,,", "quantity"),
        ("c3,purchase,2024-01-01,SKU-1,1,cheap,,,,,", "unit_price"),
    ],
)
def test_bad_line_is_named_and_nothing_is_written(tmp_path, memory_vectors, bad_line, column):  # noqa: F811
    good = tmp_path / "good.csv"
    good.write_text(CSV)
    ingest_events(good, "mybrand", fit_recs=fit_recommender)
    n = _events()
    bad = tmp_path / "bad.csv"
    bad.write_text(CSV + bad_line + "\n")
    with pytest.raises(IngestError) as info:
        ingest_events(bad, "mybrand", fit_recs=fit_recommender)
    assert info.value.data == {**info.value.data, "row": 10, "column": column}
    assert "line 10" in info.value.message
    assert _events() == n


def test_missing_columns_and_bad_json(tmp_path, memory_vectors):  # noqa: F811
    path = tmp_path / "e.csv"
    path.write_text("customer_id,ts\nc1,2024-01-01\n")
    with pytest.raises(IngestError, match="type"):
        ingest_events(path, "mybrand", fit_recs=fit_recommender)
    jl = tmp_path / "e.jsonl"
    jl.write_text('{"customer_id": "a", "type": "view", "ts": "2024-01-01"}\n{broken\n')
    with pytest.raises(IngestError, match="line 2"):
        ingest_events(jl, "mybrand", fit_recs=fit_recommender)

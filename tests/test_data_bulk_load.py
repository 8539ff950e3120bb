"""Bulk event loading (executemany on SQLite, COPY on PostgreSQL) against the old row path.

Each test runs on SQLite and, when ``GENPERSONA_TEST_PG_URL`` names a server, on
a PostgreSQL database created for the test and dropped after it. The loaders
must store byte-identical rows (compared as raw driver values, ids included),
re-runs must add nothing, and a refused write must leave nothing behind.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from genpersona.data import ingest_load
from genpersona.data.ingest_events import ingest_events
from genpersona.data.ingest_online_retail import ingest_online_retail
from genpersona.db.engine import dispose_engines, get_engine
from genpersona.embeddings.fake import FakeEmbedder
from genpersona.errors import IngestError
from genpersona.settings import get_settings
from tests._data_fixtures import memory_vectors, retail_frame, write_parquet  # noqa: F401

PG_ENV = "GENPERSONA_TEST_PG_URL"
TABLES = ("events", "customers", "memory_facts", "catalog_items", "customer_profiles")
EVENTS_CSV = """customer_id,type,ts,stock_code,quantity,unit_price,order_id,country,description,event_id,text
c1,purchase,2024-11-02T09:30:00.123456,SKU-1,2,4.50,o1,United Kingdom,Lavender scented candle,,
c1,purchase,2024-11-02T09:30:00,SKU-2,1,,o1,,Glass lantern,,
c1,purchase,2024-11-02T09:30:00,SKU-2,1,,o1,,Glass lantern,,
c2,view,2024-06-02T15:00:00,SKU-1,,,,,,,
c2,chat,2024-06-03T15:00:00+02:00,,,,,,,e-chat-1,"Tabs\tand ""quotes"" and \\backslashes"
,purchase,2024-06-04T15:00:00,SKU-4,1,30.00,g1,,Cake stand,,
"""


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def database(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> Iterator[object]:
    """Yields a function that points the settings at a new, empty database."""
    server = os.environ.get(PG_ENV) if request.param == "postgres" else None
    if request.param == "postgres" and not server:
        pytest.skip(f"{PG_ENV} is not set: it names a PostgreSQL server for this test")
    created: list[str] = []
    admin = create_engine(server, isolation_level="AUTOCOMMIT") if server else None
    tmp: Path = request.getfixturevalue("tmp_path")

    def fresh() -> str:
        dispose_engines()
        if admin is None:
            url = f"sqlite:///{tmp / f'db-{uuid.uuid4().hex[:8]}.sqlite'}"
        else:
            name = f"gp_bulk_{uuid.uuid4().hex[:12]}"
            with admin.connect() as conn:
                conn.execute(text(f'CREATE DATABASE "{name}"'))
            created.append(name)
            url = make_url(server).set(database=name).render_as_string(hide_password=False)
        monkeypatch.setenv("GENPERSONA_DATABASE_URL", url)
        get_settings.cache_clear()
        return url

    fresh()
    yield fresh
    dispose_engines()
    if admin is not None:
        with admin.connect() as conn:
            for name in created:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def _raw_events() -> list[tuple]:
    """Every stored event as the driver returns it (timestamps/JSON as stored), ids included."""
    with get_engine().connect() as conn:
        cols = ", ".join(("id", *ingest_load.EVENT_COLUMNS))
        return [tuple(r) for r in conn.exec_driver_sql(f"SELECT {cols} FROM events ORDER BY id")]


def _counts() -> dict[str, int]:
    with get_engine().connect() as conn:
        return {t: conn.exec_driver_sql(f"SELECT count(*) FROM {t}").scalar_one() for t in TABLES}


def _ingest_both_ways(database, run) -> tuple[list[tuple], list[tuple]]:  # type: ignore[no-untyped-def]
    out = []
    for loader in ("rows", "bulk"):
        database()
        run(loader)
        out.append(_raw_events())
    return out[0], out[1]


def test_bulk_loader_stores_the_same_rows_as_the_row_loader(database, tmp_path, memory_vectors):  # noqa: F811
    frame = retail_frame()
    frame.loc[3, "UnitPrice"] = 0.0
    path = write_parquet(frame, tmp_path / "retail.parquet")
    old, new = _ingest_both_ways(
        database, lambda loader: ingest_online_retail(path, "shop", loader=loader)
    )
    assert len(new) == len(frame) and new == old
    assert any(r[2] is None for r in new)  # guest rows keep a NULL customer


def test_bulk_loader_matches_for_events_files_with_payloads_and_nulls(
    database,
    tmp_path,
    memory_vectors,  # noqa: F811
):
    path = tmp_path / "events.csv"
    path.write_text(EVENTS_CSV)
    old, new = _ingest_both_ways(database, lambda loader: ingest_events(path, "b", loader=loader))
    assert len(new) == 6 and new == old
    chat = [r for r in new if r[3] == "chat"]
    assert chat and "backslashes" in str(chat[0][10])
    assert any(r[7] is None for r in new)  # an empty unit price stays NULL


def test_rerun_and_grown_file_add_only_new_events(database, tmp_path, memory_vectors):  # noqa: F811
    path = write_parquet(retail_frame(), tmp_path / "retail.parquet")
    first = ingest_online_retail(path, "shop")
    before, stored = _counts(), _raw_events()
    again = ingest_online_retail(path, "shop")
    assert again.events_written == 0 and _counts() == before and _raw_events() == stored
    extra = retail_frame().assign(CustomerID=20001.0, InvoiceNo="600001")
    grown = write_parquet(pd.concat([retail_frame(), extra]), tmp_path / "grown.parquet")
    report = ingest_online_retail(grown, "shop")
    assert report.events_written == len(extra)
    assert _counts()["events"] == first.events_written + len(extra)
    assert _raw_events()[: len(stored)] == stored  # stored events keep their ids


def test_a_refused_chunk_rolls_back_every_chunk_before_it(
    database,
    tmp_path,
    memory_vectors,  # noqa: F811
    monkeypatch,
):
    path = write_parquet(retail_frame(), tmp_path / "retail.parquet")
    ingest_online_retail(path, "shop")
    before = _counts()
    real_diff = ingest_load.diff_events

    def duplicate_last(session, brand_id, source, frame):  # type: ignore[no-untyped-def]
        fresh, vanished = real_diff(session, brand_id, source, frame)
        return pd.concat([fresh, fresh.iloc[:1]]), vanished  # the DB's unique key refuses it

    monkeypatch.setattr("genpersona.data.ingest_online_retail.diff_events", duplicate_last)
    monkeypatch.setattr(ingest_load, "CHUNK", 5)  # several chunks are written before the bad one
    extra = retail_frame().assign(CustomerID=20001.0, InvoiceNo="600001")
    grown = write_parquet(pd.concat([retail_frame(), extra]), tmp_path / "grown.parquet")
    with pytest.raises(IngestError) as info:
        ingest_online_retail(grown, "shop")
    assert "nothing was written" in info.value.fix
    assert info.value.data["first_row"] > 1
    assert _counts() == before


def test_overlong_values_are_refused_before_writing(database, tmp_path, memory_vectors):  # noqa: F811
    frame = retail_frame()
    frame.loc[4, "StockCode"] = "X" * 40
    with pytest.raises(IngestError) as info:
        ingest_online_retail(write_parquet(frame, tmp_path / "long.parquet"), "shop")
    assert info.value.data["row"] == 5 and info.value.data["column"] == "StockCode"
    assert "longer than 32" in info.value.message
    csv = tmp_path / "long.csv"
    csv.write_text(EVENTS_CSV.replace("c2,view", "c" + "2" * 200 + ",view"))
    with pytest.raises(IngestError) as info:
        ingest_events(csv, "b")
    assert info.value.data["row"] == 5 and info.value.data["column"] == "customer_id"
    assert _counts()["events"] == 0 and _counts()["customers"] == 0


def test_each_distinct_fact_text_is_embedded_once(tmp_path, memory_vectors, monkeypatch):  # noqa: F811
    seen: list[str] = []

    class Counting(FakeEmbedder):
        def embed(self, texts: list[str]) -> np.ndarray:
            seen.extend(texts)
            return super().embed(texts)

    monkeypatch.setattr(
        "genpersona.data.ingest_online_retail.get_embedder", lambda settings=None: Counting()
    )
    frame = pd.concat(  # two customers with the same purchases share most fact texts
        [retail_frame(), retail_frame().assign(CustomerID=10001.0 + 50, InvoiceNo="700001")]
    )
    report = ingest_online_retail(write_parquet(frame, tmp_path / "twins.parquet"), "shop")
    assert report.memory_facts > 0
    assert len(seen) == len(set(seen))
    with get_engine().connect() as conn:
        texts = [r[0] for r in conn.exec_driver_sql("SELECT text FROM memory_facts")]
    assert len(set(texts)) < len(texts)  # the test has repeated texts to deduplicate
    assert set(texts) <= set(seen)

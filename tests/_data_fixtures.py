"""Small UCI-shaped data sets built in the tests (helpers for tests/test_data_*.py etc.)."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path

import pandas as pd
import pytest

from genpersona.vectors import factory as vector_factory
from genpersona.vectors.memory import InMemoryVectorStore

ITEMS = {
    "85123A": ("WHITE HANGING HEART T-LIGHT HOLDER", 2.55),
    "71053": ("WHITE METAL LANTERN ", 3.39),
    "22423": ("REGENCY CAKESTAND 3 TIER", 12.75),
    "22086": ("PAPER CHAIN KIT 50'S CHRISTMAS ", 2.95),
    "21212": ("PACK OF 72 RETROSPOT CAKE CASES", 0.55),
    "84879": ("ASSORTED COLOUR BIRD ORNAMENT", 1.69),
    "22720": ("SET OF 3 CAKE TINS PANTRY DESIGN ", 4.95),
    "47566": ("PARTY BUNTING", 4.65),
}


def retail_frame(seed_day: datetime = datetime(2011, 11, 3, 9, 30)) -> pd.DataFrame:
    """Three customers, a guest and a cancellation; customer 10001 buys candles in November."""
    rows = []
    inv = 500000

    def order(
        cust: float | None,
        day: datetime,
        lines: list[tuple[str, int]],
        country: str,
        cancel: bool = False,
    ) -> None:
        nonlocal inv
        inv += 1
        for code, qty in lines:
            desc, price = ITEMS[code]
            rows.append(
                {
                    "InvoiceNo": ("C" if cancel else "") + str(inv),
                    "StockCode": code,
                    "Description": desc,
                    "Quantity": -qty if cancel else qty,
                    "InvoiceDate": day,
                    "UnitPrice": price,
                    "CustomerID": cust,
                    "Country": country,
                }
            )

    for week in range(4):  # customer 10001: candle lover, Thursdays in November
        order(
            10001.0,
            seed_day + timedelta(days=7 * week),
            [("85123A", 6), ("71053", 4), ("22086", 2)],
            "United Kingdom",
        )
    order(10001.0, seed_day - timedelta(days=200), [("85123A", 6)], "United Kingdom")
    for month in range(3):  # customer 10002: baker in France
        order(
            10002.0,
            datetime(2011, 3 + 2 * month, 10, 14, 0),
            [("22423", 2), ("21212", 24), ("22720", 1)],
            "France",
        )
    order(10002.0, datetime(2011, 7, 12, 15, 0), [("21212", 24)], "France", cancel=True)
    order(
        10003.0,
        datetime(2011, 10, 1, 11, 0),
        [("47566", 3), ("84879", 12), ("85123A", 1)],
        "Germany",
    )
    order(None, datetime(2011, 10, 2, 12, 0), [("84879", 24), ("22086", 1)], "United Kingdom")
    order(10003.0, datetime(2011, 10, 5, 11, 0), [("22423", 1), ("71053", 2)], "Germany")
    frame = pd.DataFrame(rows)
    frame["InvoiceDate"] = pd.to_datetime(frame["InvoiceDate"])
    return frame


def write_parquet(frame: pd.DataFrame, path: Path) -> Path:
    frame.to_parquet(path, index=False)
    return path


@pytest.fixture
def memory_vectors(monkeypatch: pytest.MonkeyPatch) -> InMemoryVectorStore:
    """Route get_vector_store() to an in-memory store for this test."""
    store = InMemoryVectorStore()
    monkeypatch.setattr(vector_factory, "get_vector_store", lambda settings=None: store)
    for module in (
        "genpersona.data.ingest_online_retail",
        "genpersona.data.ingest_events",
        "genpersona.context.retrieval",
        "genpersona.customers.records",
        "genpersona.customers.rights",
    ):
        monkeypatch.setattr(f"{module}.get_vector_store", lambda settings=None: store)
    return store


@pytest.fixture
def shop(tmp_path: Path, memory_vectors: InMemoryVectorStore):  # type: ignore[no-untyped-def]
    """Brand "shop" ingested from ``retail_frame`` (in-memory vectors), caches cleared around."""
    from genpersona.context.retrieval import clear_context_caches
    from genpersona.data.ingest_online_retail import ingest_online_retail
    from genpersona.recs.store import clear_recommender_cache, fit_recommender

    clear_context_caches()
    clear_recommender_cache()
    ingest_online_retail(
        write_parquet(retail_frame(), tmp_path / "r.parquet"), "shop", fit_recs=fit_recommender
    )
    yield "shop"
    clear_context_caches()
    clear_recommender_cache()

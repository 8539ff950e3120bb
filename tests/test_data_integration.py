"""Integration: a slice of the real UCI parquet through ingest, context_for and erase.

Real SQLite and embedded Chroma under GENPERSONA_HOME; the fake embedder keeps
it offline and quick (the real MiniLM path is measured by bench/ingest.py).
Skipped with a reason when ../shared/data is absent.
"""

from __future__ import annotations

import pandas as pd
import pytest

from genpersona.context.retrieval import clear_context_caches, context_for
from genpersona.customers.rights import erase_customer, export_customer
from genpersona.data.ingest_online_retail import ingest_online_retail
from genpersona.errors import CustomerNotFound
from genpersona.recs.store import clear_recommender_cache, fit_recommender
from genpersona.vectors.factory import clear_vector_store_cache


@pytest.mark.slow
def test_real_slice_end_to_end(shared_data, tmp_path):
    clear_vector_store_cache()
    clear_context_caches()
    clear_recommender_cache()
    raw = pd.read_parquet(shared_data / "online_retail.parquet").iloc[:40_000]
    path = tmp_path / "slice.parquet"
    raw.to_parquet(path, index=False)
    report = ingest_online_retail(path, "giftloft", fit_recs=fit_recommender)
    n_customers = raw["CustomerID"].dropna().nunique()
    assert report.customers == n_customers
    assert report.guest_rows == int(raw["CustomerID"].isna().sum())
    assert report.memory_facts > n_customers  # several facts per customer
    assert report.themes["keyword"] > 0.7 * report.products

    bundle = context_for("giftloft", "17850", "Christmas lights and lanterns")
    assert bundle.personalized and bundle.profile.country == "United Kingdom"
    assert bundle.memories and bundle.recommendations
    texts = " ".join(m.text for m in bundle.memories)
    assert "candles and lanterns" in texts or "home decor" in texts

    again = ingest_online_retail(path, "giftloft", fit_recs=fit_recommender)
    assert again.events_written == 0 and again.memory_facts_new == 0

    assert export_customer("giftloft", "17850")["events"]
    erase_customer("giftloft", "17850")
    with pytest.raises(CustomerNotFound):
        context_for("giftloft", "17850", "x")
    clear_vector_store_cache()

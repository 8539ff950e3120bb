"""Recommendations precomputed at fit time: identical to the live answer, or not served."""

# ruff: noqa: F811  (the shared fixtures imported from _data_fixtures are used as arguments)
from __future__ import annotations

import json

import numpy as np

from genpersona.context.retrieval import context_for
from genpersona.data.ingest_online_retail import ingest_online_retail
from genpersona.recs.serving import SERVED_K, load_served, served_path
from genpersona.recs.store import (
    clear_recommender_cache,
    fit_recommender,
    get_recommender,
    recommender_path,
)
from genpersona.settings import get_settings
from tests._data_fixtures import memory_vectors, retail_frame, shop, write_parquet  # noqa: F401


def test_served_answers_equal_the_live_model_for_every_customer(shop):
    loaded = get_recommender(shop)
    assert loaded is not None and loaded.served is not None
    customers = loaded.model.history.customer_ids.astype(str).tolist()
    assert customers
    for cid in customers:
        own = str(loaded.served.countries[loaded.served._row[cid]])
        for k in (1, 6, SERVED_K):
            live = loaded.model.recommended_items(cid, k)
            for country in (None, own):
                assert loaded.served.lookup(loaded.model, cid, k, country) == live


def test_requests_the_table_cannot_answer_are_computed_live(shop):
    loaded = get_recommender(shop)
    cid = loaded.model.history.customer_ids.astype(str)[0]
    assert loaded.served.lookup(loaded.model, cid, SERVED_K + 1, None) is None
    assert loaded.served.lookup(loaded.model, cid, 6, "Atlantis") is None
    assert loaded.served.lookup(loaded.model, "no-such-customer", 6, None) is None
    bundle = context_for(shop, cid, "gifts", k_items=SERVED_K + 2)
    assert [r.stock_code for r in bundle.recommendations] == [
        r.stock_code for r in loaded.model.recommended_items(cid, SERVED_K + 2)
    ]


def test_a_table_from_another_fit_is_never_served(shop):
    path = recommender_path(shop)
    meta = json.loads(path.with_suffix(".json").read_text())
    assert load_served(served_path(path), meta["token"]) is not None
    assert load_served(served_path(path), "another-fit") is None
    meta["token"] = "another-fit"
    path.with_suffix(".json").write_text(json.dumps(meta))
    clear_recommender_cache()
    loaded = get_recommender(shop)
    assert loaded is not None and loaded.served is None
    cid = loaded.model.history.customer_ids.astype(str)[0]
    assert context_for(shop, cid, "gifts").recommendations  # still answered, live


def test_precompute_can_be_turned_off(tmp_path, memory_vectors, monkeypatch):  # noqa: F811
    monkeypatch.setenv("GENPERSONA_RECS_PRECOMPUTE", "false")
    get_settings.cache_clear()
    clear_recommender_cache()
    ingest_online_retail(
        write_parquet(retail_frame(), tmp_path / "r.parquet"), "shop", fit_recs=fit_recommender
    )
    assert not served_path(recommender_path("shop")).exists()
    loaded = get_recommender("shop")
    assert loaded is not None and loaded.served is None
    clear_recommender_cache()


def test_table_holds_only_ids_and_numbers(shop):
    with np.load(served_path(recommender_path(shop)), allow_pickle=False) as f:
        assert set(f.files) == {
            "token", "customer_ids", "countries", "items", "scores", "reasons", "evidence",
        }  # fmt: skip
        assert f["items"].dtype == np.int32 and f["evidence"].dtype == np.int32

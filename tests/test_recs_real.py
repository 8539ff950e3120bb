"""The recommender on a slice of the real UCI Online Retail data (skips if the data is absent).

Fit on purchases before 2011-06-01, score the next month for a sample of
customers: the blend must beat plain popularity, and its explanations must be
the customer's own purchases.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

import pandas as pd
import pytest

from evals.recs.evaluate import popularity_fn, recommender_fn, score
from evals.recs.split import make_split
from genpersona.data.catalog import is_uci_product_code
from genpersona.embeddings.fake import FakeEmbedder
from genpersona.recs.recommender import Recommender
from genpersona.recs.retail import load_online_retail

pytestmark = pytest.mark.slow

NON_PRODUCTS = {
    "POST",
    "DOT",
    "M",
    "BANK CHARGES",
    "C2",
    "AMAZONFEE",
    "PADS",
    "D",
    "CRUK",
    "S",
    "B",
}


@lru_cache(maxsize=1)
def _load(path: Path) -> tuple[pd.DataFrame, pd.DataFrame]:
    purchases, items = load_online_retail(path)
    return purchases[purchases["ts"] < "2011-07-01"], items


@pytest.fixture
def retail(shared_data: Path) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Purchases before 2011-07-01 and the cleaned catalog (parsed once per session)."""
    return _load(shared_data / "online_retail.parquet")


def test_cleaning_keeps_products_only(retail) -> None:
    purchases, items = retail
    assert not NON_PRODUCTS & set(items["stock_code"])
    assert items["stock_code"].map(is_uci_product_code).all()
    assert (items["description"] != "").mean() > 0.99
    assert purchases["quantity"].gt(0).all()


def test_blend_beats_popularity_on_the_next_month(retail) -> None:
    purchases, items = retail
    split = make_split(purchases, "2011-06-01", "2011-07-01", name="slice", limit=300, seed=1)
    vectors = FakeEmbedder().embed(items["description"].str.lower().tolist())
    rec = Recommender.fit(split.train, items, vectors, now=split.cutoff)
    blend = score("blend", recommender_fn(rec, split), split, "new")
    popular = score("popularity", popularity_fn(split), split, "new")
    assert blend.customers == popular.customers > 100
    assert blend.hr > popular.hr


def test_real_recommendations_are_explained_by_own_purchases(retail) -> None:
    purchases, items = retail
    train = purchases[purchases["ts"] < "2011-06-01"]
    rec = Recommender.fit(train, items, now=pd.Timestamp("2011-06-01"))
    customer = train["customer_id"].dropna().value_counts().index[0]
    owned = set(train.loc[train["customer_id"] == customer, "stock_code"])
    recent = set(
        train.loc[(train["customer_id"] == customer) & (train["ts"] >= "2011-05-02"), "stock_code"]
    )
    recs = rec.recommend(customer, 10)
    assert len(recs) == 10
    assert not recent & {r.stock_code for r in recs}
    for r in recs:
        assert set(r.evidence_stock_codes) <= owned
        assert r.stock_code not in r.evidence_stock_codes
        if r.reason in {"co_purchase", "blend", "content"}:
            assert r.evidence_stock_codes
    # the classic partner: people who buy the red retrospot jumbo bag buy other jumbo bags
    bag = rec._code_index["85099B"]
    lo = rec.neighbours.indptr[bag]
    partners = rec.item_descriptions[rec.neighbours.indices[lo : lo + 5]]
    assert any("BAG" in d for d in partners)

"""The optional second stage (``genpersona.recs.rerank``) on small deterministic fixtures."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.ensemble import HistGradientBoostingClassifier

from genpersona.recs.models import RecParams
from genpersona.recs.recommender import Recommender
from genpersona.recs.rerank import FEATURES, TreeEnsemble

NOW = datetime(2011, 9, 1)
N_PAIRS = 12


def test_tree_ensemble_matches_sklearn_scores() -> None:
    rng = np.random.default_rng(0)
    x = rng.normal(size=(600, 5)).astype(np.float32)
    y = (x[:, 0] + x[:, 1] * x[:, 2] + rng.normal(scale=0.3, size=600)) > 0
    model = HistGradientBoostingClassifier(
        max_iter=15, max_leaf_nodes=7, early_stopping=False, random_state=0
    ).fit(x, y)
    trees = TreeEnsemble.from_sklearn(model)
    assert len(trees.roots) == 15
    np.testing.assert_allclose(trees.predict(x), model.decision_function(x), rtol=1e-6, atol=1e-6)
    # Rows sitting exactly on a split threshold must go the same way as in sklearn.
    on_edge = x.copy()
    used = trees.threshold < np.inf
    on_edge[:, trees.feature[used][0]] = trees.threshold[used][0]
    np.testing.assert_allclose(
        trees.predict(on_edge), model.decision_function(on_edge), rtol=1e-6, atol=1e-6
    )
    assert trees.predict(np.zeros((0, 5), np.float32)).shape == (0,)


def test_tree_ensemble_round_trips_through_arrays() -> None:
    rng = np.random.default_rng(1)
    x = rng.normal(size=(200, 3)).astype(np.float32)
    model = HistGradientBoostingClassifier(max_iter=5, early_stopping=False, random_state=0)
    trees = TreeEnsemble.from_sklearn(model.fit(x, x[:, 0] > 0.2))
    again = TreeEnsemble.from_arrays(trees.to_arrays("rr"), "rr")
    assert again is not None
    np.testing.assert_array_equal(again.predict(x), trees.predict(x))
    assert TreeEnsemble.from_arrays({}, "rr") is None


def _shop() -> tuple[pd.DataFrame, pd.DataFrame]:
    """Pairs (A_i, B_i): whoever buys A_i buys B_i about a month later; plus filler items.

    Deterministic (seeded): 400 customers over eight months, so the time-shifted training
    windows before NOW hold a few hundred first purchases to learn from.
    """
    rng = np.random.default_rng(7)
    codes = [f"A{i:02d}" for i in range(N_PAIRS)] + [f"B{i:02d}" for i in range(N_PAIRS)]
    codes += [f"F{i:02d}" for i in range(10)]
    items = pd.DataFrame(
        {
            "stock_code": codes,
            "description": [f"ITEM {c}" for c in codes],
            "price": np.round(rng.uniform(0.5, 10, len(codes)), 2),
            "theme": None,
        }
    )
    start = pd.Timestamp("2011-01-03")
    rows = []
    for c in range(400):
        cid = f"c{c:03d}"
        day = int(rng.integers(0, 235))
        for pair in rng.choice(N_PAIRS, size=2, replace=False):
            first = start + pd.Timedelta(days=day, hours=10)
            rows.append((cid, f"A{pair:02d}", first))
            rows.append((cid, f"B{pair:02d}", first + pd.Timedelta(days=int(rng.integers(20, 40)))))
        rows.append((cid, f"F{int(rng.integers(0, 10)):02d}", start + pd.Timedelta(days=day)))
    purchases = pd.DataFrame(rows, columns=["customer_id", "stock_code", "ts"])
    purchases["quantity"] = 1
    purchases["country"] = "United Kingdom"
    return purchases, items


SMALL = {
    "rerank": True,
    "rerank_trees": 20,
    "rerank_leaves": 7,
    "rerank_label_days": 30,
    "rerank_window_step_days": 15,
    "rerank_windows": 2,
    "rerank_min_positives": 20,
    "rerank_candidates": 15,
    "ease_lambda": 5.0,
    "active_days": 365,
}


def _fit(**overrides: object) -> Recommender:
    purchases, items = _shop()
    params = RecParams(**{**SMALL, **overrides})
    return Recommender.fit(purchases, items, None, now=NOW, params=params)


def _buyer_of_a_only(rec: Recommender) -> str:
    """A customer whose last A item's partner B is still to come (bought A, not yet B)."""
    for cid in rec.history.customer_ids.tolist():
        owned = {rec.item_codes[i] for i in rec.history.slice(rec.history.row_of(cid))[0]}
        waiting = [a for a in owned if a.startswith("A") and "B" + a[1:] not in owned]
        if waiting:
            return cid
    raise AssertionError("fixture has no customer waiting for a B item")


def test_reranker_is_trained_and_serves_valid_recommendations() -> None:
    rec = _fit()
    assert rec.ranker is not None
    assert rec.item_stats is not None and rec.item_stats.shape[0] == len(rec.item_codes)
    cid = _buyer_of_a_only(rec)
    owned, _, last_day = rec.history.slice(rec.history.row_of(cid))
    recs = rec.recommend(cid, k=5, exclude_recent_days=0)
    assert len(recs) == 5
    assert len({r.stock_code for r in recs}) == 5
    assert all(0.0 < r.score < 1.0 for r in recs)  # the ranker's probability
    owned_codes = {rec.item_codes[i] for i in owned}
    for r in recs:
        assert set(r.evidence_stock_codes) <= owned_codes
        assert r.stock_code not in r.evidence_stock_codes
    # The exclusion rules still hold with the ranker on.
    blocked = {r.stock_code for r in recs[:2]}
    again = rec.recommend(cid, k=5, exclude_recent_days=0, exclude=blocked)
    assert not blocked & {r.stock_code for r in again}
    waiting = [c for c in owned_codes if c.startswith("A") and "B" + c[1:] not in owned_codes]
    assert any(r.stock_code == "B" + waiting[0][1:] for r in recs)


def test_reranker_survives_save_and_load(tmp_path: Path) -> None:
    rec = _fit()
    path = tmp_path / "recs.npz"
    rec.save(path)
    loaded = Recommender.load(path)
    assert loaded.ranker is not None and loaded.params.rerank
    for cid in rec.history.customer_ids[:20].tolist():
        assert [r.model_dump() for r in loaded.recommend(cid, k=6)] == [
            r.model_dump() for r in rec.recommend(cid, k=6)
        ]


def test_rerank_off_serves_the_plain_blend() -> None:
    rec = _fit()
    blend = _fit(rerank=False)
    assert blend.ranker is None and blend.item_stats is None
    off = rec.with_params(rerank=False)
    for cid in rec.history.customer_ids[:20].tolist():
        assert [r.model_dump() for r in off.recommend(cid, k=6)] == [
            r.model_dump() for r in blend.recommend(cid, k=6)
        ]


def test_too_little_data_leaves_no_ranker_and_still_recommends() -> None:
    rec = _fit(rerank_min_positives=100_000)
    assert rec.ranker is None
    cid = rec.history.customer_ids[0]
    assert len(rec.recommend(cid, k=4)) == 4


def test_default_params_train_no_ranker() -> None:
    assert RecParams().rerank is False
    purchases, items = _shop()
    assert Recommender.fit(purchases, items, None, now=NOW).ranker is None


def test_feature_rows_have_one_column_per_feature_name() -> None:
    from genpersona.recs.rerank import candidate_features

    rec = _fit()
    row = 0
    personal = rec._personal(row, rec._now_day, None, features=True)
    cand = candidate_features(rec, personal, ~rec.popularity.active, rec._now_day, 9, 10)
    assert cand.features.shape == (len(cand.items), len(FEATURES))
    assert np.isfinite(cand.features).all()
    assert (np.diff(personal.blend[cand.items]) <= 0).all()  # candidates in blend order

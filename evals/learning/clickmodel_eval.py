"""Click model pairwise accuracy on Upworthy: trained on earlier weeks, tested on later ones.

A pair is two packages of one test with different headlines; the truth is which
had the higher observed CTR. "Significant" pairs are those whose two-proportion
z-test has |z| > 1.96. Baselines in the same run: "the longer headline wins" and
a bag-of-words logistic model trained on the same training pairs.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from genpersona.clickmodel.embed_cache import EmbeddingCache, embedder_version
from genpersona.clickmodel.features import featurize
from genpersona.clickmodel.model import ClickModel, relative_targets, within_group

SCORER_VERSION = "pairwise-v1"
ALPHAS = (5.0, 10.0, 20.0, 30.0, 50.0, 100.0, 300.0)


@dataclass
class Pairs:
    i: np.ndarray
    j: np.ndarray
    a_wins: np.ndarray
    significant: np.ndarray


def make_pairs(d: pd.DataFrame) -> Pairs:
    rows_i, rows_j = [], []
    for _, g in d.groupby("clickability_test_id", sort=False):
        idx = g.index.to_numpy()
        heads = g.headline.to_numpy()
        for x in range(len(idx)):
            for y in range(x + 1, len(idx)):
                if heads[x] != heads[y]:
                    rows_i.append(idx[x])
                    rows_j.append(idx[y])
    i, j = np.array(rows_i), np.array(rows_j)
    n, c = d.impressions.to_numpy(float), d.clicks.to_numpy(float)
    pi, pj = c[i] / n[i], c[j] / n[j]
    pooled = (c[i] + c[j]) / (n[i] + n[j])
    se = np.sqrt(np.maximum(pooled * (1 - pooled) * (1 / n[i] + 1 / n[j]), 1e-12))
    keep = pi != pj
    return Pairs(i[keep], j[keep], (pi > pj)[keep], (np.abs(pi - pj) / se > 1.96)[keep])


def accuracy(score: np.ndarray, pairs: Pairs) -> tuple[float, float]:
    """(significant pairs, all pairs); ties count half."""
    diff = score[pairs.i] - score[pairs.j]
    right = np.where(diff == 0, 0.5, (diff > 0) == pairs.a_wins)
    return float(right[pairs.significant].mean()), float(right.mean())


def fit_click_model(d: pd.DataFrame, x: np.ndarray, alpha: float, embedder: str) -> ClickModel:
    target, weight = relative_targets(d.impressions, d.clicks, d.clickability_test_id)
    base = float(d.clicks.sum() / d.impressions.sum())
    x = within_group(x, d.clickability_test_id.to_numpy(), weight)
    return ClickModel.fit(
        x, target, weight, alpha=alpha, base_rate=base, embedder=embedder, source="upworthy"
    )


def tune_alpha(d: pd.DataFrame, x: np.ndarray, embedder: str) -> float:
    """Choose ridge alpha on the last quarter of the *training* weeks."""
    cut = np.quantile(d.test_week, 0.75)
    fit_rows = (d.test_week < cut).to_numpy()
    val = d[~fit_rows].reset_index(drop=True)
    pairs = make_pairs(val)
    best, best_acc = ALPHAS[0], -1.0
    for alpha in ALPHAS:
        m = fit_click_model(d[fit_rows], x[fit_rows], alpha, embedder)
        acc = accuracy(m.score(x[~fit_rows]), pairs)[1]
        if acc > best_acc:
            best, best_acc = alpha, acc
    return best


def bow_scores(train: pd.DataFrame, test: pd.DataFrame) -> np.ndarray:
    """Bag-of-words logistic regression on pair differences (a wins vs b wins)."""
    from sklearn.feature_extraction.text import CountVectorizer
    from sklearn.linear_model import LogisticRegression

    vec = CountVectorizer(min_df=3, binary=True)
    xtr = vec.fit_transform(train.headline)
    pairs = make_pairs(train)
    diff = xtr[pairs.i] - xtr[pairs.j]
    y = pairs.a_wins.astype(int)
    clf = LogisticRegression(C=0.3, max_iter=2000, fit_intercept=False)
    clf.fit(diff, y)
    return np.asarray(vec.transform(test.headline) @ clf.coef_[0]).ravel()


def run(d: pd.DataFrame, split_week: int, cache: EmbeddingCache) -> dict[str, dict[str, float]]:
    train = d[d.test_week < split_week].reset_index(drop=True)
    test = d[d.test_week >= split_week].reset_index(drop=True)
    emb_name = embedder_version(cache.embedder)
    x_train = featurize(train.headline.tolist(), cache)
    x_test = featurize(test.headline.tolist(), cache)
    alpha = tune_alpha(train, x_train, emb_name)
    model = fit_click_model(train, x_train, alpha, emb_name)
    pairs = make_pairs(test)
    out: dict[str, dict[str, float]] = {}
    for name, score in (
        ("click_model", model.score(x_test)),
        ("longer_wins", test.headline.str.len().to_numpy(float)),
        ("bag_of_words_logistic", bow_scores(train, test)),
    ):
        sig, allp = accuracy(score, pairs)
        out[name] = {"significant_pairs": sig, "all_pairs": allp}
    out["_info"] = {
        "alpha": alpha,
        "n_pairs": float(len(pairs.i)),
        "n_significant": float(pairs.significant.sum()),
    }
    return out

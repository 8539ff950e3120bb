"""Second stage: re-rank the blend's candidates with a learned tree ensemble.

The blend (co-purchase + popularity + new arrivals) proposes a few hundred
candidates per customer; a gradient-boosted model then orders them using
features the linear blend cannot combine: how recent and how fast-growing an
item's sales are, its age, its price against the customer's usual price band,
how many of the customer's items point at it, how active the customer is...

The model is trained at fit time on the fitted data itself, shifted in time:
the tables are refitted as of ``now - label_days`` and the labels are what each
customer went on to buy in the last ``label_days`` before ``now``. So the same
recipe serves validation, test and the product, and never looks past ``now``.

Features are computed per request by ``candidate_features`` (the same function
builds the training rows, so training and serving cannot drift apart), and the
trees are stored as flat arrays (``TreeEnsemble``) evaluated with numpy, which
keeps the saved model a plain ``.npz`` and the request in the low milliseconds.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

import numpy as np
import pandas as pd

from genpersona.recs.interactions import SECONDS_PER_DAY, History
from genpersona.recs.models import RecParams
from genpersona.recs.popularity import PopularityTables


class FirstStage(Protocol):
    """What the re-ranker reads of a fitted ``Recommender`` (which imports this module)."""

    item_prices: np.ndarray
    item_stats: np.ndarray | None
    history: History
    popularity: PopularityTables

    def _personal(
        self, row: int, when_day: float, country: str | None, *, features: bool = False
    ) -> Personal: ...


#: ``Recommender.fit``, passed in by the recommender while it fits
FirstStageFit = Callable[..., FirstStage]

#: Columns of ``ItemStats.values`` (per item, computed at fit time).
ITEM_FEATURES = (
    "log_buyers_all",
    "log_buyers_7d",
    "log_buyers_28d",
    "log_buyers_prev_28d",
    "growth_28d",
    "age_days",
    "days_since_last_sale",
    "repeat_rate",
    "log_price",
    "log_buyers_new_28d",
)

#: Columns of the per-candidate feature matrix, in order.
FEATURES = (
    "blend",
    "blend_rank",
    "co_purchase",
    "co_purchase_raw",
    "co_purchase_unweighted",
    "co_purchase_hits",
    "popular_country",
    "popular_global",
    "new_arrival",
    "season",
    *ITEM_FEATURES,
    "cust_log_items",
    "cust_days_since_last",
    "cust_log_purchase_days",
    "cust_log_price",
    "price_gap",
    "owned",
    "owned_n_days",
    "owned_days_since",
)

NEVER = 9999.0  # "days since" for something that never happened


def _log_price(prices: np.ndarray) -> np.ndarray:
    p = np.where(np.isfinite(prices) & (prices > 0), prices, np.nanmedian(prices))
    return np.log(np.maximum(p, 0.01)).astype(np.float32)


def item_stats(
    counted: pd.DataFrame, sold: pd.DataFrame, prices: np.ndarray, now_day: float
) -> np.ndarray:
    """(n_items, len(ITEM_FEATURES)) float32 from purchases up to ``now_day``.

    ``counted`` are the buyers' purchases (customers only), ``sold`` all sales
    (launch and last-sale dates).
    """
    n_items = len(prices)
    out = np.zeros((n_items, len(ITEM_FEATURES)), np.float32)
    known = counted[counted["customer_id"].notna() & (counted["day"] <= now_day + 1e-9)]
    pairs = known[["customer_id", "item", "day"]]

    def buyers(since: float, until: float = np.inf) -> np.ndarray:
        part = pairs[(pairs["day"] >= now_day - since) & (pairs["day"] < now_day - until + 1e-9)]
        part = part.drop_duplicates(["customer_id", "item"])
        return np.bincount(part["item"].to_numpy(), minlength=n_items).astype(np.float64)

    first_buy = pairs.groupby(["customer_id", "item"])["day"].min().reset_index()
    new28 = first_buy[first_buy["day"] >= now_day - 28]
    b_all = buyers(np.inf, -np.inf)
    b7, b28 = buyers(7, -np.inf), buyers(28, -np.inf)
    prev28 = buyers(56, 28)
    upto = sold[sold["day"] <= now_day + 1e-9]
    first = np.full(n_items, -NEVER)
    last = np.full(n_items, -NEVER)
    g = upto.groupby("item")["day"]
    first_sale, last_sale = g.min(), g.max()
    first[first_sale.index.to_numpy()] = first_sale.to_numpy()
    last[last_sale.index.to_numpy()] = last_sale.to_numpy()
    days = pairs.assign(d=np.floor(pairs["day"])).drop_duplicates(["customer_id", "item", "d"])
    per_pair = days.groupby(["customer_id", "item"]).size().reset_index(name="n")
    repeat = per_pair[per_pair["n"] > 1].groupby("item").size()
    rep = np.zeros(n_items)
    rep[repeat.index.to_numpy()] = repeat.to_numpy()
    out[:, 0] = np.log1p(b_all)
    out[:, 1] = np.log1p(b7)
    out[:, 2] = np.log1p(b28)
    out[:, 3] = np.log1p(prev28)
    out[:, 4] = np.log1p(b28) - np.log1p(prev28)
    out[:, 5] = np.minimum(now_day - first, NEVER)
    out[:, 6] = np.minimum(now_day - last, NEVER)
    out[:, 7] = (rep + 1.0) / (b_all + 5.0)
    out[:, 8] = _log_price(prices)
    out[:, 9] = np.log1p(np.bincount(new28["item"].to_numpy(), minlength=n_items))
    return out


@dataclass
class Personal:
    """One customer's first-stage scores at one moment (what ``recommend`` computes anyway)."""

    owned: np.ndarray  # every item the customer bought (index)
    n_days: np.ndarray  # distinct purchase days per owned item
    last_day: np.ndarray  # last purchase day per owned item
    weights: np.ndarray  # recency x frequency weight per owned item
    cp_raw: np.ndarray  # (n_items,) co-purchase score before scaling
    cp_unweighted: np.ndarray  # (n_items,) sum of neighbour sims, no history weights
    cp_hits: np.ndarray  # (n_items,) how many of the customer's items list it as a neighbour
    parts: dict[str, np.ndarray]  # weighted blend components ("co_purchase", "popular", ...)
    popular: np.ndarray  # (n_items,) the popularity table used (country or global), unweighted
    blend: np.ndarray  # (n_items,) sum of parts
    used: np.ndarray  # the owned items that fed the scores (at most max_history_items)
    used_weights: np.ndarray
    gathered: tuple[np.ndarray, np.ndarray, np.ndarray]  # their neighbour entries


@dataclass
class Candidates:
    items: np.ndarray  # (n,) item indices, by blend score
    features: np.ndarray  # (n, len(FEATURES)) float32


def candidate_features(
    rec: FirstStage,
    personal: Personal,
    blocked: np.ndarray,
    when_day: float,
    month: int,
    n_candidates: int,
) -> Candidates:
    """Top ``n_candidates`` allowed items by blend score, with their feature rows."""
    blend = personal.blend
    masked = np.where(blocked, -np.inf, blend)
    n = min(n_candidates, int((~blocked).sum()))
    if n == 0 or rec.item_stats is None:
        return Candidates(np.array([], np.int64), np.zeros((0, len(FEATURES)), np.float32))
    part = np.argpartition(-masked, n - 1)[:n] if n < len(masked) else np.arange(len(masked))
    cand = part[np.lexsort((part, -masked[part]))]
    owned, n_days, last_day = personal.owned, personal.n_days, personal.last_day
    stats, pop = rec.item_stats, rec.popularity
    x = np.empty((n, len(FEATURES)), np.float32)
    x[:, 0] = blend[cand]
    x[:, 1] = np.arange(n)
    cp_raw = personal.cp_raw
    cp_top = float(cp_raw.max()) if len(cp_raw) else 0.0
    x[:, 2] = cp_raw[cand] / cp_top if cp_top > 0 else 0.0
    x[:, 3] = cp_raw[cand]
    x[:, 4] = personal.cp_unweighted[cand]
    x[:, 5] = personal.cp_hits[cand]
    x[:, 6] = personal.popular[cand]
    x[:, 7] = pop.global_recent[cand]
    x[:, 8] = pop.trend[cand] if pop.trend is not None else 0.0
    x[:, 9] = pop.for_month(month)[cand]
    k = 10 + len(ITEM_FEATURES)
    x[:, 10:k] = stats[cand]
    x[:, k] = np.log1p(len(owned))
    x[:, k + 1] = when_day - float(last_day.max()) if len(last_day) else NEVER
    x[:, k + 2] = np.log1p(float(n_days.sum()))
    log_price = stats[:, ITEM_FEATURES.index("log_price")]
    w = personal.weights
    cust_price = float(log_price[owned] @ w / w.sum()) if len(owned) and w.sum() > 0 else 0.0
    x[:, k + 3] = cust_price
    x[:, k + 4] = log_price[cand] - cust_price
    pos = np.full(len(blend), -1, np.int64)
    pos[owned] = np.arange(len(owned))
    at = pos[cand]
    mine = at >= 0
    safe = np.maximum(at, 0)
    x[:, k + 5] = mine
    x[:, k + 6] = np.where(mine, n_days[safe] if len(owned) else 0.0, 0.0)
    x[:, k + 7] = np.where(mine, when_day - last_day[safe] if len(owned) else NEVER, NEVER)
    return Candidates(cand, x)


@dataclass
class TreeEnsemble:
    """Additive trees as flat arrays. A row goes left when x[feature] <= threshold; leaves
    point to themselves (threshold +inf), so every row can take ``depth`` steps blindly.

    ``child[2 * node + 1]`` is the left child and ``child[2 * node]`` the right one.
    The raw score is the sum of the reached leaves' values plus ``bias`` (log-odds).
    """

    feature: np.ndarray  # (n_nodes,) int32
    threshold: np.ndarray  # (n_nodes,) float32
    child: np.ndarray  # (2 * n_nodes,) int32
    value: np.ndarray  # (n_nodes,) float64, 0 except at leaves
    roots: np.ndarray  # (n_trees,) int32
    depth: int
    bias: float = 0.0

    def predict(self, x: np.ndarray) -> np.ndarray:
        """Raw scores (log-odds) of the rows of ``x`` (float32, one column per feature)."""
        n, width = x.shape
        if n == 0:
            return np.zeros(0)
        trees = len(self.roots)
        flat = np.ascontiguousarray(x, np.float32).ravel()
        node = np.tile(self.roots, n)
        base = np.repeat(np.arange(n, dtype=np.int32) * width, trees)
        for _ in range(self.depth):
            left = flat.take(base + self.feature.take(node)) <= self.threshold.take(node)
            node = self.child.take(2 * node + left)
        return self.value.take(node).reshape(n, trees).sum(axis=1) + self.bias

    def to_arrays(self, prefix: str) -> dict[str, np.ndarray]:
        return {
            f"{prefix}_feature": self.feature,
            f"{prefix}_threshold": self.threshold,
            f"{prefix}_child": self.child,
            f"{prefix}_value": self.value,
            f"{prefix}_roots": self.roots,
            f"{prefix}_depth": np.array(self.depth),
            f"{prefix}_bias": np.array(self.bias),
        }

    @classmethod
    def from_arrays(cls, arrays: dict[str, np.ndarray], prefix: str) -> TreeEnsemble | None:
        if f"{prefix}_roots" not in arrays:
            return None
        return cls(
            arrays[f"{prefix}_feature"],
            arrays[f"{prefix}_threshold"],
            arrays[f"{prefix}_child"],
            arrays[f"{prefix}_value"],
            arrays[f"{prefix}_roots"],
            int(arrays[f"{prefix}_depth"]),
            float(arrays[f"{prefix}_bias"]),
        )

    @classmethod
    def from_sklearn(cls, model: object) -> TreeEnsemble:
        """Copy a fitted binary ``HistGradientBoostingClassifier`` (numeric features only).

        Thresholds are rounded down to float32 so float32 rows split exactly as the
        float64 model splits them (x <= t  <=>  float32(x) <= float32_down(t) for float32 x).
        """
        feats, thr, child, value, roots = [], [], [], [], []
        offset, depth = 0, 0
        for (predictor,) in model._predictors:  # type: ignore[attr-defined]
            nodes = predictor.nodes
            m = len(nodes)
            leaf = nodes["is_leaf"].astype(bool)
            idx = np.arange(m) + offset
            feats.append(np.where(leaf, 0, nodes["feature_idx"]))
            t = nodes["num_threshold"].astype(np.float64)
            t32 = t.astype(np.float32)
            t32 = np.where(t32.astype(np.float64) > t, np.nextafter(t32, np.float32(-np.inf)), t32)
            thr.append(np.where(leaf, np.float32(np.inf), t32))
            pair = np.empty(2 * m, np.int64)
            pair[0::2] = np.where(leaf, idx, nodes["right"].astype(np.int64) + offset)
            pair[1::2] = np.where(leaf, idx, nodes["left"].astype(np.int64) + offset)
            child.append(pair)
            value.append(np.where(leaf, nodes["value"], 0.0))
            roots.append(offset)
            depth = max(depth, int(nodes["depth"].max()))
            offset += m
        return cls(
            np.concatenate(feats).astype(np.int32),
            np.concatenate(thr).astype(np.float32),
            np.concatenate(child).astype(np.int32),
            np.concatenate(value).astype(np.float64),
            np.asarray(roots, np.int32),
            depth,
            float(np.ravel(model._baseline_prediction)[0]),  # type: ignore[attr-defined]
        )


def training_rows(
    purchases: pd.DataFrame,
    items: pd.DataFrame,
    clean: pd.DataFrame,
    now_day: float,
    params: RecParams,
    cutoff_day: float,
    fit_first_stage: FirstStageFit,
) -> tuple[np.ndarray, np.ndarray]:
    """Rows and labels from one time-shifted window: tables as of ``cutoff_day``, labels =
    items each customer bought for the first time in the ``label_days`` after it."""
    cutoff = pd.Timestamp(int(round(cutoff_day * SECONDS_PER_DAY)), unit="s")
    first_stage = params.model_copy(update={"rerank": False})
    rec = fit_first_stage(purchases, items, None, now=cutoff, params=first_stage)
    upto = clean[clean["day"] <= cutoff_day + 1e-9]
    counted = upto if params.include_guests else upto[upto["customer_id"].notna()]
    rec.item_stats = item_stats(counted, upto, rec.item_prices, cutoff_day)
    end = min(cutoff_day + params.rerank_label_days, now_day)
    window = clean[
        (clean["day"] > cutoff_day + 1e-9)
        & (clean["day"] <= end + 1e-9)
        & clean["customer_id"].notna()
    ]
    bought = window.groupby("customer_id")["item"].agg(lambda s: set(s.tolist()))
    month = cutoff.month
    xs, ys = [], []
    for customer, later in bought.items():
        row = rec.history.row_of(customer)
        if row is None:
            continue
        owned = rec.history.slice(row)[0]
        new = later - set(owned.tolist())
        if not new:
            continue
        blocked = ~rec.popularity.active
        blocked = blocked.copy()
        blocked[owned] = True
        personal = rec._personal(row, cutoff_day, None, features=True)
        cand = candidate_features(
            rec, personal, blocked, cutoff_day, month, params.rerank_candidates
        )
        xs.append(cand.features)
        ys.append(np.fromiter((i in new for i in cand.items.tolist()), bool, len(cand.items)))
    if not xs:
        return np.zeros((0, len(FEATURES)), np.float32), np.zeros(0, bool)
    return np.vstack(xs), np.concatenate(ys)


def train_ranker(
    purchases: pd.DataFrame,
    items: pd.DataFrame,
    clean: pd.DataFrame,
    now_day: float,
    params: RecParams,
    fit_first_stage: FirstStageFit,
) -> TreeEnsemble | None:
    """Fit the re-ranker on ``rerank_windows`` time-shifted windows, all ending by ``now``.

    None when the data is too short or too small to learn from (the blend then serves).
    """
    xs, ys = [], []
    first_day = float(clean["day"].min()) if len(clean) else now_day
    for j in range(params.rerank_windows):
        cutoff_day = now_day - params.rerank_label_days - j * params.rerank_window_step_days
        if cutoff_day <= first_day + params.rerank_label_days:
            break  # too little history before this window to fit first-stage tables on
        x, y = training_rows(purchases, items, clean, now_day, params, cutoff_day, fit_first_stage)
        xs.append(x)
        ys.append(y)
    if not ys or int(sum(y.sum() for y in ys)) < params.rerank_min_positives:
        return None
    from sklearn.ensemble import HistGradientBoostingClassifier  # heavy: only when rerank=True

    model = HistGradientBoostingClassifier(
        max_iter=params.rerank_trees,
        learning_rate=params.rerank_learning_rate,
        max_leaf_nodes=params.rerank_leaves,
        min_samples_leaf=100,
        l2_regularization=1.0,
        early_stopping=False,
        random_state=0,
    )
    model.fit(np.vstack(xs), np.concatenate(ys))
    return TreeEnsemble.from_sklearn(model)

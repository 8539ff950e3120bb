"""Score recommendation methods on a split, and tune the blend on a validation split.

Every method sees the same customers, the same cutoff and the same exclusion rule:
- protocol "all": held-out = every code bought after the cutoff (repurchases count);
  each method drops what the customer bought in the 30 days before the cutoff,
  which is the product's default ("don't recommend what they just bought");
- protocol "new": held-out = codes new to the customer; each method drops
  everything the customer bought before the cutoff (those cannot count anyway).
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from dataclasses import dataclass

import pandas as pd

from evals.recs.metrics import hit_rate, ndcg
from evals.recs.split import Split
from genpersona.recs.recommender import Recommender

K = 10
EXCLUDE_RECENT_DAYS = 30
PROTOCOLS = ("all", "new")

#: (customer_id, protocol) -> ranked stock codes
RecFn = Callable[[str, str], list[str]]


@dataclass
class Score:
    method: str
    protocol: str
    customers: int
    hr: float
    ndcg: float


def recommender_fn(rec: Recommender, split: Split) -> RecFn:
    def run(customer: str, protocol: str) -> list[str]:
        if protocol == "all":
            recs = rec.recommend(
                customer, K, when=split.cutoff, exclude_recent_days=EXCLUDE_RECENT_DAYS
            )
        else:
            recs = rec.recommend(customer, K, when=split.cutoff, exclude=split.prior[customer])
        return [r.stock_code for r in recs]

    return run


def popularity_fn(split: Split) -> RecFn:
    """The classic baseline: items by number of distinct customers before the cutoff."""
    known = split.train[split.train["customer_id"].notna()]
    ranking = (
        known.drop_duplicates(["customer_id", "stock_code"])
        .groupby("stock_code")
        .size()
        .reset_index(name="n")
        .sort_values(["n", "stock_code"], ascending=[False, True])["stock_code"]
        .tolist()
    )
    since = split.cutoff - pd.Timedelta(days=EXCLUDE_RECENT_DAYS)
    recent = known[known["ts"] >= since].groupby("customer_id")["stock_code"].agg(set).to_dict()

    def run(customer: str, protocol: str) -> list[str]:
        blocked = recent.get(customer, set()) if protocol == "all" else split.prior[customer]
        out: list[str] = []
        for code in ranking:
            if code not in blocked:
                out.append(code)
                if len(out) == K:
                    break
        return out

    return run


def score(method: str, fn: RecFn, split: Split, protocol: str) -> Score:
    held = split.held_all if protocol == "all" else split.held_new
    hrs, ndcgs = [], []
    for customer in split.customers(protocol):
        ranked = fn(customer, protocol)
        hrs.append(hit_rate(ranked, held[customer], K))
        ndcgs.append(ndcg(ranked, held[customer], K))
    n = len(hrs)
    return Score(method, protocol, n, sum(hrs) / max(n, 1), sum(ndcgs) / max(n, 1))


def score_cold_start(rec: Recommender, split: Split) -> tuple[Score, Score]:
    """Newcomers (first purchase after the cutoff): cold start vs global popularity."""
    pop = popularity_fn(split)
    cold_hr, cold_nd, pop_hr, pop_nd = [], [], [], []
    for country, held in split.new_customers.values():
        ranked = [r.stock_code for r in rec.recommend(None, K, country=country, when=split.cutoff)]
        cold_hr.append(hit_rate(ranked, held, K))
        cold_nd.append(ndcg(ranked, held, K))
        base = pop("__newcomer__", "all")
        pop_hr.append(hit_rate(base, held, K))
        pop_nd.append(ndcg(base, held, K))
    n = max(len(cold_hr), 1)
    return (
        Score(
            "cold start (country+season)",
            "newcomers",
            len(cold_hr),
            sum(cold_hr) / n,
            sum(cold_nd) / n,
        ),
        Score(
            "popularity (all-time, global)",
            "newcomers",
            len(pop_hr),
            sum(pop_hr) / n,
            sum(pop_nd) / n,
        ),
    )


def objective(rec: Recommender, split: Split, protocols: tuple[str, ...] = PROTOCOLS) -> float:
    """Validation objective: mean HR@10 over the protocols (default: discovery and all)."""
    fn = recommender_fn(rec, split)
    return sum(score("blend", fn, split, p).hr for p in protocols) / len(protocols)


#: Searched jointly: new arrivals and content interact (both lift items co-purchase misses).
WEIGHT_GRID = {
    "w_content": (0.0, 0.15, 0.3, 0.5),
    "w_popular": (0.0, 0.1, 0.2),
    "w_trend": (0.0, 0.1, 0.2, 0.3),
}
HALF_LIFE_GRID = (30.0, 90.0, 180.0)
#: Fit-time shapes tried first; each names every knob it varies so the grid means the same
#: thing whatever RecParams' defaults are.
_PLAIN = {"co_purchase_half_life_days": None}
FIT_GRID: tuple[dict[str, object], ...] = (
    {"co_purchase_model": "cosine", "neighbours": 100, **_PLAIN},
    {"co_purchase_model": "ease", "ease_lambda": 50.0, **_PLAIN},
    {"co_purchase_model": "ease", "ease_lambda": 100.0, **_PLAIN},
    {"co_purchase_model": "ease", "ease_lambda": 200.0, **_PLAIN},
    {
        "co_purchase_model": "ease",
        "ease_lambda": 100.0,
        "popularity_half_life_days": 30.0,
        **_PLAIN,
    },
    {"co_purchase_model": "ease", "ease_lambda": 100.0, "co_purchase_half_life_days": 90.0},
    {"co_purchase_model": "ease", "ease_lambda": 50.0, "co_purchase_half_life_days": 90.0},
    {"co_purchase_model": "ease", "ease_lambda": 100.0, "co_purchase_half_life_days": 180.0},
    {"co_purchase_model": "ease", "ease_lambda": 100.0, "co_purchase_half_life_days": 45.0},
    {"co_purchase_model": "ease", "ease_lambda": 300.0, "co_purchase_half_life_days": 45.0},
    {"co_purchase_model": "ease", "ease_lambda": 100.0, "include_guests": True, **_PLAIN},
)


def tune(
    items: pd.DataFrame,
    vectors,
    split: Split,
    log: Callable[[str], None],
    protocols: tuple[str, ...] = PROTOCOLS,
) -> tuple[dict[str, object], float]:
    """Coordinate search on the validation split: fit-time shape, then the blend weights
    (a joint grid), then the history half-life.

    Coordinate-wise rather than a full grid keeps it to ~70 evaluations, which
    matters on a shared 2-core machine; each step keeps the best so far.
    """
    from genpersona.recs.models import RecParams

    def target(rec: Recommender, split: Split) -> float:
        return objective(rec, split, protocols)

    best: dict[str, object] = {}
    best_val, best_rec = -1.0, None
    for shape in FIT_GRID:
        rec = Recommender.fit(
            split.train, items, vectors, now=split.cutoff, params=RecParams(**shape)
        )
        val = target(rec, split)
        log(f"  fit {shape}: {val:.4f}")
        if val > best_val:
            best, best_val, best_rec = dict(shape), val, rec
    assert best_rec is not None
    weights = list(itertools.product(*WEIGHT_GRID.values()))
    if vectors is None:
        weights = [w for w in weights if w[0] == 0.0]
    defaults = RecParams()
    current = {name: getattr(defaults, name) for name in WEIGHT_GRID}
    for combo in weights:
        changes = dict(zip(WEIGHT_GRID, combo, strict=True))
        val = target(best_rec.with_params(**changes), split)
        if val > best_val:
            best, best_val, current = {**best, **changes}, val, changes
    log(f"  weights: {len(weights)} combinations, best {current}: {best_val:.4f}")
    request_best = {k: v for k, v in best.items() if k in WEIGHT_GRID}
    for half_life in HALF_LIFE_GRID:
        changes = {**request_best, "history_half_life_days": half_life}
        val = target(best_rec.with_params(**changes), split)
        log(f"  half-life {half_life:g} d: {val:.4f}")
        if val > best_val:
            best, best_val = {**best, "history_half_life_days": half_life}, val
    return best, best_val

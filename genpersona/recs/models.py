"""Typed boundary of the recommender: its knobs (``RecParams``) and its answer (``Rec``).

``RecommendedItem`` (what the context bundle carries) and its ``Evidence`` live here,
below ``genpersona.context``, so the recommender can build them without importing up.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

RecReason = Literal[
    "content", "co_purchase", "blend", "popular_country", "popular_season", "popular"
]

#: Columns the recommender reads from the purchases frame (``basket_id`` is optional).
PURCHASE_COLUMNS = ("customer_id", "stock_code", "ts", "quantity", "country")
#: Columns the recommender reads from the items frame (``theme`` may be all None).
ITEM_COLUMNS = ("stock_code", "description", "price", "theme")


class Evidence(BaseModel):
    """Where a fact came from: event ids, stock codes, or a free-text source."""

    source: str
    event_ids: list[int] = Field(default_factory=list)
    stock_codes: list[str] = Field(default_factory=list)
    note: str = ""


class RecommendedItem(BaseModel):
    stock_code: str
    description: str
    price: float | None = None
    theme: str | None = None
    score: float = 0.0
    reason: RecReason
    evidence: Evidence


class Rec(BaseModel):
    """One recommended item and why: ``evidence_stock_codes`` are the customer's own items
    that led to it, so copy can say "because you bought X" truthfully (empty for popular)."""

    stock_code: str
    score: float
    reason: RecReason
    evidence_stock_codes: list[str] = Field(default_factory=list)


class RecParams(BaseModel):
    """Blend weights and model shape. Defaults are the values tuned on the validation split
    (train < 2011-07-01, validate 2011-07-01..09-01) by ``python -m evals.recs.run`` with
    MiniLM vectors and the default objective (mean HR@10 of both protocols): EASE (lambda
    100, co-purchase half-life 90 d), history half-life 180 d, content 0, popularity prior
    0.2, new arrivals 0.2. Tuned for discovery alone (``--objective new``) the weights are
    content 0.15, popularity 0, new arrivals 0.2 (see docs/guides/recommendations.md)."""

    # --- personal blend (each component is scaled to [0, 1] per customer before weighting)
    w_co_purchase: float = Field(default=1.0, ge=0)
    w_content: float = Field(default=0.0, ge=0)
    w_popular: float = Field(default=0.2, ge=0)
    #: New arrivals selling now (see ``popularity.new_arrivals``), added to every
    #: customer's personal score; its picks carry reason "popular" and no evidence.
    w_trend: float = Field(default=0.2, ge=0)
    #: Half-life (days) of a customer's past purchase in their profile: recent tastes weigh more.
    history_half_life_days: float = Field(default=180.0, gt=0)
    #: Only the customer's this-many heaviest (recent x frequent) items feed the scores:
    #: bounds the cost of a request for wholesale accounts with thousands of items.
    max_history_items: int = Field(default=300, ge=1)

    # --- item-to-item co-purchase
    #: "cosine": classic item-to-item cosine over co-buyers. "ease": item-to-item weights
    #: learned by ridge regression of each item on all others (Steck 2019, closed form);
    #: it discounts partners that are only popular, and wins on the validation split.
    co_purchase_model: Literal["cosine", "ease"] = "ease"
    #: Ridge strength of the "ease" model (larger = smoother, closer to popularity).
    ease_lambda: float = Field(default=100.0, gt=0)
    #: Weigh each buyer-item pair by the age of its last purchase (half-life in days) when
    #: learning item-to-item weights, so they follow the current range; None = all equal.
    co_purchase_half_life_days: float | None = Field(default=90.0, gt=0)
    #: "customer": items bought by the same people; "basket": items bought in the same order.
    co_purchase_level: Literal["customer", "basket"] = "customer"
    #: Neighbours kept per item (the sparse top-N table that makes scoring fast).
    neighbours: int = Field(default=400, ge=1)
    #: Asymmetric cosine exponent: sim(i->j) = c_ij / (n_i^a * n_j^(1-a)); 0.5 is plain cosine,
    #: lower values let popular partners through.
    cosine_alpha: float = Field(default=0.5, ge=0, le=1)
    #: Pairs seen together by fewer buyers than this are noise, not a signal (cosine only).
    min_co_count: int = Field(default=2, ge=1)
    #: Count guest checkouts (no customer id) as buyers in co-purchase and popularity.
    #: Off by default: in the demo data guest orders are large one-off baskets that
    #: skew both tables (validation HR@10 drops when they are counted).
    include_guests: bool = False

    # --- popularity and cold start
    #: Half-life (days) of a sale in the popularity tables: what sells now, not last year.
    popularity_half_life_days: float = Field(default=90.0, gt=0)
    #: Items with no sale in this many days before ``now`` are treated as discontinued.
    active_days: int = Field(default=120, ge=1)
    #: New arrivals: buyers counted over the last ``trend_days`` for items whose first
    #: sale is at most ``launch_days`` before ``now``.
    trend_days: int = Field(default=28, ge=1)
    launch_days: int = Field(default=56, ge=1)
    #: Shrinkage (in pseudo-buyers) of a country's / season's shares toward the global ones.
    shrink_buyers: float = Field(default=20.0, ge=0)
    #: Cold-start mix for new or anonymous visitors (country known, season from the date).
    w_cold_country: float = Field(default=0.5, ge=0)
    w_cold_season: float = Field(default=0.3, ge=0)
    w_cold_global: float = Field(default=0.2, ge=0)

    # --- explanations
    max_evidence: int = Field(default=3, ge=0)


#: Parameters baked into the fitted tables; changing them needs a refit, not ``with_params``.
FIT_TIME_PARAMS = frozenset(
    {
        "co_purchase_level",
        "co_purchase_model",
        "ease_lambda",
        "co_purchase_half_life_days",
        "include_guests",
        "neighbours",
        "cosine_alpha",
        "min_co_count",
        "popularity_half_life_days",
        "active_days",
        "trend_days",
        "launch_days",
        "shrink_buyers",
    }
)

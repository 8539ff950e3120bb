"""The blend: co-purchase + content + popularity for known customers, popularity for the rest.

``fit`` does all the heavy work once (neighbour table, popularity tables, item
vectors, per-customer item lists as flat arrays); ``recommend`` is then a few
vector operations over ~4k items, well under a millisecond, so ``context_for``
can call it on every request. ``save``/``load`` persist the fitted arrays as one
``.npz`` so a serving process never refits.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

import numpy as np
import pandas as pd

from genpersona.errors import RecsInputError
from genpersona.recs.co_purchase import NeighbourTable, co_purchase_table, ease_table
from genpersona.recs.content import ContentModel, check_item_vectors
from genpersona.recs.explain import explain
from genpersona.recs.interactions import (
    History,
    build_history,
    buyer_item_matrix,
    day_of,
    validate_items,
    validate_purchases,
)
from genpersona.recs.models import (
    FIT_TIME_PARAMS,
    Evidence,
    Rec,
    RecommendedItem,
    RecParams,
    RecReason,
)
from genpersona.recs.persist import read_recommender, write_recommender
from genpersona.recs.popularity import PopularityTables, build_popularity
from genpersona.recs.ranking import COLD_LABELS, cold_scores, personal_reasons, top_k

__all__ = ["Rec", "RecParams", "RecReason", "Recommender"]


@dataclass
class Personal:
    """One customer's first-stage scores at one moment."""

    owned: np.ndarray  # every item the customer bought (index)
    n_days: np.ndarray  # distinct purchase days per owned item
    last_day: np.ndarray  # last purchase day per owned item
    weights: np.ndarray  # recency x frequency weight per owned item
    cp_raw: np.ndarray  # (n_items,) co-purchase score before scaling
    parts: dict[str, np.ndarray]  # weighted blend components ("co_purchase", "popular", ...)
    popular: np.ndarray  # (n_items,) the popularity table used (country or global), unweighted
    blend: np.ndarray  # (n_items,) sum of parts
    used: np.ndarray  # the owned items that fed the scores (at most max_history_items)
    used_weights: np.ndarray
    gathered: tuple[np.ndarray, np.ndarray, np.ndarray]  # their neighbour entries


@dataclass
class Recommender:
    item_codes: np.ndarray  # (n_items,) str, the catalog order every array follows
    item_descriptions: np.ndarray
    item_prices: np.ndarray  # float, NaN when unknown
    item_themes: np.ndarray  # str, "" when unknown
    history: History
    neighbours: NeighbourTable
    content: ContentModel | None
    popularity: PopularityTables
    params: RecParams
    now: datetime
    _code_index: dict[str, int] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self._codes: list[str] = self.item_codes.tolist()
        self._code_index = {c: i for i, c in enumerate(self._codes)}
        self._now_day = day_of(self.now)

    # --- building -------------------------------------------------------------------
    @classmethod
    def fit(
        cls,
        purchases: pd.DataFrame,
        items: pd.DataFrame,
        item_vectors: np.ndarray | None = None,
        *,
        now: datetime | None = None,
        params: RecParams | None = None,
    ) -> Recommender:
        """Fit on purchases up to ``now`` (default: the last purchase); later rows are ignored
        so a model fitted "as of" a date never sees the future."""
        params = params or RecParams()
        catalog = validate_items(items)
        clean = validate_purchases(purchases, catalog["stock_code"])
        if now is None:
            if clean.empty:
                raise RecsInputError(
                    "no purchases of catalog items to learn from",
                    fix="pass purchases whose stock codes appear in the items frame, or pass now=",
                    rows=len(purchases),
                )
            now = clean["ts"].max().to_pydatetime()
        now_day = day_of(now)
        clean = clean[clean["day"] <= now_day + 1e-9]
        n_items = len(catalog)
        counted = clean
        if not params.include_guests and clean["customer_id"].notna().any():
            counted = clean[clean["customer_id"].notna()]
        buyers = buyer_item_matrix(
            counted,
            n_items,
            params.co_purchase_level,
            now_day=now_day,
            half_life_days=params.co_purchase_half_life_days,
        )
        if params.co_purchase_model == "ease":
            table = ease_table(buyers, neighbours=params.neighbours, lam=params.ease_lambda)
        else:
            table = co_purchase_table(
                buyers,
                neighbours=params.neighbours,
                alpha=params.cosine_alpha,
                min_count=params.min_co_count,
            )
        prices = pd.to_numeric(catalog["price"], errors="coerce").to_numpy(np.float64)
        return cls(
            item_codes=catalog["stock_code"].to_numpy(dtype=str),
            item_descriptions=catalog["description"].fillna("").astype(str).to_numpy(dtype=str),
            item_prices=prices,
            item_themes=catalog["theme"].fillna("").astype(str).to_numpy(dtype=str),
            history=build_history(clean),
            neighbours=table,
            content=None
            if item_vectors is None
            else ContentModel(check_item_vectors(item_vectors, n_items)),
            popularity=build_popularity(
                counted,
                n_items,
                now_day=now_day,
                half_life_days=params.popularity_half_life_days,
                active_days=params.active_days,
                shrink=params.shrink_buyers,
                sales=clean,
                trend_days=params.trend_days,
                launch_days=params.launch_days,
            ),
            params=params,
            now=pd.Timestamp(now).to_pydatetime(),
        )

    def with_params(self, **changes: object) -> Recommender:
        """Same fitted tables, different request-time knobs (blend weights, half-life...)."""
        baked = FIT_TIME_PARAMS.intersection(changes)
        if baked:
            raise RecsInputError(
                f"parameter(s) {', '.join(sorted(baked))} are baked in at fit time",
                fix="call Recommender.fit again with RecParams carrying the new values",
                params=sorted(baked),
            )
        params = RecParams.model_validate({**self.params.model_dump(), **changes})
        return Recommender(
            self.item_codes, self.item_descriptions, self.item_prices, self.item_themes,
            self.history, self.neighbours, self.content, self.popularity, params, self.now,
        )  # fmt: skip

    # --- serving ----------------------------------------------------------------------
    def knows(self, customer_id: str | None) -> bool:
        return self.history.row_of(customer_id) is not None

    def recommend(
        self,
        customer_id: str | None,
        k: int = 10,
        *,
        country: str | None = None,
        when: datetime | None = None,
        exclude_recent_days: int = 30,
        exclude: set[str] | frozenset[str] = frozenset(),
    ) -> list[Rec]:
        """Top-k items for a customer (or cold start for unknown / anonymous visitors).

        Items bought within ``exclude_recent_days`` before ``when``, items in
        ``exclude`` and items nobody bought lately (discontinued) are never returned.
        """
        if not isinstance(k, int) or k < 1:
            raise RecsInputError(
                f"k must be a positive integer, got {k!r}", fix="ask for k >= 1 items", k=k
            )
        if exclude_recent_days < 0:
            raise RecsInputError(
                f"exclude_recent_days must be >= 0, got {exclude_recent_days}",
                fix="pass 0 to allow re-buying anything, or a number of days",
            )
        stamp = pd.Timestamp(when) if when is not None else pd.Timestamp(self.now)
        when_day = day_of(stamp)
        p = self.params
        blocked = ~self.popularity.active
        if exclude:
            blocked = blocked.copy()
            for code in exclude:
                idx = self._code_index.get(str(code).strip().upper())
                if idx is not None:
                    blocked[idx] = True
        row = self.history.row_of(customer_id)
        cold, cold_reason = cold_scores(self.popularity, p, country, stamp.month)
        if row is None:
            return [
                Rec(
                    stock_code=self._codes[i],
                    score=float(cold[i]),
                    reason=COLD_LABELS[cold_reason[i]],
                )
                for i in top_k(cold, blocked, k)
            ]

        owned, _, last_day = self.history.slice(row)
        recent = (
            owned[last_day >= when_day - exclude_recent_days] if exclude_recent_days else owned[:0]
        )
        if len(recent):
            blocked = blocked.copy()
            blocked[recent] = True
        personal = self._personal(row, when_day, country)
        parts, score = personal.parts, personal.blend
        order = top_k(score, blocked, k, fallback=cold)
        shown = {i: float(score[i]) for i in order.tolist()}
        own_country = country or str(self.history.countries[row]) or None
        pop_reason: RecReason = (
            "popular_country" if self.popularity.country_row(own_country) is not None else "popular"
        )
        reasons = personal_reasons(parts, order, pop_reason)
        # Items that only made the list as popularity fill get the cold-start reason.
        reasons = [
            COLD_LABELS[cold_reason[i]] if score[i] <= 0 else r
            for i, r in zip(order.tolist(), reasons, strict=True)
        ]
        evidence = explain(
            order, reasons, personal.used, personal.used_weights, personal.gathered,
            self.content, self._codes, self.params.max_evidence,
        )  # fmt: skip
        return [
            Rec(
                stock_code=self._codes[i],
                score=shown[i],
                reason=reason,
                evidence_stock_codes=ev,
            )
            for i, reason, ev in zip(order.tolist(), reasons, evidence, strict=True)
        ]

    def bought_with(
        self, stock_code: str, k: int = 3, *, exclude: set[str] | frozenset[str] = frozenset()
    ) -> list[Rec]:
        """The co-purchase model's partners of one item, strongest first ("bought X, also
        bought Y"), read straight from the neighbour table: a post-purchase cross-sell is
        about *this* basket, not the customer's whole history the blend would weigh.

        Discontinued items and ``exclude`` (e.g. what the customer already owns) are
        skipped; an item the model does not know, or has no partners for, gives [].
        """
        if not isinstance(k, int) or k < 1:
            raise RecsInputError(
                f"k must be a positive integer, got {k!r}", fix="ask for k >= 1 items", k=k
            )
        code = str(stock_code).strip().upper()
        item = self._code_index.get(code)
        if item is None:
            return []
        lo, hi = int(self.neighbours.indptr[item]), int(self.neighbours.indptr[item + 1])
        partners = self.neighbours.indices[lo:hi]
        sims = self.neighbours.sims[lo:hi]
        blocked = {self._code_index[c] for c in exclude if c in self._code_index}
        out: list[Rec] = []
        for j in np.lexsort((partners, -sims)):  # strongest first, ties by catalog order
            partner = int(partners[j])
            if partner in blocked or partner == item or not self.popularity.active[partner]:
                continue
            out.append(
                Rec(
                    stock_code=self._codes[partner],
                    score=float(sims[j]),
                    reason="co_purchase",
                    evidence_stock_codes=[self._codes[item]],
                )
            )
            if len(out) == k:
                break
        return out

    def _personal(self, row: int, when_day: float, country: str | None) -> Personal:
        """The blend's scores of one known customer."""
        p = self.params
        owned, n_days, last_day = self.history.slice(row)
        weights = np.log1p(n_days) * 0.5 ** (
            np.maximum(when_day - last_day, 0.0) / p.history_half_life_days
        )
        used, used_weights = owned, weights
        if len(owned) > p.max_history_items:
            keep = np.sort(
                np.argpartition(-weights, p.max_history_items - 1)[: p.max_history_items]
            )
            used, used_weights = owned[keep], weights[keep]
        n_items = len(self.item_codes)
        src, partner, sim = self.neighbours.gather(used)
        cp_raw = np.bincount(partner, weights=sim * used_weights[src], minlength=n_items)
        cp_top = float(cp_raw.max()) if len(cp_raw) else 0.0
        cp = cp_raw / cp_top if cp_top > 0 else cp_raw
        ct = (
            self.content.score(used, used_weights)
            if self.content is not None and p.w_content > 0
            else None
        )
        own_country = country or str(self.history.countries[row]) or None
        pop = self.popularity.for_country(own_country)
        parts = {"co_purchase": p.w_co_purchase * cp, "popular": p.w_popular * pop}
        if ct is not None:
            parts["content"] = p.w_content * ct
        if p.w_trend > 0 and self.popularity.trend is not None:
            parts["trend"] = p.w_trend * self.popularity.trend
        return Personal(
            owned=owned,
            n_days=n_days,
            last_day=last_day,
            weights=weights,
            cp_raw=cp_raw,
            parts=parts,
            popular=pop,
            blend=np.sum(list(parts.values()), axis=0),
            used=used,
            used_weights=used_weights,
            gathered=(src, partner, sim),
        )

    def recommended_items(
        self, customer_id: str | None, k: int = 10, **kwargs: object
    ) -> list[RecommendedItem]:
        """``recommend`` mapped onto the context contract, with catalog text and evidence."""
        return self.as_items(self.recommend(customer_id, k, **kwargs))  # type: ignore[arg-type]

    def as_items(self, recs: list[Rec]) -> list[RecommendedItem]:
        """Recs (live, or precomputed at fit time) with the catalog text the context needs."""
        items: list[RecommendedItem] = []
        for rec in recs:
            i = self._code_index[rec.stock_code]
            price = float(self.item_prices[i])
            items.append(
                RecommendedItem(
                    stock_code=rec.stock_code,
                    description=str(self.item_descriptions[i]),
                    price=None if np.isnan(price) else price,
                    theme=str(self.item_themes[i]) or None,
                    score=rec.score,
                    reason=rec.reason,
                    evidence=Evidence(
                        source="purchase_history" if rec.evidence_stock_codes else rec.reason,
                        stock_codes=rec.evidence_stock_codes,
                    ),
                )
            )
        return items

    # --- persistence ------------------------------------------------------------------
    def to_arrays(self) -> dict[str, np.ndarray]:
        """Every fitted array, named for ``persist.read_recommender`` (plain arrays, no pickle)."""
        arrays: dict[str, np.ndarray] = {
            "params_json": np.array(self.params.model_dump_json()),
            "now": np.array(pd.Timestamp(self.now).isoformat()),
            "item_codes": self.item_codes.astype(str),
            "item_descriptions": self.item_descriptions.astype(str),
            "item_prices": self.item_prices,
            "item_themes": self.item_themes.astype(str),
            **self.history.to_arrays(),
            **self.neighbours.to_arrays("cp"),
            **self.popularity.to_arrays(),
        }
        if self.content is not None:
            arrays["item_vectors"] = self.content.vectors
        return arrays

    def save(self, path: Path) -> None:
        write_recommender(self.to_arrays(), Path(path))

    @classmethod
    def load(cls, path: Path) -> Recommender:
        return cls(**read_recommender(Path(path)))

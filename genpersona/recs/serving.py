"""Every known customer's recommendations, computed once at fit time and served by lookup.

A request for a known customer with the default options (their own country, the
model's clock, the usual exclusions) always gets the same answer from a fitted
model, so ``fit_recommender`` computes it for everyone right after fitting and
``context_for`` reads it back instead of scoring thousands of items on the
request path. Anything else (another country, a send time, a longer list, a
customer the table does not know) is computed live, as before.

The table is arrays in one ``.npz`` next to the model (no pickle): customer ids,
their country, and per slot the item index, score, reason and evidence indices.
It carries the model's fit token, so a table from another fit is never served.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import get_args

import numpy as np

from genpersona.recs.models import Rec, RecommendedItem, RecReason
from genpersona.recs.recommender import Recommender

#: slots kept per customer; context_for asks for 6
SERVED_K = 12
_REASONS: tuple[str, ...] = get_args(RecReason)


@dataclass
class ServedRecs:
    token: str
    customer_ids: np.ndarray  # (n,) str
    countries: np.ndarray  # (n,) str: the country the table was computed for
    items: np.ndarray  # (n, K) int32 item index, -1 = empty slot
    scores: np.ndarray  # (n, K) float64 (the live score, bit for bit)
    reasons: np.ndarray  # (n, K) uint8 index into RecReason
    evidence: np.ndarray  # (n, K, E) int32 item index, -1 = none

    def __post_init__(self) -> None:
        self._row = {c: i for i, c in enumerate(self.customer_ids.tolist())}

    @property
    def k(self) -> int:
        return int(self.items.shape[1])

    def lookup(
        self, model: Recommender, customer_id: str, k: int, country: str | None
    ) -> list[RecommendedItem] | None:
        """The precomputed answer, or None when this request must be computed live."""
        row = self._row.get(customer_id)
        if row is None or k > self.k or (country and country != self.countries[row]):
            return None
        codes = model.item_codes
        recs = []
        for slot in range(k):
            item = int(self.items[row, slot])
            if item < 0:
                break
            ev = self.evidence[row, slot]
            recs.append(
                Rec(
                    stock_code=str(codes[item]),
                    score=float(self.scores[row, slot]),
                    reason=_REASONS[int(self.reasons[row, slot])],
                    evidence_stock_codes=[str(codes[e]) for e in ev if e >= 0],
                )
            )
        return model.as_items(recs)


def build_served(model: Recommender, token: str, k: int = SERVED_K) -> ServedRecs:
    """``model.recommend(customer, k)`` for every customer the model knows (same options as
    ``context_for``'s default path)."""
    customers = model.history.customer_ids.astype(str)
    n, e = len(customers), max(1, model.params.max_evidence)
    items = np.full((n, k), -1, np.int32)
    scores = np.zeros((n, k), np.float64)
    reasons = np.zeros((n, k), np.uint8)
    evidence = np.full((n, k, e), -1, np.int32)
    index = {c: i for i, c in enumerate(model.item_codes.tolist())}
    for row, cid in enumerate(customers.tolist()):
        for slot, rec in enumerate(model.recommend(cid, k)):
            items[row, slot] = index[rec.stock_code]
            scores[row, slot] = rec.score
            reasons[row, slot] = _REASONS.index(rec.reason)
            for j, code in enumerate(rec.evidence_stock_codes[:e]):
                evidence[row, slot, j] = index[code]
    return ServedRecs(
        token=token,
        customer_ids=customers,
        countries=model.history.countries.astype(str),
        items=items,
        scores=scores,
        reasons=reasons,
        evidence=evidence,
    )


def served_path(model_path: Path) -> Path:
    return model_path.with_name(model_path.stem + ".served.npz")


def save_served(served: ServedRecs, path: Path) -> None:
    """Written to a temporary file and renamed, so a reader never sees half a table."""
    tmp = path.with_name(path.name + ".tmp.npz")
    np.savez(
        tmp,
        token=np.array(served.token),
        customer_ids=served.customer_ids,
        countries=served.countries,
        items=served.items,
        scores=served.scores,
        reasons=served.reasons,
        evidence=served.evidence,
    )
    os.replace(tmp, path)


def load_served(path: Path, token: str) -> ServedRecs | None:
    """The table if it exists and belongs to the fit ``token`` names; None otherwise."""
    try:
        with np.load(path, allow_pickle=False) as f:
            if str(f["token"]) != token:
                return None
            return ServedRecs(
                token=token,
                customer_ids=f["customer_ids"],
                countries=f["countries"],
                items=f["items"],
                scores=f["scores"],
                reasons=f["reasons"],
                evidence=f["evidence"],
            )
    except (FileNotFoundError, KeyError, ValueError):
        return None

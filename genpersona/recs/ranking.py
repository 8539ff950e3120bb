"""Small ranking helpers shared by the personal and the cold-start paths.

Kept apart from ``recommender.py`` so each piece stays one job: choosing the
top-k deterministically, mixing cold-start tables, and naming why an item won.
"""

from __future__ import annotations

import numpy as np

from genpersona.recs.models import RecParams, RecReason
from genpersona.recs.popularity import PopularityTables

#: Index -> reason for the cold-start components, in the order ``cold_scores`` stacks them.
COLD_LABELS: tuple[RecReason, ...] = ("popular_country", "popular_season", "popular")

#: A pick is a "blend" when the weaker personal signal gives at least this share of it.
BLEND_SHARE = 0.25


def cold_scores(
    pop: PopularityTables, params: RecParams, country: str | None, month: int
) -> tuple[np.ndarray, np.ndarray]:
    """Country + season + recent global popularity; returns (score, reason index per item).

    An unknown country contributes nothing (its weight is not redistributed), so the
    reason then comes from season or global popularity and stays truthful.
    """
    row = pop.country_row(country)
    country_part = (
        params.w_cold_country * pop.country_share[row]
        if row is not None
        else np.zeros_like(pop.global_recent)
    )
    stack = np.vstack(
        [
            country_part,
            params.w_cold_season * pop.for_month(month),
            params.w_cold_global * pop.global_recent,
        ]
    )
    return stack.sum(axis=0), np.argmax(stack, axis=0)


def top_k(
    score: np.ndarray, blocked: np.ndarray, k: int, fallback: np.ndarray | None = None
) -> np.ndarray:
    """Indices of the k best allowed items: by score, then fallback, then item index.

    The tie-breaks make results identical run to run, and let popularity fill the
    list when a customer's personal scores run out (many items tied at 0).
    """
    masked = np.where(blocked, -np.inf, score)
    allowed = int((~blocked).sum())
    if allowed == 0:
        return np.array([], dtype=np.int64)
    if allowed <= k:
        cand = np.flatnonzero(~blocked)
    else:
        part = np.argpartition(-masked, k - 1)[:k]
        threshold = masked[part].min()
        cand = np.flatnonzero(masked >= threshold)
    second = -fallback[cand] if fallback is not None else np.zeros(len(cand))
    order = np.lexsort((cand, second, -masked[cand]))
    return cand[order[:k]]


def personal_reasons(
    parts: dict[str, np.ndarray], order: np.ndarray, pop_reason: RecReason
) -> list[RecReason]:
    """Name the component that carried each pick; popularity only when it outweighs both.

    The optional "trend" part (new arrivals, counted over all customers) is popularity
    too: when it carries a pick the reason is plain "popular", never the country's.
    """
    zero = np.zeros(len(order))
    cp = parts["co_purchase"][order]
    ct = parts["content"][order] if "content" in parts else zero
    pp = parts["popular"][order]
    tr = parts["trend"][order] if "trend" in parts else zero
    out: list[RecReason] = []
    for c, t, q, n in zip(cp.tolist(), ct.tolist(), pp.tolist(), tr.tolist(), strict=True):
        personal = c + t
        if personal <= 0 or q + n >= personal:
            out.append(pop_reason if q >= n else "popular")
        elif c > 0 and t > 0 and min(c, t) >= BLEND_SHARE * personal:
            out.append("blend")
        else:
            out.append("co_purchase" if c >= t else "content")
    return out

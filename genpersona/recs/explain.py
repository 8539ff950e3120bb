""" "Because you bought X": which of the customer's own items pushed each pick up.

Evidence is computed only for the k picks, from the same neighbour entries and
vectors that scored them, so the explanation is the real cause of the ranking
and never an item the customer did not buy (nor the pick itself).
"""

from __future__ import annotations

import numpy as np

from genpersona.recs.content import ContentModel
from genpersona.recs.models import RecReason


def explain(
    order: np.ndarray,
    reasons: list[RecReason],
    owned: np.ndarray,
    weights: np.ndarray,
    gathered: tuple[np.ndarray, np.ndarray, np.ndarray],
    content: ContentModel | None,
    codes: list[str],
    max_evidence: int,
) -> list[list[str]]:
    """Per pick, up to ``max_evidence`` owned stock codes, strongest first (none for popular).

    ``gathered`` is the (source position, partner, sim) triples of the owned items'
    neighbour rows, as returned by ``NeighbourTable.gather``.
    """
    if max_evidence == 0 or len(order) == 0:
        return [[] for _ in order]
    src, partner, sim = gathered
    cp_contrib = np.zeros((len(owned), len(order)))
    # Column of each pick by item index: a lookup table beats np.isin on ~100k entries.
    column = np.full(len(codes), -1, dtype=np.int64)
    column[order] = np.arange(len(order))
    col = column[partner]
    hit = col >= 0
    if hit.any():
        np.add.at(cp_contrib, (src[hit], col[hit]), sim[hit] * weights[src[hit]])
    if content is not None:
        ct_contrib = np.clip(content.pair_sims(owned, order), 0, None) * weights[:, None]
        ct_contrib[owned[:, None] == order[None, :]] = 0.0  # an item is not its own evidence
    else:
        ct_contrib = np.zeros_like(cp_contrib)
    out: list[list[str]] = []
    for j, reason in enumerate(reasons):
        if reason.startswith("popular"):
            out.append([])
            continue
        cpc, ctc = cp_contrib[:, j], ct_contrib[:, j]
        if reason == "co_purchase":
            contrib = cpc
        elif reason == "content":
            contrib = ctc
        else:
            contrib = cpc / (cpc.max() or 1.0) + ctc / (ctc.max() or 1.0)
        best = np.lexsort((owned, -contrib))[:max_evidence]
        out.append([codes[owned[b]] for b in best if contrib[b] > 0])
    return out

"""Content-based scoring: how close each item's description embedding is to the customer.

The customer vector is the recency- and frequency-weighted mean of the vectors
of the items they bought, so it drifts with their tastes. It is computed per
request (a few hundred floats times the items owned) rather than stored, which
keeps the saved model independent of the number of customers.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from genpersona.errors import RecsInputError


def check_item_vectors(vectors: np.ndarray, n_items: int) -> np.ndarray:
    """Vectors must align row-for-row with the items frame; rows are re-normalized."""
    arr = np.asarray(vectors, dtype=np.float32)
    if arr.ndim != 2 or arr.shape[0] != n_items:
        raise RecsInputError(
            f"item_vectors has shape {arr.shape}, expected ({n_items}, dim) to match the items frame",
            fix="embed items['description'] in the same row order as the items frame, or pass None",
            shape=list(arr.shape),
            n_items=n_items,
        )
    if not np.isfinite(arr).all():
        raise RecsInputError(
            "item_vectors contains NaN or infinite values",
            fix="re-embed the descriptions; blank descriptions should still get a finite vector",
        )
    norms = np.linalg.norm(arr, axis=1, keepdims=True)
    norms[norms == 0] = 1.0
    return np.ascontiguousarray(arr / norms)


def _matvec(matrix: np.ndarray, vector: np.ndarray) -> np.ndarray:
    """matrix @ vector without BLAS threads: on a busy 2-core host a multi-threaded
    OpenBLAS gemv of 4k x 384 measured 10-20 ms (threads waiting for cores) against
    ~0.6 ms for this single-threaded loop, and a request must stay in the low ms."""
    return np.einsum("ij,j->i", matrix, vector)


@dataclass
class ContentModel:
    vectors: np.ndarray  # (n_items, dim) float32, unit rows

    def score(self, items: np.ndarray, weights: np.ndarray) -> np.ndarray:
        """Cosine of every item to the customer vector, rescaled so the catalog mean is 0
        and the best item is 1: raw cosines of short product titles sit in a narrow band,
        and without this the content part would add a near-constant to every item.

        An owned item is compared with the customer vector *without itself*
        (leave-one-out): otherwise every owned item would be its own best match and
        "because you bought X, try X" would crowd out discovery.
        """
        w = weights.astype(np.float32)
        raw = _matvec(self.vectors[items].T, w)
        sims = _matvec(self.vectors, raw)
        sq_norm = float(raw @ raw)
        if sq_norm <= 0:
            return np.zeros(len(self.vectors), np.float32)
        scaled = sims / np.sqrt(sq_norm)
        # For owned j (unit v_j, listed once): v_j . (raw - w_j v_j) = sims[j] - w_j and
        # |raw - w_j v_j|^2 = |raw|^2 - 2 w_j sims[j] + w_j^2, so leave-one-out costs O(owned).
        own = sims[items]
        loo_sq = sq_norm - 2.0 * w * own + w * w
        scaled[items] = np.where(
            loo_sq > 1e-12, (own - w) / np.sqrt(np.maximum(loo_sq, 1e-12)), -1.0
        )
        mean, top = float(scaled.mean()), float(scaled.max())
        if top <= mean:
            return np.zeros_like(scaled)
        return np.clip((scaled - mean) / (top - mean), 0.0, 1.0)

    def pair_sims(self, owned: np.ndarray, candidates: np.ndarray) -> np.ndarray:
        """(len(owned), len(candidates)) cosines, for "because you bought X" evidence."""
        return np.einsum("id,kd->ik", self.vectors[owned], self.vectors[candidates])

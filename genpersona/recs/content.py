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


@dataclass
class ContentModel:
    vectors: np.ndarray  # (n_items, dim) float32, unit rows

    def customer_vector(self, items: np.ndarray, weights: np.ndarray) -> np.ndarray:
        vec = weights.astype(np.float32) @ self.vectors[items]
        norm = float(np.linalg.norm(vec))
        return vec / norm if norm > 0 else vec

    def score(self, items: np.ndarray, weights: np.ndarray) -> np.ndarray:
        """Cosine of every item to the customer vector, rescaled so the catalog mean is 0
        and the best item is 1: raw cosines of short product titles sit in a narrow band,
        and without this the content part would add a near-constant to every item."""
        sims = self.vectors @ self.customer_vector(items, weights)
        mean, top = float(sims.mean()), float(sims.max())
        if top <= mean:
            return np.zeros_like(sims)
        return np.clip((sims - mean) / (top - mean), 0.0, 1.0)

    def pair_sims(self, owned: np.ndarray, candidates: np.ndarray) -> np.ndarray:
        """(len(owned), len(candidates)) cosines, for "because you bought X" evidence."""
        return self.vectors[owned] @ self.vectors[candidates].T

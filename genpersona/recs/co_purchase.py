"""Item-to-item co-purchase ("customers who bought X also bought Y"), the Amazon classic.

Similarity is computed once at fit time over a binary buyers x items matrix and
only the top-N neighbours of each item are kept, as a sparse CSR table. Scoring a
customer is then a weighted sum of the neighbour rows of the items they own,
which costs O(items owned x N) and never touches the other customers.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import sparse

from genpersona.errors import RecsInputError


@dataclass
class NeighbourTable:
    """Row i holds item i's top-N partners j with sim(i -> j), CSR layout."""

    indptr: np.ndarray  # (n_items + 1,) int64
    indices: np.ndarray  # int32 partner item index
    sims: np.ndarray  # float32 similarity

    @property
    def n_items(self) -> int:
        return len(self.indptr) - 1

    def gather(self, items: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """All (source position, partner, sim) triples of the given items' neighbour rows."""
        starts = self.indptr[items]
        lengths = self.indptr[items + 1] - starts
        total = int(lengths.sum())
        if total == 0:
            empty = np.array([], np.int64)
            return empty, empty, np.array([], np.float32)
        src = np.repeat(np.arange(len(items)), lengths)
        offsets = np.arange(total) - np.repeat(np.cumsum(lengths) - lengths, lengths)
        flat = np.repeat(starts, lengths) + offsets
        return src, self.indices[flat], self.sims[flat]

    def score(self, items: np.ndarray, weights: np.ndarray) -> np.ndarray:
        """Sum_j w_j * sim(j -> candidate) for every candidate item (dense vector)."""
        src, partner, sim = self.gather(items)
        return np.bincount(partner, weights=sim * weights[src], minlength=self.n_items)

    def to_arrays(self, prefix: str) -> dict[str, np.ndarray]:
        return {
            f"{prefix}_indptr": self.indptr,
            f"{prefix}_indices": self.indices,
            f"{prefix}_sims": self.sims,
        }

    @classmethod
    def from_arrays(cls, arrays: dict[str, np.ndarray], prefix: str) -> NeighbourTable:
        return cls(
            arrays[f"{prefix}_indptr"], arrays[f"{prefix}_indices"], arrays[f"{prefix}_sims"]
        )


def top_n_rows(sim: sparse.csr_matrix, n: int) -> NeighbourTable:
    """Keep each row's n largest positive entries (ties broken by lower item index)."""
    sim = sim.tocsr()
    sim.eliminate_zeros()
    n_items = sim.shape[0]
    indptr = [0]
    idx_parts: list[np.ndarray] = []
    sim_parts: list[np.ndarray] = []
    for row in range(n_items):
        lo, hi = sim.indptr[row], sim.indptr[row + 1]
        cols, vals = sim.indices[lo:hi], sim.data[lo:hi]
        keep = vals > 0
        cols, vals = cols[keep], vals[keep]
        if len(vals) > n:
            order = np.lexsort((cols, -vals))[:n]
            cols, vals = cols[order], vals[order]
        idx_parts.append(cols.astype(np.int32))
        sim_parts.append(vals.astype(np.float32))
        indptr.append(indptr[-1] + len(cols))
    return NeighbourTable(
        indptr=np.asarray(indptr, np.int64),
        indices=np.concatenate(idx_parts) if idx_parts else np.array([], np.int32),
        sims=np.concatenate(sim_parts) if sim_parts else np.array([], np.float32),
    )


def co_purchase_table(
    buyers: sparse.csr_matrix, *, neighbours: int, alpha: float, min_count: int
) -> NeighbourTable:
    """Asymmetric cosine over co-buyers: sim(i -> j) = c_ij / (n_i^alpha * n_j^(1 - alpha)).

    With alpha = 0.5 it is the plain cosine of the two items' buyer sets; the
    diagonal (an item with itself) is dropped, since re-buying is not discovery.
    """
    b = buyers.tocsc().astype(np.float32)
    counts = np.asarray(b.sum(axis=0)).ravel()  # (decay-weighted) buyers per item
    co = (b.T @ b).tocsr()
    co.setdiag(0)
    co.eliminate_zeros()
    if min_count > 1:
        co.data[co.data < min_count] = 0
        co.eliminate_zeros()
    safe = np.maximum(counts, 1.0)
    coo = co.tocoo()
    vals = coo.data / (safe[coo.row] ** alpha * safe[coo.col] ** (1.0 - alpha))
    sim = sparse.csr_matrix((vals.astype(np.float32), (coo.row, coo.col)), shape=co.shape)
    return top_n_rows(sim, neighbours)


#: Above this catalog size the dense item x item inverse of "ease" stops being cheap.
EASE_MAX_ITEMS = 12_000


def ease_table(buyers: sparse.csr_matrix, *, neighbours: int, lam: float) -> NeighbourTable:
    """EASE item-to-item weights: B = I - P / diag(P) with P = (X'X + lam I)^-1, diag(B) = 0.

    Each column of B is the ridge regression of one item's buyers on all other
    items' buyers, so a partner bought by everyone gets little weight and a
    specific partner (same range, same set) gets a lot. Dense in items, which is
    fine for catalogs of a few thousand products (~2 s at 4k items).
    """
    n_items = buyers.shape[1]
    if n_items > EASE_MAX_ITEMS:
        raise RecsInputError(
            f"co_purchase_model='ease' needs a dense {n_items}x{n_items} inverse",
            fix=f"use co_purchase_model='cosine' for catalogs above {EASE_MAX_ITEMS} items",
            n_items=n_items,
        )
    x = buyers.astype(np.float64)
    gram = (x.T @ x).toarray()
    gram[np.diag_indices(n_items)] += lam
    inv = np.linalg.inv(gram)
    weights = -inv / np.diag(inv)
    np.fill_diagonal(weights, 0.0)
    # Row i of the table must hold sim(i -> j) = how much owning i predicts j: B[i, j].
    return top_n_rows(sparse.csr_matrix(weights.astype(np.float32)), neighbours)

"""An in-process vector store for unit tests: same interface, numpy inside."""

from __future__ import annotations

from typing import Any

import numpy as np

from genpersona.vectors.base import Fetched, Metadata, QueryHit, VectorStore


def _matches(meta: Metadata, where: dict[str, Any] | None) -> bool:
    if not where:
        return True
    if "$and" in where:
        return all(_matches(meta, w) for w in where["$and"])
    for key, cond in where.items():
        if isinstance(cond, dict):
            if "$eq" in cond and meta.get(key) != cond["$eq"]:
                return False
            if "$in" in cond and meta.get(key) not in cond["$in"]:
                return False
            if "$ne" in cond and meta.get(key) == cond["$ne"]:
                return False
        elif meta.get(key) != cond:
            return False
    return True


class InMemoryVectorStore(VectorStore):
    name = "memory"

    def __init__(self) -> None:
        self._data: dict[str, dict[str, tuple[np.ndarray, Metadata]]] = {}

    def upsert(self, collection, ids, vectors, metadatas=None):
        col = self._data.setdefault(collection, {})
        metadatas = metadatas or [{} for _ in ids]
        for i, id_ in enumerate(ids):
            col[id_] = (np.asarray(vectors[i], dtype=np.float32), dict(metadatas[i]))

    def get(self, collection, ids, *, metadata=True):
        col = self._data.get(collection, {})
        found = [i for i in ids if i in col]
        dim = next(iter(col.values()))[0].shape[0] if col else 0
        vecs = np.stack([col[i][0] for i in found]) if found else np.zeros((0, dim), np.float32)
        metas = [col[i][1] if metadata else {} for i in found]
        return Fetched(ids=found, vectors=vecs, metadatas=metas)

    def query(self, collection, vector, k=10, where=None, ids=None):
        col = self._data.get(collection, {})
        allowed = None if ids is None else set(ids)
        items = [
            (i, v, m)
            for i, (v, m) in col.items()
            if _matches(m, where) and (allowed is None or i in allowed)
        ]
        if not items:
            return []
        mat = np.stack([v for _, v, _ in items])
        sims = mat @ np.asarray(vector, dtype=np.float32)
        order = np.argsort(-sims)[:k]
        return [QueryHit(id=items[j][0], score=float(sims[j]), metadata=items[j][2]) for j in order]

    def delete(self, collection, ids=None, where=None):
        col = self._data.get(collection, {})
        for id_ in list(col):
            if (ids is not None and id_ in ids) or (ids is None and _matches(col[id_][1], where)):
                del col[id_]

    def ids(self, collection):
        return list(self._data.get(collection, {}))

    def count(self, collection):
        return len(self._data.get(collection, {}))

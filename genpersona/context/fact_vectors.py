"""Memory-fact vectors, fetched by id from the vector store and remembered by text digest.

A fact's vector is the embedding of its text, and behaviour facts repeat across
customers ("Orders mostly in November": 21,968 demo facts have 10,094 distinct
texts), so a vector fetched for one customer serves every customer with the same
fact. The cache is keyed by (store and embedder, sha256 of the text): it never holds a
customer's words, so erasing a customer leaves none of their text in it. On a
miss the vector comes from the store by id (never re-embedded: no model time).
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence

import numpy as np
from cachetools import LRUCache

from genpersona.embeddings.caching import text_digest
from genpersona.vectors.base import MEMORY, VectorStore

#: ~30 MB of float32 MiniLM vectors; enough for every distinct fact of the demo brand
DEFAULT_SIZE = 20_000


class FactVectorCache:
    """Bounded LRU (``cachetools``) of fact vectors keyed by (namespace, text digest); the namespace names
    the vector store and the embedder, so two stores or models never share entries."""

    def __init__(self, size: int = DEFAULT_SIZE) -> None:
        self._data: LRUCache[tuple[str, bytes], np.ndarray] = LRUCache(maxsize=size)
        self._size = size
        self._lock = threading.Lock()
        self._warmed: set[object] = set()
        self.hits = 0
        self.misses = 0

    def vectors(
        self,
        store: VectorStore,
        namespace: str,
        vector_ids: Sequence[str],
        texts: Sequence[str],
    ) -> tuple[list[int], np.ndarray]:
        """(positions found, their vectors): cached ones, plus one store ``get`` for the rest.

        A fact whose vector is missing from the store (not indexed yet) is left out,
        exactly as a plain ``get`` would leave it out.
        """
        keys = [(namespace, text_digest(t)) for t in texts]
        found: dict[int, np.ndarray] = {}
        with self._lock:
            for pos, key in enumerate(keys):
                vec = self._data.get(key)
                if vec is not None:
                    found[pos] = vec
            self.hits += len(found)
        missing = [pos for pos in range(len(keys)) if pos not in found]
        if missing:
            fetched = store.get(MEMORY, [vector_ids[pos] for pos in missing], metadata=False)
            by_id = dict(zip(fetched.ids, fetched.vectors, strict=True))
            with self._lock:
                self.misses += len(missing)
                for pos in missing:
                    vec = by_id.get(vector_ids[pos])
                    if vec is None:
                        continue
                    found[pos] = vec
                    self._data[keys[pos]] = vec
        order = sorted(found)
        if not order:
            return [], np.zeros((0, 0), np.float32)
        return order, np.stack([found[pos] for pos in order])

    def warm(
        self,
        store: VectorStore,
        namespace: str,
        key: object,
        pairs: Callable[[int], Sequence[tuple[str, str]]],
        limit: int,
        chunk: int = 1000,
    ) -> int:
        """Once per ``key`` (a brand in a store): bulk-load ``pairs(limit)`` — (vector id, text)
        of the most common texts first — so later requests hit instead of reading the store.

        The texts are only hashed, never kept. Returns how many vectors were loaded.
        """
        with self._lock:
            if key in self._warmed:
                return 0
            self._warmed.add(key)
        todo = list(pairs(min(limit, self._size)))
        counts = (self.hits, self.misses)
        loaded = 0
        for start in range(0, len(todo), chunk):
            part = todo[start : start + chunk]
            ids = [p[0] for p in part]
            positions, _ = self.vectors(store, namespace, ids, [p[1] for p in part])
            loaded += len(positions)
        with self._lock:  # warming is not traffic: keep hit/miss counts about requests
            self.hits, self.misses = counts
        return loaded

    def forget(self, texts: Sequence[str]) -> int:
        """Drop the vectors of these texts (every namespace): an erased customer's fact
        vectors leave this process's memory too. Returns how many entries went."""
        digests = {text_digest(t) for t in texts}
        with self._lock:
            keys = [k for k in self._data if k[1] in digests]
            for k in keys:
                del self._data[k]
        return len(keys)

    def clear(self) -> None:
        with self._lock:
            self._data.clear()
            self._warmed.clear()
            self.hits = self.misses = 0

    def __len__(self) -> int:
        return len(self._data)


FACT_VECTORS = FactVectorCache()

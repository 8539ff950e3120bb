"""One text -> vector cache, wrapped around any embedder.

Campaign briefs, fact texts and candidate copy repeat across thousands of
customers, and an embedding depends only on (embedder, text), so a vector once
computed can be reused until the process ends: nothing a re-ingest changes can
make it stale. Entries are keyed by the SHA-256 digest of the text, so the cache
never holds a customer's words (erasing a customer leaves none of their text here).
"""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Sequence

import numpy as np
from cachetools import LRUCache

from genpersona.embeddings.base import Embedder

#: ~6 MB of float32 MiniLM vectors
DEFAULT_SIZE = 4096


def text_digest(text: str) -> bytes:
    return hashlib.sha256(text.encode()).digest()


class CachingEmbedder(Embedder):
    """``inner`` with a bounded LRU in front; misses of one call are embedded in one batch.
    ``maxsize`` 0 keeps nothing (``GENPERSONA_EMBED_CACHE_SIZE=0``): every call embeds
    its distinct texts."""

    def __init__(self, inner: Embedder, maxsize: int = DEFAULT_SIZE) -> None:
        self.inner = inner
        self.name = inner.name
        self.dim = inner.dim
        self.maxsize = maxsize
        self._cache: LRUCache[bytes, np.ndarray] = LRUCache(maxsize=max(1, maxsize))
        self._lock = threading.Lock()
        self.hits = 0
        self.misses = 0

    def lookup(self, texts: Sequence[str]) -> dict[int, np.ndarray]:
        """Positions of ``texts`` already cached, with their vectors (no embedding)."""
        found: dict[int, np.ndarray] = {}
        with self._lock:
            for pos, text in enumerate(texts):
                vec = self._cache.get(text_digest(text))
                if vec is not None:
                    found[pos] = vec
        return found

    def remember(self, texts: Sequence[str], vectors: np.ndarray | Sequence[np.ndarray]) -> None:
        """Store vectors computed elsewhere (e.g. read back from the vector store)."""
        if self.maxsize == 0:
            return
        with self._lock:
            for text, vec in zip(texts, vectors, strict=True):
                self._cache[text_digest(text)] = vec

    def embed(self, texts: list[str]) -> np.ndarray:
        found = self.lookup(texts)
        missing = list(dict.fromkeys(t for pos, t in enumerate(texts) if pos not in found))
        fresh: dict[str, np.ndarray] = {}
        if missing:
            fresh = dict(zip(missing, self.inner.embed(missing), strict=True))
            self.remember(missing, list(fresh.values()))
        with self._lock:
            self.hits += len(found)
            self.misses += len(texts) - len(found)
        if not texts:
            return np.zeros((0, self.dim), np.float32)
        return np.stack([found[pos] if pos in found else fresh[t] for pos, t in enumerate(texts)])

    def clear(self) -> None:
        with self._lock:
            self._cache.clear()
            self.hits = self.misses = 0

    def __len__(self) -> int:
        return len(self._cache)

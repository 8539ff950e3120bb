"""One text -> vector cache, wrapped around any embedder.

Campaign briefs, fact texts and candidate copy repeat across thousands of
customers, and an embedding depends only on (embedder, text), so a vector once
computed can be reused until the process ends: nothing a re-ingest changes can
make it stale. Entries are keyed by the SHA-256 digest of the text, so the cache
never holds a customer's words (erasing a customer leaves none of their text here).

A text that several threads miss at once is embedded once: the first claims it, the others
wait for its vector. A campaign starts 64 customers at once with one brief, and each of
them used to embed that brief itself before any had stored it.
"""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Sequence
from concurrent.futures import Future

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
        #: texts being embedded by some thread right now (digest -> its vector, when done)
        self._inflight: dict[bytes, Future[np.ndarray]] = {}
        self.hits = 0
        self.misses = 0

    @property
    def space(self) -> str:
        return self.inner.space

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
        mine, theirs = self._claim(missing)
        fresh: dict[str, np.ndarray] = {}
        if mine:
            fresh = self._embed_claimed(mine)
        for text, pending in theirs.items():  # embedded by another thread meanwhile
            fresh[text] = pending.result()
        with self._lock:
            self.hits += len(found)
            self.misses += len(texts) - len(found)
        if not texts:
            return np.zeros((0, self.dim), np.float32)
        return np.stack([found[pos] if pos in found else fresh[t] for pos, t in enumerate(texts)])

    def _claim(self, missing: list[str]) -> tuple[list[str], dict[str, Future[np.ndarray]]]:
        """(texts this call embeds, texts another thread is embedding now -> their result)."""
        mine: list[str] = []
        theirs: dict[str, Future[np.ndarray]] = {}
        with self._lock:
            for text in missing:
                key = text_digest(text)
                pending = self._inflight.get(key)
                if pending is not None:
                    theirs[text] = pending
                else:
                    self._inflight[key] = Future()
                    mine.append(text)
        return mine, theirs

    def _embed_claimed(self, mine: list[str]) -> dict[str, np.ndarray]:
        """Embed the claimed texts in one batch; whoever waits on them gets the vectors, or
        the same exception, and the claims are released either way."""
        keys = [text_digest(t) for t in mine]
        with self._lock:
            waiting = [self._inflight[k] for k in keys]
        try:
            fresh = dict(zip(mine, self.inner.embed(mine), strict=True))
        except BaseException as exc:
            for pending in waiting:
                pending.set_exception(exc)
            raise
        else:
            self.remember(mine, list(fresh.values()))
            for pending, text in zip(waiting, mine, strict=True):
                pending.set_result(fresh[text])
            return fresh
        finally:
            with self._lock:
                for k in keys:
                    self._inflight.pop(k, None)

    def clear(self) -> None:
        with self._lock:
            self._cache.clear()
            self.hits = self.misses = 0

    def __len__(self) -> int:
        return len(self._cache)

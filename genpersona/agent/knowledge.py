"""The brand's own knowledge (FAQ / policy entries of its guide), retrieved for chat answers.

Entries are embedded into the KNOWLEDGE collection as ``kb:{brand}:{i}`` with
metadata ``{brand, version}``. Indexing is lazy and keyed by the guide's
version: the first question after a guide edit re-indexes that brand, every
other question costs one embedding and one filtered query.
"""

from __future__ import annotations

import threading
import weakref

import numpy as np

from genpersona.brands.guide import BrandGuide, KnowledgeEntry
from genpersona.embeddings.base import Embedder
from genpersona.vectors.base import KNOWLEDGE, VectorStore

# store -> {brand: indexed guide version}; weak so a discarded store's entry goes with it
_INDEXED: weakref.WeakKeyDictionary[VectorStore, dict[str, str]] = weakref.WeakKeyDictionary()
_LOCK = threading.Lock()


def entry_text(entry: KnowledgeEntry) -> str:
    return f"{entry.question} {entry.answer}"


def ensure_indexed(guide: BrandGuide, embedder: Embedder, store: VectorStore) -> int:
    """Index the guide's knowledge if this store does not hold this version yet."""
    with _LOCK:
        done = _INDEXED.setdefault(store, {})
        if done.get(guide.id) == guide.version:
            return len(guide.knowledge)
        ids = [f"kb:{guide.id}:{i}" for i in range(len(guide.knowledge))]
        current = store.get(KNOWLEDGE, ids[:1]) if ids else None
        up_to_date = (
            current is not None
            and current.ids
            and current.metadatas[0].get("version") == guide.version
            and current.metadatas[0].get("n") == len(ids)
        )
        if not up_to_date:
            store.delete(KNOWLEDGE, where={"brand": guide.id})
            if ids:
                vectors = embedder.embed([entry_text(e) for e in guide.knowledge])
                metas: list[dict[str, str | int | float | bool]] = [
                    {"brand": guide.id, "version": guide.version, "n": len(ids)} for _ in ids
                ]
                store.upsert(KNOWLEDGE, ids, vectors, metas)
        done[guide.id] = guide.version
        return len(ids)


def retrieve_scored(
    guide: BrandGuide,
    query: str,
    embedder: Embedder,
    store: VectorStore,
    *,
    k: int = 3,
    min_score: float = 0.2,
    query_vector: np.ndarray | None = None,
) -> list[tuple[int, KnowledgeEntry, float]]:
    """(index in the guide, entry, similarity) for the k closest entries, best first."""
    if not guide.knowledge or not query.strip():
        return []
    ensure_indexed(guide, embedder, store)
    vector = query_vector if query_vector is not None else embedder.embed_one(query)
    hits = store.query(KNOWLEDGE, vector, k=k, where={"brand": guide.id})
    out: list[tuple[int, KnowledgeEntry, float]] = []
    for hit in hits:
        if hit.score < min_score:
            continue
        try:
            index = int(hit.id.rsplit(":", 1)[1])
        except (IndexError, ValueError):
            continue
        if 0 <= index < len(guide.knowledge):
            out.append((index, guide.knowledge[index], float(hit.score)))
    return out


def retrieve(
    guide: BrandGuide,
    query: str,
    embedder: Embedder,
    store: VectorStore,
    *,
    k: int = 3,
    min_score: float = 0.2,
    query_vector: np.ndarray | None = None,
) -> list[KnowledgeEntry]:
    """The k entries closest to the question, best first; weak matches are dropped."""
    hits = retrieve_scored(
        guide, query, embedder, store, k=k, min_score=min_score, query_vector=query_vector
    )
    return [entry for _, entry, _ in hits]

"""The brand's own knowledge (FAQ / policy entries of its guide), retrieved for chat answers.

Each entry is embedded into the KNOWLEDGE collection as ``kb:{brand}:{i}`` (question
and answer) and each of its phrasings (the question and the brand's ``also_asked``
paraphrases) as ``kb:{brand}:{i}:{j}``, with metadata ``{brand, version, n}``; an
entry's similarity is that of its closest vector. Indexing is lazy and keyed by the guide's
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


def index_items(guide: BrandGuide) -> tuple[list[str], list[str]]:
    """(vector ids, texts) of a guide's knowledge: the entry, then each phrasing."""
    ids: list[str] = []
    texts: list[str] = []
    for i, entry in enumerate(guide.knowledge):
        ids.append(f"kb:{guide.id}:{i}")
        texts.append(entry_text(entry))
        for j, phrasing in enumerate(entry.phrasings):
            ids.append(f"kb:{guide.id}:{i}:{j}")
            texts.append(phrasing)
    return ids, texts


def ensure_indexed(guide: BrandGuide, embedder: Embedder, store: VectorStore) -> int:
    """Index the guide's knowledge if this store does not hold this version yet."""
    with _LOCK:
        done = _INDEXED.setdefault(store, {})
        if done.get(guide.id) == guide.version:
            return len(guide.knowledge)
        ids, texts = index_items(guide)
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
                vectors = embedder.embed(texts)
                metas: list[dict[str, str | int | float | bool]] = [
                    {"brand": guide.id, "version": guide.version, "n": len(ids)} for _ in ids
                ]
                store.upsert(KNOWLEDGE, ids, vectors, metas)
        done[guide.id] = guide.version
        return len(guide.knowledge)


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
    """(index in the guide, entry, similarity) for the k closest entries, best first; an
    entry's similarity is that of its closest vector (the entry or one of its phrasings)."""
    if not guide.knowledge or not query.strip():
        return []
    ensure_indexed(guide, embedder, store)
    vector = query_vector if query_vector is not None else embedder.embed_one(query)
    per_entry = 2 + max(len(e.also_asked) for e in guide.knowledge)
    hits = store.query(KNOWLEDGE, vector, k=k * per_entry, where={"brand": guide.id})
    best: dict[int, float] = {}
    for hit in hits:
        try:
            index = int(hit.id.split(":")[2])
        except (IndexError, ValueError):
            continue
        if 0 <= index < len(guide.knowledge) and hit.score > best.get(index, -1.0):
            best[index] = float(hit.score)
    ranked = sorted(best.items(), key=lambda kv: -kv[1])
    return [(i, guide.knowledge[i], s) for i, s in ranked if s >= min_score][:k]


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

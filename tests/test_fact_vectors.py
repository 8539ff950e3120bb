"""Memory-fact vectors cached by text digest: shared across customers, never holding text."""

from __future__ import annotations

import numpy as np

from genpersona.context.fact_vectors import FactVectorCache
from genpersona.vectors.base import MEMORY
from genpersona.vectors.memory import InMemoryVectorStore


class CountingStore(InMemoryVectorStore):
    def __init__(self) -> None:
        super().__init__()
        self.gets: list[list[str]] = []

    def get(self, collection, ids, *, metadata=True):  # type: ignore[no-untyped-def, override]
        self.gets.append(list(ids))
        return super().get(collection, ids, metadata=metadata)


def _store() -> CountingStore:
    store = CountingStore()
    vecs = np.eye(4, dtype=np.float32)
    metas = [{"brand": "b", "customer_id": c} for c in ("1", "1", "2", "2")]
    store.upsert(MEMORY, ["mem:1", "mem:2", "mem:3", "mem:4"], vecs, metas)
    return store


def test_same_text_for_another_customer_is_a_hit_without_a_store_call() -> None:
    store, cache = _store(), FactVectorCache()
    pos, vecs = cache.vectors(store, "ns", ["mem:1", "mem:2"], ["Orders in November", "Likes tea"])
    assert pos == [0, 1] and vecs.shape == (2, 4)
    pos, vecs = cache.vectors(store, "ns", ["mem:3"], ["Orders in November"])
    assert pos == [0]
    np.testing.assert_array_equal(vecs[0], np.eye(4, dtype=np.float32)[0])  # the cached vector
    assert store.gets == [["mem:1", "mem:2"]]
    assert (cache.hits, cache.misses) == (1, 2)


def test_only_misses_are_fetched_and_missing_vectors_are_left_out() -> None:
    store, cache = _store(), FactVectorCache()
    cache.vectors(store, "ns", ["mem:1"], ["a"])
    pos, vecs = cache.vectors(store, "ns", ["mem:1", "mem:99", "mem:4"], ["a", "b", "c"])
    assert store.gets[-1] == ["mem:99", "mem:4"]
    assert pos == [0, 2] and vecs.shape == (2, 4)


def test_namespaces_do_not_share_entries_and_no_text_is_kept() -> None:
    store, cache = _store(), FactVectorCache()
    cache.vectors(store, "store-a|minilm", ["mem:1"], ["MARKER private fact"])
    cache.vectors(store, "store-b|minilm", ["mem:2"], ["MARKER private fact"])
    assert len(store.gets) == 2
    assert all(b"MARKER" not in key[1] for key in cache._data)
    assert all(isinstance(key[1], bytes) and len(key[1]) == 32 for key in cache._data)


def test_the_cache_is_bounded() -> None:
    store, cache = _store(), FactVectorCache(size=2)
    cache.vectors(store, "ns", ["mem:1", "mem:2", "mem:3"], ["a", "b", "c"])
    assert len(cache) == 2


def test_get_without_metadata_returns_empty_metadata() -> None:
    fetched = _store().get(MEMORY, ["mem:2", "mem:1"], metadata=False)
    assert fetched.ids == ["mem:2", "mem:1"] and fetched.metadatas == [{}, {}]


def test_chroma_get_without_metadata_keeps_order_and_vectors(tmp_path) -> None:  # type: ignore[no-untyped-def]
    from genpersona.vectors.chroma import ChromaVectorStore

    store = ChromaVectorStore(path=str(tmp_path / "chroma"))
    vecs = np.eye(4, dtype=np.float32)
    store.upsert(MEMORY, ["mem:1", "mem:2"], vecs[:2], [{"customer_id": "1"}] * 2)
    fetched = store.get(MEMORY, ["mem:2", "mem:9", "mem:1"], metadata=False)
    assert fetched.ids == ["mem:2", "mem:1"] and fetched.metadatas == [{}, {}]
    np.testing.assert_allclose(fetched.vectors, vecs[[1, 0]])
    assert store.get(MEMORY, ["mem:1"]).metadatas == [{"customer_id": "1"}]

"""Chroma behind the VectorStore interface: embedded PersistentClient or a server by URL.

Collections use cosine space; we pass our own embeddings (Chroma never embeds
text for us, so no model is ever downloaded by it) and store no documents.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlparse

import numpy as np

from genpersona.errors import VectorStoreError
from genpersona.vectors.base import Fetched, QueryHit, VectorStore

_BATCH = 5000  # Chroma rejects very large single upserts


class ChromaVectorStore(VectorStore):
    name = "chroma"

    def __init__(self, *, path: str | None = None, url: str | None = None) -> None:
        # lazy: chromadb takes ~1 s to import; processes on the in-memory store never need it
        import chromadb
        from chromadb.config import Settings as ChromaSettings

        chroma_settings = ChromaSettings(anonymized_telemetry=False, allow_reset=False)
        self.location = url or path or ""
        try:
            if url:
                parsed = urlparse(url)
                self._client = chromadb.HttpClient(
                    host=parsed.hostname or "127.0.0.1",
                    port=parsed.port or 8000,
                    ssl=parsed.scheme == "https",
                    settings=chroma_settings,
                )
                self._client.heartbeat()
            else:
                self._client = chromadb.PersistentClient(path=str(path), settings=chroma_settings)
        except Exception as exc:
            raise VectorStoreError(
                f"cannot open the Chroma vector store at {self.location}: {exc}",
                fix="start the Chroma server (`chroma run --path DIR`) or unset GENPERSONA_CHROMA_URL "
                "to use the embedded store",
                location=self.location,
            ) from exc
        self._collections: dict[str, Any] = {}

    def _col(self, name: str) -> Any:
        if name not in self._collections:
            self._collections[name] = self._client.get_or_create_collection(
                name, metadata={"hnsw:space": "cosine"}, embedding_function=None
            )
        return self._collections[name]

    def upsert(self, collection, ids, vectors, metadatas=None):
        if not ids:
            return
        vectors = np.asarray(vectors, dtype=np.float32)
        col = self._col(collection)
        for start in range(0, len(ids), _BATCH):
            end = start + _BATCH
            col.upsert(
                ids=list(ids[start:end]),
                embeddings=vectors[start:end],
                metadatas=[m or {"_": 0} for m in metadatas[start:end]] if metadatas else None,
            )

    def get(self, collection, ids, *, metadata=True):
        if not ids:
            return Fetched(ids=[], vectors=np.zeros((0, 0), np.float32), metadatas=[])
        include = ["embeddings", "metadatas"] if metadata else ["embeddings"]
        res = self._col(collection).get(ids=list(ids), include=include)
        metas = res["metadatas"] if metadata else [{}] * len(res["ids"])
        by_id = {i: (e, m) for i, e, m in zip(res["ids"], res["embeddings"], metas, strict=True)}
        found = [i for i in ids if i in by_id]
        vecs = (
            np.asarray([by_id[i][0] for i in found], dtype=np.float32)
            if found
            else np.zeros((0, 0), np.float32)
        )
        return Fetched(ids=found, vectors=vecs, metadatas=[by_id[i][1] or {} for i in found])

    def query(self, collection, vector, k=10, where=None):
        col = self._col(collection)
        n = col.count()
        if n == 0:
            return []
        res = col.query(
            query_embeddings=[np.asarray(vector, dtype=np.float32)],
            n_results=min(k, n),
            where=where or None,
            include=["distances", "metadatas"],
        )
        return [
            QueryHit(id=i, score=1.0 - float(d), metadata=m or {})
            for i, d, m in zip(res["ids"][0], res["distances"][0], res["metadatas"][0], strict=True)
        ]

    def delete(self, collection, ids=None, where=None):
        if ids is not None and not ids:
            return
        col = self._col(collection)
        if ids is not None:
            for start in range(0, len(ids), _BATCH):
                col.delete(ids=list(ids[start : start + _BATCH]))
        elif where:
            col.delete(where=where)

    def count(self, collection):
        return self._col(collection).count()

    def list_collections(self) -> list[str]:
        return [c.name for c in self._client.list_collections()]

    def health(self) -> dict[str, Any]:
        import chromadb  # already loaded by __init__; lazy for the same reason

        return {
            "store": "chroma-server" if self.location.startswith("http") else "chroma-embedded",
            "location": self.location,
            "version": chromadb.__version__,
            "heartbeat": self._client.heartbeat(),
            "ok": True,
        }

"""The configured vector store, one per process and location."""

from __future__ import annotations

import threading

from genpersona.settings import Settings, get_settings
from genpersona.vectors.base import VectorStore
from genpersona.vectors.chroma import ChromaVectorStore

_CACHE: dict[str, VectorStore] = {}
_LOCK = threading.Lock()


def get_vector_store(settings: Settings | None = None) -> VectorStore:
    settings = settings or get_settings()
    key = settings.chroma_url or str(settings.chroma_path)
    with _LOCK:
        if key not in _CACHE:
            if settings.chroma_url:
                _CACHE[key] = ChromaVectorStore(url=settings.chroma_url)
            else:
                _CACHE[key] = ChromaVectorStore(path=str(settings.chroma_path))
        return _CACHE[key]


def clear_vector_store_cache() -> None:
    with _LOCK:
        _CACHE.clear()

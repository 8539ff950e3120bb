"""Pick the embedder from settings; cached so the model loads once per process."""

from __future__ import annotations

import threading

from genpersona.embeddings.base import Embedder
from genpersona.embeddings.caching import CachingEmbedder
from genpersona.embeddings.fake import FakeEmbedder
from genpersona.embeddings.minilm import MiniLMEmbedder
from genpersona.embeddings.static import StaticEmbedder
from genpersona.errors import RealModelForbidden
from genpersona.settings import Settings, get_settings, real_models_forbidden

_CACHE: dict[str, Embedder] = {}
_CACHING: dict[str, CachingEmbedder] = {}
_LOCK = threading.Lock()


def get_embedder(name: str | None = None, settings: Settings | None = None) -> Embedder:
    settings = settings or get_settings()
    name = name or settings.embedder
    # checked before the cache: a model cached by an opted-in test stays off-limits to others
    if name != "fake" and real_models_forbidden():
        raise RealModelForbidden(
            "a test tried to load the real MiniLM embedder",
            fix="use FakeEmbedder, or mark the test with @pytest.mark.real_model",
        )
    # MiniLM's runtime is part of the key: a process that changes it gets the other one
    key = name if name in ("fake", "static", "minilm-int8") else f"{name}:{settings.minilm_runtime}"
    with _LOCK:
        if key not in _CACHE:
            if name == "fake":
                _CACHE[key] = FakeEmbedder()
            elif name == "static":
                model_dir = settings.static_embedder_dir or settings.home / "models/static-minilm"
                _CACHE[key] = StaticEmbedder(model_dir)
            elif name == "minilm-int8":  # MiniLM's lines for the classifier, on ONNX Runtime
                _CACHE[key] = MiniLMEmbedder(
                    batch_size=settings.embed_batch_size,
                    runtime="onnx",
                    onnx_dir=settings.home / "models" / "minilm-onnx",
                    int8=True,
                )
            else:
                _CACHE[key] = MiniLMEmbedder(
                    batch_size=settings.embed_batch_size,
                    runtime=settings.minilm_runtime,
                    onnx_dir=settings.home / "models" / "minilm-onnx",
                )
        return _CACHE[key]


def get_caching_embedder(
    name: str | None = None, settings: Settings | None = None
) -> CachingEmbedder:
    """The configured embedder behind the process's one text -> vector cache
    (``embed_cache_size`` texts; 0 = none)."""
    settings = settings or get_settings()
    inner = get_embedder(name, settings)
    key = name or settings.embedder
    size = settings.embed_cache_size
    with _LOCK:
        hit = _CACHING.get(key)
        if hit is None or hit.inner is not inner or hit.maxsize != size:
            hit = _CACHING[key] = CachingEmbedder(inner, maxsize=size)
        return hit


def clear_cached_vectors() -> None:
    """Empty every text -> vector cache, keeping the loaded models."""
    with _LOCK:
        wrappers = list(_CACHING.values())
    for wrapper in wrappers:
        wrapper.clear()


def clear_embedder_cache() -> None:
    with _LOCK:
        _CACHE.clear()
        _CACHING.clear()

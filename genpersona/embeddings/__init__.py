"""Text embedders: MiniLM (real, offline from a PyPI package) and a fake for tests."""

from genpersona.embeddings.base import Embedder
from genpersona.embeddings.caching import CachingEmbedder
from genpersona.embeddings.factory import get_caching_embedder, get_embedder

__all__ = ["CachingEmbedder", "Embedder", "get_caching_embedder", "get_embedder"]

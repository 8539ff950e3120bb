"""Text embedders: MiniLM (real, offline from a PyPI package) and a fake for tests."""

from genpersona.embeddings.base import Embedder
from genpersona.embeddings.factory import get_embedder

__all__ = ["Embedder", "get_embedder"]

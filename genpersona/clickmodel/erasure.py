"""Erasure reaches the click model's embedding cache: ``<home>/learning/embeddings/``.

The cache can hold vectors of a customer's personalised copy (``learn train --outcomes``
embeds the brand's sent texts; ``ClickScorer`` embeds what it scores), keyed by a hash
of the text. Nothing records which entries came from whose copy, and a text that was
never stored as a draft (an outcomes CSV line) cannot be found from the customer's
rows, so deleting "their" entries could miss some. Erase therefore drops the cache
files whole and forgets this process's in-memory copies; other processes' cache
objects see the file gone on their next ``embed`` and reload (``EmbeddingCache``).
The cost is a re-embedding of the training texts on the next ``learn train`` (MiniLM:
about 230 texts/s here); trained models (``learning/clickmodel/``) hold ridge normal
equations summed over all texts, not per-text vectors, and are kept.
"""

from __future__ import annotations

from pathlib import Path

from genpersona.clickmodel.train import _CACHES, embeddings_root
from genpersona.customers.erasure import register_derived_cache

CACHE_NAME = "clickmodel.embeddings"


def drop_embedding_cache(home: Path) -> int:
    """Delete every file of the cache under ``home``; returns how many were removed."""
    root = embeddings_root(home)
    removed = 0
    if root.is_dir():
        for path in sorted(root.iterdir()):
            if path.is_file():
                path.unlink(missing_ok=True)
                removed += 1
    for cache in list(_CACHES.values()):
        if cache.path.parent == root:
            cache.forget()
    return removed


register_derived_cache(CACHE_NAME, drop_embedding_cache)

"""The one small interface for text embedders.

Vectors are float32 and L2-normalized, so cosine similarity is a dot product
and callers can rank with a single matrix multiply in numpy.
"""

from __future__ import annotations

from abc import ABC, abstractmethod

import numpy as np


class Embedder(ABC):
    name: str = "abstract"
    dim: int = 384

    @property
    def space(self) -> str:
        """Whose vector space this embedder's vectors are in: its own, or that of the model
        it approximates (an int8 MiniLM reads lines in MiniLM's space). What was fitted on
        one embedder's vectors (the copy-quality classifier's semantic head) reads any
        embedder of its space; caches and stores keep to ``name``."""
        return self.name

    @abstractmethod
    def embed(self, texts: list[str]) -> np.ndarray:
        """Return an array of shape (len(texts), dim), float32, unit-norm rows."""

    def embed_one(self, text: str) -> np.ndarray:
        return self.embed([text])[0]

    def runtime_version(self) -> str | None:
        """The library that runs the model and its version, for ``genpersona doctor``."""
        return None


def normalize(matrix: np.ndarray) -> np.ndarray:
    matrix = np.asarray(matrix, dtype=np.float32)
    norms = np.linalg.norm(matrix, axis=1, keepdims=True)
    norms[norms == 0] = 1.0
    return matrix / norms

"""The one small interface for vector stores.

Vectors carry ids and minimal metadata (brand, kind, owner id) and never raw
personal text: the relational store holds the words, so erasing a customer
there and deleting their ids here really erases them.
Per-customer retrieval fetches the customer's own vectors by id (``get``) and
ranks them in numpy instead of filtering a big shared collection.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import Any

import numpy as np
from pydantic import BaseModel, ConfigDict

Metadata = dict[str, str | int | float | bool]

# Collection names used across the package.
CATALOG = "catalog"
MEMORY = "memory"
EXEMPLARS = "exemplars"
KNOWLEDGE = "knowledge"


class QueryHit(BaseModel):
    id: str
    score: float  # cosine similarity, higher is closer
    metadata: Metadata = {}


class Fetched(BaseModel):
    model_config = ConfigDict(arbitrary_types_allowed=True)

    ids: list[str]
    vectors: np.ndarray  # shape (len(ids), dim); rows in the order of ``ids``
    metadatas: list[Metadata]


class VectorStore(ABC):
    name: str = "abstract"

    @abstractmethod
    def upsert(
        self,
        collection: str,
        ids: list[str],
        vectors: np.ndarray,
        metadatas: list[Metadata] | None = None,
    ) -> None: ...

    @abstractmethod
    def get(self, collection: str, ids: list[str], *, metadata: bool = True) -> Fetched:
        """Vectors for the ids that exist (missing ids are skipped).

        ``metadata=False`` skips reading metadata (empty dicts instead): on the
        per-request path that read is a third of Chroma's cost of a small ``get``."""

    @abstractmethod
    def query(
        self,
        collection: str,
        vector: np.ndarray,
        k: int = 10,
        where: dict[str, Any] | None = None,
    ) -> list[QueryHit]: ...

    @abstractmethod
    def delete(
        self, collection: str, ids: list[str] | None = None, where: dict[str, Any] | None = None
    ) -> None: ...

    @abstractmethod
    def count(self, collection: str) -> int: ...

    def health(self) -> dict[str, Any]:
        return {"store": self.name, "ok": True}

"""The one small interface for vector stores.

Vectors carry opaque ids and metadata that names no person (brand, kind) and
never raw personal text: the relational store holds the words and maps vector
ids to customers, so a deleted vector is not linkable to anyone. Stores whose
deletes leave bytes behind (Chroma) say so with ``keeps_deleted_bytes`` and
scrub them with ``rebuild`` (copy live vectors to a fresh generation, drop the
old one) and ``scrub_files`` (what the store can do to its own files on disk).
See docs/guides/privacy-erasure.md.
Per-customer retrieval fetches the customer's own vectors by id (``get``) and
ranks them in numpy instead of filtering a big shared collection.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import dataclass
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


class RebuildReport(BaseModel):
    collection: str
    physical: str  # the generation now serving the collection
    kept: int
    dropped: int  # vectors left behind: not live per ``keep``


class ScrubReport(BaseModel):
    #: False for a server by URL: its disk is not ours to touch (the operator's runbook is in
    #: docs/guides/privacy-erasure.md)
    done: bool
    removed_dirs: int = 0
    vacuumed: bool = False
    note: str = ""


#: ``rebuild(keep=...)``: given a batch of ids, the ones to keep
KeepFilter = Callable[[list[str]], set[str]]


@dataclass(frozen=True)
class RebuildSpec:
    """One collection for ``rebuild_many``: the same arguments as ``rebuild``."""

    collection: str
    keep: KeepFilter | None = None
    metadata_keys: frozenset[str] | None = None


class VectorStore(ABC):
    name: str = "abstract"
    #: a delete leaves the vector's bytes (or its metadata) in the store's files until ``rebuild``
    keeps_deleted_bytes: bool = False
    #: ``scrub_files`` can reach every file of the store (embedded); False for a remote server
    owns_files: bool = True

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
        ids: list[str] | None = None,
    ) -> list[QueryHit]:
        """Nearest neighbours; ``ids`` restricts the search to those ids."""

    @abstractmethod
    def delete(
        self, collection: str, ids: list[str] | None = None, where: dict[str, Any] | None = None
    ) -> None: ...

    @abstractmethod
    def count(self, collection: str) -> int: ...

    def rebuild(
        self,
        collection: str,
        *,
        keep: KeepFilter | None = None,
        metadata_keys: frozenset[str] | None = None,
    ) -> RebuildReport:
        """Rewrite ``collection`` from its live vectors so deleted ones leave no bytes behind.

        ``keep`` drops ids the caller knows are dead (orphans of a crash); ``metadata_keys``
        strips every other metadata key (the migration away from customer ids in metadata).
        A store without leftovers only applies the two filters."""
        fetched = self.get(collection, self.ids(collection))
        live = set(fetched.ids) if keep is None else keep(list(fetched.ids))
        rows = [i for i, id_ in enumerate(fetched.ids) if id_ in live]
        dead = [id_ for id_ in fetched.ids if id_ not in live]
        self.delete(collection, ids=dead)
        if rows:
            metas = [_strip(fetched.metadatas[i], metadata_keys) for i in rows]
            self.upsert(collection, [fetched.ids[i] for i in rows], fetched.vectors[rows], metas)
        return RebuildReport(
            collection=collection, physical=collection, kept=len(rows), dropped=len(dead)
        )

    def rebuild_many(self, specs: list[RebuildSpec]) -> list[RebuildReport]:
        """``rebuild`` each collection; a store may do them all in one job (embedded Chroma
        runs them in one clean child process)."""
        return [
            self.rebuild(s.collection, keep=s.keep, metadata_keys=s.metadata_keys) for s in specs
        ]

    def unclean_collections(self) -> list[str]:
        """Collections whose files an ordinary process wrote when it created them (so they
        may hold bytes of its heap): compaction rebuilds each once (see ``clean_child``).
        A store whose files are not written from a process's raw memory has none."""
        return []

    @abstractmethod
    def ids(self, collection: str) -> list[str]:
        """Every live id of the collection."""

    def scrub_files(self) -> ScrubReport:
        """Make the store's files hold nothing deleted (after ``rebuild``)."""
        return ScrubReport(done=True, note="nothing on disk")

    def health(self) -> dict[str, Any]:
        return {"store": self.name, "ok": True}


def _strip(meta: Metadata, keys: frozenset[str] | None) -> Metadata:
    return dict(meta) if keys is None else {k: v for k, v in meta.items() if k in keys}

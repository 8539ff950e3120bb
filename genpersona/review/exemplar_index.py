"""An in-process copy of one brand's and kind's exemplars, checked against SQL on every use.

Exemplar retrieval runs on every generation request, and most of its cost was
fixed per call (a filtered vector-store query, then the rows). Exemplars of one
brand and kind are few (every one is a reviewer's decision), so each process
keeps their vectors and rows and ranks them with one dot product. Freshness is
checked with one aggregate query per call: the (count, max id, newest
created_at) of the brand's and kind's rows changes whenever a row is added or
erased, so an erased exemplar is never served, even from another process's
decision. Sets larger than ``MAX_CACHED`` use the vector store's own query.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from sqlalchemy import Connection, Engine, bindparam, case, func, select
from sqlalchemy.orm import Session

from genpersona.db.fast_read import FAST_READER
from genpersona.review.tables import ExemplarRow
from genpersona.vectors.base import EXEMPLARS, VectorStore

MAX_CACHED = 20_000

Version = tuple[int, int, Any, int]  # (rows, max id, newest created_at, not yet embedded)


def vector_id(exemplar_id: int) -> str:
    return f"ex:{exemplar_id}"


_VERSION_SQL = select(
    func.count(ExemplarRow.id),
    func.max(ExemplarRow.id),
    func.max(ExemplarRow.created_at),
    func.coalesce(func.sum(case((ExemplarRow.embedded.is_(False), 1), else_=0)), 0),
).where(ExemplarRow.brand == bindparam("brand"), ExemplarRow.kind == bindparam("kind"))


def version_of(engine: Engine, brand: str, kind: str) -> Version:
    """One aggregate query (built once: building it cost more than running it), on the
    read fast path: it runs on every request."""
    row = FAST_READER.all(engine, _VERSION_SQL, {"brand": brand, "kind": kind})[0]
    return int(row[0]), int(row[1] or 0), row[2], int(row[3])


@dataclass
class _Entry:
    version: Version
    ids: list[int] = field(default_factory=list)
    vectors: np.ndarray = field(default_factory=lambda: np.zeros((0, 0), np.float32))
    rows: dict[int, ExemplarRow] = field(default_factory=dict)


class ExemplarIndex:
    """Per (namespace, brand, kind): embedded exemplar rows and their vectors."""

    def __init__(self) -> None:
        self._entries: dict[tuple[str, str, str], _Entry] = {}
        self._lock = threading.Lock()
        self.loads = 0

    def search(
        self,
        engine: Engine,
        store: VectorStore,
        namespace: str,
        brand: str,
        kind: str,
        version: Version,
        query: np.ndarray,
        k: int,
    ) -> list[tuple[ExemplarRow, float]]:
        """The k nearest embedded exemplars with their cosine (vectors are unit length)."""
        key = (namespace, brand, kind)
        with self._lock:
            entry = self._entries.get(key)
        if entry is None or entry.version != version:
            with engine.connect() as conn:
                entry = self._load(conn, store, brand, kind, version)
            with self._lock:
                self._entries[key] = entry
        if not entry.ids or entry.vectors.shape[1] != query.shape[0]:
            return []
        sims = entry.vectors @ query
        top = np.argsort(-sims, kind="stable")[:k]
        return [(entry.rows[entry.ids[i]], float(sims[i])) for i in top]

    def _load(
        self, conn: Connection, store: VectorStore, brand: str, kind: str, version: Version
    ) -> _Entry:
        self.loads += 1
        with Session(bind=conn, expire_on_commit=False) as session:
            rows = list(
                session.scalars(
                    select(ExemplarRow).where(
                        ExemplarRow.brand == brand,
                        ExemplarRow.kind == kind,
                        ExemplarRow.embedded.is_(True),
                    )
                )
            )
            session.expunge_all()
        if not rows:
            return _Entry(version)
        by_id = {r.id: r for r in rows}
        fetched = store.get(EXEMPLARS, [vector_id(r.id) for r in rows], metadata=False)
        ids = [int(i.split(":", 1)[1]) for i in fetched.ids]
        return _Entry(version, ids, fetched.vectors, {i: by_id[i] for i in ids})

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()


EXEMPLAR_INDEX = ExemplarIndex()

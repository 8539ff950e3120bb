"""Chroma behind the VectorStore interface: embedded PersistentClient or a server by URL.

Collections use cosine space; we pass our own embeddings (Chroma never embeds
text for us, so no model is ever downloaded by it) and store no documents.

A Chroma delete leaves bytes behind: the HNSW segment files keep deleted vectors
until the index is rebuilt, and a dropped collection's segment directory stays on
disk (even after ``chroma vacuum``). So a logical collection ("memory") is served by
its newest *generation* (``memory``, then ``memory__g1``, ``memory__g2``...):
``rebuild`` copies the live vectors into ``{name}__build{n}``, renames it to
``{name}__g{n}`` when complete, reconciles writes that raced the copy, and drops
the old generation. ``scrub_files`` (embedded only) then removes the segment
directories no collection references and VACUUMs ``chroma.sqlite3``.
"""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import urlparse

import numpy as np
from filelock import FileLock

from genpersona.errors import VectorStoreError
from genpersona.vectors.base import (
    Fetched,
    KeepFilter,
    QueryHit,
    RebuildReport,
    RebuildSpec,
    ScrubReport,
    VectorStore,
    _strip,
)
from genpersona.vectors.chroma_scrub import dirty_in_subprocess, scrub_in_subprocess
from genpersona.vectors.clean_child import run_clean_child

_BATCH = 5000  # Chroma rejects very large single upserts
_REBUILD_CHILD = "genpersona.vectors.chroma_rebuild"
#: a rebuild is Chroma's write throughput over the collection: 100,000 vectors took ~11 min
_REBUILD_TIMEOUT_S = 6 * 3600
T = TypeVar("T")


_SUFFIX = re.compile(r"__(?:g|build)\d+$")


def _sync_threshold(col: Any) -> int | None:
    """The collection's HNSW sync threshold (records between persists), if Chroma says."""
    try:
        return int(col.configuration_json["hnsw"]["sync_threshold"])
    except (AttributeError, KeyError, TypeError, ValueError):
        return None


def _generation(logical: str, physical: str) -> int | None:
    if physical == logical:
        return 0
    m = re.fullmatch(re.escape(logical) + r"__g(\d+)", physical)
    return int(m.group(1)) if m else None


class ChromaVectorStore(VectorStore):
    name = "chroma"
    keeps_deleted_bytes = True

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
                # Chroma creates its tables on first open without a cross-process guard: two
                # workers opening a new home at once fail with "table collections already
                # exists". The lock file sits beside the store so every process agrees on it.
                store_dir = Path(str(path))
                store_dir.parent.mkdir(parents=True, exist_ok=True)
                with FileLock(str(store_dir.parent / f".{store_dir.name}.open.lock"), timeout=120):
                    self._client = chromadb.PersistentClient(
                        path=str(path), settings=chroma_settings
                    )
        except Exception as exc:
            raise VectorStoreError(
                f"cannot open the Chroma vector store at {self.location}: {exc}",
                fix="start the Chroma server (`chroma run --path DIR`) or unset GENPERSONA_CHROMA_URL "
                "to use the embedded store",
                location=self.location,
            ) from exc
        self.owns_files = not url
        self._path = None if url else Path(path or ".")
        self._collections: dict[str, Any] = {}
        self._lock = threading.Lock()

    # --- generations -----------------------------------------------------------------
    def _current(self, logical: str) -> tuple[int, str] | None:
        gens = [
            (g, c.name)
            for c in self._client.list_collections()
            if (g := _generation(logical, c.name)) is not None
        ]
        return max(gens) if gens else None

    def _col(self, name: str, *, fresh: bool = False) -> Any:
        """The collection object serving ``name``; ``fresh`` re-resolves the generation
        (writes do, so a delete after a rebuild lands in the generation that serves)."""
        with self._lock:
            if fresh or name not in self._collections:
                current = self._current(name)
                if current is None:
                    self._collections[name] = self._client.get_or_create_collection(
                        name, metadata={"hnsw:space": "cosine"}, embedding_function=None
                    )
                else:  # never get_or_create a generation: a rebuild may have just dropped it
                    self._collections[name] = self._client.get_collection(
                        current[1], embedding_function=None
                    )
            return self._collections[name]

    def _retry(self, name: str, fn: Callable[[Any], T], *, fresh: bool = False) -> T:
        """Run ``fn(collection)``; when another process dropped that generation, resolve again."""
        from chromadb.errors import ChromaError  # chromadb is loaded by __init__ already

        try:
            return fn(self._col(name, fresh=fresh))
        except ChromaError:  # NotFoundError, or "Failed to get segments" mid-drop
            return fn(self._col(name, fresh=True))

    def upsert(self, collection, ids, vectors, metadatas=None):
        if not ids:
            return
        vectors = np.asarray(vectors, dtype=np.float32)

        def write(col: Any) -> None:
            for start in range(0, len(ids), _BATCH):
                end = start + _BATCH
                col.upsert(
                    ids=list(ids[start:end]),
                    embeddings=vectors[start:end],
                    metadatas=[m or {"_": 0} for m in metadatas[start:end]] if metadatas else None,
                )

        self._retry(collection, write, fresh=True)

    def get(self, collection, ids, *, metadata=True):
        if not ids:
            return Fetched(ids=[], vectors=np.zeros((0, 0), np.float32), metadatas=[])
        include = ["embeddings", "metadatas"] if metadata else ["embeddings"]
        res = self._retry(collection, lambda col: col.get(ids=list(ids), include=include))
        metas = res["metadatas"] if metadata else [{}] * len(res["ids"])
        by_id = {i: (e, m) for i, e, m in zip(res["ids"], res["embeddings"], metas, strict=True)}
        found = [i for i in ids if i in by_id]
        vecs = (
            np.asarray([by_id[i][0] for i in found], dtype=np.float32)
            if found
            else np.zeros((0, 0), np.float32)
        )
        return Fetched(ids=found, vectors=vecs, metadatas=[by_id[i][1] or {} for i in found])

    def query(self, collection, vector, k=10, where=None, ids=None):
        if ids is not None and not ids:
            return []

        def search(col: Any) -> Any:
            n = col.count() if ids is None else len(ids)
            if n == 0:
                return None
            return col.query(
                query_embeddings=[np.asarray(vector, dtype=np.float32)],
                n_results=min(k, n),
                where=where or None,
                ids=list(ids) if ids is not None else None,
                include=["distances", "metadatas"],
            )

        res = self._retry(collection, search)
        if res is None:
            return []
        return [
            QueryHit(id=i, score=1.0 - float(d), metadata=m or {})
            for i, d, m in zip(res["ids"][0], res["distances"][0], res["metadatas"][0], strict=True)
        ]

    def delete(self, collection, ids=None, where=None):
        if ids is not None and not ids:
            return

        def remove(col: Any) -> None:
            if ids is not None:
                for start in range(0, len(ids), _BATCH):
                    col.delete(ids=list(ids[start : start + _BATCH]))
            elif where:
                col.delete(where=where)

        self._retry(collection, remove, fresh=True)

    def count(self, collection):
        return int(self._retry(collection, lambda col: col.count()))

    def ids(self, collection):
        return self._all_ids(self._col(collection, fresh=True))

    @staticmethod
    def _all_ids(col: Any) -> list[str]:
        out: list[str] = []
        while True:
            page = col.get(include=[], limit=_BATCH, offset=len(out))["ids"]
            out.extend(page)
            if len(page) < _BATCH:
                return out

    @staticmethod
    def _pages(col: Any) -> Iterator[tuple[list[str], Any, list[Any]]]:
        offset = 0
        while True:
            res = col.get(include=["embeddings", "metadatas"], limit=_BATCH, offset=offset)
            if res["ids"]:
                yield res["ids"], res["embeddings"], res["metadatas"]
            if len(res["ids"]) < _BATCH:
                return
            offset += len(res["ids"])

    # --- erasure support -------------------------------------------------------------
    def rebuild(
        self,
        collection: str,
        *,
        keep: KeepFilter | None = None,
        metadata_keys: frozenset[str] | None = None,
    ) -> RebuildReport:
        return self.rebuild_many([RebuildSpec(collection, keep, metadata_keys)])[0]

    def rebuild_many(self, specs: list[RebuildSpec]) -> list[RebuildReport]:
        """Embedded: the new generations are written by a clean child process (its heap
        never held the erased customer's rows, and glibc wipes it; ``clean_child``), so
        their files hold no old heap bytes. ``keep`` runs here, against the relational
        store; the child gets only the opaque ids to leave behind. Over HTTP the server
        writes the files, so the rebuild runs here (its heap is the operator's: see
        docs/guides/privacy-erasure.md)."""
        if self._path is None or not any(self._current(s.collection) for s in specs):
            return [  # a server's rebuild, or nothing to rebuild (no child for that)
                self.rebuild_here(s.collection, keep=s.keep, metadata_keys=s.metadata_keys)
                for s in specs
            ]
        job = {
            "path": str(self._path),
            "collections": [
                {
                    "name": s.collection,
                    "drop": self._dropped_by(s.collection, s.keep),
                    "metadata_keys": None if s.metadata_keys is None else sorted(s.metadata_keys),
                }
                for s in specs
            ],
        }
        line = run_clean_child(_REBUILD_CHILD, job, timeout=_REBUILD_TIMEOUT_S)
        with self._lock:  # the child dropped the generations this process may hold
            for s in specs:
                self._collections.pop(s.collection, None)
        return [RebuildReport.model_validate(r) for r in json.loads(line)["reports"]]

    def unclean_collections(self) -> list[str]:
        """Embedded: logical collections whose serving HNSW files hold bytes other than the
        clean child's fill in their unused slots (checked by a child process that reads
        chroma.sqlite3 and the segment files, ``chroma_scrub.dirty_collections``). A server
        writes its own files: nothing here can clean them."""
        if self._path is None:
            return []
        dirty = dirty_in_subprocess(self._path)
        out = set()
        for physical in dirty:
            if "__build" in physical:
                continue
            logical = _SUFFIX.sub("", physical)
            if self._current(logical) == (_generation(logical, physical), physical):
                out.add(logical)  # only the generation that serves: older ones are dropped
        return sorted(out)

    def _dropped_by(self, collection: str, keep: KeepFilter | None) -> list[str]:
        """The current generation's ids that ``keep`` rejects (none without ``keep``)."""
        if keep is None or self._current(collection) is None:
            return []
        ids = self.ids(collection)
        dropped: list[str] = []
        for start in range(0, len(ids), _BATCH):
            chunk = ids[start : start + _BATCH]
            live = keep(chunk)
            dropped.extend(i for i in chunk if i not in live)
        return dropped

    def rebuild_here(
        self,
        collection: str,
        *,
        keep: KeepFilter | None = None,
        metadata_keys: frozenset[str] | None = None,
    ) -> RebuildReport:
        """A fresh generation holding only live (and ``keep``-approved) vectors; the old
        generation, with every deleted vector's bytes, is dropped. Runs in this process
        (the rebuild child, or a client of a server by URL)."""
        current = self._current(collection)
        if current is None:
            return RebuildReport(collection=collection, physical=collection, kept=0, dropped=0)
        gen, old_name = current
        old = self._client.get_collection(old_name, embedding_function=None)
        build_name = f"{collection}__build{gen + 1}"
        if any(c.name == build_name for c in self._client.list_collections()):
            self._client.delete_collection(build_name)  # a crashed rebuild: start over
        build = self._client.create_collection(
            build_name, metadata=dict(old.metadata or {"hnsw:space": "cosine"}),
            embedding_function=None,
        )  # fmt: skip
        sync = _sync_threshold(build)
        # An index Chroma never persisted (fewer records than the sync threshold) is created
        # anew, from *its* heap, by the next process that loads it; so a small collection is
        # copied persisting every record, and gets its threshold back afterwards.
        restore = sync if sync is not None and old.count() < sync else None
        if restore is not None:
            build.modify(configuration={"hnsw": {"sync_threshold": 1}})
        kept = dropped = 0

        def copy(ids: list[str], vectors: Any, metas: list[Any]) -> None:
            nonlocal kept, dropped
            live = set(ids) if keep is None else keep(list(ids))
            rows = [i for i, id_ in enumerate(ids) if id_ in live]
            dropped += len(ids) - len(rows)
            if rows:
                build.upsert(
                    ids=[ids[i] for i in rows],
                    embeddings=np.asarray(vectors, dtype=np.float32)[rows],
                    metadatas=[_strip(metas[i] or {}, metadata_keys) or {"_": 0} for i in rows],
                )
                kept += len(rows)

        for page in self._pages(old):
            copy(*page)
        build.modify(name=f"{collection}__g{gen + 1}")
        # writes that raced the copy went to the old generation: mirror them
        old_ids, new_ids = set(self._all_ids(old)), set(self._all_ids(build))
        gone = sorted(new_ids - old_ids)
        for start in range(0, len(gone), _BATCH):
            build.delete(ids=gone[start : start + _BATCH])
        kept -= len(gone)
        added = sorted(old_ids - new_ids)
        for start in range(0, len(added), _BATCH):
            res = old.get(ids=added[start : start + _BATCH], include=["embeddings", "metadatas"])
            if res["ids"]:
                copy(res["ids"], res["embeddings"], list(res["metadatas"] or []))
        if restore is not None:
            build.modify(configuration={"hnsw": {"sync_threshold": restore}})
        for c in self._client.list_collections():
            g = _generation(collection, c.name)
            if g is not None and g <= gen:  # the old one, and any a racing writer recreated
                self._client.delete_collection(c.name)
        with self._lock:
            self._collections.pop(collection, None)
        return RebuildReport(
            collection=collection, physical=f"{collection}__g{gen + 1}", kept=kept, dropped=dropped
        )

    def scrub_files(self) -> ScrubReport:
        """Embedded: delete segment directories no collection references (dropped
        generations: Chroma leaves them, ``chroma vacuum`` too) and VACUUM chroma.sqlite3.
        A server's disk is not reachable from here."""
        if self._path is None:
            return ScrubReport(
                done=False,
                note="Chroma server: run `chroma vacuum --path DIR` and "
                "`genpersona customer scrub-chroma-dir DIR` on the server's machine",
            )
        return scrub_in_subprocess(self._path)

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

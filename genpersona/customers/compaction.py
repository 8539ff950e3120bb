"""After an erase: the work that makes deleted bytes disappear from every store's files.

A delete is not an erasure in stores that keep deleted bytes: Chroma's HNSW
segment files keep deleted vectors and a dropped collection's directory stays;
SQLite keeps freed pages (and old page images in its WAL) until VACUUM; the
recommender's ``.npz`` files hold every customer it was fitted on. ``erase_customer``
records what has to be redone in a small pending file *before* it deletes anything,
so a crash at any point leaves work that a re-run (or ``genpersona customer
compact``) finishes. The pending file holds only brand slugs and collection names,
never anything about the customer (a suppression list of digests is in
``data/tombstones.py``).

``run_pending`` is idempotent: refit the listed brands' recommenders, rebuild every
registered vector collection from its live vectors (keeping only ids whose SQL row
exists, and only the allowed metadata keys), scrub the vector store's files,
VACUUM the relational store, then clear the file. One compaction runs at a time per
home (``erasure-compact.lock``); an erase recorded while one runs keeps the file, so
the next run covers it. The pending file is the queue of background compaction
(``erase --defer``, ``GENPERSONA_ERASE_COMPACTION=background``): a worker's beat entry
or cron runs ``genpersona customer compact`` (``campaigns/beat.py``).
"""

from __future__ import annotations

import fcntl
import json
import os
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from pydantic import BaseModel, Field
from sqlalchemy import select, text
from sqlalchemy.orm import Session

from genpersona.customers.erasure import (
    LiveIds,
    discover,
    register_vector_collection,
    vector_collections,
)
from genpersona.data.memory_store import MEMORY_METADATA_KEYS
from genpersona.data.tables import Brand, MemoryFact
from genpersona.db.base import Base
from genpersona.db.engine import get_engine, session_factory
from genpersona.recs.store import fit_recommender, recommender_path
from genpersona.settings import Settings, get_settings
from genpersona.vectors.base import MEMORY, RebuildReport, RebuildSpec, ScrubReport, VectorStore
from genpersona.vectors.factory import get_vector_store

#: test seam: called with a checkpoint name at each step of an erase (the crash test sleeps
#: at one and is SIGKILLed there); a no-op in production
checkpoint: Callable[[str], None] = lambda name: None  # noqa: E731


class Pending(BaseModel):
    """What is left to do after one or more erasures; nothing in it names a person."""

    refit: list[str] = Field(default_factory=list)  # brand slugs
    collections: list[str] = Field(default_factory=list)
    erasures: int = 0
    since: float = 0.0


class CompactReport(BaseModel):
    #: another compaction of this home was running (``wait=False``): nothing was done
    skipped: bool = False
    #: erasures recorded while this ran: the pending file was kept for the next run
    more_pending: bool = False
    refitted: list[str] = Field(default_factory=list)
    rebuilt: list[RebuildReport] = Field(default_factory=list)
    scrub: ScrubReport | None = None
    database_vacuumed: bool = False
    seconds: float = 0.0
    #: seconds per step: refit, rebuild, scrub, vacuum
    steps: dict[str, float] = Field(default_factory=dict)


def pending_path(settings: Settings) -> Path:
    return settings.home_dir / "erasure-pending.json"


def read_pending(settings: Settings) -> Pending | None:
    path = pending_path(settings)
    if not path.exists():
        return None
    return Pending.model_validate_json(path.read_text())


def _write(settings: Settings, pending: Pending) -> None:
    path = pending_path(settings)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(pending.model_dump_json())
    with open(tmp, "rb") as fh:
        os.fsync(fh.fileno())
    os.replace(tmp, path)


@contextmanager
def _flock(path: Path, *, wait: bool = True) -> Iterator[bool]:
    """An exclusive ``flock`` on ``path``; yields False (not held) when ``wait`` is False
    and another process holds it. Released when the holder dies, so a SIGKILL never
    leaves it stuck."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "a+b") as fh:
        try:
            fcntl.flock(fh, fcntl.LOCK_EX | (0 if wait else fcntl.LOCK_NB))
        except BlockingIOError:
            yield False
            return
        try:
            yield True
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


def _pending_lock(settings: Settings) -> Path:
    return settings.home_dir / "erasure-pending.lock"


def compact_lock(settings: Settings) -> Path:
    return settings.home_dir / "erasure-compact.lock"


def mark_pending(settings: Settings, brand: str, refit: bool) -> Pending:
    """Record (durably, before any delete) the work an erase of a ``brand`` customer needs."""
    discover()
    with _flock(_pending_lock(settings)):
        return _mark(settings, brand, refit)


def _mark(settings: Settings, brand: str, refit: bool) -> Pending:
    pending = read_pending(settings) or Pending(since=time.time())
    if refit and brand not in pending.refit:
        pending.refit.append(brand)
    for name in sorted(vector_collections()):
        if name not in pending.collections:
            pending.collections.append(name)
    pending.erasures += 1
    _write(settings, pending)
    return pending


def _live_memory_vectors(session: Session, ids: list[str]) -> set[str]:
    wanted = {int(i.split(":", 1)[1]): i for i in ids if i.startswith("mem:")}
    keys = list(wanted)
    live: set[str] = set()
    for start in range(0, len(keys), 900):
        chunk = keys[start : start + 900]
        live.update(
            wanted[i]
            for i in session.scalars(select(MemoryFact.id).where(MemoryFact.id.in_(chunk)))
        )
    return live


register_vector_collection(MEMORY, _live_memory_vectors, MEMORY_METADATA_KEYS)


def rebuild_collections(
    store: VectorStore, settings: Settings, names: list[str] | None = None
) -> list[RebuildReport]:
    """Rebuild the registered collections (all, or ``names``) from live vectors only.

    ``keep`` (which ids still have their SQL row) runs in this process; the store writes
    the new generations where their files cannot pick up this process's heap (embedded
    Chroma: a clean child process, ``vectors/clean_child.py``)."""
    discover()
    factory = session_factory(settings)
    specs = []
    for name, spec in sorted(vector_collections().items()):
        if names is not None and name not in names:
            continue
        live_fn = spec.live

        def keep(ids: list[str], live_fn: LiveIds | None = live_fn) -> set[str]:
            if live_fn is None:
                return set(ids)
            with factory() as session:
                return live_fn(session, ids)

        specs.append(RebuildSpec(name, keep, spec.metadata_keys))
    registered = {s.collection for s in specs} | set(vector_collections())
    # the rest (catalog, knowledge) hold nothing about customers, but a collection whose
    # index was created by a process that had held a customer's rows may hold them in its
    # files' unused slots: the store finds those by their bytes, and they are rebuilt too
    specs += [RebuildSpec(n) for n in store.unclean_collections() if n not in registered]
    return store.rebuild_many(specs)


def compact_database(settings: Settings | None = None, *, full: bool = False) -> bool:
    """Checkpoint the WAL and VACUUM a SQLite file so deleted text leaves no bytes behind.

    SQLite: VACUUM rewrites the whole file from live rows (freed pages are gone), and
    the checkpoints truncate the WAL, where old page images would otherwise survive.
    PostgreSQL: a plain VACUUM only marks dead tuples reusable (their bytes stay in the
    pages, and in WAL segments until recycled); ``full=True`` runs VACUUM FULL, which
    rewrites every table but locks it while it does. See docs/guides/privacy-erasure.md.
    """
    engine = get_engine(settings)
    if engine.dialect.name == "sqlite":
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(text("PRAGMA wal_checkpoint(TRUNCATE)"))
            conn.execute(text("VACUUM"))
            conn.execute(text("PRAGMA wal_checkpoint(TRUNCATE)"))
        return True
    if engine.dialect.name == "postgresql":
        discover()
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            existing = set(engine.dialect.get_table_names(conn))
            for table in Base.metadata.sorted_tables:
                if table.name in existing:
                    conn.execute(text(f'VACUUM {"FULL " if full else ""}"{table.name}"'))
        return True
    return False


class _Laps:
    def __init__(self, into: dict[str, float]) -> None:
        self.into, self.t = into, time.perf_counter()

    def __call__(self, name: str) -> None:
        now = time.perf_counter()
        self.into[name] = round(now - self.t, 3)
        self.t = now


def run_pending(
    settings: Settings | None = None,
    *,
    force: bool = False,
    full: bool = False,
    wait: bool = True,
) -> CompactReport:
    """Finish every pending erasure's compaction (``force``: do it even if none is pending,
    e.g. the one-time migration of an older home whose vectors carry customer ids).

    ``wait=False`` (the beat task) returns ``skipped`` at once if another compaction of
    this home is running instead of queueing behind it."""
    settings = settings or get_settings()
    with _flock(compact_lock(settings), wait=wait) as held:
        if not held:
            return CompactReport(skipped=True)
        return _run_locked(settings, force=force, full=full)


def _run_locked(settings: Settings, *, force: bool, full: bool) -> CompactReport:
    t0 = time.perf_counter()
    pending = read_pending(settings)
    report = CompactReport()
    if pending is None and not force:
        return report
    started_from = pending
    pending = pending or Pending(collections=sorted(vector_collections()))
    factory = session_factory(settings)
    store = get_vector_store(settings)
    for brand in pending.refit:
        if recommender_path(brand, settings).exists():
            with factory() as session:
                row = session.scalar(select(Brand).where(Brand.slug == brand))
                if row is not None:
                    fit_recommender(session, row, store, settings)
                    report.refitted.append(brand)
    lap = _Laps(report.steps)
    lap("refit")
    checkpoint("refitted")
    report.rebuilt = rebuild_collections(store, settings, pending.collections or None)
    lap("rebuild")
    checkpoint("rebuilt")
    report.scrub = store.scrub_files()
    lap("scrub")
    report.database_vacuumed = compact_database(settings, full=full)
    lap("vacuum")
    with _flock(_pending_lock(settings)):
        if read_pending(settings) == started_from:
            pending_path(settings).unlink(missing_ok=True)
        else:  # an erase was recorded meanwhile: its rows may postdate this rebuild
            report.more_pending = True
    report.seconds = round(time.perf_counter() - t0, 3)
    return report


def compaction_due(settings: Settings | None = None) -> bool:
    """An erasure is waiting for its compaction (what the beat task checks first)."""
    return pending_path(settings or get_settings()).exists()


def pending_summary(settings: Settings) -> dict[str, object]:
    pending = read_pending(settings)
    return {} if pending is None else json.loads(pending.model_dump_json())

"""An in-process copy of one brand's and kind's exemplars, checked against SQL on every use.

Exemplar retrieval runs on every generation request, and most of its cost was
fixed per call (a filtered vector-store query, then the rows). Exemplars of one
brand and kind are few (every one is a reviewer's decision), so each process
keeps their vectors and rows and ranks them with one dot product. Freshness is
checked with one aggregate query per call: the (count, max id, newest
created_at) of the brand's and kind's rows changes whenever a row is added or
erased, so an erased exemplar is never served, even from another process's
decision. Sets larger than ``MAX_CACHED`` use the vector store's own query.

Outcomes feed generation here: each exemplar carries how often its copy was
delivered and clicked (``learn update`` writes them), and ranking adds
``weight * log(shrunk rate / brand mean)`` to the similarity, where the rate is
shrunk toward the brand's (and kind's) pooled click rate by a Beta-Binomial prior
of ``strength`` pseudo-exposures. A few exposures barely move an exemplar; copy
that kept winning rises into the few-shot examples; copy whose shrunk rate falls
below ``drop_below`` of the mean stops being shown. The sums of exposures and
clicks are part of the freshness check, so new outcomes reload the copy.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from pydantic import BaseModel, ConfigDict
from sqlalchemy import Connection, Engine, bindparam, case, func, select
from sqlalchemy.orm import Session

from genpersona.db.fast_read import FAST_READER
from genpersona.review.tables import ExemplarRow
from genpersona.settings import Settings
from genpersona.vectors.base import EXEMPLARS, VectorStore

MAX_CACHED = 20_000

#: (rows, max id, newest created_at, not yet embedded, sum of exposures, sum of clicks)
Version = tuple[int, int, Any, int, int, int]


class ClickWeighting(BaseModel):
    """How outcomes weight retrieval (settings ``exemplar_click_*``, ``exemplar_drop_below``)."""

    model_config = ConfigDict(frozen=True)

    strength: float = 30.0
    weight: float = 0.1
    drop_below: float = 0.5

    @classmethod
    def from_settings(cls, settings: Settings) -> ClickWeighting:
        return cls(
            strength=settings.exemplar_click_strength,
            weight=settings.exemplar_click_weight,
            drop_below=settings.exemplar_drop_below,
        )


def shrunk_rates(
    exposures: np.ndarray,
    clicks: np.ndarray,
    strength: float,
    pooled: tuple[float, float] | None = None,
) -> tuple[np.ndarray, float] | None:
    """(each exemplar's click rate shrunk toward the pooled rate, the pooled rate): the
    Beta-Binomial posterior mean with prior mean = pooled rate and prior strength =
    ``strength``. ``pooled`` = (exposures, clicks) of the whole brand and kind when the
    arrays are only part of it. None when the pooled rate says nothing (fewer than two
    exemplars delivered, or no click at all): then nothing is weighted."""
    n = np.asarray(exposures, dtype=float)
    c = np.asarray(clicks, dtype=float)
    total_n, total_c = pooled if pooled is not None else (n.sum(), c.sum())
    if total_c <= 0 or total_n <= 0 or (pooled is None and (n > 0).sum() < 2):
        return None
    mean = total_c / total_n
    return (c + strength * mean) / (n + strength), mean


def click_adjustment(
    exposures: np.ndarray,
    clicks: np.ndarray,
    weighting: ClickWeighting,
    pooled: tuple[float, float] | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """(term added to each exemplar's similarity, which exemplars may still be shown)."""
    found = shrunk_rates(exposures, clicks, weighting.strength, pooled)
    if found is None:
        return np.zeros(len(exposures)), np.ones(len(exposures), bool)
    rates, mean = found
    lift = rates / mean
    return weighting.weight * np.log(lift), lift >= weighting.drop_below


def vector_id(exemplar_id: int) -> str:
    return f"ex:{exemplar_id}"


_VERSION_SQL = select(
    func.count(ExemplarRow.id),
    func.max(ExemplarRow.id),
    func.max(ExemplarRow.created_at),
    func.coalesce(func.sum(case((ExemplarRow.embedded.is_(False), 1), else_=0)), 0),
    func.coalesce(func.sum(ExemplarRow.exposures), 0),
    func.coalesce(func.sum(ExemplarRow.clicks), 0),
).where(ExemplarRow.brand == bindparam("brand"), ExemplarRow.kind == bindparam("kind"))


def version_of(engine: Engine, brand: str, kind: str) -> Version:
    """One aggregate query (built once: building it cost more than running it), on the
    read fast path: it runs on every request."""
    row = FAST_READER.all(engine, _VERSION_SQL, {"brand": brand, "kind": kind})[0]
    return int(row[0]), int(row[1] or 0), row[2], int(row[3]), int(row[4]), int(row[5])


@dataclass
class _Entry:
    version: Version
    weighting: ClickWeighting = field(default_factory=ClickWeighting)
    ids: list[int] = field(default_factory=list)
    vectors: np.ndarray = field(default_factory=lambda: np.zeros((0, 0), np.float32))
    rows: dict[int, ExemplarRow] = field(default_factory=dict)
    #: per id in ``ids``: the outcome term added to the similarity, and whether it may be shown
    adjust: np.ndarray = field(default_factory=lambda: np.zeros(0))
    keep: np.ndarray = field(default_factory=lambda: np.zeros(0, bool))


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
        weighting: ClickWeighting | None = None,
    ) -> list[tuple[ExemplarRow, float]]:
        """The k best embedded exemplars with their cosine (vectors are unit length), ranked
        by cosine plus the outcome term of ``weighting`` (losers left out); cosine alone
        without it."""
        weighting = weighting or ClickWeighting(weight=0.0, drop_below=0.0)
        key = (namespace, brand, kind)
        with self._lock:
            entry = self._entries.get(key)
        if entry is None or entry.version != version or entry.weighting != weighting:
            with engine.connect() as conn:
                entry = self._load(conn, store, brand, kind, version, weighting)
            with self._lock:
                self._entries[key] = entry
        if not entry.ids or entry.vectors.shape[1] != query.shape[0]:
            return []
        sims = entry.vectors @ query
        ranked = np.where(entry.keep, sims + entry.adjust, -np.inf)
        top = [i for i in np.argsort(-ranked, kind="stable")[:k] if entry.keep[i]]
        return [(entry.rows[entry.ids[i]], float(sims[i])) for i in top]

    def _load(
        self,
        conn: Connection,
        store: VectorStore,
        brand: str,
        kind: str,
        version: Version,
        weighting: ClickWeighting,
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
            return _Entry(version, weighting)
        by_id = {r.id: r for r in rows}
        fetched = store.get(EXEMPLARS, [vector_id(r.id) for r in rows], metadata=False)
        ids = [int(i.split(":", 1)[1]) for i in fetched.ids]
        adjust, keep = click_adjustment(
            np.array([by_id[i].exposures or 0 for i in ids]),
            np.array([by_id[i].clicks or 0 for i in ids]),
            weighting,
        )
        return _Entry(
            version, weighting, ids, fetched.vectors, {i: by_id[i] for i in ids}, adjust, keep
        )

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()


EXEMPLAR_INDEX = ExemplarIndex()

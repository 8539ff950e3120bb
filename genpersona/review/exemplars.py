"""Approved and edited copy, kept as exemplars the agent retrieves for similar future requests.

The words live in SQL (``exemplars``); the vector store holds only the vector
with id ``ex:{id}`` and brand/kind metadata, so erasing a customer in SQL and
deleting their ids here leaves nothing of theirs behind. The row is written
in the decision's transaction and embedded right after commit; a row whose
embedding failed (vector store down) is picked up by the next retrieval for
its brand and kind, so a decision never fails because of the vector store.
"""

from __future__ import annotations

import logging

import numpy as np
from sqlalchemy import insert, select, update
from sqlalchemy.orm import Session

from genpersona.db.base import utcnow
from genpersona.db.engine import get_engine, session_scope
from genpersona.embeddings.base import Embedder
from genpersona.embeddings.factory import get_embedder
from genpersona.review.exemplar_index import (
    EXEMPLAR_INDEX,
    MAX_CACHED,
    ClickWeighting,
    Version,
    click_adjustment,
    vector_id,
    version_of,
)
from genpersona.review.models import Exemplar
from genpersona.review.tables import DraftRow, ExemplarRow
from genpersona.settings import Settings, get_settings
from genpersona.types.content import VariantContent
from genpersona.vectors.base import EXEMPLARS, VectorStore
from genpersona.vectors.factory import get_vector_store

log = logging.getLogger(__name__)

#: un-embedded rows healed per retrieval call, so one call never embeds a backlog of thousands
HEAL_BATCH = 256


def add_exemplar(session: Session, draft: DraftRow, content: VariantContent, decision: str) -> int:
    """Insert the exemplar row inside the decision's transaction; embed it after commit."""
    return int(
        session.scalars(
            insert(ExemplarRow).returning(ExemplarRow.id),
            [
                {
                    "brand": draft.brand,
                    "kind": draft.kind,
                    "text": content.all_text(),
                    "content": content.model_dump(mode="json"),
                    "brief": draft.brief,
                    "campaign": draft.campaign,
                    "decision": decision,
                    "source_draft_id": draft.id,
                    "customer_id": draft.customer_id,
                    "embedded": False,
                    "created_at": utcnow(),
                }
            ],
        ).one()
    )


def _embed_text(row: ExemplarRow) -> str:
    # the brief is part of what is embedded: a new request is matched by its brief
    return f"{row.brief}\n{row.text}".strip()


def embed_exemplars(
    ids: list[int],
    settings: Settings | None = None,
    *,
    store: VectorStore | None = None,
    embedder: Embedder | None = None,
) -> int:
    """Embed the given exemplar rows into EXEMPLARS; returns how many were embedded.

    Failures are logged, not raised: the decision that created the row has
    already committed and stays valid; the row stays ``embedded = False`` and
    is retried later.
    """
    if not ids:
        return 0
    with session_scope(settings) as session:
        rows = list(session.scalars(select(ExemplarRow).where(ExemplarRow.id.in_(ids))))
    if not rows:
        return 0
    try:
        embedder = embedder or get_embedder(settings=settings)
        store = store or get_vector_store(settings)
        vectors = embedder.embed([_embed_text(r) for r in rows])
        store.upsert(
            EXEMPLARS,
            [vector_id(r.id) for r in rows],
            vectors,
            [{"brand": r.brand, "kind": r.kind} for r in rows],
        )
    except Exception as exc:  # noqa: BLE001 - see docstring: never undo a committed decision
        log.warning(
            "embedding %d exemplar(s) failed, will retry on next retrieval: %s", len(rows), exc
        )
        return 0
    with session_scope(settings) as session:
        session.execute(
            update(ExemplarRow)
            .where(ExemplarRow.id.in_([r.id for r in rows]))
            .values(embedded=True)
        )
    return len(rows)


def similar_exemplars(
    brand: str,
    kind: str,
    text_or_brief: str,
    k: int = 3,
    settings: Settings | None = None,
    *,
    store: VectorStore | None = None,
    embedder: Embedder | None = None,
) -> list[Exemplar]:
    """The k approved/edited texts of this brand and kind closest to a new request's brief,
    weighted by how their copy did with customers (winners rise, losers drop out).

    Ranked in process against a copy that one aggregate query proves current
    (see ``exemplar_index``); very large sets go to the vector store's query.
    """
    if k <= 0:
        return []
    settings = settings or get_settings()
    version = version_of(get_engine(settings), brand, kind)
    if version[3]:  # rows whose embedding failed earlier: heal a batch now
        with session_scope(settings) as session:
            backlog = list(
                session.scalars(
                    select(ExemplarRow.id)
                    .where(
                        ExemplarRow.brand == brand,
                        ExemplarRow.kind == kind,
                        ExemplarRow.embedded.is_(False),
                    )
                    .limit(HEAL_BATCH)
                )
            )
        embed_exemplars(backlog, settings, store=store, embedder=embedder)
        version = version_of(get_engine(settings), brand, kind)
    if version[0] == version[3]:  # nothing embedded: no exemplar to offer
        return []
    embedder = embedder or get_embedder(settings=settings)
    store = store or get_vector_store(settings)
    query = embedder.embed_one(text_or_brief or f"{brand} {kind}")
    weighting = ClickWeighting.from_settings(settings)
    if version[0] > MAX_CACHED:
        return _query_store(brand, kind, query, k, settings, store, weighting, version)
    namespace = f"{settings.sqlalchemy_url}|{settings.chroma_url or settings.chroma_path}"
    hits = EXEMPLAR_INDEX.search(
        get_engine(settings),
        store,
        f"{namespace}|{embedder.name}",
        brand,
        kind,
        version,
        query,
        k,
        weighting,
    )
    return [_to_model(row, score) for row, score in hits]


#: the large-set path asks the vector store for this many times k, then weights by outcomes
STORE_OVERFETCH = 3


def _query_store(
    brand: str,
    kind: str,
    query,
    k: int,
    settings: Settings,
    store: VectorStore,
    weighting: ClickWeighting,
    version: Version,
) -> list[Exemplar]:
    hits = store.query(
        EXEMPLARS,
        query,
        k=k * STORE_OVERFETCH,
        where={"$and": [{"brand": brand}, {"kind": kind}]},
    )
    scores = {int(h.id.split(":", 1)[1]): h.score for h in hits if h.id.startswith("ex:")}
    if not scores:
        return []
    with session_scope(settings) as session:
        rows = list(session.scalars(select(ExemplarRow).where(ExemplarRow.id.in_(scores))))
    # a vector whose row was erased is simply not returned
    rows = [r for r in rows if r.brand == brand and r.kind == kind]
    adjust, keep = click_adjustment(
        np.array([r.exposures or 0 for r in rows]),
        np.array([r.clicks or 0 for r in rows]),
        weighting,
        pooled=(float(version[4]), float(version[5])),
    )
    ranked = sorted(
        ((scores[r.id] + float(a), r) for r, a, ok in zip(rows, adjust, keep, strict=True) if ok),
        key=lambda pair: -pair[0],
    )
    return [_to_model(r, scores[r.id]) for _, r in ranked[:k]]


def list_exemplars(
    brand: str | None = None, limit: int = 100, settings: Settings | None = None
) -> list[Exemplar]:
    query = select(ExemplarRow).order_by(ExemplarRow.id.desc()).limit(limit)
    if brand is not None:
        query = query.where(ExemplarRow.brand == brand)
    with session_scope(settings) as session:
        return [_to_model(r) for r in session.scalars(query)]


def _to_model(row: ExemplarRow, score: float = 0.0) -> Exemplar:
    return Exemplar(
        id=row.id,
        brand=row.brand,
        kind=row.kind,
        text=row.text,
        content=VariantContent.model_validate(row.content),
        brief=row.brief,
        campaign=row.campaign,
        decision=row.decision,
        source_draft_id=row.source_draft_id,
        created_at=row.created_at,
        score=score,
        exposures=row.exposures or 0,
        clicks=row.clicks or 0,
    )


def delete_exemplar_vectors(exemplar_ids: list[int], settings: Settings | None = None) -> None:
    """Remove exemplars' vectors (after their rows were erased)."""
    if exemplar_ids:
        get_vector_store(settings).delete(EXEMPLARS, ids=[vector_id(i) for i in exemplar_ids])

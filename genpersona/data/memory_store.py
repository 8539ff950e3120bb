"""Storage of memory facts: rows in SQL, vectors in the vector store.

The text lives only in SQL; the vector store holds ``mem:{fact_id}`` with the
brand as its only metadata: the fact id means nothing once the SQL row is gone,
so no customer id ever reaches the vector store (deleted metadata cells there
outlive a delete; see docs/guides/privacy-erasure.md). The wording of the facts is in ``memory_wording.py``.
"""

from __future__ import annotations

from typing import Any, cast

import numpy as np
from sqlalchemy import Table, bindparam, delete, insert, select, update
from sqlalchemy.orm import Session

from genpersona.data.repo import memory_vector_id
from genpersona.data.tables import MemoryFact
from genpersona.db.base import utcnow
from genpersona.embeddings.base import Embedder
from genpersona.vectors.base import MEMORY, Metadata, VectorStore

#: the only metadata a memory vector carries; ``rebuild`` strips anything else (older homes
#: stored the customer id here)
MEMORY_METADATA_KEYS = frozenset({"brand"})


def memory_metadata(brand_slug: str) -> Metadata:
    return {"brand": brand_slug}


def replace_behaviour_facts(
    session: Session,
    brand_id: int,
    facts: list[dict[str, Any]],
    customer_ids: list[int] | None = None,
) -> tuple[list[int], list[int], list[str]]:
    """Make the stored behaviour facts equal ``facts``, touching only what changed.

    A fact is the same fact when customer and text match; it keeps its row and
    vector (provenance is refreshed). Returns (ids of inserted facts, the
    positions in ``facts`` they came from, vector ids of facts that disappeared).
    Re-running an unchanged ingest therefore rewrites and re-embeds nothing.
    """
    old = select(
        MemoryFact.id, MemoryFact.customer_id, MemoryFact.text, MemoryFact.provenance
    ).where(MemoryFact.brand_id == brand_id, MemoryFact.source == "behaviour")
    if customer_ids is not None:
        old = old.where(MemoryFact.customer_id.in_(customer_ids))
    existing: dict[tuple[int, str], tuple[int, Any]] = {
        (r.customer_id, r.text): (r.id, r.provenance) for r in session.execute(old)
    }
    keep: set[int] = set()
    changed: list[dict[str, Any]] = []
    todo: list[int] = []
    for pos, f in enumerate(facts):
        hit = existing.get((f["customer_id"], f["text"]))
        if hit is None or hit[0] in keep:
            todo.append(pos)
            continue
        keep.add(hit[0])
        if hit[1] != f["provenance"]:
            changed.append({"fid": hit[0], "prov": f["provenance"]})
    gone = [fid for fid, _ in existing.values() if fid not in keep]
    for start in range(0, len(gone), 900):
        session.execute(delete(MemoryFact).where(MemoryFact.id.in_(gone[start : start + 900])))
    if changed:
        session.connection().execute(
            update(cast(Table, MemoryFact.__table__))
            .where(MemoryFact.__table__.c.id == bindparam("fid"))
            .values(provenance=bindparam("prov")),
            changed,
        )
    if not todo:
        return [], [], [memory_vector_id(i) for i in gone]
    now = utcnow()
    rows = [
        {
            "brand_id": brand_id,
            "customer_id": facts[p]["customer_id"],
            "text": facts[p]["text"],
            "kind": facts[p]["kind"],
            "source": "behaviour",
            "knowingly_shared": False,
            "provenance": facts[p]["provenance"],
            "created_at": now,
            "expires_at": None,
            "vector_id": None,
        }
        for p in todo
    ]
    result = session.execute(
        insert(MemoryFact).returning(MemoryFact.id, sort_by_parameter_order=True), rows
    )
    return [r[0] for r in result], todo, [memory_vector_id(i) for i in gone]


def embed_texts(embedder: Embedder, texts: list[str], progress=None) -> np.ndarray:
    """Embed each distinct text once (behaviour facts repeat a lot), in row order."""
    uniq = list(dict.fromkeys(texts))
    parts = []
    for start in range(0, len(uniq), 256):
        parts.append(embedder.embed(uniq[start : start + 256]))
        if progress is not None:
            progress(min(start + 256, len(uniq)), len(uniq))
    if not parts:
        return np.zeros((0, embedder.dim), np.float32)
    table = np.vstack(parts)
    index = {t: i for i, t in enumerate(uniq)}
    return table[[index[t] for t in texts]]


def index_facts(
    store: VectorStore,
    brand_slug: str,
    fact_ids: list[int],
    vectors: np.ndarray,
) -> list[str]:
    """Upsert fact vectors with only the brand as metadata (never text, never a customer id)."""
    ids = [memory_vector_id(i) for i in fact_ids]
    metas = [memory_metadata(brand_slug) for _ in fact_ids]
    store.upsert(MEMORY, ids, vectors, metas)
    return ids


def mark_indexed(session: Session, fact_ids: list[int]) -> None:
    for start in range(0, len(fact_ids), 900):
        chunk = fact_ids[start : start + 900]
        session.execute(
            update(MemoryFact)
            .where(MemoryFact.id.in_(chunk))
            .values(vector_id="mem:" + MemoryFact.id.cast(MemoryFact.vector_id.type))
        )

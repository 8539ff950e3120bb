"""Erase one customer from the review queue: their drafts (with variants, decisions), exemplars
written from their drafts (rows and vectors) and their audit entries.

Registered with the customer-erasure flow (``genpersona.customers.erasure``
discovers this module), so erasing a customer removes this too and an export
lists it; ``erase_customer_review_data`` can also be called directly.
Vectors are deleted after the SQL commit: a vector whose row is gone is never
returned (``similar_exemplars`` reads the words from SQL), so the order is safe.
"""

from __future__ import annotations

import logging

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from genpersona.customers.erasure import (
    CustomerRef,
    register_eraser,
    register_exporter,
    register_vector_collection,
)
from genpersona.db.engine import rowcount, session_scope
from genpersona.review.audit import erase_customer_audit
from genpersona.review.exemplars import delete_exemplar_vectors
from genpersona.review.store import load_draft
from genpersona.review.tables import DraftRow, ExemplarRow, ReviewRow
from genpersona.settings import Settings
from genpersona.vectors.base import EXEMPLARS

log = logging.getLogger(__name__)


def erase_in_session(session: Session, brand: str, customer_id: str) -> dict[str, object]:
    """The SQL part, inside the caller's transaction; returns counts and exemplar ids."""
    exemplar_ids = list(
        session.scalars(
            select(ExemplarRow.id).where(
                ExemplarRow.brand == brand, ExemplarRow.customer_id == customer_id
            )
        )
    )
    draft_ids = list(
        session.scalars(
            select(DraftRow.id).where(DraftRow.brand == brand, DraftRow.customer_id == customer_id)
        )
    )
    if exemplar_ids:
        session.execute(delete(ExemplarRow).where(ExemplarRow.id.in_(exemplar_ids)))
    reviews = rowcount(
        session.execute(
            delete(ReviewRow).where(ReviewRow.brand == brand, ReviewRow.customer_id == customer_id)
        )
    )
    drafts = 0
    for start in range(0, len(draft_ids), 500):
        chunk = draft_ids[start : start + 500]
        drafts += rowcount(session.execute(delete(DraftRow).where(DraftRow.id.in_(chunk))))
    audit = erase_customer_audit(session, customer_id, brand)
    return {
        "drafts": drafts,
        "reviews": reviews,
        "exemplars": len(exemplar_ids),
        "audit_entries": audit,
        "exemplar_ids": exemplar_ids,
    }


def erase_customer_review_data(
    brand: str, customer_id: str, settings: Settings | None = None
) -> dict[str, int]:
    """Erase everything the review queue holds about one customer of one brand."""
    with session_scope(settings) as session:
        result = erase_in_session(session, brand, customer_id)
    delete_exemplar_vectors(list(result.pop("exemplar_ids")), settings)  # type: ignore[call-overload]
    return {k: int(v) for k, v in result.items()}  # type: ignore[call-overload]


def _erase_hook(session: Session, ref: CustomerRef) -> int:
    """Registered with the customer-erasure flow: rows inside its transaction, then vectors."""
    result = erase_in_session(session, ref.brand, ref.external_id)
    exemplar_ids = list(result.pop("exemplar_ids"))  # type: ignore[call-overload]
    # A vector whose row is gone is never returned, so deleting before the commit is safe
    # either way: on rollback the exemplar simply stops being retrieved.
    delete_exemplar_vectors(exemplar_ids)
    return sum(int(v) for v in result.values())  # type: ignore[call-overload]


def _export_hook(session: Session, ref: CustomerRef) -> dict[str, object]:
    """Everything the review queue holds about the customer, for the data export."""
    rows = session.scalars(
        select(DraftRow).where(DraftRow.brand == ref.brand, DraftRow.customer_id == ref.external_id)
    )
    drafts = [load_draft(session, row.id).model_dump(mode="json") for row in rows]
    reviews = session.scalars(
        select(ReviewRow).where(
            ReviewRow.brand == ref.brand, ReviewRow.customer_id == ref.external_id
        )
    )
    exemplars = session.scalars(
        select(ExemplarRow).where(
            ExemplarRow.brand == ref.brand, ExemplarRow.customer_id == ref.external_id
        )
    )
    return {
        "drafts": drafts,
        "decisions": [
            {c.name: getattr(r, c.name) for c in ReviewRow.__table__.columns} for r in reviews
        ],
        "exemplars": [{"id": e.id, "kind": e.kind, "text": e.text} for e in exemplars],
    }


register_eraser(_erase_hook, name="review_queue")
register_exporter(_export_hook, name="review_queue")


def _live_exemplar_vectors(session: Session, ids: list[str]) -> set[str]:
    """The exemplar vectors whose row still exists (a crash can orphan one)."""
    wanted = {int(i.split(":", 1)[1]): i for i in ids if i.startswith("ex:")}
    live: set[str] = set()
    keys = list(wanted)
    for start in range(0, len(keys), 900):
        chunk = keys[start : start + 900]
        live.update(
            wanted[i]
            for i in session.scalars(select(ExemplarRow.id).where(ExemplarRow.id.in_(chunk)))
        )
    return live


register_vector_collection(EXEMPLARS, _live_exemplar_vectors, frozenset({"brand", "kind"}))

"""The audit log: every submission, decision, edit and rule change, appended and never rewritten.

Two locks keep it honest. In code, the ORM refuses to flush an update or a
delete of an ``AuditRow``; in the database, triggers (migration 0002) refuse
UPDATE always and DELETE unless the same transaction first granted it for the
one customer being erased. Erasure is the only way rows leave, because a
customer's right to be forgotten outranks the log.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import delete, event, insert, select
from sqlalchemy.orm import Session

from genpersona.db.base import utcnow
from genpersona.db.engine import rowcount, session_scope
from genpersona.errors import AuditLogImmutable
from genpersona.review.models import AuditEntry
from genpersona.review.tables import AuditErasureGrantRow, AuditRow
from genpersona.settings import Settings


def _refuse(_mapper: Any, _connection: Any, target: AuditRow) -> None:
    raise AuditLogImmutable(
        f"audit log row {target.id} may not be changed: the audit log is append-only",
        fix="record a new audit entry instead (genpersona.review.audit.record)",
        audit_id=target.id,
    )


event.listen(AuditRow, "before_update", _refuse)
event.listen(AuditRow, "before_delete", _refuse)


def audit_values(
    actor: str,
    action: str,
    *,
    draft_id: int | None = None,
    brand: str | None = None,
    customer_id: str | None = None,
    payload: dict[str, Any] | None = None,
    at: datetime | None = None,
) -> dict[str, Any]:
    """One audit row as insert values (so callers can append many in one statement)."""
    return {
        "at": at or utcnow(),
        "actor": actor,
        "action": action,
        "draft_id": draft_id,
        "brand": brand,
        "customer_id": customer_id,
        "payload": payload or {},
    }


def record(session: Session, actor: str, action: str, **kwargs: Any) -> None:
    """Append one entry inside the caller's transaction: the entry commits with the decision."""
    session.execute(insert(AuditRow), [audit_values(actor, action, **kwargs)])


def record_many(session: Session, rows: list[dict[str, Any]]) -> None:
    if rows:
        session.execute(insert(AuditRow), rows)


def list_audit(
    *,
    draft_id: int | None = None,
    actor: str | None = None,
    limit: int = 200,
    settings: Settings | None = None,
) -> list[AuditEntry]:
    """Newest first."""
    query = select(AuditRow).order_by(AuditRow.id.desc()).limit(limit)
    if draft_id is not None:
        query = query.where(AuditRow.draft_id == draft_id)
    if actor is not None:
        query = query.where(AuditRow.actor == actor)
    with session_scope(settings) as session:
        return [
            AuditEntry(
                id=r.id,
                at=r.at,
                actor=r.actor,
                action=r.action,
                draft_id=r.draft_id,
                brand=r.brand,
                customer_id=r.customer_id,
                payload=r.payload,
            )
            for r in session.scalars(query)
        ]


def erase_customer_audit(session: Session, customer_id: str, brand: str | None = None) -> int:
    """Delete one customer's audit rows under a grant that lives only inside this transaction.

    Customer ids are per brand, so pass ``brand`` to leave another brand's
    customer with the same id alone.
    """
    session.execute(insert(AuditErasureGrantRow), [{"customer_id": customer_id}])
    query = delete(AuditRow).where(AuditRow.customer_id == customer_id)
    if brand is not None:
        query = query.where(AuditRow.brand == brand)
    result = session.execute(query.execution_options(synchronize_session=False))
    session.execute(
        delete(AuditErasureGrantRow).where(AuditErasureGrantRow.customer_id == customer_id)
    )
    return rowcount(result)

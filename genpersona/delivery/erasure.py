"""Erase and export hooks for a customer's exposures (found by ``customers.erasure.discover``).

Erasing deletes the rows outright rather than nulling the customer: an
exposure row keyed by the customer id *is* a record about them. Anonymous
visitors' rows carry no customer id and only a digest of a visitor id.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from genpersona.customers.erasure import CustomerRef, register_eraser, register_exporter
from genpersona.db.engine import rowcount
from genpersona.delivery.tables import ExposureRow


def erase_exposures(session: Session, ref: CustomerRef) -> int:
    result = session.execute(
        delete(ExposureRow).where(
            ExposureRow.brand == ref.brand, ExposureRow.customer_id == ref.external_id
        )
    )
    return rowcount(result)


def export_exposures(session: Session, ref: CustomerRef) -> dict[str, Any]:
    rows = session.scalars(
        select(ExposureRow)
        .where(ExposureRow.brand == ref.brand, ExposureRow.customer_id == ref.external_id)
        .order_by(ExposureRow.id)
    )
    return {
        "exposures": [
            {
                "campaign": r.campaign,
                "channel": r.channel,
                "draft_id": r.draft_id,
                "variant_index": r.variant_index,
                "policy": f"{r.policy_name}@{r.policy_version}",
                "propensity": r.propensity,
                "holdout": r.holdout,
                "fallback": r.fallback,
                "reason": r.reason,
                "tag": r.tag,
                "created_at": r.created_at.isoformat(),
            }
            for r in rows
        ]
    }


register_eraser(erase_exposures, name="delivery")
register_exporter(export_exposures, name="delivery")

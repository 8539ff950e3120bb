"""Erase and export hooks for the rows campaigns and outcomes hold about a customer.

Found by ``genpersona.customers.erasure.discover`` (it imports every
``genpersona.<pkg>.erasure``), so erasing a customer removes their outcomes and
campaign items, and an export lists them, without the customer layer importing us.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from genpersona.campaigns.automation_tables import AutoReviewRow, TriggerFireRow
from genpersona.campaigns.tables import CampaignRunItemRow, OutcomeRow
from genpersona.customers.erasure import CustomerRef, register_eraser, register_exporter
from genpersona.db.engine import rowcount


def erase_campaign_rows(session: Session, ref: CustomerRef) -> int:
    removed = rowcount(
        session.execute(
            delete(CampaignRunItemRow).where(
                CampaignRunItemRow.brand == ref.brand,
                CampaignRunItemRow.customer_id == ref.external_id,
            )
        )
    )
    removed += rowcount(
        session.execute(
            delete(OutcomeRow).where(
                OutcomeRow.brand == ref.brand, OutcomeRow.customer_id == ref.external_id
            )
        )
    )
    for table in (TriggerFireRow, AutoReviewRow):  # booked trigger work and auto-review rows
        removed += rowcount(
            session.execute(
                delete(table).where(table.brand == ref.brand, table.customer_id == ref.external_id)
            )
        )
    return removed


def export_campaign_rows(session: Session, ref: CustomerRef) -> dict[str, Any]:
    items = session.scalars(
        select(CampaignRunItemRow).where(
            CampaignRunItemRow.brand == ref.brand,
            CampaignRunItemRow.customer_id == ref.external_id,
        )
    )
    outcomes = session.scalars(
        select(OutcomeRow).where(
            OutcomeRow.brand == ref.brand, OutcomeRow.customer_id == ref.external_id
        )
    )
    return {
        "campaign_items": [
            {"run_id": i.run_id, "status": i.status, "draft_id": i.draft_id, "error": i.error}
            for i in items
        ],
        "outcomes": [
            {
                "draft_id": o.draft_id,
                "variant_index": o.variant_index,
                "type": o.type,
                "campaign": o.campaign,
                "ts": o.ts.isoformat(),
                "provider": o.provider,
                "exposure_id": o.exposure_id,
                "machine_open": o.machine_open,
            }
            for o in outcomes
        ],
    }


register_eraser(erase_campaign_rows, name="campaigns")
register_exporter(export_campaign_rows, name="campaigns")

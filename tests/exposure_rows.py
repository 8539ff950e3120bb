"""Exposure rows written directly (the table of migration 0005), for outcome and report tests."""

from __future__ import annotations

import uuid
from datetime import datetime

from genpersona.db.base import utcnow
from genpersona.db.engine import session_scope
from genpersona.delivery.tables import ExposureRow


def add_exposure(
    *,
    brand: str = "giftloft",
    campaign: str = "spring",
    customer_id: str = "C1",
    draft_id: int | None = None,
    variant_index: int | None = 0,
    holdout: bool = False,
    channel: str = "email",
    tag: str | None = None,
    created_at: datetime | None = None,
    reason: str | None = None,
) -> ExposureRow:
    """``reason`` (e.g. "not_approved") marks generic copy given in the personalized arm."""
    row = ExposureRow(
        brand=brand,
        campaign=campaign,
        customer_id=customer_id,
        recipient_key=customer_id,
        channel=channel,
        draft_id=None if holdout else draft_id,
        variant_index=None if holdout else variant_index,
        recipe_id=None,
        policy_name="uniform",
        policy_version="1",
        propensity=1.0,
        probabilities=[],
        seed=1,
        holdout=holdout,
        fallback=holdout or reason is not None,
        reason="holdout" if holdout else reason,
        tag=tag or uuid.uuid4().hex[:16],
        created_at=created_at or utcnow(),
    )
    with session_scope() as session:
        session.add(row)
        session.flush()
        session.expunge(row)
    return row

"""What the console's Learning view shows for one campaign, computed from stored rows.

Allocation over time (every stored version), each recipe's P(best) and
expected loss in the latest version, clicks against what an even split over
the same customers' eligible variants would have got (an IPS estimate on the
log), and the stored off-policy evaluations with their intervals.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import numpy as np
from pydantic import BaseModel
from sqlalchemy import select
from sqlalchemy.orm import Session

from genpersona.db.engine import session_scope
from genpersona.delivery.tables import ExposureRow
from genpersona.learning.logs import campaign_log
from genpersona.learning.tables import PromotionRow
from genpersona.learning.update import Allocation, allocation_history
from genpersona.settings import Settings


class EvaluationRecord(BaseModel):
    candidate: str
    estimator: str
    promoted: bool
    value: float
    low: float
    high: float
    current: float
    created_at: datetime


class LearningSummary(BaseModel):
    brand: str
    campaign: str
    exposures: int
    clicks: int
    even_split_clicks: float
    allocations: list[Allocation]
    evaluations: list[EvaluationRecord]

    def allocation_rows(self) -> list[dict[str, Any]]:
        """Long format for a chart: one row per (version, recipe)."""
        return [
            {"version": a.version, "recipe": arm.recipe_id, "share": arm.p, "p_best": arm.p_best}
            for a in self.allocations
            for arm in a.arms
        ]


def campaign_summary(
    session: Session, brand: str, campaign: str, *, window: timedelta = timedelta(days=7)
) -> LearningSummary:
    log = campaign_log(session, brand, campaign, window=window)
    weights = [
        1.0 / (len(e.probabilities) * e.propensity)
        for e in log
        if e.probabilities and e.propensity > 0
    ]
    rewards = [e.reward for e in log if e.probabilities and e.propensity > 0]
    even = float(np.sum(np.array(weights) * np.array(rewards))) if weights else 0.0
    evals = []
    rows = session.scalars(
        select(PromotionRow)
        .where(PromotionRow.brand == brand, PromotionRow.campaign == campaign)
        .order_by(PromotionRow.id)
    )
    for row in rows:
        dec = row.numbers.get("decision", {})
        cand = dec.get("candidate", {})
        evals.append(
            EvaluationRecord(
                candidate=row.candidate,
                estimator=row.estimator,
                promoted=row.promoted,
                value=float(cand.get("value", np.nan)),
                low=float(cand.get("low", np.nan)),
                high=float(cand.get("high", np.nan)),
                current=float(dec.get("current", {}).get("value", np.nan)),
                created_at=row.created_at,
            )
        )
    return LearningSummary(
        brand=brand,
        campaign=campaign,
        exposures=len(log),
        clicks=int(sum(e.reward for e in log)),
        even_split_clicks=even,
        allocations=allocation_history(session, brand, campaign),
        evaluations=evals,
    )


def learning_campaigns(settings: Settings | None = None) -> list[tuple[str, str]]:
    """(brand, campaign) pairs that have exposures, for the console's menu."""
    with session_scope(settings) as session:
        rows = session.execute(
            select(ExposureRow.brand, ExposureRow.campaign)
            .distinct()
            .order_by(ExposureRow.brand, ExposureRow.campaign)
        )
        return [(b, c) for b, c in rows]


def load_summary(brand: str, campaign: str, settings: Settings | None = None) -> LearningSummary:
    with session_scope(settings) as session:
        return campaign_summary(session, brand, campaign)

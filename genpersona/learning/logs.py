"""The logged bandit data of a campaign: exposures joined to their rewards.

Reward = a ``clicked`` outcome for the exposure's draft and variant, from the
same customer, within the attribution window after the exposure (opens never
count: machine opens make them unreliable). Holdout and fallback exposures are
not choices among recipes and are left out.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from pydantic import BaseModel
from sqlalchemy import select
from sqlalchemy.orm import Session

from genpersona.campaigns.tables import OutcomeRow
from genpersona.delivery.tables import ExposureRow
from genpersona.errors import LearningInputError

REWARD_TYPES = ("clicked",)


class LoggedExposure(BaseModel):
    exposure_id: int
    campaign: str
    customer_id: str | None
    #: the draft whose variant was shown (None once the draft was erased)
    draft_id: int | None = None
    recipe_id: str | None
    variant_index: int | None
    propensity: float
    #: [{variant_index, recipe_id, p}] over the eligible variants, as logged
    probabilities: list[dict[str, Any]]
    policy: str
    reward: int
    created_at: datetime


def campaign_log(
    session: Session,
    brand: str,
    campaign: str | None = None,
    *,
    window: timedelta = timedelta(days=7),
    reward_types: tuple[str, ...] = REWARD_TYPES,
) -> list[LoggedExposure]:
    """Every recipe choice of the campaign (or of the whole brand) with its 0/1 reward."""
    if "opened" in reward_types:
        raise LearningInputError(
            "opens cannot be a reward", fix="use clicked (default) and/or converted outcomes"
        )
    q = select(ExposureRow).where(
        ExposureRow.brand == brand,
        ExposureRow.holdout.is_(False),
        ExposureRow.fallback.is_(False),
        ExposureRow.variant_index.is_not(None),
    )
    oq = select(OutcomeRow).where(OutcomeRow.brand == brand, OutcomeRow.type.in_(reward_types))
    if campaign is not None:
        q = q.where(ExposureRow.campaign == campaign)
        oq = oq.where(OutcomeRow.campaign == campaign)
    rewards: dict[tuple[Any, ...], list[datetime]] = {}
    for o in session.scalars(oq):
        key = (o.campaign, o.customer_id, o.draft_id, o.variant_index)
        rewards.setdefault(key, []).append(o.ts)
    out = []
    for e in session.scalars(q.order_by(ExposureRow.id)):
        times = rewards.get((e.campaign, e.customer_id, e.draft_id, e.variant_index), [])
        hit = any(e.created_at <= t <= e.created_at + window for t in times)
        out.append(
            LoggedExposure(
                exposure_id=e.id,
                campaign=e.campaign,
                customer_id=e.customer_id,
                draft_id=e.draft_id,
                recipe_id=e.recipe_id,
                variant_index=e.variant_index,
                propensity=e.propensity,
                probabilities=list(e.probabilities or []),
                policy=f"{e.policy_name}@{e.policy_version}",
                reward=int(hit),
                created_at=e.created_at,
            )
        )
    return out


def arm_counts(log: list[LoggedExposure]) -> dict[str, tuple[int, int]]:
    """recipe -> (exposures, rewards); recipes only ever eligible appear with (0, 0)."""
    counts: dict[str, list[int]] = {}
    for e in log:
        for item in e.probabilities:
            if item.get("recipe_id"):
                counts.setdefault(str(item["recipe_id"]), [0, 0])
        if e.recipe_id:
            c = counts.setdefault(e.recipe_id, [0, 0])
            c[0] += 1
            c[1] += e.reward
    return {k: (v[0], v[1]) for k, v in sorted(counts.items())}


def audit_probabilities(
    log: list[LoggedExposure], *, floor: float | None = None, tol: float = 1e-6
) -> list[str]:
    """Problems that would make off-policy evaluation wrong, one line per bad exposure:
    probabilities not summing to 1, the chosen variant missing or with a different p than
    its propensity, and (when ``floor`` is given) a positive share below the floor."""
    problems = []
    for e in log:
        ps = [float(it.get("p", -1)) for it in e.probabilities]
        k = len(ps)
        if not ps or abs(sum(ps) - 1.0) > tol or min(ps) < 0:
            problems.append(f"exposure {e.exposure_id}: probabilities {ps} do not sum to 1")
            continue
        chosen = [
            float(it["p"]) for it in e.probabilities if it.get("variant_index") == e.variant_index
        ]
        if not chosen or abs(chosen[0] - e.propensity) > tol:
            problems.append(f"exposure {e.exposure_id}: propensity {e.propensity} != logged p")
        if floor is not None and k > 1:
            low = min(floor, 1.0 / k) - tol
            if any(0 < p < low for p in ps):
                problems.append(f"exposure {e.exposure_id}: a share below the floor {floor}")
    return problems

"""``learn update``: recompute and store a segment's allocation over its recipes.

The key is (brand, content kind, segment), read from the campaign's run. The
prior comes from the brand's *other* campaigns of the same kind (empirical
Bayes over how far recipes of one segment spread around its rate). The seed of
the Monte Carlo is derived from the key and the new version, so the stored
probabilities are reproducible and are exactly what the delivery samples from.
"""

from __future__ import annotations

import hashlib
import json
from datetime import timedelta
from typing import Any

import numpy as np
from pydantic import BaseModel
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from genpersona.campaigns.tables import CampaignRunRow
from genpersona.delivery.tables import ExposureRow
from genpersona.errors import LearningInputError, NoAllocation
from genpersona.learning.logs import arm_counts, campaign_log
from genpersona.learning.tables import AllocationRow
from genpersona.learning.thompson import (
    BetaPrior,
    PolicyConfig,
    allocate_batch,
    arm_priors,
    fit_grouped_prior,
)


class ArmAllocation(BaseModel):
    recipe_id: str
    impressions: int
    clicks: int
    p: float
    p_best: float
    expected_loss: float
    retire_cost: float
    retired: bool


class Allocation(BaseModel):
    id: int | None = None
    brand: str
    kind: str
    segment: str
    campaign: str | None
    version: int
    seed: int
    warmup: bool
    prior: dict[str, float]
    config: dict[str, Any]
    arms: list[ArmAllocation]

    @property
    def policy_version(self) -> str:
        return f"a{self.version}"

    def weights(self) -> dict[str, float]:
        return {a.recipe_id: a.p for a in self.arms}

    @classmethod
    def from_row(cls, row: AllocationRow) -> Allocation:
        return cls(
            id=row.id,
            brand=row.brand,
            kind=row.kind,
            segment=row.segment,
            campaign=row.campaign,
            version=row.version,
            seed=row.seed,
            warmup=row.warmup,
            prior=dict(row.prior),
            config=dict(row.config),
            arms=[ArmAllocation.model_validate(a) for a in row.arms],
        )


def segment_key(session: Session, brand: str, campaign: str) -> tuple[str, str]:
    """(kind, segment) of the campaign's latest run; a campaign never run is keyed by name."""
    run = session.scalars(
        select(CampaignRunRow)
        .where(CampaignRunRow.brand == brand, CampaignRunRow.name == campaign)
        .order_by(CampaignRunRow.started_at.desc())
        .limit(1)
    ).first()
    if run is None:
        return "any", json.dumps({"campaign": campaign})
    return run.kind, json.dumps(run.segment or {"campaign": campaign}, sort_keys=True)


def history_prior(session: Session, brand: str, campaign: str, window: timedelta) -> BetaPrior:
    """EB prior from the brand's other campaigns: each campaign is one past segment."""
    by_campaign: dict[str, dict[str, tuple[int, int]]] = {}
    log = [e for e in campaign_log(session, brand, None, window=window) if e.campaign != campaign]
    for name in {e.campaign for e in log}:
        by_campaign[name] = arm_counts([e for e in log if e.campaign == name])
    rows = [list(v.values()) for v in by_campaign.values() if len(v) >= 2]
    if len(rows) < 2:
        return BetaPrior.uniform()
    k = max(len(r) for r in rows)
    n = np.zeros((len(rows), k))
    c = np.zeros((len(rows), k))
    mask = np.zeros((len(rows), k), bool)
    for i, r in enumerate(rows):
        for j, (imp, clk) in enumerate(r):
            n[i, j], c[i, j], mask[i, j] = imp, clk, True
    return fit_grouped_prior(n, c, mask)


def compute_allocation(
    counts: dict[str, tuple[int, int]],
    prior: BetaPrior,
    config: PolicyConfig,
    seed: int,
    *,
    retired: set[str] | None = None,
) -> tuple[list[ArmAllocation], bool]:
    """The allocation over ``counts``' recipes; previously retired recipes stay retired."""
    if not counts:
        raise LearningInputError(
            "no recipes to allocate over: the campaign has no exposures with recipe ids",
            fix="deliver some of the campaign's approved variants first (each records its recipe)",
        )
    recipes = list(counts)
    n = np.array([[counts[r][0] for r in recipes]], dtype=float)
    c = np.array([[counts[r][1] for r in recipes]], dtype=float)
    eligible = np.array([[r not in (retired or set()) for r in recipes]])
    if not eligible.any():
        eligible[:] = True
    a0, b0 = arm_priors(prior, n, c, center_on_pooled=config.center_on_pooled)
    rng = np.random.default_rng(seed)
    p, stats, live = allocate_batch(a0 + c, b0 + n - c, n, eligible, config, rng)
    warm = bool(np.where(live, n, np.inf).min() < config.warmup_exposures)
    arms = [
        ArmAllocation(
            recipe_id=r,
            impressions=int(n[0, j]),
            clicks=int(c[0, j]),
            p=float(p[0, j]),
            p_best=float(stats["p_best"][0, j]),
            expected_loss=float(min(stats["expected_loss"][0, j], 1.0)),
            retire_cost=float(min(stats["retire_cost"][0, j], 1.0)),
            retired=not bool(live[0, j]),
        )
        for j, r in enumerate(recipes)
    ]
    return arms, warm


def _seed(brand: str, kind: str, segment: str, version: int) -> int:
    digest = hashlib.blake2b(f"{brand}|{kind}|{segment}|{version}".encode(), digest_size=8)
    return int.from_bytes(digest.digest(), "little") >> 1


def latest_allocation(
    session: Session,
    brand: str,
    *,
    campaign: str | None = None,
    kind: str | None = None,
    segment: str | None = None,
) -> Allocation:
    q = select(AllocationRow).where(AllocationRow.brand == brand)
    if kind is not None and segment is not None:
        q = q.where(AllocationRow.kind == kind, AllocationRow.segment == segment)
    elif campaign is not None:
        q = q.where(AllocationRow.campaign == campaign)
    row = session.scalars(q.order_by(AllocationRow.id.desc()).limit(1)).first()
    if row is None:
        raise NoAllocation(
            f"no allocation stored for brand {brand!r}"
            + (f", campaign {campaign!r}" if campaign else ""),
            fix="run `genpersona learn update --brand B --campaign C` after some exposures",
            brand=brand,
            campaign=campaign,
        )
    return Allocation.from_row(row)


def allocation_history(session: Session, brand: str, campaign: str) -> list[Allocation]:
    rows = session.scalars(
        select(AllocationRow)
        .where(AllocationRow.brand == brand, AllocationRow.campaign == campaign)
        .order_by(AllocationRow.id)
    )
    return [Allocation.from_row(r) for r in rows]


def learn_update(
    session: Session,
    brand: str,
    campaign: str,
    *,
    config: PolicyConfig | None = None,
    window: timedelta = timedelta(days=7),
) -> Allocation:
    """Read the campaign's exposures and clicks, compute the next allocation, store it."""
    config = config or PolicyConfig()
    kind, segment = segment_key(session, brand, campaign)
    counts = arm_counts(campaign_log(session, brand, campaign, window=window))
    prior = history_prior(session, brand, campaign, window)
    prev_version = session.scalar(
        select(func.max(AllocationRow.version)).where(
            AllocationRow.brand == brand,
            AllocationRow.kind == kind,
            AllocationRow.segment == segment,
        )
    )
    version = int(prev_version or 0) + 1
    retired: set[str] = set()
    if prev_version:
        prev = latest_allocation(session, brand, kind=kind, segment=segment)
        retired = {a.recipe_id for a in prev.arms if a.retired}
    seed = _seed(brand, kind, segment, version)
    arms, warm = compute_allocation(counts, prior, config, seed, retired=retired)
    row = AllocationRow(
        brand=brand,
        kind=kind,
        segment=segment,
        campaign=campaign,
        version=version,
        seed=seed,
        arms=[a.model_dump() for a in arms],
        prior={"alpha": prior.alpha, "beta": prior.beta},
        config=config.model_dump(),
        warmup=warm,
    )
    session.add(row)
    session.flush()
    return Allocation.from_row(row)


def learn_update_all(
    session: Session,
    brand: str,
    *,
    config: PolicyConfig | None = None,
    window: timedelta = timedelta(days=7),
) -> list[Allocation]:
    """``learn update`` for every campaign of the brand with recipe exposures: what a
    Celery beat entry calls on a schedule (one call, one transaction per brand)."""
    names = session.scalars(
        select(ExposureRow.campaign)
        .where(ExposureRow.brand == brand, ExposureRow.recipe_id.is_not(None))
        .distinct()
        .order_by(ExposureRow.campaign)
    )
    return [learn_update(session, brand, n, config=config, window=window) for n in list(names)]

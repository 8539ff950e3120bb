"""``learn evaluate``: a candidate policy's value on a campaign's exposure log, and the decision.

Each exposure is one logged decision among that customer's eligible variants;
the action is the chosen variant's position in that list, the logging
propensity is the one stored, and the target probabilities are what the
candidate policy gives the same list. The DR reward model is each recipe's
shrunk click rate in the log. The promotion decision and every number are
stored in ``policy_promotions``.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import numpy as np
from pydantic import BaseModel
from sqlalchemy.orm import Session

from genpersona.errors import LearningInputError
from genpersona.learning.logs import LoggedExposure, campaign_log
from genpersona.learning.ope import Estimate, LoggedData, PromotionDecision, estimate, promote
from genpersona.learning.tables import PromotionRow


class EvaluationReport(BaseModel):
    brand: str
    campaign: str
    candidate: str
    current: str
    n: int
    estimates: dict[str, Estimate]
    decision: PromotionDecision
    promotion_id: int | None = None


def logged_data(log: list[LoggedExposure], policy: Any, brand: str, kind: str) -> LoggedData:
    rows = [e for e in log if e.probabilities and e.variant_index is not None]
    if not rows:
        raise LearningInputError(
            "the campaign has no logged choices among variants to evaluate on",
            fix="deliver the campaign's approved variants first; holdout and fallback "
            "exposures are not choices",
        )
    width = max(len(e.probabilities) for e in rows)
    n = len(rows)
    target = np.zeros((n, width))
    actions = np.zeros(n, np.int64)
    rewards = np.array([e.reward for e in rows], dtype=float)
    mu = np.array([e.propensity for e in rows], dtype=float)
    overall = float(rewards.mean())
    sums: dict[str | None, list[float]] = {}
    for e in rows:
        s = sums.setdefault(e.recipe_id, [0.0, 0.0])
        s[0] += e.reward
        s[1] += 1
    q_hat = np.full((n, width), overall)
    for i, e in enumerate(rows):
        items = sorted(e.probabilities, key=lambda it: it["variant_index"])
        positions = [it["variant_index"] for it in items]
        if e.variant_index not in positions:
            raise LearningInputError(
                f"exposure {e.exposure_id} chose variant {e.variant_index}, which is not among "
                "its logged eligible variants",
                fix="the exposure log is inconsistent; check the writer of that row",
                exposure_id=e.exposure_id,
            )
        actions[i] = positions.index(e.variant_index)
        context = {"brand": brand, "campaign": e.campaign, "kind": kind}
        probs = policy.probabilities(items, context)
        target[i, : len(probs)] = probs
        for j, it in enumerate(items):
            s = sums.get(it.get("recipe_id"), [0.0, 0.0])
            q_hat[i, j] = (s[0] + 10 * overall) / (s[1] + 10)
    return LoggedData.build(actions, rewards, mu, target, q_hat)


def evaluate_campaign(
    session: Session,
    brand: str,
    campaign: str,
    policy: Any,
    *,
    kind: str = "any",
    estimator: str = "dr",
    n_boot: int = 1000,
    seed: int = 0,
    window: timedelta = timedelta(days=7),
    store: bool = True,
) -> EvaluationReport:
    log = campaign_log(session, brand, campaign, window=window)
    data = logged_data(log, policy, brand, kind)
    estimates = estimate(data, n_boot=n_boot, seed=seed)
    decision = promote(data, estimator=estimator, n_boot=n_boot, seed=seed)
    current = ", ".join(sorted({e.policy for e in log})) or "none"
    report = EvaluationReport(
        brand=brand,
        campaign=campaign,
        candidate=f"{policy.name}@{policy.version}",
        current=current[:128],
        n=data.n,
        estimates=estimates,
        decision=decision,
    )
    if store:
        row = PromotionRow(
            brand=brand,
            campaign=campaign,
            candidate=report.candidate[:128],
            current=report.current,
            estimator=estimator,
            promoted=decision.promote,
            numbers={
                "estimates": {k: v.model_dump() for k, v in estimates.items()},
                "decision": decision.model_dump(),
            },
        )
        session.add(row)
        session.flush()
        report.promotion_id = row.id
    return report

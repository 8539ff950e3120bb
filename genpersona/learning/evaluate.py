"""``learn evaluate``: a candidate policy's value on a campaign's exposure log, and the decision.

Each exposure is one logged decision among that customer's eligible variants;
the action is the chosen variant's position in that list, the logging
propensity is the one stored, and the target probabilities are what the
candidate policy gives the same list. The DR reward model is each recipe's
shrunk click rate in the log. Several campaigns are evaluated as one pooled log
(one decision, more data, a tighter interval). The promotion decision and every
number are stored in ``policy_promotions``, one row per campaign, together with
the candidate's spec (``numbers["policy"]``): a promoted policy is what delivery
uses for those campaigns from then on (``policy.active_policy``).
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
    #: the campaigns' names joined by ", " (one campaign: its name)
    campaign: str
    campaigns: list[str]
    candidate: str
    current: str
    n: int
    estimates: dict[str, Estimate]
    decision: PromotionDecision
    promotion_id: int | None = None
    #: one stored row per campaign
    promotion_ids: list[int] = []


def logged_data(
    log: list[LoggedExposure], policy: Any, brand: str, kind: str | dict[str, str]
) -> LoggedData:
    """``kind``: the content kind, or one per campaign (pooled logs)."""
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
        k = kind.get(e.campaign, "any") if isinstance(kind, dict) else kind
        context = {"brand": brand, "campaign": e.campaign, "kind": k}
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
    return evaluate_campaigns(
        session,
        brand,
        [campaign],
        policy,
        kinds={campaign: kind},
        estimator=estimator,
        n_boot=n_boot,
        seed=seed,
        window=window,
        store=store,
    )


def evaluate_campaigns(
    session: Session,
    brand: str,
    campaigns: list[str],
    policy: Any,
    *,
    kinds: dict[str, str] | None = None,
    estimator: str = "dr",
    n_boot: int = 1000,
    seed: int = 0,
    window: timedelta = timedelta(days=7),
    store: bool = True,
) -> EvaluationReport:
    """One decision for ``policy`` over the pooled logs of ``campaigns``."""
    names = list(dict.fromkeys(campaigns))
    if not names:
        raise LearningInputError("say which campaigns to evaluate on", fix="pass --campaign NAME")
    log: list[LoggedExposure] = []
    for name in names:
        log += campaign_log(session, brand, name, window=window)
    data = logged_data(log, policy, brand, kinds or {})
    estimates = estimate(data, n_boot=n_boot, seed=seed)
    decision = promote(data, estimator=estimator, n_boot=n_boot, seed=seed)
    current = ", ".join(sorted({e.policy for e in log})) or "none"
    report = EvaluationReport(
        brand=brand,
        campaign=", ".join(names),
        campaigns=names,
        candidate=f"{policy.name}@{policy.version}",
        current=current[:128],
        n=data.n,
        estimates=estimates,
        decision=decision,
    )
    if store:
        spec = policy.spec() if hasattr(policy, "spec") else None
        for name in names:
            row = PromotionRow(
                brand=brand,
                campaign=name,
                candidate=report.candidate[:128],
                current=report.current,
                estimator=estimator,
                promoted=decision.promote,
                numbers={
                    "estimates": {k: v.model_dump() for k, v in estimates.items()},
                    "decision": decision.model_dump(),
                    "campaigns": names,
                    "policy": spec,
                },
            )
            session.add(row)
            session.flush()
            report.promotion_ids.append(row.id)
        report.promotion_id = report.promotion_ids[0]
    return report

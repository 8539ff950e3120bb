"""Off-policy evaluation: IPS, self-normalised IPS and doubly robust, with bootstrap 95% intervals.

Input is any logged bandit data: per row, the action taken, its reward, the
logging policy's probability of that action (the propensity the exposure log
stores), and the target policy's probabilities over the actions. All
estimators share one set of bootstrap resamples, so a candidate and the current
policy can be compared *paired* on the same resampled logs (see ``promote``).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from pydantic import BaseModel

from genpersona.errors import LearningInputError

ESTIMATORS = ("naive", "ips", "snips", "dr")


class Estimate(BaseModel):
    estimator: str
    value: float
    low: float
    high: float
    n: int


class LoggedData(BaseModel):
    """Arrays of one log, validated once; ``target`` and ``q_hat`` are ``(n, A)``."""

    model_config = {"arbitrary_types_allowed": True}

    actions: Any  # np.ndarray[int]
    rewards: Any
    propensities: Any
    target: Any
    q_hat: Any

    @classmethod
    def build(
        cls,
        actions: np.ndarray,
        rewards: np.ndarray,
        propensities: np.ndarray,
        target: np.ndarray,
        q_hat: np.ndarray | None = None,
    ) -> LoggedData:
        a = np.asarray(actions, dtype=np.int64)
        r = np.asarray(rewards, dtype=float)
        mu = np.asarray(propensities, dtype=float)
        pi = np.asarray(target, dtype=float)
        n = len(a)
        if n == 0:
            raise LearningInputError(
                "no logged rows to evaluate", fix="log exposures first, or widen the selection"
            )
        if r.shape != (n,) or mu.shape != (n,) or pi.ndim != 2 or pi.shape[0] != n:
            raise LearningInputError(
                "actions, rewards and propensities must be length n and target (n, n_actions)",
                fix="build one row per logged decision",
                n=n,
            )
        if np.any(a < 0) or np.any(a >= pi.shape[1]):
            raise LearningInputError(
                "an action index is outside the target's columns",
                fix="number actions 0..n_actions-1",
            )
        if np.any(mu <= 0) or np.any(mu > 1):
            raise LearningInputError(
                "a logging propensity is not in (0, 1]",
                fix="a logged choice must have had a positive probability; check the exposure log",
                bad=int(np.sum((mu <= 0) | (mu > 1))),
            )
        if np.any(np.abs(pi.sum(axis=1) - 1) > 1e-6) or np.any(pi < 0):
            raise LearningInputError(
                "target policy probabilities must be non-negative and sum to 1 per row",
                fix="normalise the target policy's probabilities over each row's actions",
            )
        if q_hat is None:
            q_hat = per_action_means(a, r, pi.shape[1])
        q = np.broadcast_to(np.asarray(q_hat, dtype=float), pi.shape)
        return cls(actions=a, rewards=r, propensities=mu, target=pi, q_hat=q)

    @property
    def n(self) -> int:
        return len(self.actions)


def per_action_means(actions: np.ndarray, rewards: np.ndarray, n_actions: int) -> np.ndarray:
    """The DR's reward model when none is given: each action's mean reward, shrunk to the
    overall mean by 10 pseudo-rows so rare actions do not get wild values."""
    overall = float(np.mean(rewards))
    sums = np.bincount(actions, weights=rewards, minlength=n_actions)
    counts = np.bincount(actions, minlength=n_actions)
    return (sums + 10 * overall) / (counts + 10)


def _point(log: LoggedData, idx: np.ndarray | None = None) -> dict[str, np.ndarray]:
    """Every estimator for each resample; ``idx`` is (n_boot, n) row indices or None."""
    rows = np.arange(log.n)
    pi_a = log.target[rows, log.actions]
    ratio = pi_a / log.propensities
    q_a = log.q_hat[rows, log.actions]
    q_pi = np.sum(log.target * log.q_hat, axis=1)
    greedy = log.target.argmax(axis=1) == log.actions
    r = log.rewards
    if idx is None:
        idx = rows[None, :]
    wr = (ratio * r)[idx]
    wsum = ratio[idx].sum(axis=1)
    match = greedy[idx]
    matched = match.sum(axis=1)
    naive = np.where(matched > 0, (r[idx] * match).sum(axis=1) / np.maximum(matched, 1), np.nan)
    return {
        "naive": naive,
        "ips": wr.mean(axis=1),
        "snips": wr.sum(axis=1) / np.where(wsum > 0, wsum, 1.0),
        "dr": (q_pi + ratio * (r - q_a))[idx].mean(axis=1),
    }


def estimate(
    log: LoggedData, *, n_boot: int = 1000, seed: int = 0, level: float = 0.95
) -> dict[str, Estimate]:
    """Point estimates and percentile bootstrap intervals for every estimator."""
    point = _point(log)
    boots = _point(log, _resamples(log.n, n_boot, seed))
    lo, hi = (1 - level) / 2 * 100, (1 + level) / 2 * 100
    out = {}
    for name in ESTIMATORS:
        b = boots[name][np.isfinite(boots[name])]
        low, high = np.percentile(b, [lo, hi]) if len(b) else (np.nan, np.nan)
        out[name] = Estimate(
            estimator=name, value=float(point[name][0]), low=float(low), high=float(high), n=log.n
        )
    return out


def _resamples(n: int, n_boot: int, seed: int) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, n, size=(n_boot, n))


class PromotionDecision(BaseModel):
    """The rule: promote iff the candidate's lower 95% bound beats the current policy's
    on-policy value AND the paired bootstrap difference (candidate - current) has a
    lower 95% bound above zero."""

    promote: bool
    estimator: str
    candidate: Estimate
    current: Estimate
    diff_low: float
    diff_high: float
    reason: str


def promote(
    log: LoggedData, *, estimator: str = "dr", n_boot: int = 1000, seed: int = 0
) -> PromotionDecision:
    """Compare the target policy in ``log`` with the logging policy on the same log.

    The logging (current) policy's value is the plain mean of the logged rewards:
    exact in expectation for the policy that produced the log, no weights needed.
    """
    if estimator not in ("ips", "snips", "dr"):
        raise LearningInputError(
            f"unknown estimator {estimator!r} for promotion", fix="use ips, snips or dr"
        )
    idx = _resamples(log.n, n_boot, seed)
    cand_point = float(_point(log)[estimator][0])
    cand_boot = _point(log, idx)[estimator]
    cur_boot = log.rewards[idx].mean(axis=1)
    cur_point = float(log.rewards.mean())
    c_low, c_high = np.percentile(cand_boot, [2.5, 97.5])
    u_low, u_high = np.percentile(cur_boot, [2.5, 97.5])
    d_low, d_high = np.percentile(cand_boot - cur_boot, [2.5, 97.5])
    ok = bool(c_low > cur_point and d_low > 0)
    if ok:
        reason = f"lower bound {c_low:.4f} > current {cur_point:.4f} and paired diff > 0"
    elif c_low <= cur_point:
        reason = f"lower bound {c_low:.4f} does not beat current {cur_point:.4f}"
    else:
        reason = f"paired difference interval [{d_low:.4f}, {d_high:.4f}] includes 0"
    return PromotionDecision(
        promote=ok,
        estimator=estimator,
        candidate=Estimate(
            estimator=estimator, value=cand_point, low=float(c_low), high=float(c_high), n=log.n
        ),
        current=Estimate(
            estimator="on_policy", value=cur_point, low=float(u_low), high=float(u_high), n=log.n
        ),
        diff_low=float(d_low),
        diff_high=float(d_high),
        reason=reason,
    )


def from_frame(frame: pd.DataFrame) -> LoggedData:
    """A frame with columns ``action``, ``reward``, ``propensity`` and ``target`` (a dict
    {action: probability} per row; actions may be any hashable labels). A ``context``
    column may be present; the default DR reward model ignores it."""
    missing = {"action", "reward", "propensity", "target"} - set(frame.columns)
    if missing:
        raise LearningInputError(
            f"the logged frame lacks columns {sorted(missing)}",
            fix="give columns context, action, reward, propensity, target",
            missing=sorted(missing),
        )
    labels: dict[Any, int] = {}
    for row_target, action in zip(frame["target"], frame["action"], strict=True):
        for key in [*dict(row_target), action]:
            labels.setdefault(key, len(labels))
    pi = np.zeros((len(frame), len(labels)))
    for i, row_target in enumerate(frame["target"]):
        for key, p in dict(row_target).items():
            pi[i, labels[key]] = float(p)
    actions = np.array([labels[a] for a in frame["action"]], dtype=np.int64)
    return LoggedData.build(
        actions, frame["reward"].to_numpy(float), frame["propensity"].to_numpy(float), pi
    )

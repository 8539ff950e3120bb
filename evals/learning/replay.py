"""Upworthy replay: each real test's arms are coins with their observed CTR.

Traffic is the test's real impressions (or a share of it), served in ``STEPS``
equal batches; after each batch the policy recomputes its allocation from what
it has seen, the way ``learn update`` runs between sends. Thompson sampling runs
the shipped ``genpersona.learning.thompson.allocate_batch`` (floor, warm-up,
retirement included). Scorer: clicks captured over oracle clicks (every
impression on the truly best arm), pooled over tests, and the share of tests
whose final pick is the truly best arm.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from evals.learning.data import Tests
from genpersona.learning.thompson import BetaPrior, PolicyConfig, allocate_batch, arm_priors

SCORER_VERSION = "replay-v1"
STEPS = 40


@dataclass
class Result:
    policy: str
    oracle_share: float
    best_share: float


def _step_counts(total: np.ndarray, steps: int) -> np.ndarray:
    """(steps, B) impressions per batch, integers summing to each test's traffic."""
    edges = np.floor(np.outer(np.arange(steps + 1) / steps, total)).astype(np.int64)
    return np.diff(edges, axis=0)


def simulate(
    tests: Tests,
    truth: np.ndarray,
    allocate: Callable[[np.ndarray, np.ndarray, int], tuple[np.ndarray, np.ndarray]],
    *,
    traffic: float,
    seed: int,
    steps: int = STEPS,
) -> tuple[float, float]:
    """``allocate(n, c, step) -> (probabilities (B,K), final pick (B,))``."""
    rng = np.random.default_rng(seed)
    mask = tests.mask
    total = np.round(tests.impressions.sum(1) * traffic).astype(np.int64)
    per_step = _step_counts(total, steps)
    n = np.zeros(mask.shape)
    c = np.zeros(mask.shape)
    pick = np.zeros(len(total), np.int64)
    for step in range(steps):
        p, pick = allocate(n, c, step)
        p = np.where(mask, p, 0.0)
        p = p / p.sum(1, keepdims=True)
        counts = rng.multinomial(per_step[step], p)
        c += rng.binomial(counts, np.where(mask, truth, 0.0))
        n += counts
    _, pick = allocate(n, c, steps)
    oracle = float(np.sum(total * np.where(mask, truth, -1).max(1)))
    best = np.where(mask, truth, -1).argmax(1)
    return float(c.sum() / oracle), float(np.mean(pick == best))


def replay(
    tests: Tests,
    truth: np.ndarray,
    make_policy: Callable[[np.ndarray, np.ndarray], Callable],
    *,
    traffic: float,
    seed: int,
) -> tuple[float, float]:
    """``simulate`` over buckets of tests with the same number of arms (no padded draws).

    ``make_policy(bucket_rows, bucket_mask)`` builds the policy for one bucket.
    Returns pooled (oracle share, best-arm share) over all tests.
    """
    k = tests.mask.sum(1)
    clicks = oracle = hits = 0.0
    for arms in np.unique(k):
        rows = np.flatnonzero(k == arms)
        sub = tests.subset(np.isin(np.arange(len(k)), rows))
        sub.mask = sub.mask[:, :arms]
        sub.impressions = sub.impressions[:, :arms]
        sub.clicks = sub.clicks[:, :arms]
        t = truth[rows][:, :arms]
        share, best = simulate(
            sub, t, make_policy(rows, sub.mask), traffic=traffic, seed=seed + int(arms)
        )
        total = np.round(sub.impressions.sum(1) * traffic)
        o = float(np.sum(total * t.max(1)))
        clicks += share * o
        oracle += o
        hits += best * len(rows)
    return clicks / oracle, hits / len(k)


def shrunk_truth(tests: Tests, strength: float) -> np.ndarray:
    """Each arm's CTR shrunk to its test's pooled CTR by ``strength`` pseudo-impressions:
    observed maxima overstate the best arm, so this is the more honest 'truth'."""
    n, c = tests.impressions, tests.clicks
    level = c.sum(1, keepdims=True) / n.sum(1, keepdims=True)
    return np.where(tests.mask, (c + strength * level) / (n + strength), 0.0)


def even(mask: np.ndarray) -> Callable:
    def run(n: np.ndarray, c: np.ndarray, step: int) -> tuple[np.ndarray, np.ndarray]:
        rate = np.where(mask, (c + 1) / (n + 2), -1)
        return mask / mask.sum(1, keepdims=True), rate.argmax(1)

    return run


def explore_then_commit(mask: np.ndarray, share: float, steps: int = STEPS) -> Callable:
    explore_steps = max(1, round(share * steps))

    def run(n: np.ndarray, c: np.ndarray, step: int) -> tuple[np.ndarray, np.ndarray]:
        rate = np.where(mask, (c + 1) / (n + 2), -1)
        pick = rate.argmax(1)
        if step < explore_steps:
            return mask / mask.sum(1, keepdims=True), pick
        return np.eye(mask.shape[1])[pick], pick

    return run


def thompson(
    mask: np.ndarray,
    prior: BetaPrior,
    config: PolicyConfig,
    *,
    lift: np.ndarray | None = None,
    seed: int = 0,
) -> Callable:
    rng = np.random.default_rng(seed + 7919)

    def run(n: np.ndarray, c: np.ndarray, step: int) -> tuple[np.ndarray, np.ndarray]:
        a0, b0 = arm_priors(prior, n, c, lift=lift, center_on_pooled=config.center_on_pooled)
        alpha, beta = a0 + c, b0 + n - c
        p, _, live = allocate_batch(alpha, beta, n, mask, config, rng)
        post_mean = np.where(live, alpha / (alpha + beta), -1)
        return p, post_mean.argmax(1)

    return run

"""Estimator validity: simulated logs with known propensities and a known target value.

Each seed draws a world (per-context, per-action click rates), a logging policy
(random softmax with our 5% floor, context-dependent) and a target policy
(mostly the best action per context, floored), logs ``N_ROWS`` decisions, and
asks each estimator for a 95% bootstrap interval. Scorer: the share of seeds whose
interval covers the true target value, and each estimator's mean bias; the
naive estimator (average reward where the logged action is the target's top
choice) is the baseline whose bias the weighting removes.
"""

from __future__ import annotations

import numpy as np

from genpersona.learning.ope import ESTIMATORS, LoggedData, estimate
from genpersona.learning.thompson import apply_floor

SCORER_VERSION = "coverage-v1"
N_CONTEXTS = 6
N_ACTIONS = 3
N_ROWS = 4000


def world(seed: int) -> tuple[LoggedData, float]:
    rng = np.random.default_rng(seed)
    rates = rng.uniform(0.02, 0.25, size=(N_CONTEXTS, N_ACTIONS))
    px = rng.dirichlet(np.ones(N_CONTEXTS) * 2)
    mask = np.ones((N_CONTEXTS, N_ACTIONS), bool)
    logits = rng.normal(0, 1.0, size=(N_CONTEXTS, N_ACTIONS))
    mu = apply_floor(np.exp(logits) / np.exp(logits).sum(1, keepdims=True), mask, 0.05)
    greedy = np.eye(N_ACTIONS)[rates.argmax(1)] * 0.8 + 0.2 / N_ACTIONS
    pi = apply_floor(greedy, mask, 0.05)
    truth = float(np.sum(px[:, None] * pi * rates))
    x = rng.choice(N_CONTEXTS, size=N_ROWS, p=px)
    u = rng.random(N_ROWS)[:, None]
    a = (u > np.cumsum(mu[x], axis=1)).sum(axis=1)
    a = np.minimum(a, N_ACTIONS - 1)
    r = (rng.random(N_ROWS) < rates[x, a]).astype(float)
    return LoggedData.build(a, r, mu[x, a], pi[x]), truth


def run(seeds: int = 200, n_boot: int = 400) -> dict[str, dict[str, float]]:
    covered = {k: 0 for k in ESTIMATORS}
    bias = {k: 0.0 for k in ESTIMATORS}
    width = {k: 0.0 for k in ESTIMATORS}
    for seed in range(seeds):
        log, truth = world(seed)
        est = estimate(log, n_boot=n_boot, seed=seed)
        for k in ESTIMATORS:
            covered[k] += int(est[k].low <= truth <= est[k].high)
            bias[k] += (est[k].value - truth) / seeds
            width[k] += (est[k].high - est[k].low) / seeds
    return {
        k: {"coverage": covered[k] / seeds, "mean_bias": bias[k], "mean_width": width[k]}
        for k in ESTIMATORS
    }

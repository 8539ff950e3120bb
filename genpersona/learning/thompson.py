"""Beta-Bernoulli Thompson sampling over recipes, with logged, exact allocation probabilities.

Why our own ~200 lines of numpy instead of a bandit library: the maintained
libraries (e.g. MABWiser, Vowpal Wabbit, contextualbandits) are either pinned to
older Pythons, heavy native builds, or sample one arm per call without exposing
the probability of the choice. Off-policy evaluation needs that probability
*exactly*, so we compute the allocation once per update by Monte Carlo over
posterior draws with a fixed, stored seed; the delivery then samples a variant
from these stored probabilities and logs them. The same functions run
vectorised over thousands of tests in ``evals/learning`` so the eval measures
the shipped code.

Arrays have a leading batch axis ``(B, K)``: B independent bandits (segments or
replayed tests) with up to K arms; ``mask`` marks the arms that exist/are
eligible.
"""

from __future__ import annotations

import numpy as np
from pydantic import BaseModel, Field

from genpersona.errors import LearningInputError


class BetaPrior(BaseModel):
    """Beta(alpha, beta) over an arm's click rate; ``strength`` = alpha + beta pseudo-exposures."""

    alpha: float = Field(gt=0)
    beta: float = Field(gt=0)

    @property
    def mean(self) -> float:
        return self.alpha / (self.alpha + self.beta)

    @property
    def strength(self) -> float:
        return self.alpha + self.beta

    @classmethod
    def uniform(cls) -> BetaPrior:
        return cls(alpha=1.0, beta=1.0)

    @classmethod
    def from_mean_strength(cls, mean: float, strength: float) -> BetaPrior:
        mean = min(max(mean, 1e-6), 1 - 1e-6)
        return cls(alpha=mean * strength, beta=(1 - mean) * strength)


class PolicyConfig(BaseModel):
    """Knobs of the allocation; defaults are the ones ``evals/learning`` measured."""

    floor: float = Field(default=0.05, ge=0, le=0.5, description="minimum share per eligible arm")
    warmup_exposures: int = Field(
        default=20, ge=0, description="even split until every eligible arm has this many"
    )
    draws: int = Field(default=4000, ge=16, description="posterior draws per allocation")
    retire_p_best: float = Field(default=0.05, ge=0, le=1)
    retire_loss: float = Field(
        default=0.02,
        ge=0,
        description="retire only if dropping the arm costs at most this fraction of the "
        "best arm's click rate (expected, over the posterior)",
    )
    min_arms: int = Field(default=2, ge=1, description="never retire below this many arms")
    greed: float = Field(
        default=2.0,
        ge=1.0,
        description="allocate in proportion to P(best)**greed; 1 = plain Thompson sampling, "
        "larger exploits the leader sooner (a known horizon rewards that)",
    )
    center_on_pooled: bool = Field(
        default=True,
        description="centre the prior on the segment's pooled click rate (hierarchical EB)",
    )


# --- prior fitting ---------------------------------------------------------------------
def fit_prior(
    impressions: np.ndarray | list[int],
    clicks: np.ndarray | list[int],
    *,
    method: str = "mom",
    max_strength: float = 1e5,
) -> BetaPrior:
    """Empirical-Bayes Beta prior from past arms' (impressions, clicks).

    ``mom``: method of moments, removing the binomial noise each arm's observed
    rate carries (so small arms do not inflate the spread). ``mle``: beta-binomial
    maximum likelihood started from the moments (scipy's optimiser).
    """
    n = np.asarray(impressions, dtype=float)
    c = np.asarray(clicks, dtype=float)
    if n.shape != c.shape or n.ndim != 1:
        raise LearningInputError(
            "fit_prior needs two 1-d arrays of equal length",
            fix="pass one impressions and one clicks count per past arm",
        )
    keep = n > 0
    n, c = n[keep], c[keep]
    if len(n) < 2 or n.sum() == 0:
        return BetaPrior.uniform()
    if np.any(c > n) or np.any(c < 0):
        raise LearningInputError(
            "an arm has more clicks than impressions (or negative clicks)",
            fix="count clicks as unique clicking exposures, at most one per impression",
        )
    m = c.sum() / n.sum()
    if m <= 0 or m >= 1:
        return BetaPrior.uniform()
    rates = c / n
    w = n / n.sum()
    observed_var = float(np.sum(w * (rates - m) ** 2))
    noise_var = m * (1 - m) * float(np.sum(w / n))
    between = observed_var - noise_var
    strength = max_strength if between <= 0 else min(m * (1 - m) / between - 1, max_strength)
    strength = max(strength, 2.0)
    prior = BetaPrior.from_mean_strength(m, strength)
    if method == "mom":
        return prior
    if method != "mle":
        raise LearningInputError(
            f"unknown prior fitting method {method!r}", fix="use method='mom' or method='mle'"
        )
    from scipy.optimize import minimize
    from scipy.special import betaln

    def nll(theta: np.ndarray) -> float:
        a, b = np.exp(theta)
        return -float(np.sum(betaln(c + a, n - c + b) - betaln(a, b)))

    res = minimize(nll, np.log([prior.alpha, prior.beta]), method="Nelder-Mead")
    a, b = np.exp(res.x)
    if not np.isfinite(a) or not np.isfinite(b) or a + b > max_strength:
        return prior
    return BetaPrior(alpha=float(a), beta=float(b))


def arm_priors(
    prior: BetaPrior,
    impressions: np.ndarray,
    clicks: np.ndarray,
    *,
    lift: np.ndarray | None = None,
    center_on_pooled: bool = True,
) -> tuple[np.ndarray, np.ndarray]:
    """Per-arm Beta parameters ``(B, K)``.

    The prior's mean is the segment's pooled rate so far (shrunk to the fitted
    mean) when ``center_on_pooled``: arms of one segment share a level that the
    brand's history only roughly knows, and what separates them is their spread,
    which the fitted strength encodes. ``lift`` (e.g. the click model's predicted
    CTR over its segment mean) tilts each arm's prior mean: how new recipes start
    from a prediction rather than from nothing.
    """
    n = np.asarray(impressions, dtype=float)
    c = np.asarray(clicks, dtype=float)
    level = np.full(n.shape[:-1] + (1,), prior.mean)
    if center_on_pooled:
        s = prior.strength
        level = (c.sum(-1, keepdims=True) + s * prior.mean) / (n.sum(-1, keepdims=True) + s)
    mean = np.broadcast_to(level, n.shape)
    if lift is not None:
        mean = mean * np.asarray(lift, dtype=float)
    mean = np.clip(mean, 1e-6, 1 - 1e-6)
    return mean * prior.strength, (1 - mean) * prior.strength


# --- posterior summaries ------------------------------------------------------------------
def posterior_draws(
    alpha: np.ndarray, beta: np.ndarray, mask: np.ndarray, draws: int, rng: np.random.Generator
) -> np.ndarray:
    """``(B, K, D)`` samples; absent arms are -inf so they never win."""
    a = np.where(mask, alpha, 1.0)[..., None]
    b = np.where(mask, beta, 1.0)[..., None]
    theta = rng.beta(a, b, size=a.shape[:-1] + (draws,))
    return np.where(mask[..., None], theta, -np.inf)


def summarize(theta: np.ndarray, mask: np.ndarray) -> dict[str, np.ndarray]:
    """P(best), expected loss of playing each arm, and the expected cost of retiring it."""
    k = theta.shape[1]
    best = theta.max(axis=1, keepdims=True)  # (B,1,D)
    winner = theta.argmax(axis=1)  # (B,D)
    p_best = np.stack([(winner == j).mean(-1) for j in range(k)], axis=1)
    finite = np.where(mask[..., None], theta, 0.0)
    exp_loss = np.where(mask, (np.where(mask[..., None], best - finite, 0.0)).mean(-1), np.inf)
    # value lost if arm j were removed: E[max_all - max_{i != j}]; only non-zero where j wins
    if k > 1:
        second = np.sort(theta, axis=1)[:, -2, :]  # (B,D)
        gap = best[:, 0, :] - np.where(np.isfinite(second), second, best[:, 0, :])
        retire_cost = np.stack([np.where(winner == j, gap, 0.0).mean(-1) for j in range(k)], 1)
    else:
        retire_cost = np.full(mask.shape, np.inf)
    best_mean = np.where(mask, finite.mean(-1), -np.inf).max(axis=1, keepdims=True)
    return {
        "p_best": p_best,
        "expected_loss": exp_loss,
        "retire_cost": retire_cost,
        "best_mean": np.broadcast_to(best_mean, mask.shape),
    }


# --- allocation ---------------------------------------------------------------------------
def apply_floor(p: np.ndarray, mask: np.ndarray, floor: float) -> np.ndarray:
    """Water-filling: raise arms under the floor to it, shrink the rest proportionally.

    The effective floor is ``min(floor, 1/k)`` so k arms can always be served; rows
    sum to exactly 1 (the largest entry absorbs the rounding).
    """
    p = np.where(mask, np.asarray(p, dtype=float), 0.0)
    k = mask.sum(axis=1, keepdims=True).astype(float)
    f = np.minimum(floor, 1.0 / np.maximum(k, 1.0))
    total = p.sum(axis=1, keepdims=True)
    p = np.where(total > 0, p / np.where(total > 0, total, 1.0), np.where(mask, 1.0 / k, 0.0))
    pinned = mask & (p < f)
    for _ in range(mask.shape[1] + 1):
        free = mask & ~pinned
        budget = 1.0 - pinned.sum(axis=1, keepdims=True) * f
        free_mass = np.where(free, p, 0.0).sum(axis=1, keepdims=True)
        scaled = np.where(free, p * budget / np.where(free_mass > 0, free_mass, 1.0), 0.0)
        newly = free & (scaled < f - 1e-15)
        if not newly.any():
            break
        pinned |= newly
    out = np.where(pinned, f, scaled)
    out = np.where(mask, out, 0.0)
    rows = np.arange(out.shape[0])
    top = out.argmax(axis=1)
    out[rows, top] = 0.0
    out[rows, top] = 1.0 - out.sum(axis=1)
    return out


def allocate_batch(
    alpha: np.ndarray,
    beta: np.ndarray,
    impressions: np.ndarray,
    eligible: np.ndarray,
    config: PolicyConfig,
    rng: np.random.Generator,
) -> tuple[np.ndarray, dict[str, np.ndarray], np.ndarray]:
    """One allocation step for B bandits: (probabilities, summaries, still-eligible mask).

    Order: retire arms that are both unlikely to be best and cheap to drop (never
    below ``min_arms``), then even split during warm-up, else P(best) from the
    draws, then the exploration floor over the remaining arms.
    """
    theta = posterior_draws(alpha, beta, eligible, config.draws, rng)
    stats = summarize(theta, eligible)
    warm = (np.where(eligible, impressions, np.inf).min(axis=1) < config.warmup_exposures)[:, None]
    retire = (
        eligible
        & ~warm
        & (stats["p_best"] < config.retire_p_best)
        & (stats["retire_cost"] <= config.retire_loss * stats["best_mean"])
    )
    # keep at least min_arms: un-retire the most probable ones if needed
    keep_n = np.maximum(config.min_arms - (eligible & ~retire).sum(axis=1), 0)
    if keep_n.any():
        order = np.argsort(-np.where(retire, stats["p_best"], -1.0), axis=1)
        ranks = np.argsort(order, axis=1)
        retire &= ~(ranks < keep_n[:, None])
    live = eligible & ~retire
    k = np.maximum(live.sum(axis=1, keepdims=True), 1)
    even = np.where(live, 1.0 / k, 0.0)
    p = np.where(warm, even, np.where(live, stats["p_best"] ** config.greed, 0.0))
    return apply_floor(p, live, config.floor), stats, live


def fit_grouped_prior(
    impressions: np.ndarray,
    clicks: np.ndarray,
    mask: np.ndarray,
    *,
    max_strength: float = 1e5,
    denoise: bool = True,
) -> BetaPrior:
    """Empirical-Bayes prior for arms *within* a segment, from past segments' arms ``(B, K)``.

    With ``center_on_pooled`` the prior's level is each segment's own pooled rate, so
    what history must supply is how far arms of one segment spread around it: the
    relative between-arm variance ``v`` (binomial noise removed, by moments, unless
    ``denoise=False``: for a simulated world whose arms' true rates *are* the observed
    ones). A Beta with mean m and strength s has relative variance (1 - m) / (m (s + 1)).
    """
    n = np.where(mask, np.asarray(impressions, dtype=float), 0.0)
    c = np.where(mask, np.asarray(clicks, dtype=float), 0.0)
    seg_n, seg_c = n.sum(1, keepdims=True), c.sum(1, keepdims=True)
    ok = (seg_c[:, 0] > 0) & (mask.sum(1) >= 2)
    if ok.sum() < 2:
        return BetaPrior.uniform()
    n, c, m_seg, mask = n[ok], c[ok], (seg_c / seg_n)[ok], mask[ok]
    rate = c / np.maximum(n, 1)
    noise = m_seg * (1 - m_seg) / np.maximum(n, 1) if denoise else 0.0
    rel_dev = np.where(mask & (n > 0), (rate - m_seg) ** 2 - noise, 0.0)
    weights = np.where(mask & (n > 0), n, 0.0)
    v = float(np.sum(weights * rel_dev / m_seg**2) / np.sum(weights))
    m = float(c.sum() / n.sum())
    strength = max_strength if v <= 0 else min((1 - m) / (m * v) - 1, max_strength)
    return BetaPrior.from_mean_strength(m, max(strength, 2.0))

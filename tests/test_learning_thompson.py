"""The allocation: floor, warm-up, retirement, prior fitting (small fixtures, numpy only)."""

from __future__ import annotations

import numpy as np
import pytest

from genpersona.errors import LearningInputError
from genpersona.learning.thompson import (
    BetaPrior,
    PolicyConfig,
    allocate_batch,
    apply_floor,
    arm_priors,
    fit_grouped_prior,
    fit_prior,
)


def _alloc(n, c, config, prior=None, seed=0):
    n = np.array([n], float)
    c = np.array([c], float)
    mask = np.ones(n.shape, bool)
    prior = prior or BetaPrior.uniform()
    a0, b0 = arm_priors(prior, n, c, center_on_pooled=config.center_on_pooled)
    return allocate_batch(a0 + c, b0 + n - c, n, mask, config, np.random.default_rng(seed))


def test_floor_lifts_small_arms_and_sums_to_one_exactly() -> None:
    p = apply_floor(np.array([[0.97, 0.02, 0.01]]), np.ones((1, 3), bool), 0.05)[0]
    assert p.tolist() == pytest.approx([0.90, 0.05, 0.05])
    assert p.sum() == 1.0


def test_floor_is_capped_at_an_even_split_when_arms_are_many() -> None:
    mask = np.ones((1, 25), bool)
    p = apply_floor(np.r_[[1.0], np.zeros(24)][None, :], mask, 0.05)[0]
    assert p == pytest.approx(np.full(25, 1 / 25))


def test_floor_keeps_proportions_of_arms_above_it() -> None:
    p = apply_floor(np.array([[0.6, 0.3, 0.1, 0.0]]), np.ones((1, 4), bool), 0.05)[0]
    assert p[3] == pytest.approx(0.05)
    assert p[0] / p[1] == pytest.approx(2.0)
    assert abs(p.sum() - 1) < 1e-12


def test_warmup_splits_evenly_until_every_arm_has_min_exposures() -> None:
    cfg = PolicyConfig(warmup_exposures=100, draws=500, center_on_pooled=False)
    p, _, _ = _alloc([99, 500, 500], [0, 50, 5], cfg)
    assert p[0] == pytest.approx([1 / 3] * 3)
    p, _, _ = _alloc([100, 500, 500], [0, 50, 5], cfg)
    assert p[0, 1] > 0.8


def test_allocation_moves_to_the_better_arm_never_below_floor() -> None:
    cfg = PolicyConfig(warmup_exposures=10, draws=2000, retire_p_best=0.0, center_on_pooled=False)
    p, stats, live = _alloc([400, 400, 400], [40, 20, 22], cfg)
    assert p[0].argmax() == 0
    assert p[0].min() >= 0.05 - 1e-12
    assert p.sum() == pytest.approx(1.0, abs=1e-12)
    assert live.all()
    assert stats["p_best"][0, 0] > 0.95


def test_same_seed_same_probabilities() -> None:
    cfg = PolicyConfig(warmup_exposures=0, draws=300, center_on_pooled=False)
    a, _, _ = _alloc([50, 50, 50], [5, 4, 3], cfg, seed=7)
    b, _, _ = _alloc([50, 50, 50], [5, 4, 3], cfg, seed=7)
    assert np.array_equal(a, b)


def test_retirement_drops_clear_losers_but_keeps_min_arms() -> None:
    cfg = PolicyConfig(warmup_exposures=10, draws=4000, center_on_pooled=False, min_arms=2)
    p, _, live = _alloc([5000, 5000, 5000], [400, 100, 98], cfg)
    # one loser retired (p = 0), the other kept at the floor so two arms remain
    assert live.sum() == 2
    assert live[0, 0]
    retired = np.flatnonzero(~live[0])
    assert p[0, retired] == pytest.approx(0.0)
    assert p[0, live[0]].min() == pytest.approx(0.05)


def test_no_retirement_when_arms_are_close() -> None:
    cfg = PolicyConfig(warmup_exposures=10, draws=4000, center_on_pooled=False)
    _, _, live = _alloc([300, 300, 300], [10, 9, 11], cfg)
    assert live.all()


def test_fit_prior_method_of_moments_matches_hand_computation() -> None:
    n = np.array([1000, 1000, 1000, 1000])
    c = np.array([10, 20, 30, 40])
    prior = fit_prior(n, c)
    m = 0.025
    observed = np.mean((c / n - m) ** 2)
    between = observed - m * (1 - m) / 1000
    assert prior.mean == pytest.approx(m)
    assert prior.strength == pytest.approx(m * (1 - m) / between - 1)


def test_fit_prior_mle_close_to_moments_on_beta_binomial_data() -> None:
    rng = np.random.default_rng(0)
    theta = rng.beta(4, 196, size=400)
    n = np.full(400, 2000)
    c = rng.binomial(n, theta)
    mle = fit_prior(n, c, method="mle")
    assert mle.mean == pytest.approx(0.02, rel=0.1)
    assert 80 < mle.strength < 500


def test_fit_prior_rejects_more_clicks_than_impressions() -> None:
    with pytest.raises(LearningInputError) as err:
        fit_prior([10, 10], [11, 2])
    assert "clicks" in err.value.fix


def test_grouped_prior_strength_reflects_within_segment_spread() -> None:
    rng = np.random.default_rng(1)
    level = rng.uniform(0.01, 0.03, size=(300, 1))
    tight = np.clip(level * (1 + 0.05 * rng.standard_normal((300, 4))), 1e-4, 1)
    wide = np.clip(level * (1 + 0.4 * rng.standard_normal((300, 4))), 1e-4, 1)
    n = np.full((300, 4), 20000.0)
    mask = np.ones((300, 4), bool)
    s_tight = fit_grouped_prior(n, rng.binomial(20000, tight), mask).strength
    s_wide = fit_grouped_prior(n, rng.binomial(20000, wide), mask).strength
    assert s_tight > 5 * s_wide

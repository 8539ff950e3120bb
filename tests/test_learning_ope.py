"""Estimators against hand-computed values, bad input, and the promotion rule."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from genpersona.errors import LearningInputError
from genpersona.learning.ope import LoggedData, estimate, from_frame, promote

# 4 rows, 2 actions. target: always action 0 with 0.8, action 1 with 0.2
ACTIONS = np.array([0, 1, 0, 1])
REWARDS = np.array([1.0, 0.0, 0.0, 1.0])
MU = np.array([0.5, 0.5, 0.25, 0.75])
PI = np.tile([0.8, 0.2], (4, 1))
Q = np.array([0.4, 0.6])


def test_formulas_match_hand_computation() -> None:
    log = LoggedData.build(ACTIONS, REWARDS, MU, PI, q_hat=Q)
    est = estimate(log, n_boot=50)
    w = np.array([0.8 / 0.5, 0.2 / 0.5, 0.8 / 0.25, 0.2 / 0.75])
    assert est["ips"].value == pytest.approx(np.mean(w * REWARDS))
    assert est["snips"].value == pytest.approx(np.sum(w * REWARDS) / np.sum(w))
    q_pi = 0.8 * 0.4 + 0.2 * 0.6
    q_a = np.array([0.4, 0.6, 0.4, 0.6])
    assert est["dr"].value == pytest.approx(np.mean(q_pi + w * (REWARDS - q_a)))
    # naive: rows whose logged action is the target's top choice (action 0): rewards 1, 0
    assert est["naive"].value == pytest.approx(0.5)
    for e in est.values():
        assert e.low <= e.high


def test_interval_covers_truth_on_a_simple_world() -> None:
    rng = np.random.default_rng(3)
    n = 5000
    a = rng.integers(0, 2, size=n)
    rates = np.array([0.1, 0.3])
    r = (rng.random(n) < rates[a]).astype(float)
    pi = np.tile([0.0, 1.0], (n, 1))  # target: always action 1, true value 0.3
    est = estimate(LoggedData.build(a, r, np.full(n, 0.5), pi), n_boot=300)
    for name in ("ips", "snips", "dr"):
        assert est[name].low <= 0.3 <= est[name].high


@pytest.mark.parametrize(
    ("mu", "fix_word"),
    [
        (np.array([0.5, 0.0, 0.25, 0.75]), "probability"),
        (np.array([0.5, 1.5, 0.2, 0.7]), "exposure"),
    ],
)
def test_bad_propensities_are_refused(mu: np.ndarray, fix_word: str) -> None:
    with pytest.raises(LearningInputError) as err:
        LoggedData.build(ACTIONS, REWARDS, mu, PI)
    assert fix_word in err.value.fix


def test_target_rows_must_sum_to_one() -> None:
    with pytest.raises(LearningInputError):
        LoggedData.build(ACTIONS, REWARDS, MU, np.tile([0.5, 0.6], (4, 1)))


def test_frame_api_with_labelled_actions() -> None:
    frame = pd.DataFrame(
        {
            "context": ["a", "b", "a", "b"],
            "action": ["gift", "winback", "gift", "winback"],
            "reward": REWARDS,
            "propensity": MU,
            "target": [{"gift": 0.8, "winback": 0.2}] * 4,
        }
    )
    est = estimate(from_frame(frame), n_boot=50)
    w = np.array([1.6, 0.4, 3.2, 0.2 / 0.75])
    assert est["ips"].value == pytest.approx(np.mean(w * REWARDS))
    with pytest.raises(LearningInputError, match="lacks columns"):
        from_frame(frame.drop(columns=["propensity"]))


def _two_arm_log(target_best: float, n: int = 6000, seed: int = 0) -> LoggedData:
    rng = np.random.default_rng(seed)
    a = rng.integers(0, 2, size=n)
    r = (rng.random(n) < np.array([0.05, 0.15])[a]).astype(float)
    pi = np.tile([1 - target_best, target_best], (n, 1))
    return LoggedData.build(a, r, np.full(n, 0.5), pi)


def test_promotion_when_candidate_is_clearly_better() -> None:
    decision = promote(_two_arm_log(0.95), estimator="dr", n_boot=400)
    assert decision.promote
    assert decision.candidate.low > decision.current.value
    assert decision.diff_low > 0


def test_no_promotion_when_candidate_is_the_same_or_worse() -> None:
    same = promote(_two_arm_log(0.5), estimator="snips", n_boot=400)
    assert not same.promote
    worse = promote(_two_arm_log(0.05), estimator="dr", n_boot=400)
    assert not worse.promote
    assert "does not beat" in worse.reason

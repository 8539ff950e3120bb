"""ThompsonPolicy plugs into the delivery's Policy protocol and passes its logging checks."""

from __future__ import annotations

import numpy as np

from genpersona.delivery.policy import (
    EligibleVariant,
    Policy,
    PolicyContext,
    checked_probabilities,
    draw,
)
from genpersona.learning.policy import ThompsonPolicy
from genpersona.learning.update import Allocation, ArmAllocation
from genpersona.types.content import VariantContent

CONTENT = VariantContent.model_validate({"subject": "Hello", "body": "Gifts for you"})


def _allocation(retired: str | None = None) -> Allocation:
    arms = [
        ArmAllocation(
            recipe_id=r,
            impressions=500,
            clicks=c,
            p=p,
            p_best=pb,
            expected_loss=0.0,
            retire_cost=0.0,
            retired=r == retired,
        )
        for r, c, p, pb in [
            ("gift_idea", 80, 0.9 if retired else 0.85, 0.97),
            ("win_back", 20, 0.1 if retired else 0.1, 0.02),
            ("new_arrivals", 10, 0.0 if retired else 0.05, 0.01),
        ]
    ]
    return Allocation(
        brand="giftloft",
        kind="email",
        segment="{}",
        campaign="xmas",
        version=3,
        seed=1,
        warmup=False,
        prior={"alpha": 1, "beta": 1},
        config={"floor": 0.05},
        arms=arms,
    )


def test_is_a_delivery_policy_and_every_answer_is_loggable() -> None:
    policy = ThompsonPolicy(_allocation(retired="new_arrivals"))
    assert isinstance(policy, Policy)
    ctx = PolicyContext("giftloft", "xmas", "email", "email", "c1")
    rng = np.random.default_rng(0)
    names = ["gift_idea", "win_back", "new_arrivals", "unseen", None]
    for seed in range(300):
        k = int(rng.integers(1, 5))
        variants = [
            EligibleVariant(i, names[int(rng.integers(0, len(names)))], CONTENT) for i in range(k)
        ]
        probs = checked_probabilities(policy, variants, ctx)
        assert abs(sum(probs) - 1.0) <= 1e-9
        live = [p for v, p in zip(variants, probs, strict=True) if v.recipe_id != "new_arrivals"]
        if len(live) > 1:
            assert min(p for p in live if p > 0) >= min(0.05, 1 / k) - 1e-12
        assert probs[draw(probs, seed)] > 0

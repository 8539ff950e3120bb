"""Unit tests: the policy contract, the seeded draw, eligibility and the holdout hash (no DB)."""

from __future__ import annotations

import math
from collections import Counter

import pytest

from genpersona.delivery.assign import (
    anonymous_key,
    holdout_share,
    is_holdout,
    policy_seed,
)
from genpersona.delivery.eligibility import DeliverableDraft, StoredVariant, eligible_variants
from genpersona.delivery.policy import (
    EligibleVariant,
    Policy,
    PolicyContext,
    UniformPolicy,
    checked_probabilities,
    draw,
)
from genpersona.errors import PolicyError
from genpersona.settings import Settings
from genpersona.types.content import VariantContent

CTX = PolicyContext("giftloft", "xmas", "email", "subject_line", "c1")


def variants(n: int) -> list[EligibleVariant]:
    return [EligibleVariant(i, "r@1", VariantContent(subject=f"s{i}")) for i in range(n)]


def stored(i: int, *, block: bool = False, warn: bool = False) -> StoredVariant:
    violations = (
        [{"rule_id": "x", "severity": "block" if block else "warn"}] if block or warn else []
    )
    return StoredVariant(i, {"subject": f"v{i}"}, violations, False)


def decided(status: str, vs: list[StoredVariant], **kw) -> DeliverableDraft:  # type: ignore[no-untyped-def]
    return DeliverableDraft(
        id=1,
        brand="giftloft",
        kind="subject_line",
        campaign="xmas",
        customer_id="c1",
        status=status,
        chosen_variant=kw.pop("chosen", 0),
        recipe_id="r@1",
        variants=vs,
        **kw,
    )


@pytest.mark.parametrize("n", [1, 2, 3, 7, 10])
def test_uniform_is_exact_and_never_one_with_a_choice(n: int) -> None:
    probs = checked_probabilities(UniformPolicy(), variants(n), CTX)
    assert len(probs) == n and len(set(probs)) == 1
    assert math.isclose(math.fsum(probs), 1.0, abs_tol=1e-12)
    assert (max(probs) == 1.0) == (n == 1)


def test_uniform_policy_satisfies_the_protocol() -> None:
    assert isinstance(UniformPolicy(), Policy)


class _Bad:
    name, version = "bad", "0"

    def __init__(self, probs: list[float]) -> None:
        self.probs = probs

    def probabilities(self, variants, context):  # type: ignore[no-untyped-def]
        return self.probs


@pytest.mark.parametrize(
    "probs",
    [[0.5, 0.4, 0.05], [1.0, 0.0], [0.5, 0.5, 0.0, 0.0, 0.1], [1.2, -0.2, 0.0], [math.nan] * 3],
)
def test_a_policy_that_cannot_be_logged_exactly_is_refused(probs: list[float]) -> None:
    with pytest.raises(PolicyError) as err:
        checked_probabilities(_Bad(probs), variants(3), CTX)
    assert err.value.fix and err.value.data["policy"] == "bad"


def test_draw_is_deterministic_and_follows_the_probabilities() -> None:
    probs = [0.2, 0.0, 0.8]
    assert draw(probs, 12345) == draw(probs, 12345)
    counts = Counter(draw(probs, seed) for seed in range(4000))
    assert counts[1] == 0  # a zero-probability variant is never drawn
    assert 0.17 < counts[0] / 4000 < 0.23
    with pytest.raises(PolicyError):
        draw([0.0, 0.0], 1)


def test_seed_is_fixed_per_campaign_customer_channel() -> None:
    a = policy_seed("giftloft", "xmas", "c1", "email", 42)
    assert a == policy_seed("giftloft", "xmas", "c1", "email", 42)
    assert a != policy_seed("giftloft", "xmas", "c1", "web", 42)
    assert a != policy_seed("giftloft", "xmas", "c2", "email", 42)
    assert a != policy_seed("giftloft", "spring", "c1", "email", 42)
    assert 0 <= a < 2**63  # fits the signed BIGINT column


def test_holdout_is_deterministic_and_close_to_the_share() -> None:
    ids = [f"C{i}" for i in range(20_000)]
    held = [c for c in ids if is_holdout("giftloft", "xmas", c, 0.10)]
    assert 0.09 < len(held) / len(ids) < 0.11
    assert held == [c for c in ids if is_holdout("giftloft", "xmas", c, 0.10)]
    other = {c for c in ids if is_holdout("giftloft", "spring", c, 0.10)}
    assert len(other & set(held)) < len(held) * 0.2  # a new campaign draws a new holdout
    assert not any(is_holdout("giftloft", "xmas", c, 0.0) for c in ids[:500])
    assert all(is_holdout("giftloft", "xmas", c, 1.0) for c in ids[:500])


def test_holdout_share_comes_from_settings_with_per_campaign_overrides() -> None:
    settings = Settings(delivery_holdout_share=0.1, delivery_holdout_overrides={"big": 0.3})
    assert holdout_share("xmas", settings) == 0.1
    assert holdout_share("big", settings) == 0.3


def test_anonymous_key_is_a_digest_never_the_raw_id() -> None:
    key = anonymous_key("giftloft", "visitor-123")
    assert key.startswith("anon:") and "visitor-123" not in key
    assert key == anonymous_key("giftloft", "visitor-123")
    assert anonymous_key("giftloft", None) != anonymous_key("giftloft", None)


def test_approved_draft_offers_every_clean_variant() -> None:
    draft = decided("approved", [stored(0), stored(1, block=True), stored(2, warn=True)])
    assert [v.variant_index for v in eligible_variants(draft)] == [0, 2]


def test_edited_draft_offers_only_the_edited_text() -> None:
    draft = decided(
        "edited", [stored(0), stored(1)], chosen=1, edited_content={"subject": "Ann's words"}
    )
    (only,) = eligible_variants(draft)
    assert only.variant_index == 1 and only.content.subject == "Ann's words"


@pytest.mark.parametrize("status", ["pending", "rejected", "expired"])
def test_undecided_or_rejected_drafts_offer_nothing(status: str) -> None:
    assert eligible_variants(decided(status, [stored(0)])) == []

"""Which approved variant a recipient gets: a small ``Policy`` protocol and the uniform default.

A policy only returns probabilities; drawing from them with a seeded generator
happens here, once, so every policy's choices are logged the same way and
off-policy evaluation can trust ``propensity`` to be the probability the draw
really used. The learning issue plugs in Thompson sampling by implementing
``Policy`` (name, version, ``probabilities``) and passing it to ``choose_and_log``.
"""

from __future__ import annotations

import math
import random
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol, runtime_checkable

from genpersona.errors import PolicyError
from genpersona.types.content import VariantContent

#: how far from 1 a policy's probabilities may sum (float rounding of 1/n, never more)
SUM_TOLERANCE = 1e-9


@dataclass(frozen=True)
class EligibleVariant:
    """One approved piece of copy a policy may choose."""

    variant_index: int
    recipe_id: str | None
    content: VariantContent


@dataclass(frozen=True)
class PolicyContext:
    """What a policy may condition on: never the customer's personal data, only ids."""

    brand: str
    campaign: str
    channel: str
    kind: str
    recipient_key: str


@runtime_checkable
class Policy(Protocol):
    name: str
    version: str

    def probabilities(
        self, variants: Sequence[EligibleVariant], context: PolicyContext
    ) -> list[float]:
        """One probability per variant, in the same order, summing to 1."""
        ...


class UniformPolicy:
    """Every approved variant equally likely: the default until a learned policy ships."""

    name = "uniform"
    version = "1"

    def probabilities(
        self, variants: Sequence[EligibleVariant], context: PolicyContext
    ) -> list[float]:
        return [1.0 / len(variants)] * len(variants) if variants else []


def checked_probabilities(
    policy: Policy, variants: Sequence[EligibleVariant], context: PolicyContext
) -> list[float]:
    """The policy's answer, refused unless it can be logged as an exact distribution."""
    probs = [float(p) for p in policy.probabilities(variants, context)]
    problem = None
    if len(probs) != len(variants):
        problem = f"{len(probs)} probabilities for {len(variants)} variants"
    elif any(not math.isfinite(p) or p < 0.0 or p > 1.0 for p in probs):
        problem = f"a probability outside [0, 1]: {probs}"
    elif abs(math.fsum(probs) - 1.0) > SUM_TOLERANCE:
        problem = f"probabilities sum to {math.fsum(probs)!r}, not 1"
    if problem:
        raise PolicyError(
            f"policy {policy.name} v{policy.version} returned {problem}",
            fix="return one probability in [0, 1] per eligible variant, summing to 1",
            policy=policy.name,
            version=policy.version,
            probabilities=probs,
        )
    return probs


def draw(probabilities: Sequence[float], seed: int) -> int:
    """The position drawn from ``probabilities`` by a generator seeded with ``seed``.

    A zero-probability position is never drawn, even at the float edge of the
    last bucket, so a logged propensity of 0 cannot occur.
    """
    u = random.Random(seed).random()
    cumulative = 0.0
    last = -1
    for i, p in enumerate(probabilities):
        if p <= 0.0:
            continue
        last = i
        cumulative += p
        if u < cumulative:
            return i
    if last < 0:
        raise PolicyError(
            "no variant has a positive probability",
            fix="give at least one eligible variant a probability above 0",
        )
    return last

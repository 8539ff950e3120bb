"""``ThompsonPolicy``: the delivery's Policy shape, backed by a stored allocation.

Duck-typed to the delivery protocol (``name``, ``version``,
``probabilities(variants, context) -> list[float]``) so this package needs
nothing from ``genpersona.delivery`` but its table. A customer's approved
variants each carry a recipe id; a variant gets its recipe's share of the
allocation (split evenly if two variants share a recipe), a recipe the
allocation has not seen yet gets the average share of the live arms (a new arm
must be tried), a retired recipe gets 0, and the result is renormalised and
floored over the variants present. The delivery samples from these numbers and
logs them, so the logged propensity is exact.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
from cachetools import TTLCache
from pydantic import BaseModel, Field, ValidationError
from sqlalchemy import select
from sqlalchemy.orm import Session

from genpersona.db.engine import session_scope
from genpersona.errors import LearningInputError, NoAllocation
from genpersona.learning.tables import PromotionRow
from genpersona.learning.thompson import apply_floor
from genpersona.learning.update import Allocation, latest_allocation
from genpersona.settings import Settings


def _recipe(variant: Any) -> str | None:
    if isinstance(variant, Mapping):
        value = variant.get("recipe_id")
    else:
        value = getattr(variant, "recipe_id", None)
    return None if value is None else str(value)


def variant_probabilities(
    recipes: Sequence[str | None],
    weights: Mapping[str, float],
    retired: set[str],
    floor: float,
) -> list[float]:
    """Probabilities over one customer's eligible variants; they sum to 1 exactly."""
    k = len(recipes)
    if k == 0:
        return []
    if k == 1:
        return [1.0]
    live = [w for r, w in weights.items() if r not in retired]
    new_share = float(np.mean(live)) if live else 1.0 / k
    dup = Counter(recipes)
    raw = np.array(
        [
            0.0
            if r in retired
            else (weights[r] if r is not None and r in weights else new_share) / dup[r]
            for r in recipes
        ]
    )
    mask = raw > 0
    if not mask.any():
        raw, mask = np.ones(k), np.ones(k, bool)
    p = apply_floor(raw[None, :], mask[None, :], floor)[0]
    return [float(x) for x in p]


class ThompsonPolicy:
    name = "thompson"

    def __init__(self, allocation: Allocation) -> None:
        self.allocation = allocation
        self.version = allocation.policy_version
        self._weights = allocation.weights()
        self._retired = {a.recipe_id for a in allocation.arms if a.retired}
        self._floor = float(allocation.config.get("floor", 0.05))

    @classmethod
    def for_campaign(cls, session: Session, brand: str, campaign: str) -> ThompsonPolicy | None:
        """The policy over the campaign's latest allocation, or None before the first
        ``learn update`` (the delivery then keeps its uniform default)."""
        try:
            return cls(latest_allocation(session, brand, campaign=campaign))
        except NoAllocation:
            return None

    def probabilities(self, variants: Sequence[Any], context: Any = None) -> list[float]:
        return variant_probabilities(
            [_recipe(v) for v in variants], self._weights, self._retired, self._floor
        )


#: a pull is one request per recipient at send time: the policy is read once a minute, not
#: once a request (``learn update`` runs hourly or daily, so a minute of staleness is harmless;
#: a policy promoted by ``learn evaluate`` in another process also takes effect within it)
_CAMPAIGN_POLICIES: TTLCache[tuple[str, str, str], DeliveryPolicy | None] = TTLCache(
    maxsize=1024, ttl=60
)


def active_policy(session: Session, brand: str, campaign: str) -> DeliveryPolicy | None:
    """What delivery uses for a campaign: the policy of its latest promotion by ``learn
    evaluate`` if it named one (fixed recipe weights from a policy file, or ``thompson``),
    else Thompson sampling over the latest allocation; None (delivery's uniform default)
    before the first ``learn update``. A promotion stored before policies were recorded
    with it (no ``numbers["policy"]``) is read as Thompson."""
    row = session.scalars(
        select(PromotionRow)
        .where(
            PromotionRow.brand == brand,
            PromotionRow.campaign == campaign,
            PromotionRow.promoted.is_(True),
        )
        .order_by(PromotionRow.id.desc())
        .limit(1)
    ).first()
    spec = (row.numbers or {}).get("policy") if row is not None else None
    if isinstance(spec, dict) and spec.get("kind") == "weights":
        return WeightsPolicy(PolicyFile.model_validate(spec["file"]))
    return ThompsonPolicy.for_campaign(session, brand, campaign)


def campaign_policy(brand: str, campaign: str, settings: Settings) -> DeliveryPolicy | None:
    """The policy that delivery should use for a campaign (``active_policy``), cached."""
    key = (settings.sqlalchemy_url, brand, campaign)
    if key not in _CAMPAIGN_POLICIES:
        with session_scope(settings) as session:
            _CAMPAIGN_POLICIES[key] = active_policy(session, brand, campaign)
    return _CAMPAIGN_POLICIES[key]


def forget_campaign_policies() -> None:
    """Drop cached policies (after ``learn update`` or a promotion in this process, and in
    tests)."""
    _CAMPAIGN_POLICIES.clear()


class PolicyFile(BaseModel):
    """A candidate policy for ``learn evaluate``: fixed recipe weights, floored like ours."""

    name: str
    version: str = "1"
    recipe_weights: dict[str, float] = Field(min_length=1)
    floor: float = Field(default=0.05, ge=0, le=0.5)
    retired: list[str] = []


class WeightsPolicy:
    """A fixed-weights policy (from a file), with the same variant mapping as Thompson."""

    def __init__(self, spec: PolicyFile) -> None:
        self.name = spec.name
        self.version = spec.version
        self._spec = spec

    @classmethod
    def from_file(cls, path: Path) -> WeightsPolicy:
        try:
            spec = PolicyFile.model_validate(json.loads(Path(path).read_text(encoding="utf-8")))
        except (OSError, json.JSONDecodeError, ValidationError) as exc:
            raise LearningInputError(
                f"policy file {path} is not a readable policy: {exc}",
                fix='write JSON like {"name": "gift-first", "recipe_weights": '
                '{"gift_idea": 0.6, "win_back": 0.4}}',
                path=str(path),
            ) from exc
        return cls(spec)

    def probabilities(self, variants: Sequence[Any], context: Any = None) -> list[float]:
        return variant_probabilities(
            [_recipe(v) for v in variants],
            self._spec.recipe_weights,
            set(self._spec.retired),
            self._spec.floor,
        )

    def spec(self) -> dict[str, Any]:
        """What a promotion stores so delivery can rebuild this policy."""
        return {"kind": "weights", "file": self._spec.model_dump()}


class LatestThompson:
    """``learn evaluate --policy thompson``: each campaign's Thompson policy over its latest
    allocation, as a candidate (the way back from a promoted fixed policy goes through the
    same gate)."""

    name = "thompson"
    version = "latest"

    def __init__(self, session: Session, brand: str) -> None:
        self._session = session
        self._brand = brand
        self._by_campaign: dict[str, ThompsonPolicy] = {}

    def _for(self, campaign: str) -> ThompsonPolicy:
        if campaign not in self._by_campaign:
            alloc = latest_allocation(self._session, self._brand, campaign=campaign)
            self._by_campaign[campaign] = ThompsonPolicy(alloc)
        return self._by_campaign[campaign]

    def probabilities(self, variants: Sequence[Any], context: Any = None) -> list[float]:
        campaign = context.get("campaign") if isinstance(context, Mapping) else None
        if not campaign:
            raise LearningInputError(
                "the Thompson candidate needs the campaign of each logged row",
                fix="evaluate it with learn evaluate --policy thompson --campaign NAME",
            )
        return self._for(str(campaign)).probabilities(variants, context)

    def spec(self) -> dict[str, Any]:
        return {"kind": "thompson"}


#: what ``campaign_policy`` can hand the delivery
DeliveryPolicy = ThompsonPolicy | WeightsPolicy

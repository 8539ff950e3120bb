"""Deterministic per-recipient randomness: the policy's seed, the holdout draw, the tag.

Hashing (campaign, customer) instead of drawing at request time makes the
holdout a property of the customer and the campaign: the pull endpoint and the
export agree without coordinating, and a re-run reproduces the same split.
The holdout deliberately ignores the channel, so a held-out customer is held
out on every channel of the campaign.
"""

from __future__ import annotations

import hashlib
import secrets

from genpersona.settings import Settings


def _unit(*parts: str) -> float:
    digest = hashlib.sha256("\x1f".join(parts).encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2.0**64


def holdout_unit(brand: str, campaign: str, customer_id: str) -> float:
    """Uniform in [0, 1) from (brand, campaign, customer): below the share means held out."""
    return _unit("holdout", brand, campaign, customer_id)


def holdout_share(campaign: str, settings: Settings) -> float:
    share = settings.delivery_holdout_overrides.get(campaign, settings.delivery_holdout_share)
    return min(1.0, max(0.0, float(share)))


def is_holdout(brand: str, campaign: str, customer_id: str, share: float) -> bool:
    return holdout_unit(brand, campaign, customer_id) < share


def policy_seed(brand: str, campaign: str, recipient_key: str, channel: str, base: int) -> int:
    """A 63-bit seed (fits a signed BIGINT) fixed per (campaign, recipient, channel)."""
    digest = hashlib.sha256(
        "\x1f".join(("seed", str(base), brand, campaign, recipient_key, channel)).encode()
    ).digest()
    return int.from_bytes(digest[:8], "big") >> 1


def new_tag() -> str:
    """A short random id for ESP custom args and webhooks: no personal data, not guessable."""
    return secrets.token_urlsafe(9)  # 12 characters


def anonymous_key(brand: str, visitor_id: str | None) -> str:
    """``anon:<digest>`` of a visitor id (the raw id is never stored), or a fresh one per view."""
    if not visitor_id:
        return f"anon:{secrets.token_hex(16)}"
    return "anon:" + hashlib.sha256(f"{brand}\x1f{visitor_id}".encode()).hexdigest()[:32]

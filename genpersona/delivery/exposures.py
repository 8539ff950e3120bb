"""Choose a variant for a recipient and write the exposure in the same transaction.

Race safety comes from the database, not from a lock in this process: two
requests for the same (brand, campaign, recipient, channel) may both decide,
but only one INSERT passes the unique constraint; the loser rolls back and
reads the winner's row, so both answer with the one logged choice. That holds
across processes and machines (several API workers, an export running beside
the pull endpoint), which no in-process lock could promise.
"""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass
from datetime import datetime
from typing import Any, cast

from sqlalchemy import Engine, Table, insert, select
from sqlalchemy.exc import IntegrityError

from genpersona.db.base import utcnow
from genpersona.delivery.assign import new_tag, policy_seed
from genpersona.delivery.eligibility import DeliverableDraft, eligible_variants
from genpersona.delivery.policy import Policy, PolicyContext, checked_probabilities, draw
from genpersona.delivery.tables import ExposureRow
from genpersona.errors import ContentNotFound, DeliveryError

#: a tag collision (12 random url-safe characters) is astronomically rare; retry a few times
_TAG_RETRIES = 3
_TABLE = cast(Table, ExposureRow.__table__)
_INSERT = insert(_TABLE)  # built once: parameters go with execute, the compiled form is cached
_WRITE_LOCKS: dict[str, threading.Lock] = {}
_WRITE_LOCKS_GUARD = threading.Lock()


def _writer_lock(engine: Engine) -> threading.Lock | None:
    """One writer at a time per SQLite file in this process; None where writers run in parallel.

    SQLite allows one writer per file; a second one waits in its busy handler,
    which sleeps in steps of up to 100 ms, so 16 concurrent first pulls would
    spend most of their time asleep. Queueing them on a lock here costs only the
    insert itself. PostgreSQL takes concurrent inserts, so no lock there.
    """
    if engine.dialect.name != "sqlite":  # the dialect is the capability: single writer
        return None
    key = str(engine.url)
    with _WRITE_LOCKS_GUARD:
        return _WRITE_LOCKS.setdefault(key, threading.Lock())


@dataclass(frozen=True)
class Exposure:
    """An exposure row as plain data; ``created`` says whether this call wrote it."""

    id: int
    brand: str
    campaign: str
    customer_id: str | None
    recipient_key: str
    channel: str
    draft_id: int | None
    variant_index: int | None
    recipe_id: str | None
    policy_name: str
    policy_version: str
    propensity: float
    probabilities: list[dict[str, Any]]
    seed: int
    holdout: bool
    fallback: bool
    reason: str | None
    tag: str
    created_at: datetime
    created: bool = False


def exposure_from_row(row: Any, created: bool = False) -> Exposure:
    """One converter for ORM rows and raw joined rows (SQLite hands booleans back as 0/1)."""
    return Exposure(
        id=row.id,
        brand=row.brand,
        campaign=row.campaign,
        customer_id=row.customer_id,
        recipient_key=row.recipient_key,
        channel=row.channel,
        draft_id=row.draft_id,
        variant_index=row.variant_index,
        recipe_id=row.recipe_id,
        policy_name=row.policy_name,
        policy_version=row.policy_version,
        propensity=row.propensity,
        probabilities=list(row.probabilities or []),
        seed=row.seed,
        holdout=bool(row.holdout),
        fallback=bool(row.fallback),
        reason=row.reason,
        tag=row.tag,
        created_at=row.created_at,
        created=created,
    )


def find_exposure(
    engine: Engine, brand: str, campaign: str, recipient_key: str, channel: str
) -> Exposure | None:
    with engine.connect() as conn:
        row = conn.execute(
            select(_TABLE).where(
                _TABLE.c.recipient_key == recipient_key,
                _TABLE.c.brand == brand,
                _TABLE.c.campaign == campaign,
                _TABLE.c.channel == channel,
            )
        ).first()
    return exposure_from_row(row, created=False) if row is not None else None


def _decide(
    *,
    brand: str,
    campaign: str,
    channel: str,
    recipient_key: str,
    customer_id: str | None,
    draft: DeliverableDraft,
    policy: Policy,
    holdout: bool,
    generic_reason: str | None,
    seed_base: int,
) -> dict[str, Any]:
    """The exposure row's values: the policy's draw, or generic copy and why."""
    seed = policy_seed(brand, campaign, recipient_key, channel, seed_base)
    values: dict[str, Any] = {
        "brand": brand,
        "campaign": campaign,
        "customer_id": customer_id,
        "recipient_key": recipient_key,
        "channel": channel,
        "draft_id": draft.id,
        "policy_name": policy.name,
        "policy_version": policy.version,
        "seed": seed,
        "holdout": holdout,
    }
    if holdout or generic_reason:
        return values | {
            "variant_index": None,
            "recipe_id": None,
            "propensity": 1.0,
            "probabilities": [],
            "fallback": True,
            "reason": "holdout" if holdout else generic_reason,
        }
    eligible = eligible_variants(draft)
    if not eligible:
        raise ContentNotFound(
            f"draft {draft.id} has no approved variant to deliver",
            fix="approve or edit a clean variant of the draft in the review queue",
            draft_id=draft.id,
        )
    context = PolicyContext(brand, campaign, channel, draft.kind, recipient_key)
    probs = checked_probabilities(policy, eligible, context)
    pick = draw(probs, seed)
    chosen = eligible[pick]
    return values | {
        "variant_index": chosen.variant_index,
        "recipe_id": chosen.recipe_id,
        "propensity": probs[pick],
        # JSON round trip now, so the returned record equals what a later read gives
        "probabilities": json.loads(
            json.dumps(
                [
                    {"variant_index": v.variant_index, "recipe_id": v.recipe_id, "p": p}
                    for v, p in zip(eligible, probs, strict=True)
                ]
            )
        ),
        "fallback": False,
        "reason": None,
    }


def choose_and_log(
    engine: Engine,
    *,
    brand: str,
    campaign: str,
    channel: str,
    recipient_key: str,
    customer_id: str | None,
    draft: DeliverableDraft,
    policy: Policy,
    holdout: bool = False,
    generic_reason: str | None = None,
    seed_base: int = 0,
) -> Exposure:
    """The recipient's one logged choice: decide and write it, or read the row already there.

    ``holdout`` and ``generic_reason`` (e.g. ``"opted_out"``) log generic copy
    with propensity 1; otherwise ``policy`` draws among ``eligible_variants(draft)``.
    Callers on a hot path read the existing row first (see ``lookup.py``); this
    function is correct without that read, because the insert is what decides.
    """
    values = _decide(
        brand=brand,
        campaign=campaign,
        channel=channel,
        recipient_key=recipient_key,
        customer_id=customer_id,
        draft=draft,
        policy=policy,
        holdout=holdout,
        generic_reason=generic_reason,
        seed_base=seed_base,
    )
    lock = _writer_lock(engine)
    for _ in range(_TAG_RETRIES):
        row = values | {"tag": new_tag(), "created_at": utcnow()}
        try:
            if lock is not None:
                lock.acquire()
            try:
                with engine.begin() as conn:
                    inserted = conn.execute(_INSERT, row).inserted_primary_key
                    new_id = inserted[0] if inserted is not None else None
            finally:
                if lock is not None:
                    lock.release()
            return exposure_from_row(_Values(row | {"id": new_id}), created=True)
        except IntegrityError:
            pass  # another request logged this recipient first (or, rarely, a tag clash)
        winner = find_exposure(engine, brand, campaign, recipient_key, channel)
        if winner is not None:
            return winner
    raise DeliveryError(  # pragma: no cover - needs three tag collisions in a row
        f"could not log an exposure for {recipient_key} in {brand}/{campaign}",
        fix="retry the request",
        brand=brand,
        campaign=campaign,
    )


class _Values(dict[str, Any]):
    """Insert values readable as attributes, like a fetched row."""

    def __getattr__(self, name: str) -> Any:
        return self[name]

"""Match platform events to exposures and store each vendor event once.

Matching, most specific first: the exposure's ``gp_tag``; else ``gp_draft_id``
(+ ``gp_campaign``) to that draft's exposure; else (campaign, external user id)
for platforms that only know their own user ids (Braze, Customer.io). An event
that names a draft with no exposure (a send outside our export and pull) is
still stored against the draft. Lookups are one query per batch per kind of id,
so a batch of 1,000 events costs a handful of statements.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Sequence
from typing import Any

from sqlalchemy import insert, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from genpersona.campaigns.tables import OutcomeRow
from genpersona.db.base import utcnow
from genpersona.db.engine import session_scope
from genpersona.delivery.tables import ExposureRow
from genpersona.delivery.webhooks.models import VendorEvent, WebhookReport
from genpersona.review.tables import DraftRow
from genpersona.settings import Settings

log = logging.getLogger("genpersona.webhooks")
CHUNK = 500

_EXPOSURE_COLUMNS = (
    ExposureRow.id,
    ExposureRow.tag,
    ExposureRow.brand,
    ExposureRow.campaign,
    ExposureRow.customer_id,
    ExposureRow.channel,
    ExposureRow.draft_id,
    ExposureRow.variant_index,
)


def _chunks(values: Sequence[Any]) -> list[list[Any]]:
    items = list(dict.fromkeys(values))
    return [items[i : i + CHUNK] for i in range(0, len(items), CHUNK)]


def _rank(row: Any) -> tuple[int, int]:
    """Prefer the email exposure, then the earliest, when several could match."""
    return (0 if row.channel == "email" else 1, row.id)


def _lookups(session: Session, events: list[VendorEvent]) -> dict[str, dict[Any, Any]]:
    by_tag: dict[str, Any] = {}
    by_draft: dict[int, list[Any]] = {}
    by_user: dict[tuple[str, str], list[Any]] = {}
    drafts: dict[int, Any] = {}
    for chunk in _chunks([e.tag for e in events if e.tag]):
        for row in session.execute(select(*_EXPOSURE_COLUMNS).where(ExposureRow.tag.in_(chunk))):
            by_tag[row.tag] = row
    wanted_drafts = [e.draft_id for e in events if not e.tag and e.draft_id is not None]
    for chunk in _chunks(wanted_drafts):
        for row in session.execute(
            select(*_EXPOSURE_COLUMNS).where(ExposureRow.draft_id.in_(chunk))
        ):
            by_draft.setdefault(row.draft_id, []).append(row)
        for draft in session.execute(
            select(DraftRow.id, DraftRow.brand, DraftRow.campaign, DraftRow.customer_id).where(
                DraftRow.id.in_(chunk)
            )
        ):
            drafts[draft.id] = draft
    users = [
        e.external_user_id
        for e in events
        if not e.tag and e.draft_id is None and e.external_user_id and e.campaign
    ]
    for chunk in _chunks(users):
        for row in session.execute(
            select(*_EXPOSURE_COLUMNS).where(ExposureRow.customer_id.in_(chunk))
        ):
            by_user.setdefault((row.campaign, row.customer_id), []).append(row)
    return {"tag": by_tag, "draft": by_draft, "user": by_user, "drafts": drafts}


def _values(event: VendorEvent, found: dict[str, dict[Any, Any]]) -> dict[str, Any] | None:
    exposure: Any = None
    draft: Any = None
    if event.tag:
        exposure = found["tag"].get(event.tag)
    elif event.draft_id is not None:
        candidates = [
            r
            for r in found["draft"].get(event.draft_id, [])
            if event.campaign is None or r.campaign == event.campaign
        ]
        exposure = min(candidates, key=_rank) if candidates else None
        draft = found["drafts"].get(event.draft_id)
    elif event.external_user_id and event.campaign:
        candidates = found["user"].get((event.campaign, event.external_user_id), [])
        exposure = min(candidates, key=_rank) if candidates else None
    common = {
        "type": event.type,
        "ts": event.ts or utcnow(),
        "outcome_key": None,
        "created_at": utcnow(),
        "provider": event.provider,
        "event_key": event.event_key,
        "machine_open": event.machine_open,
    }
    if exposure is not None:
        return common | {
            "exposure_id": exposure.id,
            "draft_id": exposure.draft_id,
            "variant_index": exposure.variant_index,
            "brand": exposure.brand,
            "campaign": exposure.campaign,
            "customer_id": exposure.customer_id,
        }
    if draft is not None and event.variant_index is not None:
        return common | {
            "exposure_id": None,
            "draft_id": draft.id,
            "variant_index": event.variant_index,
            "brand": draft.brand,
            "campaign": draft.campaign,
            "customer_id": draft.customer_id,
        }
    return None


def _store(session: Session, provider: str, events: list[VendorEvent]) -> WebhookReport:
    report = WebhookReport(provider=provider, received=len(events))
    seen: set[str] = set()
    fresh: list[VendorEvent] = []
    for event in events:
        if event.type is None:
            report.ignored += 1
        elif event.event_key in seen:
            report.duplicates += 1
        else:
            seen.add(event.event_key)
            fresh.append(event)
    stored: set[str] = set()
    for chunk in _chunks([e.event_key for e in fresh]):
        stored.update(
            session.scalars(
                select(OutcomeRow.event_key).where(
                    OutcomeRow.provider == provider, OutcomeRow.event_key.in_(chunk)
                )
            )
        )
    fresh_new = [e for e in fresh if e.event_key not in stored]
    report.duplicates += len(fresh) - len(fresh_new)
    found = _lookups(session, fresh_new)
    rows: list[dict[str, Any]] = []
    unmatched: list[VendorEvent] = []
    for event in fresh_new:
        values = _values(event, found)
        if values is None:
            unmatched.append(event)
        else:
            rows.append(values)
    if rows:
        session.execute(insert(OutcomeRow), rows)
    report.stored = len(rows)
    report.unmatched = len(unmatched)
    report.by_type = dict(Counter(r["type"] for r in rows))
    if unmatched:
        log.warning(
            "%s webhook: %d of %d events match no exposure or draft (first: %s %s)",
            provider,
            len(unmatched),
            len(events),
            unmatched[0].vendor_type,
            unmatched[0].event_key,
        )
    return report


def store_events(
    provider: str, events: list[VendorEvent], settings: Settings | None = None
) -> WebhookReport:
    """Store a parsed batch in one transaction; a batch racing its own replay retries once."""
    for attempt in range(2):
        try:
            with session_scope(settings) as session:
                return _store(session, provider, events)
        except IntegrityError:
            # the same events were inserted by a concurrent delivery of the batch;
            # the retry sees them as duplicates
            if attempt == 1:
                raise
    raise AssertionError("unreachable")

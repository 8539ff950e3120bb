"""Run a stored campaign definition: now, for one scheduled period, or for one trigger fire.

Idempotency per (campaign, period) comes from the database: the first fire of a
period inserts a ``campaign_period_runs`` row under a unique key; a duplicate
fire (two beats, a restart, a retried task) fails that insert and does nothing.
While a period runs, a heartbeat thread refreshes its claim every sixth of
``campaign_claim_stale_s``; a claim left ``running`` with no heartbeat for that long
(its worker was killed) is resumed by the period's next fire (beat's look-back
re-fires it for 5 minutes; Redis re-delivers the killed task after the visibility
timeout): the runner skips every customer who already has a pending draft, so the
resumed run only fills in the customers the dead one missed, and the dead run's
record (``campaign_runs``, left ``running`` by the kill) is marked ``interrupted``.
A live run, however long, keeps its claim: the heartbeat, not the run's length,
decides. Measured with real beat, a real worker and a SIGKILL by
``bench/scheduler.py`` (docs/guides/campaigns-automation.md).

Each period's drafts live under their own campaign name (``<name>-<period>``),
so a weekly campaign's exposures, holdouts and exports are per week.
"""

from __future__ import annotations

import logging
import threading
from datetime import datetime, timedelta

from pydantic import BaseModel
from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError

from genpersona.campaigns.audience import select_audience
from genpersona.campaigns.automation_tables import CampaignPeriodRunRow
from genpersona.campaigns.definition_store import StoredDefinition
from genpersona.campaigns.review_policy import PolicyReport, apply_review_policy
from genpersona.campaigns.runner import CampaignReport, run_campaign
from genpersona.campaigns.segments import Segment
from genpersona.campaigns.step import GenerateFn
from genpersona.campaigns.store import mark_interrupted
from genpersona.db.base import utcnow
from genpersona.db.engine import session_scope
from genpersona.llm.base import LLM
from genpersona.settings import Settings, get_settings

log = logging.getLogger(__name__)

#: heartbeats per ``campaign_claim_stale_s``: a run misses five before its claim goes stale
HEARTBEATS_PER_STALE = 6
#: never more often than this (a tiny stale time in a test must not hammer the database)
MIN_HEARTBEAT_S = 0.5


class DefinitionRun(BaseModel):
    brand: str
    name: str
    campaign: str
    version: int
    period: str | None = None
    #: ran | duplicate (this period already ran or is running) | empty (nobody in the segment)
    outcome: str
    report: CampaignReport | None = None
    review: PolicyReport | None = None


def period_campaign(name: str, period: str | None) -> str:
    """The campaign name drafts of one period carry, e.g. weekly-picks-202612070900."""
    if not period:
        return name
    digits = "".join(ch for ch in period[:16] if ch.isdigit())
    return f"{name}-{digits}"


def _claim(
    brand: str, name: str, period: str, version: int, stale_after: timedelta, settings: Settings
) -> str | None:
    """``"first"`` or ``"resumed"`` when this caller owns the period now (the first fire,
    or taking over a dead run's stale claim); None for a duplicate."""
    try:
        with session_scope(settings) as session:
            session.add(
                CampaignPeriodRunRow(
                    brand=brand,
                    name=name,
                    period=period,
                    definition_version=version,
                    status="running",
                )
            )
        return "first"
    except IntegrityError:
        pass
    cutoff = utcnow() - stale_after
    with session_scope(settings) as session:
        taken = session.execute(
            update(CampaignPeriodRunRow)
            .where(
                CampaignPeriodRunRow.brand == brand,
                CampaignPeriodRunRow.name == name,
                CampaignPeriodRunRow.period == period,
                CampaignPeriodRunRow.status == "running",
                CampaignPeriodRunRow.created_at < cutoff,
            )
            .values(created_at=utcnow())
        )
        return "resumed" if taken.rowcount else None  # type: ignore[attr-defined]


class _Heartbeat:
    """Refreshes a running period's claim (``created_at``) every ``every_s`` seconds from a
    daemon thread, until stopped; dies with the process, which is the point."""

    def __init__(self, brand: str, name: str, period: str, every_s: float, settings: Settings):
        self._where = (
            CampaignPeriodRunRow.brand == brand,
            CampaignPeriodRunRow.name == name,
            CampaignPeriodRunRow.period == period,
            CampaignPeriodRunRow.status == "running",
        )
        self._every = every_s
        self._settings = settings
        self._stop = threading.Event()
        self._thread = threading.Thread(
            target=self._beat, name=f"claim-heartbeat-{name}", daemon=True
        )

    def _beat(self) -> None:
        while not self._stop.wait(self._every):
            try:
                with session_scope(self._settings) as session:
                    session.execute(
                        update(CampaignPeriodRunRow).where(*self._where).values(created_at=utcnow())
                    )
            except Exception as exc:  # e.g. the database busy this once: the next beat retries
                log.warning("period claim heartbeat failed: %s", exc)

    def __enter__(self) -> _Heartbeat:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(timeout=self._every + 5)


def _finish(
    brand: str, name: str, period: str, run_id: int | None, status: str, settings: Settings
) -> None:
    with session_scope(settings) as session:
        session.execute(
            update(CampaignPeriodRunRow)
            .where(
                CampaignPeriodRunRow.brand == brand,
                CampaignPeriodRunRow.name == name,
                CampaignPeriodRunRow.period == period,
            )
            .values(status=status, run_id=run_id, finished_at=utcnow())
        )


def period_runs(brand: str, name: str, settings: Settings | None = None) -> list[dict[str, object]]:
    with session_scope(settings) as session:
        rows = session.scalars(
            select(CampaignPeriodRunRow)
            .where(CampaignPeriodRunRow.brand == brand, CampaignPeriodRunRow.name == name)
            .order_by(CampaignPeriodRunRow.id)
        )
        return [
            {
                "period": r.period,
                "status": r.status,
                "run_id": r.run_id,
                "version": r.definition_version,
            }
            for r in rows
        ]


def run_definition(
    stored: StoredDefinition,
    *,
    period: datetime | str | None = None,
    customer_ids: list[str] | None = None,
    campaign: str | None = None,
    settings: Settings | None = None,
    llm: LLM | None = None,
    generate: GenerateFn | None = None,
    feature_items: list[str] | None = None,
) -> DefinitionRun:
    """Generate the definition's drafts (for ``period`` once only), then apply its review policy.

    The definition's ``recipes`` go to generation (each candidate is written from one of
    them); ``feature_items`` (a trigger's pick, e.g. the co-purchase partner) are featured."""
    settings = settings or get_settings()
    d = stored.definition
    period_key = period.isoformat(timespec="minutes") if isinstance(period, datetime) else period
    name = campaign or period_campaign(d.name, period_key)
    base = DefinitionRun(
        brand=d.brand,
        name=d.name,
        campaign=name,
        version=stored.version,
        period=period_key,
        outcome="ran",
    )
    stale = timedelta(seconds=settings.campaign_claim_stale_s)
    if period_key:
        claim = _claim(d.brand, d.name, period_key, stored.version, stale, settings)
        if claim is None:
            return base.model_copy(update={"outcome": "duplicate"})
        if claim == "resumed":
            mark_interrupted(d.brand, name, settings)
        every = max(settings.campaign_claim_stale_s / HEARTBEATS_PER_STALE, MIN_HEARTBEAT_S)
        with _Heartbeat(d.brand, d.name, period_key, every, settings):
            return _run_claimed(stored, base, period_key, customer_ids, settings, llm, generate,
                                feature_items)  # fmt: skip
    return _run_claimed(stored, base, None, customer_ids, settings, llm, generate, feature_items)


def _run_claimed(
    stored: StoredDefinition,
    base: DefinitionRun,
    period_key: str | None,
    customer_ids: list[str] | None,
    settings: Settings,
    llm: LLM | None,
    generate: GenerateFn | None,
    feature_items: list[str] | None,
) -> DefinitionRun:
    d = stored.definition
    name = base.campaign
    try:
        ids = (
            customer_ids
            if customer_ids is not None
            else select_audience(d.brand, d.segment, settings)
        )
        if not ids:
            if period_key:
                _finish(d.brand, d.name, period_key, None, "empty", settings)
            return base.model_copy(update={"outcome": "empty"})
        report = run_campaign(
            d.brand,
            d.kind,
            Segment(customer_ids=ids),
            d.brief,
            name,
            d.n,
            settings=settings,
            llm=llm,
            generate=generate,
            recipes=d.recipes,
            feature_items=feature_items or (),
        )
    except BaseException:
        if period_key:
            _finish(d.brand, d.name, period_key, None, "failed", settings)
        raise
    if period_key:
        _finish(d.brand, d.name, period_key, report.run_id, report.status, settings)
    # the pause and the audit count over the campaign (every period), not one period
    review = apply_review_policy(report.draft_ids, d.review, d.brand, d.name, settings=settings)
    return base.model_copy(update={"report": report, "review": review})

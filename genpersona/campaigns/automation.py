"""Run a stored campaign definition: now, for one scheduled period, or for one trigger fire.

Idempotency per (campaign, period) comes from the database: the first fire of a
period inserts a ``campaign_period_runs`` row under a unique key; a duplicate
fire (two beats, a restart, a retried task) fails that insert and does nothing.
A claim left ``running`` by a killed worker is resumed once it is older than
the task timeout: the runner skips every customer who already has a pending
draft, so the resumed run only fills in the customers the dead one missed.

Each period's drafts live under their own campaign name (``<name>-<period>``),
so a weekly campaign's exposures, holdouts and exports are per week.
"""

from __future__ import annotations

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
from genpersona.db.base import utcnow
from genpersona.db.engine import session_scope
from genpersona.llm.base import LLM
from genpersona.settings import Settings, get_settings


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
) -> bool:
    """True when this caller owns the period now (first fire, or resuming a dead run)."""
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
        return True
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
        return bool(taken.rowcount)  # type: ignore[attr-defined]


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
) -> DefinitionRun:
    """Generate the definition's drafts (for ``period`` once only), then apply its review policy."""
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
    stale = timedelta(seconds=settings.celery_task_timeout_s)
    if period_key and not _claim(d.brand, d.name, period_key, stored.version, stale, settings):
        return base.model_copy(update={"outcome": "duplicate"})
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
        )
    except BaseException:
        if period_key:
            _finish(d.brand, d.name, period_key, None, "failed", settings)
        raise
    if period_key:
        _finish(d.brand, d.name, period_key, report.run_id, report.status, settings)
    review = apply_review_policy(report.draft_ids, d.review, d.brand, name, settings=settings)
    return base.model_copy(update={"report": report, "review": review})

"""Run a campaign: one draft per customer of a segment, into the review queue.

Properties an unattended job needs, and how they are met:
- idempotent: the request for (brand, kind, customer, brief, campaign) has a
  stable idempotency key; a customer who already has a *pending* draft for it
  is skipped, so re-running after a crash or by mistake adds nothing twice;
- robust: one customer's failure is captured (error type + message) and the
  run goes on; the report and the stored run record say who failed and why;
- observable: a progress callback per customer (the CLI draws a bar) and a row
  in ``campaign_runs`` with one item per customer;
- scalable: ``distributed=True`` fans out one Celery task per batch of customers
  (``genpersona.campaigns.tasks``) over Redis or RabbitMQ.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, Field

from genpersona.agent.recipes import load_recipes
from genpersona.brands.loader import load_guide
from genpersona.campaigns import store
from genpersona.campaigns.segments import Segment, select_customers
from genpersona.campaigns.step import (
    CustomerResult,
    GenerateFn,
    build_request,
    generate_for_customer,
)
from genpersona.db.base import utcnow
from genpersona.errors import SegmentError
from genpersona.llm.base import LLM
from genpersona.settings import Settings, get_settings
from genpersona.types.content import ContentKind, ContentRequest


class CampaignReport(BaseModel):
    run_id: int
    brand: str
    name: str
    kind: ContentKind
    segment: dict[str, Any]
    distributed: bool
    status: Literal["completed", "partial", "failed", "empty"]
    targeted: int
    generated: int
    skipped: int
    failed: int
    draft_ids: list[int] = Field(default_factory=list)
    results: list[CustomerResult] = Field(default_factory=list)
    started_at: datetime
    finished_at: datetime


def run_campaign(
    brand: str,
    kind: ContentKind,
    segment: Segment,
    brief: str,
    campaign_name: str,
    n: int = 3,
    *,
    distributed: bool = False,
    settings: Settings | None = None,
    llm: LLM | None = None,
    generate: GenerateFn | None = None,
    on_start: Callable[[int], None] | None = None,
    on_result: Callable[[CustomerResult], None] | None = None,
    recipes: Sequence[str] = (),
    feature_items: Sequence[str] = (),
) -> CampaignReport:
    """Generate drafts for every customer in ``segment``; see the module docstring.

    ``on_start(total)`` and ``on_result(result)`` drive a progress bar.
    ``generate`` replaces the pipeline call (in-process only; tests, dry runs).
    ``recipes`` restricts the angles candidates are written from (checked against
    ``prompts/recipes.yaml`` before anyone is selected); ``feature_items`` are stock
    codes every draft features first.
    """
    settings = settings or get_settings()
    run_id, requests, started = start_campaign(
        brand, kind, segment, brief, campaign_name, n, distributed=distributed,
        settings=settings, check_guide=generate is None, on_start=on_start,
        recipes=recipes, feature_items=feature_items,
    )  # fmt: skip

    def record(result: CustomerResult) -> None:
        store.record_item(
            run_id,
            brand=brand,
            customer_id=result.customer_id,
            status=result.status,
            draft_id=result.draft_id,
            error=result.error,
            message=result.message,
            settings=settings,
        )
        if on_result:
            on_result(result)

    results: list[CustomerResult] = []
    try:
        if distributed:
            from genpersona.campaigns.tasks import run_distributed  # celery: distributed only

            results = run_distributed(requests, settings=settings, on_result=record)
        else:
            for request in requests:
                result = generate_for_customer(
                    request, settings=settings, llm=llm, generate=generate
                )
                record(result)
                results.append(result)
    except BaseException:
        store.finish_run(run_id, "failed", settings)
        raise
    return _report(
        run_id, brand, campaign_name, kind, segment, distributed, results, started, settings
    )


def start_campaign(
    brand: str,
    kind: ContentKind,
    segment: Segment,
    brief: str,
    campaign_name: str,
    n: int,
    *,
    distributed: bool,
    settings: Settings,
    check_guide: bool = True,
    on_start: Callable[[int], None] | None = None,
    recipes: Sequence[str] = (),
    feature_items: Sequence[str] = (),
) -> tuple[int, list[ContentRequest], datetime]:
    """What every runner does before its first draft: validate, select the customers,
    record the run. Returns (run id, one request per customer, start time)."""
    if not campaign_name.strip():
        raise SegmentError("the campaign has no name", fix="pass --name, e.g. xmas-2026")
    if not 1 <= n <= 10:
        raise SegmentError(f"n={n} is out of range", fix="ask for 1 to 10 variants per customer")
    options: dict[str, Any] = {"recipes": list(recipes), "feature_items": list(feature_items)}
    build_request(brand, kind, "probe", brief, campaign_name, n, **options)  # validate first
    if recipes:
        load_recipes(settings.prompts_dir).named(recipes)  # an unknown name fails everyone
    if check_guide:
        # a missing or broken brand guide would fail every customer the same way: say it once
        load_guide(brand, settings)
    customers = select_customers(brand, segment, settings)
    if distributed and customers:
        # celery and the worker app load only for distributed runs
        from genpersona.campaigns.tasks import ensure_ready

        ensure_ready(settings)  # no broker or no worker: refuse before recording a run
    started = utcnow()
    run_id = store.start_run(
        brand=brand,
        name=campaign_name,
        kind=kind,
        brief=brief,
        n=n,
        segment=segment.model_dump(mode="json", exclude_none=True),
        distributed=distributed,
        targeted=len(customers),
        settings=settings,
    )
    if on_start:
        on_start(len(customers))
    return (
        run_id,
        [build_request(brand, kind, c, brief, campaign_name, n, **options) for c in customers],
        started,
    )


def _report(
    run_id: int,
    brand: str,
    name: str,
    kind: ContentKind,
    segment: Segment,
    distributed: bool,
    results: list[CustomerResult],
    started: datetime,
    settings: Settings,
) -> CampaignReport:
    counts = {s: sum(r.status == s for r in results) for s in ("generated", "skipped", "failed")}
    if not results:
        status = "empty"
    elif counts["failed"] == len(results):
        status = "failed"
    elif counts["failed"]:
        status = "partial"
    else:
        status = "completed"
    store.finish_run(run_id, status, settings)
    return CampaignReport(
        run_id=run_id,
        brand=brand,
        name=name,
        kind=kind,
        segment=segment.model_dump(mode="json", exclude_none=True),
        distributed=distributed,
        status=status,
        targeted=len(results),
        draft_ids=[r.draft_id for r in results if r.draft_id is not None],
        results=results,
        started_at=started,
        finished_at=utcnow(),
        **counts,
    )

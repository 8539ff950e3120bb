"""Run a campaign for throughput: many customers in flight, CPU work done per batch.

The one-by-one runner (``runner.run_campaign``) waits for each customer's model calls
before starting the next; against a server that answers in 200 ms that caps a campaign
at a few drafts per second however fast the GPU is. Here:

- up to ``campaign_concurrency`` customers wait on the model at once (a bounded thread
  pool; each customer's n candidates go out as one ``n`` request);
- customers are handled in batches of ``campaign_batch_size``: one query finds the ones
  already pending (skipped), one embedder call embeds every draft's references and
  candidates, one transaction stores the batch's drafts and one its run items;
- batches stream to the queue as they finish, while the next batch is still with the
  model: a crash loses at most the batches in flight, and a re-run skips every stored
  draft (the idempotency key), so it resumes without duplicates or gaps.

The drafts are the ones the one-by-one runner writes for the same seeds (same stage
functions; see ``agent.batch``). ``distributed=True`` hands over to the Celery path.
"""

from __future__ import annotations

from collections.abc import Callable

from genpersona.agent.batch import StageCpu
from genpersona.agent.deps import AgentDeps, default_deps
from genpersona.campaigns import store
from genpersona.campaigns.batching import generate_requests
from genpersona.campaigns.runner import CampaignReport, _report, run_campaign, start_campaign
from genpersona.campaigns.segments import Segment
from genpersona.campaigns.step import CustomerResult
from genpersona.llm.base import LLM
from genpersona.settings import Settings, get_settings
from genpersona.types.content import ContentKind


def run_campaign_batched(
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
    deps: AgentDeps | None = None,
    on_start: Callable[[int], None] | None = None,
    on_result: Callable[[CustomerResult], None] | None = None,
    cpu: StageCpu | None = None,
) -> CampaignReport:
    """``run_campaign``'s contract (report, run record, idempotency), built for throughput.

    ``cpu`` collects CPU seconds per stage (the benchmark prints them per draft).
    """
    settings = settings or get_settings()
    if distributed:
        return run_campaign(brand, kind, segment, brief, campaign_name, n, distributed=True,
                            settings=settings, on_start=on_start, on_result=on_result)  # fmt: skip
    run_id, requests, started = start_campaign(
        brand, kind, segment, brief, campaign_name, n, distributed=False,
        settings=settings, on_start=on_start,
    )  # fmt: skip
    results: list[CustomerResult] = []

    def record(batch: list[CustomerResult]) -> None:
        store.record_items(run_id, brand, [store.ItemRecord(**r.model_dump()) for r in batch],
                           settings)  # fmt: skip
        results.extend(batch)
        if on_result:
            for r in batch:
                on_result(r)

    try:
        generate_requests(requests, deps=deps or default_deps(llm, settings), settings=settings,
                          cpu=cpu, on_batch=record)  # fmt: skip
    except BaseException:
        store.finish_run(run_id, "failed", settings)
        raise
    return _report(run_id, brand, campaign_name, kind, segment, False, results, started, settings)

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

from collections import deque
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor

from genpersona.agent.batch import Prepared, StageCpu, finish, prepare
from genpersona.agent.deps import AgentDeps, default_deps
from genpersona.agent.drafting import request_key
from genpersona.brands.loader import load_guide
from genpersona.campaigns import store
from genpersona.campaigns.runner import CampaignReport, _report, run_campaign
from genpersona.campaigns.segments import Segment, select_customers
from genpersona.campaigns.step import CustomerResult, build_request, failure_result
from genpersona.db.base import utcnow
from genpersona.errors import SegmentError
from genpersona.llm.base import LLM
from genpersona.review.queue import submit_drafts
from genpersona.settings import Settings, get_settings
from genpersona.types.content import ContentKind, ContentRequest, Draft

Outcome = Prepared | BaseException


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
    if not campaign_name.strip():
        raise SegmentError("the campaign has no name", fix="pass --name, e.g. xmas-2026")
    if not 1 <= n <= 10:
        raise SegmentError(f"n={n} is out of range", fix="ask for 1 to 10 variants per customer")
    build_request(brand, kind, "probe", brief, campaign_name, n)  # validate before selecting
    load_guide(brand, settings)  # a broken guide would fail every customer: say it once
    customers = select_customers(brand, segment, settings)
    started = utcnow()
    run_id = store.start_run(brand=brand, name=campaign_name, kind=kind, brief=brief, n=n,
                             segment=segment.model_dump(mode="json", exclude_none=True),
                             distributed=False, targeted=len(customers),
                             settings=settings)  # fmt: skip
    if on_start:
        on_start(len(customers))
    requests = [build_request(brand, kind, c, brief, campaign_name, n) for c in customers]
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


def generate_requests(
    requests: Sequence[ContentRequest],
    *,
    deps: AgentDeps,
    settings: Settings,
    cpu: StageCpu | None = None,
    on_batch: Callable[[list[CustomerResult]], None] | None = None,
) -> list[CustomerResult]:
    """Drafts for ``requests`` into the queue, batch by batch (skipping pending ones);
    ``on_batch`` sees each batch's results once they are stored. Shared by the
    in-process runner and the Celery task, so both store the same way."""
    cpu = cpu or StageCpu()
    out: list[CustomerResult] = []

    def emit(batch: list[CustomerResult]) -> None:
        out.extend(batch)
        if on_batch and batch:
            with cpu.measure("storage"):
                on_batch(batch)

    for batch in _stream(requests, deps, settings, cpu, emit):
        emit(_store_batch(batch, deps, settings, cpu))
    return out


def _stream(
    requests: Sequence[ContentRequest],
    deps: AgentDeps,
    settings: Settings,
    cpu: StageCpu,
    record: Callable[[list[CustomerResult]], None],
) -> Iterator[list[tuple[ContentRequest, Outcome]]]:
    """Batches of model-finished customers, in order, while later ones are still in flight.

    The window holds the pool's worth of customers plus one batch, so the pool never idles
    while the caller scores and stores a batch.
    """
    size = max(1, settings.campaign_batch_size)
    workers = 1 if deps.llm.sequential else settings.campaign_concurrency
    window: deque[tuple[ContentRequest, Future[Prepared]]] = deque()
    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="genpersona-campaign") as pool:
        try:
            for start in range(0, len(requests), size):
                chunk = requests[start : start + size]
                with cpu.measure("storage"):
                    pending = store.pending_draft_ids([request_key(r) for r in chunk], settings)
                skipped = [
                    CustomerResult(
                        customer_id=r.customer_id or "",
                        status="skipped",
                        draft_id=pending[request_key(r)],
                    )  # fmt: skip
                    for r in chunk
                    if request_key(r) in pending
                ]
                record(skipped)
                for r in chunk:
                    if request_key(r) not in pending:
                        window.append((r, pool.submit(prepare, r, deps, cpu)))
                while len(window) >= workers + size:
                    yield _take(window, size)
            while window:
                yield _take(window, size)
        finally:
            for _, fut in window:  # a crash or Ctrl-C: do not start what nobody will store
                fut.cancel()


def _take(
    window: deque[tuple[ContentRequest, Future[Prepared]]], size: int
) -> list[tuple[ContentRequest, Outcome]]:
    batch: list[tuple[ContentRequest, Outcome]] = []
    while window and len(batch) < size:
        req, fut = window.popleft()
        try:
            batch.append((req, fut.result()))
        except Exception as exc:  # this customer failed; the others go on
            batch.append((req, exc))
    return batch


def _store_batch(
    batch: list[tuple[ContentRequest, Outcome]],
    deps: AgentDeps,
    settings: Settings,
    cpu: StageCpu,
) -> list[CustomerResult]:
    prepared = [o for _, o in batch if isinstance(o, Prepared)]
    finished = iter(finish(prepared, deps, cpu))
    outcomes: list[Draft | BaseException] = [
        next(finished) if isinstance(o, Prepared) else o for _, o in batch
    ]
    drafts = [o for o in outcomes if isinstance(o, Draft)]
    with cpu.measure("storage"):
        stored = _submit(drafts, settings)
    out: list[CustomerResult] = []
    saved = iter(stored)
    for (req, _), outcome in zip(batch, outcomes, strict=True):
        cid = req.customer_id or ""
        if isinstance(outcome, Draft):
            got = next(saved)
            if isinstance(got, BaseException):
                out.append(failure_result(cid, got))
            else:
                out.append(CustomerResult(customer_id=cid, status="generated", draft_id=got.id))
        else:
            out.append(failure_result(cid, outcome))
    return out


def _submit(drafts: list[Draft], settings: Settings) -> list[Draft | BaseException]:
    """The batch in one transaction; if that fails, one by one, so one bad draft only
    fails its own customer."""
    try:
        return list(submit_drafts(drafts, settings))
    except Exception:
        out: list[Draft | BaseException] = []
        for d in drafts:
            try:
                out.append(submit_drafts([d], settings)[0])
            except Exception as exc:
                out.append(exc)
        return out

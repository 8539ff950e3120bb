"""Drafts for many requests, batch by batch: the throughput path's engine.

Shared by the in-process batched runner (``campaigns.batch_runner``) and the Celery batch
task (``campaigns.tasks``), so both store the same way; it imports neither of them.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor

from genpersona.agent.batch import Prepared, StageCpu, finish, prepare, read_batch
from genpersona.agent.deps import AgentDeps
from genpersona.agent.drafting import request_key
from genpersona.campaigns import store
from genpersona.campaigns.step import CustomerResult, failure_result
from genpersona.review.queue import submit_drafts
from genpersona.settings import Settings
from genpersona.types.content import ContentRequest, Draft

Outcome = Prepared | BaseException


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
                todo = [r for r in chunk if request_key(r) not in pending]
                with cpu.measure("context"):
                    ahead = read_batch(todo, deps)
                for r in todo:
                    window.append((r, pool.submit(prepare, r, deps, cpu, ahead)))
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

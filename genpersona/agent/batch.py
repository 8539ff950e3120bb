"""The pipeline for many requests at once: the same stages as ``pipeline.generate``, split
where a campaign gains by batching.

    per customer, on a pool thread:  context -> prompt -> every candidate's first attempt
                                      in one request -> guard -> one request per round
                                      of re-asks (none once n passed) -> guard
    per batch, on the caller:        one embedder call for every draft's references,
                                      candidates and candidate lines -> scores ->
                                      rationale -> draft

Why split there: the first half waits on the model (so many customers run at once on
threads, bounded by the caller's pool), the second half is CPU and embedder work that
costs far less per draft when done for a whole batch in one call. The single-request
path (``pipeline.generate``) is unchanged and keeps its latency; both call the same
stage functions, so a draft is the same either way (for the same seeds).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

from pydantic import BaseModel, ConfigDict

from genpersona.agent.context_stage import AgentContext, build_context
from genpersona.agent.deps import AgentDeps
from genpersona.agent.drafting import assemble_draft, request_key, rules_checked, stamped
from genpersona.agent.generation import (
    CandidateResult,
    CandidateRunner,
    ModelCall,
    passing_variants,
    reask_limit,
    run_rounds,
)
from genpersona.agent.prompting import RenderedPrompt, prepare_prompt
from genpersona.agent.quality_ranking import variant_lines
from genpersona.agent.rationale import build_rationale
from genpersona.agent.read_ahead import ReadAhead
from genpersona.agent.scoring import build_scoring_contexts, score_batch_item, variant_texts
from genpersona.agent.trace import StageTimer, running
from genpersona.llm.base import GenerationParams
from genpersona.types.content import ContentRequest, Draft

log = logging.getLogger(__name__)


class StageCpu:
    """CPU seconds per stage, summed over threads (``time.thread_time``): waiting on the
    model costs no CPU, so this is exactly the work that is ours."""

    def __init__(self) -> None:
        self.seconds: dict[str, float] = {}
        self._lock = threading.Lock()

    @contextmanager
    def measure(self, stage: str) -> Iterator[None]:
        t0 = time.thread_time()
        try:
            yield
        finally:
            spent = time.thread_time() - t0
            with self._lock:
                self.seconds[stage] = self.seconds.get(stage, 0.0) + spent

    def add(self, other: StageCpu) -> None:
        with self._lock:
            for k, v in other.seconds.items():
                self.seconds[k] = self.seconds.get(k, 0.0) + v


class Prepared(BaseModel):
    """One customer after the model: the guarded candidates, waiting to be scored."""

    model_config = ConfigDict(arbitrary_types_allowed=True)

    request: ContentRequest
    key: str
    actx: AgentContext
    results: list[CandidateResult]
    prompt: RenderedPrompt
    timer: StageTimer


class LockstepRunner(CandidateRunner):
    """A ``CandidateRunner`` that asks the model for many candidates' calls at once: every
    candidate's first attempt in one request, then each round of re-asks in one more
    (``LLM.complete_batch``: one request with a list of prompts; chat: concurrent
    requests). The seeds are the one-by-one path's, so a backend that honours per-call
    seeds (the fakes) gives the same candidates."""

    def call_many(self, calls: list[ModelCall]) -> list[str]:
        style = calls[0][0].style
        seeds = [seed for _, seed in calls]
        params = GenerationParams(
            max_tokens=self.plan.max_tokens,
            temperature=self.plan.temperature,
            stop=self.plan.stop,
            logprobs=self.llm.returns_logprobs and style == "completion",
            cache_prompt=self.plan.cache_prompt,
        )
        self.timer.model_started.set()
        started = time.perf_counter()
        if style == "completion":
            results = self.llm.complete_batch([p.text for p, _ in calls], params, seeds)
        else:
            results = self.llm.chat_batch([p.messages for p, _ in calls], params, seeds)
        ended = time.perf_counter()
        for seed, r in zip(seeds, results, strict=True):
            self.timer.record_llm(r, started, ended)
            self.last_logprob[seed] = r.mean_logprob
        return [r.text for r in results]

    def run_all(self) -> list[CandidateResult]:
        """Every candidate through the guard, their model calls sent round by round."""
        return run_rounds(self, self.call_many, reask_limit(self))


def prepare(
    request: ContentRequest, deps: AgentDeps, cpu: StageCpu, ahead: ReadAhead | None = None
) -> Prepared:
    """The model-bound half of one draft (runs on a pool thread); raises like ``generate``.
    ``ahead``: the batch's rows, read ahead (``read_batch``)."""
    timer = StageTimer()
    with running(timer):
        with cpu.measure("context"), timer.stage("context"):
            actx = build_context(request, deps, ahead)
        with cpu.measure("prompt"), timer.stage("prompt"):
            library, style = prepare_prompt(request.kind, deps.llm, deps.settings)
            runner = LockstepRunner(actx, deps.llm, library, style, timer, deps.settings)
        with cpu.measure("generate+guard"), timer.stage("generate+guard"):
            results = runner.run_all()
    return Prepared(
        request=request,
        key=request_key(request),
        actx=actx,
        results=results,
        prompt=runner.base_prompt,
        timer=timer,
    )


def read_batch(requests: list[ContentRequest], deps: AgentDeps) -> ReadAhead | None:
    """The batch's customer rows and past drafts in a few queries, when the deps read ahead
    and the batch is one brand and kind (a campaign's); else None (each reads its own).
    A failed read-ahead is not the batch's failure: each customer then reads, and reports,
    on its own."""
    ids = [r.customer_id for r in requests if r.customer_id]
    if deps.read_ahead is None or not ids or len({(r.brand, r.kind) for r in requests}) != 1:
        return None
    try:
        return deps.read_ahead(requests[0].brand, requests[0].kind, ids, deps.settings)
    except Exception:
        log.warning("read-ahead of %d customers failed; reading them one by one", len(ids),
                    exc_info=True)  # fmt: skip
        return None


def finish(batch: list[Prepared], deps: AgentDeps, cpu: StageCpu) -> list[Draft | Exception]:
    """The CPU half for a whole batch: one embedder call, then each draft's scores and
    rationale. A customer whose candidates all failed the guard gets its exception."""
    out: list[Draft | Exception] = []
    passed: list[tuple[Prepared, list]] = []
    for p in batch:
        try:
            passed.append((p, passing_variants(p.results, p.request.kind, p.request.brand)))
        except Exception as exc:  # one customer's failure is reported, the batch goes on
            out.append(exc)
    with cpu.measure("scoring"):
        contexts = build_scoring_contexts(
            [(p.actx, variant_texts(vs), variant_lines(vs)) for p, vs in passed], deps
        )
    drafts: dict[int, Draft | Exception] = {}
    for (p, variants), sctx in zip(passed, contexts, strict=True):
        try:
            with cpu.measure("scoring"), p.timer.stage("score"):
                ranked = score_batch_item(variants, sctx, p.actx, deps)[: p.request.n]
            with cpu.measure("rationale"), p.timer.stage("rationale"):
                rules = rules_checked(p.results)
                rationale = build_rationale(p.actx, ranked[0], ranked, p.prompt, deps.llm, rules)
                draft = assemble_draft(p.request, p.key, ranked, rationale, p.results, p.timer)
            drafts[id(p)] = stamped(draft, p.timer)
        except Exception as exc:  # e.g. the semantic gate left no candidate: this customer
            drafts[id(p)] = exc
    failed = iter(out)
    ordered: list[Draft | Exception] = []
    passed_ids = {id(p) for p, _ in passed}
    for p in batch:
        ordered.append(drafts[id(p)] if id(p) in passed_ids else next(failed))
    return ordered

"""The pipeline for many requests at once: the same stages as ``pipeline.generate``, split
where a campaign gains by batching.

    per customer, on a pool thread:  context -> prompt -> n candidates (one ``n`` request)
                                      -> guard / repair
    per batch, on the caller:        one embedder call for every draft's references and
                                      candidates -> scores -> rationale -> draft

Why split there: the first half waits on the model (so many customers run at once on
threads, bounded by the caller's pool), the second half is CPU and embedder work that
costs far less per draft when done for a whole batch in one call. The single-request
path (``pipeline.generate``) is unchanged and keeps its latency; both call the same
stage functions, so a draft is the same either way (for the same seeds).
"""

from __future__ import annotations

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
    passing_variants,
    run_candidate,
    seed_for,
)
from genpersona.agent.prompting import RenderedPrompt, prepare_prompt
from genpersona.agent.rationale import build_rationale
from genpersona.agent.scoring import build_scoring_contexts, score_batch_item, variant_texts
from genpersona.agent.trace import StageTimer, running
from genpersona.llm.base import GenerationParams
from genpersona.types.content import ContentRequest, Draft


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


class PrefetchedRunner(CandidateRunner):
    """A ``CandidateRunner`` whose first attempts are fetched up front, one request per
    distinct prompt with as many choices as candidates share it (``LLM.complete_many``):
    the seeds are the ones the one-by-one path uses, so a backend that honours per-call
    seeds gives the same candidates."""

    def prefetch(self) -> None:
        groups: dict[int, list[int]] = {}
        for i, prompt in enumerate(self.prompts):
            first = next(j for j, p in enumerate(self.prompts) if p == prompt)
            groups.setdefault(first, []).append(i)
        self._prefetched: dict[tuple[int, int], str] = {}
        for first, members in groups.items():
            prompt = self.prompts[first]
            seeds = [seed_for(self.key, i, 0) for i in members]
            params = GenerationParams(
                max_tokens=self.plan.max_tokens,
                temperature=self.plan.temperature,
                stop=self.plan.stop,
                logprobs=self.llm.returns_logprobs and prompt.style == "completion",
            )
            self.timer.model_started.set()
            started = time.perf_counter()
            if prompt.style == "completion":
                results = self.llm.complete_many(prompt.text, params, seeds)
            else:
                results = self.llm.chat_many(prompt.messages, params, seeds)
            ended = time.perf_counter()
            for i, seed, r in zip(members, seeds, results, strict=True):
                self.timer.record_llm(r, started, ended)
                self._prefetched[(i, seed)] = r.text
                self.last_logprob[seed] = r.mean_logprob

    def call(self, prompt: RenderedPrompt, seed: int) -> str:
        prefetched = getattr(self, "_prefetched", {})
        for i, p in enumerate(self.prompts):
            if p is prompt and (i, seed) in prefetched:
                return str(prefetched.pop((i, seed)))
        return super().call(prompt, seed)


def prepare(request: ContentRequest, deps: AgentDeps, cpu: StageCpu) -> Prepared:
    """The model-bound half of one draft (runs on a pool thread); raises like ``generate``."""
    timer = StageTimer()
    with running(timer):
        with cpu.measure("context"), timer.stage("context"):
            actx = build_context(request, deps)
        with cpu.measure("prompt"), timer.stage("prompt"):
            library, style = prepare_prompt(request.kind, deps.llm, deps.settings)
            runner = PrefetchedRunner(actx, deps.llm, library, style, timer, deps.settings)
        with cpu.measure("generate+guard"), timer.stage("generate+guard"):
            runner.prefetch()
            results = [run_candidate(runner, i) for i in range(runner.n)]
    return Prepared(
        request=request,
        key=request_key(request),
        actx=actx,
        results=results,
        prompt=runner.base_prompt,
        timer=timer,
    )


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
            [(p.actx, variant_texts(variants)) for p, variants in passed], deps
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

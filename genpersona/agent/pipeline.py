"""The personalization agent, end to end: request -> ranked, explained draft -> review queue.

    context -> prompt -> n guarded candidates -> scores -> rationale -> queue

Each arrow is a function in its own module (``context_stage``, ``prompting`` /
``variables``, ``generation``, ``scoring``, ``rationale``); this module only
wires them, times them (``Trace``) and enforces the two promises the queue
relies on: a blocked candidate never reaches it, and the same request queued
twice is one draft (the idempotency key; the second call does not even reach
the model while the first draft is pending).
"""

from __future__ import annotations

import contextvars
import hashlib
from concurrent.futures import ThreadPoolExecutor

from genpersona.agent.context_stage import build_context
from genpersona.agent.deps import AgentDeps, default_deps
from genpersona.agent.generation import generate_candidates
from genpersona.agent.prompting import get_library
from genpersona.agent.rationale import build_rationale
from genpersona.agent.scoring import build_scoring_context, score_variants, variant_texts
from genpersona.agent.trace import CURRENT_TIMER, StageTimer
from genpersona.errors import RetriesExhausted
from genpersona.llm.base import LLM, PromptStyle
from genpersona.settings import Settings, get_settings
from genpersona.types.content import ContentRequest, Draft

#: prepares scoring references next to generation; small: each job is a few ms plus one
#: embedder call, and the embedder serialises anyway
_PREPARE = ThreadPoolExecutor(max_workers=2, thread_name_prefix="genpersona-scoring")


def _prepare_scoring(actx, deps: AgentDeps, timer: StageTimer):  # type: ignore[no-untyped-def]
    """Scoring references, built once the first candidate is decoding (or after 1 s, so a
    backend that never reports a start cannot stall the draft)."""
    timer.model_started.wait(timeout=1.0)
    return build_scoring_context(actx, deps)


def prompt_style(llm: LLM, settings: Settings) -> PromptStyle:
    """Settings override the backend's own preference (e.g. a chat model behind 'local')."""
    if settings.llm_prompt_style in ("completion", "chat"):
        return settings.llm_prompt_style  # type: ignore[return-value]
    return llm.prompt_style


def _workers(llm: LLM, settings: Settings) -> int:
    """Scripted fakes answer in call order, so they run sequentially; real backends
    decode concurrent requests together (llama.cpp slots, remote servers)."""
    if llm.sequential:
        return 1
    return max(1, settings.local_parallel)


def request_key(request: ContentRequest) -> str:
    """The request's own idempotency key; anonymous visitors' context is part of it, so
    a visitor from France never gets the pending draft written for one from Spain."""
    key = request.idempotency_key()
    if request.anonymous is None:
        return key
    extra = request.anonymous.model_dump_json()
    return hashlib.sha256(f"{key}|{extra}".encode()).hexdigest()[:32]


def generate(
    request: ContentRequest,
    *,
    llm: LLM | None = None,
    settings: Settings | None = None,
    submit: bool = True,
    deps: AgentDeps | None = None,
    idempotency_key: str | None = None,
) -> Draft:
    """One request in, one ranked draft out (queued unless ``submit=False``)."""
    settings = settings or (deps.settings if deps else get_settings())
    deps = deps or default_deps(llm, settings)
    key = idempotency_key or request_key(request)
    timer = StageTimer()
    token = CURRENT_TIMER.set(timer)
    try:
        return _run(request, deps, settings, key, timer, submit)
    finally:
        CURRENT_TIMER.reset(token)


def _run(
    request: ContentRequest,
    deps: AgentDeps,
    settings: Settings,
    key: str,
    timer: StageTimer,
    submit: bool,
) -> Draft:

    if submit:
        with timer.stage("idempotency"):
            existing = deps.find_pending(key, settings)
        if existing is not None:
            return existing

    with timer.stage("context"):
        actx = build_context(request, deps)
    # the reference vectors of scoring depend only on the context: with a model on another
    # machine, prepare them while the candidates decode (contextvars travel along, so the
    # trace stays whole). Not beside the in-process model: on a small CPU the embedder would
    # only slow its decoding (measured: same wall time, work merely hidden inside model
    # time), and not beside an instant fake, where the thread hand-off costs more.
    scoring = (
        _PREPARE.submit(contextvars.copy_context().run, _prepare_scoring, actx, deps, timer)
        if not deps.llm.shares_cpu
        else None
    )
    style = prompt_style(deps.llm, settings)
    with timer.stage("prompt"):
        library = get_library(settings.prompts_dir)
        library.get(request.kind, style)  # compile (cached) before the clock of generation
    with timer.stage("generate+guard"):
        results, prompt = generate_candidates(
            actx, deps.llm, library, style, timer, workers=_workers(deps.llm, settings)
        )
    passed = [r for r in results if not any(v.severity == "block" for v in r.variant.violations)]
    if not passed:
        raise RetriesExhausted(
            f"no {request.kind} candidate for {request.brand} passed the guardrails, "
            "not even the brand's fallback copy",
            fix="check the brand guide's fallbacks against its own rules (`genpersona guard ...`)",
            attempts=[a.model_dump() for r in results for a in r.attempts],
        )
    with timer.stage("score"):
        kept = [r.variant for r in passed]
        # inline, the candidates join the references in one embedder call (each has a fixed cost)
        sctx = (
            scoring.result() if scoring else build_scoring_context(actx, deps, variant_texts(kept))
        )
        variants = score_variants(kept, sctx, deps.embedder)
    rules = sorted({rule for r in results for rule in r.rules_checked})
    with timer.stage("rationale"):
        rationale = build_rationale(actx, variants[0], variants, prompt, deps.llm, rules)
    trace = timer.trace
    trace.first_try_passed = sum(r.first_try_passed for r in results)
    trace.repaired = sum(r.repaired for r in results)
    trace.reasked = sum(r.reasked for r in results)
    trace.fallbacks = sum(r.variant.is_fallback for r in results)
    trace.violations_caught = sum(len(a.violations) for r in results for a in r.attempts)
    trace.candidates = len(results)
    draft = Draft(
        brand=request.brand,
        kind=request.kind,
        customer_id=request.customer_id,
        campaign=request.campaign,
        brief=request.brief,
        variants=variants,
        rationale=rationale,
        idempotency_key=key,
    )
    if not submit:
        return draft.model_copy(update={"trace": timer.finish()})
    # the queue stores the trace as of submission; the caller also sees the queue stage
    draft = draft.model_copy(update={"trace": timer.finish().model_copy(deep=True)})
    with timer.stage("queue"):
        draft = deps.submit(draft, settings)
    return draft.model_copy(update={"trace": timer.finish()})


def regenerate_key(draft: Draft, note: str) -> str:
    payload = f"{draft.idempotency_key}|regenerate|{draft.id}|{note.strip()}"
    return hashlib.sha256(payload.encode()).hexdigest()[:32]


def request_from_draft(draft: Draft, note: str | None = None) -> ContentRequest:
    """Rebuild the request a draft came from (its replay inputs live in the rationale)."""
    r = draft.rationale
    return ContentRequest(
        brand=draft.brand,
        kind=draft.kind,
        customer_id=draft.customer_id,
        anonymous=r.anonymous,
        brief=draft.brief,
        campaign=draft.campaign,
        n=max(1, min(10, len(draft.variants))),
        channel=r.channel,  # type: ignore[arg-type]
        conversation=r.conversation,
        regenerate_note=note,
    )


def regenerate_draft(
    draft: Draft,
    note: str,
    settings: Settings | None = None,
    *,
    llm: LLM | None = None,
    deps: AgentDeps | None = None,
) -> Draft:
    """A fresh draft for the same request with the reviewer's note passed to the model."""
    request = request_from_draft(draft, note)
    return generate(
        request, llm=llm, settings=settings, deps=deps, idempotency_key=regenerate_key(draft, note)
    )


# chat answers are the chat_answer kind of this pipeline; re-exported so callers
# (HTTP API, CLI) import the agent's whole public API from one module
from genpersona.agent.chat import ChatReply, chat_reply  # noqa: E402

__all__ = ["ChatReply", "chat_reply", "generate", "regenerate_draft"]

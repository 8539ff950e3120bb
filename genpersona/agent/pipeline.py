"""The personalization agent, end to end: request -> ranked, explained draft -> review queue.

    context -> prompt -> n guarded candidates -> scores -> rationale -> draft -> queue

Each arrow is a function in its own module (``context_stage``, ``prompting``,
``generation``, ``scoring``, ``rationale``, ``drafting``); ``generate`` below calls
them in that order, times each in the run's ``StageTimer`` and keeps the two promises
the queue relies on: a blocked candidate never reaches it, and the same request queued
twice is one draft (the idempotency key; the second call does not even reach the model
while the first draft is pending). Collaborators come in one ``AgentDeps``.
"""

from __future__ import annotations

from genpersona.agent.context_stage import build_context
from genpersona.agent.deps import AgentDeps, default_deps
from genpersona.agent.drafting import assemble_draft, request_key, rules_checked, stamped
from genpersona.agent.generation import candidate_workers, generate_candidates, passing_variants
from genpersona.agent.prompting import prepare_prompt
from genpersona.agent.rationale import build_rationale
from genpersona.agent.scoring import score_candidates, start_scoring
from genpersona.agent.trace import StageTimer, running
from genpersona.llm.base import LLM
from genpersona.settings import Settings, get_settings
from genpersona.types.content import ContentRequest, Draft


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
    with running(StageTimer()) as timer:
        if submit:
            with timer.stage("idempotency"):
                existing = deps.find_pending(key, settings)
            if existing is not None:
                return existing
        with timer.stage("context"):
            actx = build_context(request, deps)
        scoring = start_scoring(actx, deps, timer)  # beside decoding when the model is remote
        with timer.stage("prompt"):
            library, style = prepare_prompt(request.kind, deps.llm, settings)
        with timer.stage("generate+guard"):
            workers = candidate_workers(deps.llm, settings)
            results, prompt = generate_candidates(
                actx, deps.llm, library, style, timer, workers, settings
            )
        passed = passing_variants(results, request.kind, request.brand)
        with timer.stage("score"):
            variants = score_candidates(passed, actx, deps, scoring)[: request.n]  # best n shown
        with timer.stage("rationale"):
            rules = rules_checked(results)
            rationale = build_rationale(actx, variants[0], variants, prompt, deps.llm, rules)
        draft = assemble_draft(request, key, variants, rationale, results, timer)
        if not submit:
            return stamped(draft, timer)
        draft = stamped(draft, timer)  # what the queue stores; the caller also sees "queue"
        with timer.stage("queue"):
            draft = deps.submit(draft, settings)
        return stamped(draft, timer)

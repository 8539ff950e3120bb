"""Stages 3-4: n candidates from the model, each through the guardrails with bounded repair.

A candidate is one ``produce`` function handed to ``generate_guarded``: on a
re-ask it re-renders the prompt with the violations listed (the repair note is
part of the personal tail, so the cached static prefix is untouched) and uses a
fresh seed. Featured items are never taken from the model's words: the context
stage chose them from the catalog and they are attached here unchanged.
"""

from __future__ import annotations

import re
import time
from concurrent.futures import ThreadPoolExecutor
from functools import cache

from pydantic import BaseModel, ConfigDict

from genpersona.agent.context_stage import AgentContext
from genpersona.agent.prompting import PromptLibrary, RenderedPrompt
from genpersona.agent.trace import StageTimer
from genpersona.agent.variables import prompt_variables
from genpersona.errors import RetriesExhausted
from genpersona.guard.engine import autofix, check
from genpersona.guard.models import Attempt
from genpersona.guard.repair import fallback_content, format_violations_for_prompt, generate_guarded
from genpersona.llm.base import LLM, GenerationParams, PromptStyle
from genpersona.settings import Settings
from genpersona.types.content import Variant, VariantContent
from genpersona.types.violations import Violation

_FIELD_RE = re.compile(r"^\s*(subject|preheader|headline|subheadline|cta|answer)\s*:\s*(.*)$", re.I)
_TAG_RE = re.compile(r"</?\s*(message|notes)\s*>", re.I)
_QUOTES = "\"'“”‘’`*"


class GenerationPlan(BaseModel):
    """Decoding settings per kind and prompt style (small model: short, stopped early)."""

    max_tokens: int
    stop: list[str]
    temperature: float = 0.8


def plan_for(kind: str, style: PromptStyle) -> GenerationPlan:
    if style == "chat":
        return GenerationPlan(
            max_tokens={"subject_line": 60, "hero": 110, "chat_answer": 200}[kind], stop=[]
        )
    if kind == "subject_line":
        return GenerationPlan(max_tokens=24, stop=["\n"])
    if kind == "hero":
        return GenerationPlan(
            max_tokens=64, stop=["\n\n", "\nProduct:", "\nInterests:", "\nBrief:"]
        )
    return GenerationPlan(
        max_tokens=90, stop=["\nCustomer:", "\n\n", "</message>"], temperature=0.6
    )


def _clean(line: str) -> str:
    line = _TAG_RE.sub("", line).strip().strip(_QUOTES).strip()
    return re.sub(r"\s+", " ", line)


def parse_output(kind: str, text: str, actx: AgentContext) -> VariantContent:
    """Model text -> typed content. Completion prompts end in an open field line
    ('Subject:' / 'Headline:' / 'Assistant:'), so the first line belongs to it."""
    lines = [ln for ln in text.strip().splitlines() if ln.strip()]
    fields: dict[str, str] = {}
    first_free: str | None = None
    for ln in lines:
        m = _FIELD_RE.match(ln)
        if m:
            fields.setdefault(m.group(1).lower(), _clean(m.group(2)))
        elif first_free is None:
            first_free = _clean(ln)
    if kind == "subject_line":
        return VariantContent(
            subject=fields.get("subject") or first_free or "",
            preheader=fields.get("preheader") or None,
        )
    if kind == "hero":
        featured = list(actx.featured)
        names = " and ".join(f.description.lower() for f in featured[:2])
        return VariantContent(
            headline=fields.get("headline") or first_free or "",
            subheadline=fields.get("subheadline") or f"Featuring our {names}.",
            cta=fields.get("cta") or actx.guide.fallback_cta or "Take a look",
            featured_items=featured,
        )
    answer = " ".join(_clean(ln) for ln in lines)
    answer = re.sub(r"^(assistant|answer)\s*:\s*", "", answer, flags=re.I)
    return VariantContent(answer=_trim_sentence(answer))


def _trim_sentence(text: str) -> str:
    """A cut-off answer ends at its last full sentence, if it has one."""
    if not text or text[-1] in ".!?":
        return text
    cut = max(text.rfind(". "), text.rfind("! "), text.rfind("? "))
    return text[: cut + 1] if cut >= 10 else text


def seed_for(key: str, candidate: int, attempt: int) -> int:
    """Distinct, reproducible seeds per request, candidate and attempt."""
    return (int(key[:8], 16) + 7919 * candidate + 104_729 * attempt) % (2**31 - 1)


class CandidateRunner:
    """Produces candidate i: render, call the model, parse; the guard drives re-asks."""

    def __init__(
        self,
        actx: AgentContext,
        llm: LLM,
        library: PromptLibrary,
        style: PromptStyle,
        timer: StageTimer,
    ) -> None:
        self.actx, self.llm, self.library, self.style, self.timer = actx, llm, library, style, timer
        self.plan = plan_for(actx.request.kind, style)
        self.key = actx.request.idempotency_key()
        # built once: a re-ask changes only the repair note, and it renders while no other
        # candidate may be decoding
        self.variables = prompt_variables(actx)
        self.base_prompt = self.render("")
        self.static_text = library.static_text(actx.request.kind, style)

    def render(self, repair_note: str) -> RenderedPrompt:
        variables = {**self.variables, "repair_note": repair_note}
        return self.library.render(self.actx.request.kind, self.style, variables)

    def call(self, prompt: RenderedPrompt, seed: int) -> str:
        params = GenerationParams(
            max_tokens=self.plan.max_tokens,
            temperature=self.plan.temperature,
            stop=self.plan.stop,
            seed=seed,
        )
        self.timer.model_started.set()
        started = time.perf_counter()
        if prompt.style == "completion":
            result = self.llm.complete(prompt.text, params)
        else:
            result = self.llm.chat(prompt.messages, params)
        self.timer.record_llm(result, started, time.perf_counter())
        return result.text

    def produce(self, candidate: int, attempt: int, violations: list[Violation]) -> VariantContent:
        grounding = self.actx.grounding
        if grounding is not None and grounding.scripted is not None:
            # composed from the passage, or the handoff/decline line: no model call; if even
            # that broke a rule, the handoff line is what is left to say
            line = grounding.scripted if not violations else self.actx.guide.handoff_line
            return VariantContent(answer=line)
        prompt = (
            self.base_prompt
            if not violations
            else self.render(format_violations_for_prompt(violations))
        )
        text = self.call(prompt, seed_for(self.key, candidate, attempt))
        content = parse_output(self.actx.request.kind, text, self.actx)
        if not content.main_text():  # an empty line is not worth a guard pass: one more draw
            text = self.call(prompt, seed_for(self.key, candidate, attempt + 50))
            content = parse_output(self.actx.request.kind, text, self.actx)
        return content


class CandidateResult(BaseModel):
    model_config = ConfigDict(arbitrary_types_allowed=True)

    variant: Variant
    attempts: list[Attempt]
    first_try_passed: bool
    repaired: bool
    reasked: bool
    rules_checked: list[str] = []


def guard_kwargs(actx: AgentContext) -> dict:
    """What the guard needs to know about this customer: which facts they shared."""
    shared = [m.text for m in actx.bundle.memories if m.knowingly_shared]
    out: dict = {"shared_facts": shared}
    if actx.request.kind == "chat_answer":
        # the semantic harm check costs an embedding per check: spent where no reviewer
        # stands between the text and the customer (reviewed kinds get the lexicon)
        out["embed"] = actx.embed
        out["untrusted_input"] = actx.last_message
        if actx.grounding is not None:
            out["passages"] = actx.grounding.passage_texts
    return out


def _varied_fallback(
    content: VariantContent, violations: list[Violation], actx: AgentContext, candidate: int
) -> tuple[VariantContent, list[Violation]]:
    """Candidate i falls back to the guide's i-th approved line, so n fallbacks are not n copies."""
    channel = actx.request.resolved_channel
    send_date = actx.request.send_date.date() if actx.request.send_date else None
    other = fallback_content(actx.guide, actx.request.kind, index=candidate, channel=channel,
                             send_date=send_date)  # fmt: skip
    if other is None:
        return content, violations
    report = check(other, actx.guide, kind=actx.request.kind, channel=channel, send_date=send_date)
    return other, list(report.violations)


def _complete_hero(
    content: VariantContent, actx: AgentContext, violations: list[Violation]
) -> tuple[VariantContent, list[Violation]]:
    """Whatever the guard or its fallback did to the words, the featured items stay the
    catalog's own, and a fallback without subheadline or CTA gets checked defaults."""
    defaults = parse_output("hero", "", actx)
    missing = not content.subheadline or not content.cta
    content = content.model_copy(
        update={
            "featured_items": list(actx.featured),
            "subheadline": content.subheadline or defaults.subheadline,
            "cta": content.cta or defaults.cta,
        }
    )
    if missing:
        content, _ = autofix(content, actx.guide, kind="hero")
        report = check(content, actx.guide, kind="hero", channel=actx.request.resolved_channel,
                       canary=actx.canary, **guard_kwargs(actx))  # fmt: skip
        violations = list(report.violations)
    return content, violations


def run_candidate(runner: CandidateRunner, candidate: int) -> CandidateResult:
    actx = runner.actx
    result = generate_guarded(
        lambda attempt, violations: runner.produce(candidate, attempt, violations),
        actx.guide,
        kind=actx.request.kind,
        channel=actx.request.resolved_channel,
        max_attempts=3,
        send_date=actx.request.send_date.date() if actx.request.send_date else None,
        canary=actx.canary,
        fallback=True,
        prompt_static=runner.static_text,
        **guard_kwargs(actx),
    )
    attempts = list(result.attempts)
    first = attempts[0] if attempts else None
    content = result.content
    violations = list(result.report.violations) if result.report else []
    if result.is_fallback and candidate:
        content, violations = _varied_fallback(content, violations, actx, candidate)
    if actx.request.kind == "hero":
        content, violations = _complete_hero(content, actx, violations)
    fixes = [f for a in attempts for f in a.fixes_applied]
    variant = Variant(
        index=candidate,
        content=content,
        violations=violations,
        fixes_applied=fixes,
        attempts=len(attempts) or 1,
        is_fallback=result.is_fallback,
    )
    caught = [v for a in attempts for v in a.violations]
    return CandidateResult(
        variant=variant,
        attempts=attempts,
        first_try_passed=bool(first and first.passed and not first.fixes_applied),
        repaired=bool(fixes or caught) and not result.is_fallback,
        reasked=len(attempts) > 1,
        rules_checked=list(result.report.rules_checked) if result.report else [],
    )


@cache
def _candidate_pool(workers: int) -> ThreadPoolExecutor:
    """One pool per size for the process: starting threads per request cost ~0.2 ms, and
    concurrent requests sharing it cannot oversubscribe the model's decoding slots."""
    return ThreadPoolExecutor(max_workers=workers, thread_name_prefix="genpersona-candidate")


def generate_candidates(
    actx: AgentContext,
    llm: LLM,
    library: PromptLibrary,
    style: PromptStyle,
    timer: StageTimer,
    workers: int = 1,
) -> tuple[list[CandidateResult], RenderedPrompt]:
    """n guarded candidates; concurrent when the backend decodes requests in parallel."""
    runner = CandidateRunner(actx, llm, library, style, timer)
    n = actx.request.n
    if workers <= 1 or n == 1:
        results = [run_candidate(runner, i) for i in range(n)]
    else:
        pool = _candidate_pool(min(workers, n))
        results = list(pool.map(lambda i: run_candidate(runner, i), range(n)))
    return results, runner.base_prompt


def candidate_workers(llm: LLM, settings: Settings) -> int:
    """Scripted fakes answer in call order, so they run sequentially; real backends
    decode concurrent requests together (llama.cpp slots, remote servers)."""
    if llm.sequential:
        return 1
    return max(1, settings.local_parallel)


def passing_variants(results: list[CandidateResult], kind: str, brand: str) -> list[Variant]:
    """The guard's promise to the queue: a blocked candidate never reaches it."""
    passed = [
        r.variant for r in results if not any(v.severity == "block" for v in r.variant.violations)
    ]
    if not passed:
        raise RetriesExhausted(
            f"no {kind} candidate for {brand} passed the guardrails, "
            "not even the brand's fallback copy",
            fix="check the brand guide's fallbacks against its own rules (`genpersona guard ...`)",
            attempts=[a.model_dump() for r in results for a in r.attempts],
        )
    return passed

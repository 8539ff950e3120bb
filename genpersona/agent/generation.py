"""Stages 3-4: n candidates from the model, each through the guardrails with bounded repair.

A candidate is the guard's repair loop (``guarded_steps``) around ``produce``: on a
re-ask it re-renders the prompt with the violations listed (the repair note is
part of the personal tail, so the cached static prefix is untouched) and uses a
fresh seed. Featured items are never taken from the model's words: the context
stage chose them from the catalog and they are attached here unchanged.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Generator
from concurrent.futures import ThreadPoolExecutor
from functools import cache
from typing import TypeVar

import numpy as np
from pydantic import BaseModel, ConfigDict, Field

from genpersona.agent.context_stage import AgentContext
from genpersona.agent.prompting import PromptLibrary, RenderedPrompt
from genpersona.agent.recipes import load_recipes, recipe_id
from genpersona.agent.trace import StageTimer
from genpersona.agent.variables import candidate_variables, prompt_variables
from genpersona.embeddings.base import Embedder
from genpersona.errors import RetriesExhausted
from genpersona.guard.engine import autofix, check, semantic_violations
from genpersona.guard.models import Attempt
from genpersona.guard.repair import (
    GuardedResult,
    fallback_content,
    format_violations_for_prompt,
    guarded_steps,
)
from genpersona.guard.semantic import SemanticGuard
from genpersona.llm.base import LLM, MAX_STOP, GenerationParams, PromptStyle
from genpersona.settings import Settings
from genpersona.types.content import Variant, VariantContent
from genpersona.types.violations import Violation

_FIELD_RE = re.compile(r"^\s*(subject|preheader|headline|subheadline|cta|answer)\s*:\s*(.*)$", re.I)
_TAG_RE = re.compile(r"</?\s*(message|notes)\s*>", re.I)
_QUOTES = "\"'“”‘’`*"


class GenerationPlan(BaseModel):
    """Decoding settings per kind and prompt style (small model: short, stopped early).

    At most 4 stop sequences: OpenAI-compatible servers reject more. ``cache_prompt``:
    the copy templates put a static prefix first (header, sent lines, shared records), so
    llama.cpp evaluates it once and serves it from its prompt cache for every other
    candidate and customer of the brand."""

    max_tokens: int
    stop: list[str] = Field(max_length=MAX_STOP)
    temperature: float = 0.8
    cache_prompt: bool | None = None


def plan_for(kind: str, style: PromptStyle) -> GenerationPlan:
    if style == "chat":
        return GenerationPlan(
            max_tokens={"subject_line": 60, "hero": 110, "chat_answer": 200}[kind], stop=[]
        )
    # at most MAX_STOP (4) stop sequences: what the OpenAI API accepts, so the plan goes to
    # any OpenAI-compatible server unchanged. A record ends at a blank line in every
    # template; the labels catch a model that runs on with one newline into the next record
    record_end = ["\n\n", "\nBackground:", "\nAngle:"]
    if kind == "subject_line":  # subject + preheader: two short sentences
        return GenerationPlan(max_tokens=40, stop=[*record_end, "\nSubject:"], cache_prompt=True)
    if kind == "hero":  # headline + subheadline; the CTA is the guide's, never the model's
        return GenerationPlan(max_tokens=56, stop=[*record_end, "\nCTA:"], cache_prompt=True)
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
        subject = fields.get("subject") or first_free or ""
        return VariantContent(
            subject=subject, preheader=complementing(subject, fields.get("preheader"))
        )
    if kind == "hero":
        featured = list(actx.featured)
        names = " and ".join(f.description.lower() for f in featured[:2])
        headline = fields.get("headline") or first_free or ""
        return VariantContent(
            headline=headline,
            subheadline=complementing(headline, fields.get("subheadline"))
            or f"Featuring our {names}.",
            # the button is the guide's: a base model's CTA is its least reliable line
            cta=actx.guide.fallback_cta or fields.get("cta") or "Take a look",
            featured_items=featured,
        )
    answer = " ".join(_clean(ln) for ln in lines)
    answer = re.sub(r"^(assistant|answer)\s*:\s*", "", answer, flags=re.I)
    return VariantContent(answer=_trim_sentence(answer))


_WORDS_RE = re.compile(r"[a-z']+")


def complementing(main: str, second: str | None) -> str | None:
    """The preheader (or subheadline) only when it adds to the main line: one that repeats
    most of its words is dropped, as the inbox would show the same thing twice."""
    if not second:
        return None
    a = set(_WORDS_RE.findall(main.lower()))
    b = _WORDS_RE.findall(second.lower())
    if not b or (a and sum(w in a for w in b) / len(b) > 0.6):
        return None
    return second


def _trim_sentence(text: str) -> str:
    """A cut-off answer ends at its last full sentence, if it has one."""
    if not text or text[-1] in ".!?":
        return text
    cut = max(text.rfind(". "), text.rfind("! "), text.rfind("? "))
    return text[: cut + 1] if cut >= 10 else text


#: the seed offset of the call that asks a subject line for its missing preheader
PREHEADER_ATTEMPT = 100


def wants_preheader(content: VariantContent, prompt: RenderedPrompt) -> bool:
    """A completion-prompt subject line that came without a preheader (the demo's base
    model ends almost half its records after the subject, or writes one that repeats it):
    the customer's inbox would show the email's first body text in its place."""
    return prompt.style == "completion" and bool(content.subject) and not content.preheader


def preheader_prompt(prompt: RenderedPrompt, text: str) -> RenderedPrompt:
    """The same record, continued after the model's own subject line with the open
    preheader field."""
    subject = text.split("\n", 1)[0].rstrip()
    sep = "" if subject[:1].isspace() or prompt.text[-1:].isspace() else " "
    return prompt.model_copy(update={"text": f"{prompt.text}{sep}{subject}\nPreheader:"})


def _first_line(text: str) -> str | None:
    line = _clean(text.strip().split("\n", 1)[0]) if text.strip() else ""
    return line or None


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
        settings: Settings | None = None,
    ) -> None:
        self.actx, self.llm, self.library, self.style, self.timer = actx, llm, library, style, timer
        self.settings = settings
        self.plan = plan_for(actx.request.kind, style)
        self.key = actx.request.idempotency_key()
        # built once: a re-ask changes only the repair note, and it renders while no other
        # candidate may be decoding
        self.variables = prompt_variables(actx)
        self.book = load_recipes(library.dir)
        self.n = written_count(actx.request.kind, actx.request.n, settings, llm)
        start = int(self.key[8:12], 16)
        self.recipes = self.book.for_candidates(
            self.n, actx.personalized, start=start, only=actx.request.recipes
        )
        _, _, self.version = library.get(actx.request.kind, style)
        policy = "guide+approved" if actx.exemplars else "guide"
        self.recipe_ids: list[str | None] = [
            recipe_id(r, self.version, policy) if actx.request.kind != "chat_answer" else None
            for r in self.recipes
        ]
        self.prompts = [self.render(i, "") for i in range(self.n)]
        #: mean token log-probability per seed (one seed per candidate and attempt)
        self.last_logprob: dict[int, float | None] = {}
        self.fluency: dict[int, float | None] = {}
        self.base_prompt = self.prompts[0]
        self.static_text = library.static_text(actx.request.kind, style)
        self.asks_preheader = settings is not None and settings.copy_ask_preheader

    def render(self, candidate: int, repair_note: str) -> RenderedPrompt:
        extra = candidate_variables(self.actx, self.book, self.recipes[candidate], candidate)
        variables = {**self.variables, **extra, "repair_note": repair_note}
        return self.library.render(self.actx.request.kind, self.style, variables)

    def call(self, prompt: RenderedPrompt, seed: int) -> str:
        params = GenerationParams(
            max_tokens=self.plan.max_tokens,
            temperature=self.plan.temperature,
            stop=self.plan.stop,
            seed=seed,
            logprobs=self.llm.returns_logprobs and prompt.style == "completion",
            cache_prompt=self.plan.cache_prompt,
        )
        self.timer.model_started.set()
        started = time.perf_counter()
        if prompt.style == "completion":
            result = self.llm.complete(prompt.text, params)
        else:
            result = self.llm.chat(prompt.messages, params)
        self.timer.record_llm(result, started, time.perf_counter())
        self.last_logprob[seed] = result.mean_logprob
        return result.text

    def produce(self, candidate: int, attempt: int, violations: list[Violation]) -> VariantContent:
        return drive(self.produce_steps(candidate, attempt, violations), self.call)

    def produce_steps(
        self, candidate: int, attempt: int, violations: list[Violation]
    ) -> Generator[ModelCall, str, VariantContent]:
        """``produce`` with its model calls yielded as ``(prompt, seed)`` (sent the text),
        so a caller can send many candidates' calls to the model at once."""
        grounding = self.actx.grounding
        if grounding is not None and grounding.scripted is not None:
            # composed from the passage, or the handoff/decline line: no model call; if even
            # that broke a rule, the handoff line is what is left to say
            line = grounding.scripted if not violations else self.actx.guide.handoff_line
            return VariantContent(answer=line)
        prompt = (
            self.prompts[candidate]
            if not violations
            else self.render(candidate, format_violations_for_prompt(violations))
        )
        seed = seed_for(self.key, candidate, attempt)
        text = yield prompt, seed
        content = parse_output(self.actx.request.kind, text, self.actx)
        if not content.main_text():  # an empty line is not worth a guard pass: one more draw
            seed = seed_for(self.key, candidate, attempt + 50)
            text = yield prompt, seed
            content = parse_output(self.actx.request.kind, text, self.actx)
        self.fluency[candidate] = self.last_logprob.get(seed)
        if self.asks_preheader and wants_preheader(content, prompt):
            # the record goes on where the model ended it, its own subject, then the field
            # it skipped (the cached prompt prefix is reused whole)
            asked = preheader_prompt(prompt, text)
            line = yield asked, seed_for(self.key, candidate, attempt + PREHEADER_ATTEMPT)
            preheader = complementing(content.subject or "", _first_line(line))
            content = content.model_copy(update={"preheader": preheader})
        return content.model_copy(update={"recipe_id": self.recipe_ids[candidate]})


#: one model call a candidate asks for: the prompt and the seed
ModelCall = tuple[RenderedPrompt, int]
T = TypeVar("T")


def drive(steps: Generator[ModelCall, str, T], call: Callable[[RenderedPrompt, int], str]) -> T:
    """Run a generator of model calls one call at a time (the one-by-one path)."""
    try:
        prompt, seed = next(steps)
        while True:
            prompt, seed = steps.send(call(prompt, seed))
    except StopIteration as done:
        result: T = done.value
        return result


class CandidateResult(BaseModel):
    model_config = ConfigDict(arbitrary_types_allowed=True)

    variant: Variant
    attempts: list[Attempt]
    first_try_passed: bool
    repaired: bool
    reasked: bool
    rules_checked: list[str] = []
    #: not re-asked after failing the guard: enough other candidates had passed
    given_up: bool = False


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


def semantic_gate(
    variants: list[Variant], vecs: np.ndarray, actx: AgentContext, embedder: Embedder
) -> tuple[list[Variant], np.ndarray]:
    """The guard's meaning check (euphemisms of sensitive topics) on the vectors the score
    stage embeds anyway: no embedder call. Only a calibrated topic model may block. Blocked
    candidates are dropped unless none would be left; then they stay with the violation
    (ranked last by the blocking penalty, and visible to review)."""
    semantic = SemanticGuard(embedder)
    if not variants or not semantic.calibrated:
        return variants, vecs
    shared = guard_kwargs(actx)["shared_facts"]
    checked = []
    for v, vec in zip(variants, vecs, strict=True):
        found = semantic_violations(
            v.content, actx.guide, semantic, kind=actx.request.kind, embedding=vec,
            shared_facts=shared, facts_by_meaning=False,
        )  # fmt: skip
        checked.append(v.model_copy(update={"violations": [*v.violations, *found]}))
    clean = [
        i for i, v in enumerate(checked) if not any(x.severity == "block" for x in v.violations)
    ]
    if not clean:
        return checked, vecs
    return [checked[i] for i in clean], vecs[clean]


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


#: a candidate's steps: model calls (sent the text), or ``None`` when the guard sent it
#: back and it asks whether to be re-asked (sent True to go on, False to stop there)
CandidateSteps = Generator[ModelCall | None, str | bool, CandidateResult]


def candidate_steps(runner: CandidateRunner, candidate: int) -> CandidateSteps:
    """One candidate through the guard with bounded repair, its model calls yielded
    (``run_rounds`` drives a draft's candidates round by round). Before each re-ask it
    yields ``None``; sent False, it stops with the attempt that failed (its variant keeps
    the blocking violations, so ``passing_variants`` leaves it out)."""
    actx = runner.actx
    steps = guarded_steps(
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
    number, violations = next(steps)
    while True:
        content: VariantContent | None = None
        if number == 1 or (yield None):
            content = yield from runner.produce_steps(candidate, number, violations)
        try:
            number, violations = steps.send(content)
        except StopIteration as done:
            result: GuardedResult = done.value
            break
    attempts = list(result.attempts)
    first = attempts[0] if attempts else None
    content = result.content
    violations = list(result.report.violations) if result.report else []
    if result.is_fallback and candidate:
        content, violations = _varied_fallback(content, violations, actx, candidate)
    if actx.request.kind == "hero":
        content, violations = _complete_hero(content, actx, violations)
    if content.recipe_id is None:  # the guide's fallback line still belongs to its recipe
        content = content.model_copy(update={"recipe_id": runner.recipe_ids[candidate]})
    fixes = [f for a in attempts for f in a.fixes_applied]
    variant = Variant(
        index=candidate,
        content=content,
        violations=violations,
        fixes_applied=fixes,
        attempts=len(attempts) or 1,
        is_fallback=result.is_fallback,
        lm_logprob=None if result.is_fallback else runner.fluency.get(candidate),
    )
    caught = [v for a in attempts for v in a.violations]
    return CandidateResult(
        variant=variant,
        attempts=attempts,
        first_try_passed=bool(first and first.passed and not first.fixes_applied),
        repaired=bool(fixes or caught) and not result.is_fallback and not result.given_up,
        reasked=len(attempts) > 1,
        rules_checked=list(result.report.rules_checked) if result.report else [],
        given_up=result.given_up,
    )


def passed_model_line(result: CandidateResult) -> bool:
    """A candidate the model wrote that the guard let through (a fallback line does not
    count: it is the guide's, not a choice for this customer)."""
    v = result.variant
    return not v.is_fallback and not any(x.severity == "block" for x in v.violations)


def reask_limit(runner: CandidateRunner) -> int:
    """How many passing candidates make re-asks unnecessary: the variants shown
    (``request.n``), or never (every failing candidate is re-asked) with
    ``GENPERSONA_COPY_REASK_ALL``."""
    if runner.settings is not None and runner.settings.copy_reask_all:
        return runner.n + 1
    return runner.actx.request.n


def run_rounds(
    runner: CandidateRunner,
    call_many: Callable[[list[ModelCall]], list[str]],
    enough: int,
) -> list[CandidateResult]:
    """Every candidate of a draft through the guard, round by round: all first attempts
    in one round, then the re-asks the guard asked for in the next, and so on. Between
    rounds, once ``enough`` candidates have passed, the ones the guard sent back are not
    re-asked (a re-ask is one more sequential round trip to the model, for a draft that
    already has the variants it shows). ``call_many`` answers one round's calls in order;
    both paths (``generate_candidates`` and ``agent.batch``) use this, so the same seeds
    give the same candidates."""
    steps = [candidate_steps(runner, i) for i in range(runner.n)]
    done: dict[int, CandidateResult] = {}
    waiting: dict[int, ModelCall] = {}
    asking: list[int] = []

    def advance(i: int, value: str | bool | None) -> None:
        try:
            step = next(steps[i]) if value is None else steps[i].send(value)
        except StopIteration as stop:
            done[i] = stop.value
            return
        if step is None:
            asking.append(i)
        else:
            waiting[i] = step

    for i in range(runner.n):
        advance(i, None)
    while waiting or asking:
        if asking:
            go = sum(passed_model_line(r) for r in done.values()) < enough
            for i in sorted(asking):
                asking.remove(i)
                advance(i, go)
            continue
        order = list(waiting)
        texts = call_many([waiting.pop(i) for i in order])
        for i, text in zip(order, texts, strict=True):
            advance(i, text)
    return [done[i] for i in range(runner.n)]


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
    settings: Settings | None = None,
) -> tuple[list[CandidateResult], RenderedPrompt]:
    """n guarded candidates, round by round (``run_rounds``); a round's calls run
    concurrently when the backend decodes requests in parallel."""
    runner = CandidateRunner(actx, llm, library, style, timer, settings)
    n = runner.n

    def call_many(calls: list[ModelCall]) -> list[str]:
        if workers <= 1 or len(calls) == 1:
            return [runner.call(p, seed) for p, seed in calls]
        pool = _candidate_pool(min(workers, n))
        return list(pool.map(lambda c: runner.call(*c), calls))

    results = run_rounds(runner, call_many, reask_limit(runner))
    return results, runner.base_prompt


def written_count(kind: str, shown: int, settings: Settings | None, llm: LLM | None = None) -> int:
    """More candidates are written than shown (the ranking picks the best ``shown``), up to
    the backend's ``max_copy_candidates``; chat answers are written as asked: one good
    answer, not a choice."""
    if kind == "chat_answer" or settings is None:
        return shown
    wanted = settings.copy_candidates
    if llm is not None and llm.max_copy_candidates is not None:
        wanted = min(wanted, llm.max_copy_candidates)
    return max(shown, wanted)


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

"""Repair: fix what is safe, re-ask the model about the rest, fall back to approved lines.

The loop is bounded: ``max_attempts`` model calls at most. Each attempt is
auto-fixed, checked and recorded, so when nothing passes the error (or the
fallback result) carries every attempt and exactly what each one broke.
"""

from __future__ import annotations

from collections.abc import Callable, Generator
from datetime import date
from typing import Any

from pydantic import BaseModel, Field

from genpersona.brands.guide import BrandGuide
from genpersona.errors import NoFallbackLine, RetriesExhausted
from genpersona.guard.engine import (
    MAIN_FIELD,
    apply_disclaimers,
    as_content,
    autofix,
    autofix_would_change,
    check,
)
from genpersona.guard.models import Attempt, GuardReport
from genpersona.types.content import ContentKind, VariantContent
from genpersona.types.violations import Violation

Producer = Callable[[int, list[Violation]], VariantContent | str]


class GuardedResult(BaseModel):
    content: VariantContent
    attempts: list[Attempt] = Field(default_factory=list)
    is_fallback: bool = False
    report: GuardReport
    fixes_applied: list[str] = Field(default_factory=list)
    #: the caller stopped the loop before a re-ask (``guarded_steps`` was sent ``None``):
    #: ``content`` and ``report`` are the last attempt's, which did not pass
    given_up: bool = False

    @property
    def reasked(self) -> int:
        """How many extra model calls the re-ask loop made."""
        return max(0, len(self.attempts) - 1)


def format_violations_for_prompt(violations: list[Violation]) -> str:
    """Plain sentences for the re-ask prompt: what to change, in words a customer could read.

    No rule ids, no "Fix:" labels and no brackets: a small model parrots its prompt, and
    whatever it parrots from here must not look like internals (the ``internal.*`` rules
    would block it anyway). The offending words are quoted so the model can avoid them."""
    lines = []
    for v in violations:
        where = f' ("{v.span.text}")' if v.span and v.span.text else ""
        fix = f" Instead: {v.suggestion}." if v.suggestion else ""
        lines.append(f"- The last try {v.message}{where}.{fix}")
    return "\n".join(dict.fromkeys(lines))


def fallback_content(
    guide: BrandGuide,
    kind: ContentKind,
    *,
    index: int = 0,
    channel: str | None = None,
    send_date: date | None = None,
    required: bool = False,
) -> VariantContent | None:
    """The first approved fallback line (from ``index`` on) that passes the guard, with the
    channel's disclaimers appended. When none passes: None, or NoFallbackLine if ``required``."""
    lines = guide.fallbacks.get(kind, [])
    for i in range(len(lines)):
        line = lines[(index + i) % len(lines)]
        vc = VariantContent(**{MAIN_FIELD[kind]: line})
        if kind == "hero" and guide.fallback_cta:
            vc = vc.model_copy(update={"cta": guide.fallback_cta})
        if channel:
            vc = apply_disclaimers(vc, guide, channel, kind=kind)
        if check(vc, guide, kind=kind, channel=channel, send_date=send_date).passed:
            return vc
    if not required:
        return None
    raise NoFallbackLine(
        f"brand {guide.id!r} has no approved {kind} fallback line that passes its own rules"
        + (f" ({len(lines)} tried)" if lines else ""),
        fix=f"add safe lines under 'fallbacks: {kind}:' in the guide and run `genpersona brand check`",
        brand=guide.id,
        kind=kind,
    )


def generate_guarded(produce: Producer, guide: BrandGuide, **options: Any) -> GuardedResult:
    """Ask ``produce(attempt, previous_violations)`` until a candidate passes;
    ``options`` are ``guarded_steps``' (kind, channel, max_attempts, ...).

    Raises RetriesExhausted (carrying every attempt) when nothing passes and no
    fallback is allowed or available.
    """
    steps = guarded_steps(guide, **options)
    number, previous = next(steps)
    while True:
        try:
            number, previous = steps.send(produce(number, previous))
        except StopIteration as done:
            result: GuardedResult = done.value
            return result


GuardSteps = Generator[tuple[int, list[Violation]], VariantContent | str | None, GuardedResult]


def guarded_steps(
    guide: BrandGuide,
    *,
    kind: ContentKind,
    channel: str | None = None,
    max_attempts: int = 3,
    send_date: date | None = None,
    canary: str | None = None,
    fallback: bool = True,
    **check_kwargs: Any,
) -> GuardSteps:
    """``generate_guarded`` with the model turned inside out: yields ``(attempt,
    previous_violations)`` and is sent the produced content; returns the result.

    Why: a campaign drives many candidates' loops at once and sends each round's
    re-asks to the model as one request, instead of one candidate after the other.

    Sent ``None`` instead of a re-ask's content, the loop stops there: no fallback, the
    result carries the last attempt (which did not pass) with ``given_up`` set. A draft
    that already has enough passing candidates does this rather than wait on one more
    round trip to the model for a candidate nobody needs.
    """
    if max_attempts < 1:
        raise ValueError("max_attempts must be at least 1")
    attempts: list[Attempt] = []
    previous: list[Violation] = []
    failed: tuple[VariantContent, GuardReport] | None = None

    def guard(vc: VariantContent) -> GuardReport:
        return check(vc, guide, kind=kind, channel=channel, send_date=send_date, canary=canary,
                     **check_kwargs)  # fmt: skip

    for number in range(1, max_attempts + 1):
        sent = yield number, previous
        if sent is None:
            if failed is None:
                raise ValueError("guarded_steps was sent None before any attempt")
            return GuardedResult(content=failed[0], attempts=attempts, report=failed[1],
                                 given_up=True)  # fmt: skip
        raw = as_content(sent, kind)
        report = guard(raw)
        fixed, fixes = raw, list[str]()
        # clean copy (the usual case) skips autofix and a second check on the request path
        if autofix_would_change(raw, report, kind):
            fixed, fixes = autofix(raw, guide, kind=kind, channel=channel, send_date=send_date)
            report = guard(fixed)
        attempts.append(
            Attempt(
                number=number,
                raw_text=raw.all_text(),
                repaired_text=fixed.all_text(),
                fixes_applied=fixes,
                violations=report.violations,
            )
        )
        if report.passed:
            return GuardedResult(
                content=fixed, attempts=attempts, report=report, fixes_applied=fixes
            )
        previous = report.blocking
        failed = (fixed, report)
    if fallback:
        fb = fallback_content(guide, kind, channel=channel, send_date=send_date)
        if fb is not None:  # else RetriesExhausted below carries the attempts
            report = check(fb, guide, kind=kind, channel=channel, send_date=send_date)
            return GuardedResult(content=fb, attempts=attempts, is_fallback=True, report=report)
    last = attempts[-1].violations
    raise RetriesExhausted(
        f"no {kind} for brand {guide.id!r} passed the guardrails in {len(attempts)} attempt(s); "
        f"last attempt broke: {', '.join(sorted({v.rule_id for v in last if v.severity == 'block'}))}",
        fix=(
            "loosen the brief, check the brand guide's rules, or add approved fallback lines "
            f"under 'fallbacks: {kind}:' in the guide"
        ),
        brand=guide.id,
        kind=kind,
        attempts=[a.model_dump(mode="json") for a in attempts],
    )

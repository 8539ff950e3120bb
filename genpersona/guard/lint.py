"""Lint a guide beyond its schema: its own examples must behave as the guide says.

Every "do" example and fallback line must pass the guard and every "dont"
example must be caught, so a marketer who edits a rule sees at once when the
rule stopped matching the examples they wrote.
"""

from __future__ import annotations

from datetime import date

from pydantic import BaseModel, Field

from genpersona.brands.guide import BrandGuide
from genpersona.guard.engine import apply_disclaimers, check


class LintFinding(BaseModel):
    level: str  # "error" or "warning"
    where: str
    message: str
    rules: list[str] = Field(default_factory=list)


class LintReport(BaseModel):
    guide: str
    file: str
    version: str
    rule_count: int
    findings: list[LintFinding] = Field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not any(f.level == "error" for f in self.findings)


def lint_guide(guide: BrandGuide, file: str, *, send_date: date | None = None) -> LintReport:
    report = LintReport(
        guide=guide.id, file=file, version=guide.version, rule_count=guide.rule_count
    )
    for kind, ex in guide.examples.items():
        for i, line in enumerate(ex.do):
            vc = apply_disclaimers(line, guide, kind=kind)
            r = check(vc, guide, kind=kind, send_date=send_date)
            bad = [v.rule_id for v in r.violations]
            if bad:
                report.findings.append(
                    LintFinding(
                        level="error" if not r.passed else "warning",
                        where=f"examples.{kind}.do[{i}]",
                        message=f"this 'do' example breaks the guide's own rules: {line!r}",
                        rules=bad,
                    )
                )
        for i, line in enumerate(ex.dont):
            r = check(line, guide, kind=kind, send_date=send_date)
            if not r.violations:
                report.findings.append(
                    LintFinding(
                        level="warning",
                        where=f"examples.{kind}.dont[{i}]",
                        message=f"no rule catches this 'dont' example: {line!r}; add a rule for it",
                    )
                )
    for kind, lines in guide.fallbacks.items():
        for i, line in enumerate(lines):
            vc = apply_disclaimers(line, guide, kind=kind)
            r = check(vc, guide, kind=kind, send_date=send_date)
            if not r.passed:
                report.findings.append(
                    LintFinding(
                        level="error",
                        where=f"fallbacks.{kind}[{i}]",
                        message=f"fallback line does not pass the guard: {line!r}",
                        rules=[v.rule_id for v in r.blocking],
                    )
                )
    for i, entry in enumerate(guide.knowledge):
        vc = apply_disclaimers(entry.answer, guide, "chat", kind="chat_answer")
        r = check(vc, guide, kind="chat_answer", channel="chat", send_date=send_date)
        if not r.passed:
            report.findings.append(
                LintFinding(
                    level="warning",
                    where=f"knowledge[{i}]",
                    message=f"this answer would be blocked if the bot repeated it: {entry.question!r}",
                    rules=[v.rule_id for v in r.blocking],
                )
            )
    for kind in ("subject_line", "hero", "chat_answer"):
        if not guide.fallbacks.get(kind):
            report.findings.append(
                LintFinding(
                    level="warning",
                    where=f"fallbacks.{kind}",
                    message="no fallback lines: when the model fails, generation will raise instead",
                )
            )
        if kind not in guide.limits:
            report.findings.append(
                LintFinding(level="warning", where=f"limits.{kind}", message="no length limit set")
            )
    return report

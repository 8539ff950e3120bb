"""Typed results of the guardrails: violations, reports and repair attempts."""

from __future__ import annotations

from pydantic import BaseModel, Field

from genpersona.types.violations import Violation


class GuardReport(BaseModel):
    text: str
    violations: list[Violation] = Field(default_factory=list)
    rules_checked: list[str] = Field(default_factory=list)
    elapsed_ms: float = 0.0

    @property
    def blocking(self) -> list[Violation]:
        return [v for v in self.violations if v.severity == "block"]

    @property
    def passed(self) -> bool:
        return not self.blocking


class Attempt(BaseModel):
    """One try at a candidate: raw model text, what was fixed, what still broke."""

    number: int
    raw_text: str
    repaired_text: str
    fixes_applied: list[str] = Field(default_factory=list)
    violations: list[Violation] = Field(default_factory=list)

    @property
    def passed(self) -> bool:
        return not any(v.severity == "block" for v in self.violations)

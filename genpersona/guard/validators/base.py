"""What every validator receives: one text field, its tokens, and the check's options."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date

import numpy as np

from genpersona.brands.guide import BrandGuide, Severity
from genpersona.guard.compiled import CompiledGuide
from genpersona.guard.text import Token
from genpersona.types.content import ContentKind
from genpersona.types.violations import Span, Violation


@dataclass
class CheckOptions:
    kind: ContentKind
    channel: str
    send_date: date
    canary: str | None = None
    other_customer_markers: list[str] = field(default_factory=list)
    shared_facts: list[str] = field(default_factory=list)
    catalog_prices: list[float] = field(default_factory=list)
    #: the customer's own words (chat): never to be obeyed or echoed
    untrusted_input: str | None = None
    #: the retrieved passages a chat answer may say (None: no support check)
    passages: list[str] | None = None
    #: the prompt template's fixed sentences, which must never reach a customer
    prompt_static: list[str] = field(default_factory=list)
    #: texts -> unit vectors (the shipped MiniLM); None: lexicon checks only
    embed: Callable[[list[str]], np.ndarray] | None = None


@dataclass
class FieldText:
    name: str  # subject, preheader, headline, subheadline, cta, answer
    text: str  # normalized (1:1 with the original, so offsets hold)
    tokens: list[Token]
    protected: list[tuple[int, int]]  # disclaimer text: exempt from content rules
    guide: BrandGuide
    cg: CompiledGuide

    def violation(
        self,
        rule_id: str,
        severity: Severity,
        message: str,
        start: int | None = None,
        end: int | None = None,
        *,
        suggestion: str | None = None,
        replacement: str | None = None,
    ) -> Violation:
        span = Span(start=start, end=end, text=self.text[start:end]) if start is not None else None
        return Violation(
            rule_id=rule_id,
            severity=severity,
            message=message,
            span=span,
            suggestion=suggestion if suggestion is not None else replacement,
            auto_fixable=replacement is not None,
            field=self.name,
            replacement=replacement,
        )

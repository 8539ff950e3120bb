"""Run every validator of a guide over a draft; apply the fixes that are safe without a model.

``check`` is pure and fast (compiled matchers cached on the guide): the
pipeline calls it on every candidate, the console on every edit. Spans in the
report index into ``report.text``, which is ``VariantContent.all_text()``.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from datetime import date
from typing import Any

import numpy as np

from genpersona.brands.guide import BrandGuide
from genpersona.guard.compiled import compiled
from genpersona.guard.models import GuardReport
from genpersona.guard.normalize import View, changed, compat, folded
from genpersona.guard.semantic import SemanticGuard
from genpersona.guard.text import normalize, tokenize
from genpersona.guard.validators import FIELD_VALIDATORS, CheckOptions, FieldText, Validator
from genpersona.guard.validators.claims import claims
from genpersona.guard.validators.creepy import creepy
from genpersona.guard.validators.length import copy_text, limit_for_field
from genpersona.guard.validators.terms import banned, competitors
from genpersona.types.content import ContentKind, VariantContent
from genpersona.types.violations import Span, Violation

FIELDS = ("subject", "preheader", "headline", "subheadline", "cta", "answer")
MAIN_FIELD: dict[str, str] = {
    "subject_line": "subject",
    "hero": "headline",
    "chat_answer": "answer",
}
DEFAULT_CHANNEL: dict[str, str] = {"subject_line": "email", "hero": "web", "chat_answer": "chat"}
# where apply_disclaimers puts missing disclaimer text, by kind
DISCLAIMER_FIELD: dict[str, str] = {
    "subject_line": "preheader",
    "hero": "subheadline",
    "chat_answer": "answer",
}
RULE_FAMILIES = [name for name, _ in FIELD_VALIDATORS] + ["disclaimer"]
SEMANTIC_FAMILY = "sensitive.semantic"
# the word rules that also run on the folded view ("pr3gn4nt", "p.r.e.g.n.a.n.t", "fr€e")
FOLDED_VALIDATORS: list[tuple[str, Validator]] = [
    ("banned_term", banned),
    ("competitor", competitors),
    ("claim", claims),
    ("creepy", creepy),
]


def as_content(content: VariantContent | str, kind: ContentKind) -> VariantContent:
    if isinstance(content, VariantContent):
        return content
    return VariantContent(**{MAIN_FIELD[kind]: content})


def infer_kind(content: VariantContent | str) -> ContentKind:
    if isinstance(content, str) or content.subject:
        return "subject_line"
    return "chat_answer" if content.answer else "hero"


def _norm_for_search(text: str) -> str:
    return " ".join(normalize(text).lower().split())


def has_disclaimer(all_text: str, disclaimer: str) -> bool:
    return _norm_for_search(disclaimer).rstrip(".") in _norm_for_search(all_text)


def _field_text(name: str, text: str, guide: BrandGuide) -> FieldText:
    cg = compiled(guide)
    protected = (
        [(m.start(), m.end()) for m in cg.disclaimer_regex.finditer(text)]
        if cg.disclaimer_regex is not None
        else []
    )
    return FieldText(name, text, tokenize(text), protected, guide, cg)


def _field_texts(vc: VariantContent, guide: BrandGuide) -> list[tuple[FieldText, str, View]]:
    """(field text on the compat view, the raw text, the view) for every non-empty field."""
    out = []
    for name in FIELDS:
        raw = getattr(vc, name)
        if not raw:
            continue
        view = compat(raw)
        out.append((_field_text(name, view.text, guide), raw, view))
    return out


def _to_raw(v: Violation, raw: str, view: View) -> Violation:
    if v.span is None or view.text == raw:
        return v
    s, e = view.span(v.span.start, v.span.end)
    return v.model_copy(update={"span": Span(start=s, end=e, text=raw[s:e])})


def _overlaps(v: Violation, found: list[Violation]) -> bool:
    assert v.span is not None
    return any(
        o.rule_id == v.rule_id
        and o.span is not None
        and o.span.start < v.span.end
        and v.span.start < o.span.end
        for o in found
    )


def _all_field_violations(
    f: FieldText, raw: str, view: View, opts: CheckOptions
) -> list[Violation]:
    """Every rule on the compat view, then the word rules on each folded view; spans index
    into the raw field text. A folded hit counts only where folding changed a character, so
    a folded view never re-reports (or invents) what the plain text already says."""
    found = [_to_raw(v, raw, view) for v in _field_violations(f, opts)]
    for fv in folded(view):
        ff = _field_text(f.name, fv.text, f.guide)
        extra: list[Violation] = []
        for v in _field_violations(ff, opts, FOLDED_VALIDATORS):
            if v.span is None or not changed(fv, view, v.span.start, v.span.end):
                continue
            v = _to_raw(v, raw, fv)
            if not _overlaps(v, found) and not _overlaps(v, extra):
                extra.append(v.model_copy(update={"message": v.message + " (disguised)"}))
        found += extra
    return found


def _field_violations(
    f: FieldText,
    opts: CheckOptions,
    validators: list[tuple[str, Validator]] = FIELD_VALIDATORS,
) -> list[Violation]:
    found: list[Violation] = []
    for family, validator in validators:
        for v in validator(f, opts):
            if (
                f.protected
                and v.span is not None
                and family not in ("leak",)
                and any(s <= v.span.start and v.span.end <= e for s, e in f.protected)
            ):
                continue  # required disclaimer wording is exempt from content rules
            found.append(v)
    return found


def _options(
    vc: VariantContent,
    kind: ContentKind,
    channel: str | None,
    send_date: date | None,
    canary: str | None,
    other_customer_markers: list[str],
    shared_facts: list[str],
    **extra: Any,
) -> CheckOptions:
    return CheckOptions(
        kind=kind,
        channel=channel or DEFAULT_CHANNEL[kind],
        send_date=send_date or date.today(),
        canary=canary,
        other_customer_markers=list(other_customer_markers),
        shared_facts=list(shared_facts),
        catalog_prices=[i.price for i in vc.featured_items if i.price is not None],
        **extra,
    )


def check(
    content: VariantContent | str,
    guide: BrandGuide,
    *,
    kind: ContentKind,
    channel: str | None = None,
    send_date: date | None = None,
    canary: str | None = None,
    other_customer_markers: list[str] = [],  # noqa: B006 - never mutated
    shared_facts: list[str] = [],  # noqa: B006 - never mutated
    semantic: SemanticGuard | None = None,
    embedding: np.ndarray | None = None,
    untrusted_input: str | None = None,
    passages: list[str] | None = None,
    prompt_static: list[str] = [],  # noqa: B006 - never mutated
    embed: Callable[[list[str]], np.ndarray] | None = None,
) -> GuardReport:
    """All violations of ``guide`` in ``content`` (a str is the main text of ``kind``).

    With ``semantic`` the sensitive-topics policy is also checked by meaning; pass the
    draft's ``embedding`` (of ``VariantContent.all_text()``, made by ``semantic.embedder``)
    when the caller has it, else the guard embeds the draft itself. ``untrusted_input`` (the
    customer's message), ``passages`` (what a chat answer may say), ``prompt_static`` (the
    template's fixed text) and ``embed`` (semantic output checks) are optional: without them
    those checks fall back to what the text alone shows."""
    t0 = time.perf_counter()
    vc = as_content(content, kind)
    opts = _options(
        vc, kind, channel, send_date, canary, other_customer_markers, shared_facts,
        untrusted_input=untrusted_input, passages=passages, prompt_static=list(prompt_static),
        embed=embed,
    )  # fmt: skip
    violations: list[Violation] = []
    offset = 0
    for f, raw, view in _field_texts(vc, guide):
        for v in _all_field_violations(f, raw, view, opts):
            if v.span is not None and offset:
                v.span = Span(
                    start=v.span.start + offset, end=v.span.end + offset, text=v.span.text
                )
            violations.append(v)
        offset += len(raw) + 1
    all_text = vc.all_text()
    families = RULE_FAMILIES
    if semantic is not None:
        families = [*RULE_FAMILIES, SEMANTIC_FAMILY]
        violations += _semantic(vc, guide, opts, semantic, embedding)
    for disclaimer in guide.disclaimers.get(opts.channel, []):  # type: ignore[call-overload]
        if not has_disclaimer(all_text, disclaimer):
            violations.append(
                Violation(
                    rule_id="disclaimer.missing",
                    severity="block",
                    message=f"the {opts.channel} channel requires the disclaimer: '{disclaimer}'",
                    suggestion=disclaimer,
                    auto_fixable=True,
                    field=DISCLAIMER_FIELD[kind],
                )
            )
    return GuardReport(
        text=all_text,
        violations=violations,
        rules_checked=families,
        elapsed_ms=(time.perf_counter() - t0) * 1000,
    )


def semantic_violations(
    content: VariantContent | str,
    guide: BrandGuide,
    semantic: SemanticGuard,
    *,
    kind: ContentKind,
    embedding: np.ndarray | None = None,
    shared_facts: list[str] = [],  # noqa: B006 - never mutated
    facts_by_meaning: bool = True,
) -> list[Violation]:
    """Only the semantic creepy-line check, for a caller that already ran ``check`` on the
    words and now has the draft's embedding (the pipeline's scoring stage).
    ``facts_by_meaning=False`` reads the topics of ``shared_facts`` from the word lists only,
    so the check makes no embedder call at all when ``embedding`` is given."""
    vc = as_content(content, kind)
    opts = _options(vc, kind, None, None, None, [], shared_facts)
    return _semantic(vc, guide, opts, semantic, embedding, facts_by_meaning)


def _semantic(
    vc: VariantContent,
    guide: BrandGuide,
    opts: CheckOptions,
    semantic: SemanticGuard,
    embedding: np.ndarray | None,
    facts_by_meaning: bool = True,
) -> list[Violation]:
    cg = compiled(guide)
    allowed: set[str] = set()
    if opts.shared_facts:
        # the customer raised the topic: the word lists and the prototypes both say which
        facts = normalize(" ".join(opts.shared_facts))
        allowed |= {m.payload for m in cg.sensitive.find(facts, tokenize(facts))}
        if facts_by_meaning:
            allowed |= semantic.shared_topics(opts.shared_facts)
    return semantic.violations(
        vc.all_text(),
        list(guide.sensitive.categories),
        embedding=embedding,
        allowed=frozenset(allowed),
        field=MAIN_FIELD[opts.kind],
    )


def apply_disclaimers(
    content: VariantContent | str,
    guide: BrandGuide,
    channel: str | None = None,
    *,
    kind: ContentKind | None = None,
) -> VariantContent:
    """Append every disclaimer the channel requires and the copy lacks (subject -> preheader,
    hero -> subheadline, chat -> answer). Idempotent; length limits ignore this text.
    ``kind`` defaults to what the content holds (answer, headline, else subject)."""
    if kind is None:
        kind = infer_kind(content)
    vc = as_content(content, kind)
    channel = channel or DEFAULT_CHANNEL[kind]
    missing = [
        d
        for d in guide.disclaimers.get(channel, [])  # type: ignore[call-overload]
        if not has_disclaimer(vc.all_text(), d)
    ]
    if not missing:
        return vc
    target = DISCLAIMER_FIELD[kind]
    current = getattr(vc, target) or ""
    joined = " ".join([current.strip(), *missing]).strip()
    return vc.model_copy(update={target: joined})


_CLAUSE_END = re.compile(r"\s+[—–|-]\s+|[:;,]\s+|[.!?]\s+")


def _trim(text: str, max_chars: int | None, max_words: int | None) -> str | None:
    """The longest leading clause that fits, or None when no clean cut exists."""
    best = None
    for m in _CLAUSE_END.finditer(text):
        head = text[: m.start()].rstrip() + (
            m.group().strip() if m.group().strip() in ".!?" else ""
        )
        fits_c = max_chars is None or len(head) <= max_chars
        fits_w = max_words is None or len(head.split()) <= max_words
        if fits_c and fits_w and len(head.split()) >= 3:
            best = head
    return best


def autofix_would_change(
    content: VariantContent | str, report: GuardReport, kind: ContentKind
) -> bool:
    """Whether ``autofix`` could change this content, judged from its full check report.

    Lets the repair loop skip autofix and its second check for copy that is already clean
    (most model output): autofix only acts on violations that carry a replacement, over-long
    fields, missing disclaimers (all reported by ``check`` as auto-fixable or ``length.max_*``)
    and untidy spacing. A test holds this to autofix's own behaviour on the guard eval sets.
    """
    vc = as_content(content, kind)
    for v in report.violations:
        if v.auto_fixable or v.rule_id.startswith("length.max_"):
            return True
    for name in FIELDS:
        raw = getattr(vc, name)
        if raw and (raw != " ".join(raw.split()) or " ." in raw or " ," in raw):
            return True
    return False


def autofix(
    content: VariantContent | str,
    guide: BrandGuide,
    *,
    kind: ContentKind,
    channel: str | None = None,
    send_date: date | None = None,
) -> tuple[VariantContent, list[str]]:
    """Apply fixes that need no judgement: preferred terms, locale spelling, casing, shouting,
    whitespace, trimming at a clause boundary, and (when ``channel`` is given) disclaimers."""
    vc = as_content(content, kind)
    fixes: list[str] = []
    updates: dict[str, str] = {}
    for name in FIELDS:
        raw = getattr(vc, name)
        if raw and raw != " ".join(raw.split()):
            updates[name] = " ".join(raw.split())
            fixes.append(f"{name}: tidied whitespace")
    if updates:
        vc = vc.model_copy(update=updates)
    opts = _options(vc, kind, channel, send_date, None, [], [])
    updates = {}
    for f, raw, view in _field_texts(vc, guide):
        fixable = [
            v
            for v in _all_field_violations(f, raw, view, opts)
            if v.replacement is not None and v.span is not None
        ]
        text = getattr(vc, f.name)
        last_start = len(text) + 1
        for v in sorted(fixable, key=lambda v: v.span.start, reverse=True):  # type: ignore[union-attr]
            s, e = v.span.start, v.span.end  # type: ignore[union-attr]
            if e > last_start:
                continue  # overlaps a fix already applied
            text = text[:s] + v.replacement + text[e:]
            last_start = s
            fixes.append(f"{f.name}: {v.rule_id} '{v.span.text}' -> '{v.replacement}'")  # type: ignore[union-attr]
        text = " ".join(text.split()).replace(" .", ".").replace(" ,", ",")
        limit = limit_for_field(f)
        copy_len = len(copy_text(FieldText(f.name, text, [], [], guide, f.cg)))
        if (
            limit
            and not f.protected
            and (
                (limit.max_chars and copy_len > limit.max_chars)
                or (limit.max_words and len(text.split()) > limit.max_words)
            )
        ):
            cut = _trim(text, limit.max_chars, limit.max_words)
            if cut:
                fixes.append(f"{f.name}: trimmed to '{cut}'")
                text = cut
        if text != getattr(vc, f.name):
            updates[f.name] = text
    if updates:
        vc = vc.model_copy(update=updates)
    if channel:
        with_disc = apply_disclaimers(vc, guide, channel, kind=kind)
        if with_disc != vc:
            fixes.append(f"added the disclaimers {channel} requires")
            vc = with_disc
    return vc, fixes

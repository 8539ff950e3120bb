"""Word rules: banned terms, preferred terms, exact casing, regex patterns, competitors."""

from __future__ import annotations

from genpersona.brands.guide import CasingRule, PreferredTerm, TermRule
from genpersona.guard.text import TOKEN_RE, is_sentence_start, match_case
from genpersona.guard.validators.base import CheckOptions, FieldText
from genpersona.types.violations import Violation


def banned(f: FieldText, opts: CheckOptions) -> list[Violation]:
    out: list[Violation] = []
    for m in f.cg.banned.find(f.text, f.tokens):
        rule: TermRule = m.payload
        why = f" ({rule.reason})" if rule.reason else ""
        out.append(
            f.violation(
                "banned_term",
                rule.severity,
                f"'{m.text}' is banned by the brand guide{why}",
                m.start,
                m.end,
                suggestion=rule.suggestion or "rephrase without this word",
            )
        )
    for regex, rule in f.cg.banned_regex:
        for rm in regex.finditer(f.text):
            out.append(
                f.violation(
                    "banned_term",
                    rule.severity,
                    f"'{rm.group()}' is banned by the brand guide"
                    + (f" ({rule.reason})" if rule.reason else ""),
                    rm.start(),
                    rm.end(),
                    suggestion=rule.suggestion or "rephrase without this wording",
                )
            )
    return out


def _preferred_replacement(pref: PreferredTerm, wrong: str, variant: str, found: str) -> str | None:
    """Only replace forms we can rewrite exactly: the listed form and its plural."""
    base = " ".join(TOKEN_RE.findall(wrong if pref.case_sensitive else wrong.lower()))
    if variant == base:
        return pref.use if pref.case_sensitive else match_case(found, pref.use)
    single_use = len(pref.use.split()) == 1 and pref.use[-1:].isalpha()
    for suffix in ("s", "es"):
        if variant == base + suffix and single_use:
            return match_case(
                found, pref.use + ("es" if pref.use.endswith(("s", "x", "ch", "sh")) else "s")
            )
    return None


def preferred(f: FieldText, opts: CheckOptions) -> list[Violation]:
    out: list[Violation] = []
    for m in f.cg.preferred.find(f.text, f.tokens):
        pref, wrong = m.payload
        if pref.use.lower().startswith(wrong.lower()) and f.text[m.start :].lower().startswith(
            pref.use.lower()
        ):
            continue  # "a Hispanic person" is the preferred form of "a Hispanic"
        end = m.end
        if wrong.endswith(".") and f.text[end : end + 1] == ".":
            end += 1  # "D.C." -> "DC", not "DC."
        repl = _preferred_replacement(pref, wrong, m.variant, m.text)
        out.append(
            f.violation(
                "preferred_term",
                pref.severity,
                f"write '{pref.use}', not '{f.text[m.start : end]}'"
                + (f" ({pref.reason})" if pref.reason else ""),
                m.start,
                end,
                suggestion=None if repl else f"use '{pref.use}'",
                replacement=repl,
            )
        )
    for regex, pref in f.cg.preferred_regex:
        for rm in regex.finditer(f.text):
            out.append(
                f.violation(
                    "preferred_term",
                    pref.severity,
                    f"write '{pref.use}', not '{rm.group()}'",
                    rm.start(),
                    rm.end(),
                    replacement=match_case(rm.group(), pref.use),
                )
            )
    return out


def casing(f: FieldText, opts: CheckOptions) -> list[Violation]:
    matches = f.cg.casing.find(f.text, f.tokens)
    if not matches:
        return []
    exc = [(m.start, m.end) for m in f.cg.casing_exceptions.find(f.text, f.tokens)]
    out: list[Violation] = []
    for m in matches:
        rule: CasingRule = m.payload
        if m.text == rule.term or any(s <= m.start and m.end <= e for s, e in exc):
            continue
        start_form = rule.term[:1].upper() + rule.term[1:]
        at_start = is_sentence_start(f.text, m.start)
        if rule.allow_sentence_start and at_start and m.text == start_form:
            continue
        want = start_form if at_start and rule.allow_sentence_start else rule.term
        out.append(
            f.violation(
                "casing",
                rule.severity,
                f"write '{rule.term}' exactly so, not '{m.text}'",
                m.start,
                m.end,
                replacement=want,
            )
        )
    return out


def patterns(f: FieldText, opts: CheckOptions) -> list[Violation]:
    out: list[Violation] = []
    for regex, rule in f.cg.patterns:
        for m in regex.finditer(f.text):
            repl = m.expand(rule.replacement) if rule.replacement is not None else None
            out.append(
                f.violation(
                    f"pattern.{rule.id}",
                    rule.severity,
                    rule.message,
                    m.start(),
                    m.end(),
                    replacement=repl,
                )
            )
    return out


def competitors(f: FieldText, opts: CheckOptions) -> list[Violation]:
    if f.cg.competitors is None:
        return []
    return [
        f.violation(
            "competitor",
            "block",
            f"mentions a competitor: '{m.group()}'",
            m.start(),
            m.end(),
            suggestion="talk about our own products; never name competitors",
        )
        for m in f.cg.competitors.finditer(f.text)
    ]

"""Everything a check needs from a guide, compiled once and cached on the guide.

Building matchers takes a few milliseconds; a check must take well under one,
so the compiled form is stored on the (immutable) guide object on first use.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from genpersona.brands.guide import BrandGuide, Claim, PatternRule, PreferredTerm, TermRule
from genpersona.guard.lexicons import GB_TO_US, INNOCENT, SENSITIVE, US_TO_GB
from genpersona.guard.text import TOKEN_RE, PhraseMatcher, normalize

WORD_L = r"(?<![^\W_])"
WORD_R = r"(?![^\W_])"


def phrase_regex(phrase: str, *, flags: int = re.IGNORECASE) -> re.Pattern[str]:
    """Exact wording, flexible whitespace, whole words at both ends."""
    chunks = normalize(phrase).strip().rstrip(".").split()
    body = r"\s+".join(re.escape(c) for c in chunks)
    left = WORD_L if TOKEN_RE.match(chunks[0][:1] or " ") else ""
    right = WORD_R if chunks[-1][-1:].isalnum() else ""
    return re.compile(left + body + right, flags)


@dataclass
class CompiledGuide:
    banned: PhraseMatcher = field(default_factory=PhraseMatcher)
    banned_regex: list[tuple[re.Pattern[str], TermRule]] = field(default_factory=list)
    preferred: PhraseMatcher = field(default_factory=PhraseMatcher)
    preferred_regex: list[tuple[re.Pattern[str], PreferredTerm]] = field(default_factory=list)
    casing: PhraseMatcher = field(default_factory=PhraseMatcher)
    casing_exceptions: PhraseMatcher = field(default_factory=PhraseMatcher)
    patterns: list[tuple[re.Pattern[str], PatternRule]] = field(default_factory=list)
    competitors: re.Pattern[str] | None = None
    claim_triggers: PhraseMatcher = field(default_factory=PhraseMatcher)
    claim_innocent: PhraseMatcher = field(default_factory=PhraseMatcher)
    claims: list[tuple[re.Pattern[str], Claim]] = field(default_factory=list)
    disclaimers: dict[str, list[str]] = field(default_factory=dict)
    disclaimer_regex: re.Pattern[str] | None = None
    sensitive: PhraseMatcher = field(default_factory=PhraseMatcher)
    sensitive_innocent: PhraseMatcher = field(default_factory=PhraseMatcher)
    spelling: dict[str, str] = field(default_factory=dict)
    ize_rule: bool = False
    spelling_exceptions: set[str] = field(default_factory=set)
    allowed_caps: set[str] = field(default_factory=set)
    allowed_contacts: set[str] = field(default_factory=set)
    allowed_contact_digits: set[str] = field(default_factory=set)


def compiled(guide: BrandGuide) -> CompiledGuide:
    cg = guide._compiled
    if cg is None:
        cg = _build(guide)
        guide._compiled = cg
    return cg


def _build(g: BrandGuide) -> CompiledGuide:
    cg = CompiledGuide()
    for rule in g.banned_terms:
        if rule.term:
            cg.banned.add(rule.term, rule, inflect=True, case_sensitive=rule.case_sensitive)
        else:
            flags = 0 if rule.case_sensitive else re.IGNORECASE
            cg.banned_regex.append((re.compile(rule.pattern or "", flags), rule))
    for pref in g.preferred_terms:
        for wrong in pref.instead_of:
            cg.preferred.add(wrong, (pref, wrong), inflect=True, case_sensitive=pref.case_sensitive)
        for pat in pref.patterns:
            flags = 0 if pref.case_sensitive else re.IGNORECASE
            cg.preferred_regex.append((re.compile(pat, flags), pref))
    for casing in g.casing:
        cg.casing.add(casing.term, casing)
        cg.casing_exceptions.add_all(casing.exceptions, casing)
    cg.patterns = [(re.compile(p.pattern), p) for p in g.patterns]
    if g.competitors:
        alts = sorted(
            (re.escape(normalize(c)).replace(r"\ ", r"[\s\-]+") for c in g.competitors),
            key=len,
            reverse=True,
        )
        cg.competitors = re.compile(
            WORD_L + "(?:" + "|".join(alts) + r")(?:'s)?" + WORD_R, re.IGNORECASE
        )
    policy = g.claims
    cg.claim_triggers.add_all([*policy.triggers, *policy.extra_triggers], "trigger", inflect=True)
    cg.claim_innocent.add_all(
        [*policy.innocent_phrases, *policy.extra_innocent_phrases], "innocent"
    )
    for claim in policy.registry:
        for wording in claim.wordings:
            cg.claims.append((phrase_regex(wording), claim))
    cg.disclaimers = {ch: list(lines) for ch, lines in g.disclaimers.items()}
    all_disc = [d for lines in g.disclaimers.values() for d in lines]
    if all_disc:
        cg.disclaimer_regex = re.compile(
            "|".join(f"(?:{phrase_regex(d).pattern})" for d in all_disc), re.IGNORECASE
        )
    for cat in g.sensitive.categories:
        for term in [*SENSITIVE.get(cat, []), *g.sensitive.extra_terms.get(cat, [])]:
            single = len(TOKEN_RE.findall(term)) == 1
            cg.sensitive.add(term, cat, inflect=single)
    cg.sensitive_innocent.add_all([*INNOCENT, *g.sensitive.allowed_phrases], "innocent")
    exceptions = {w.lower() for w in g.spelling.exceptions}
    table = US_TO_GB if g.locale == "en-GB" else GB_TO_US
    cg.spelling = {k: v for k, v in table.items() if k not in exceptions}
    cg.ize_rule = g.locale == "en-GB"
    cg.spelling_exceptions = exceptions
    caps = set(g.style.allowed_caps)
    for s in g.style_by_kind.values():
        caps |= set(s.allowed_caps)
    sources = [g.name, *g.competitors, *(w for _, c in cg.claims for w in c.wordings), *all_disc]
    for text in sources:
        caps |= {t for t in TOKEN_RE.findall(text) if t.isupper() and len(t) > 1}
    cg.allowed_caps = caps
    cg.allowed_contacts = {c.lower() for c in g.leakage.allowed_contacts}
    cg.allowed_contact_digits = {
        re.sub(r"\D", "", c)
        for c in g.leakage.allowed_contacts
        if sum(ch.isdigit() for ch in c) >= 7
    }
    return cg

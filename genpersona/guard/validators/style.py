"""Shouting limits (ALL-CAPS words, exclamation marks, emoji) and locale spelling."""

from __future__ import annotations

import re

from genpersona.guard.lexicons import IZE_EXCEPTIONS
from genpersona.guard.text import match_case
from genpersona.guard.validators.base import CheckOptions, FieldText
from genpersona.types.violations import Violation

_EMOJI_CORE = (
    "\U0001f1e6-\U0001f1ff\U0001f300-\U0001f5ff\U0001f600-\U0001f64f\U0001f680-\U0001f6ff"
    "\U0001f900-\U0001f9ff\U0001fa70-\U0001faff\u2600-\u26ff\u2700-\u27bf\u2b50\u2b55"
    "\u231a\u231b\u23e9-\u23f3\u23f8-\u23fa"
)
EMOJI_RE = re.compile(
    rf"[\U0001f1e6-\U0001f1ff]{{2}}"  # a flag is one emoji made of two letters
    rf"|[{_EMOJI_CORE}][\ufe0f\U0001f3fb-\U0001f3ff]*(?:\u200d[{_EMOJI_CORE}][\ufe0f]*)*"
)
_IZE_RE = re.compile(r"(?:iz|yz)(e|es|ed|ing|er|ers|ation|ations)$")


def caps(f: FieldText, opts: CheckOptions) -> list[Violation]:
    limit = f.guide.style_for(opts.kind).max_caps_words
    words = [
        t
        for t in f.tokens
        if len(t.text) > 1
        and t.text.replace("'", "").isalpha()
        and t.text.isupper()
        and t.text not in f.cg.allowed_caps
    ]
    if len(words) <= limit:
        return []
    return [
        f.violation(
            "style.caps",
            "block",
            f"{len(words)} ALL-CAPS words (the guide allows {limit}): '{t.text}'",
            t.start,
            t.end,
            replacement=t.text.capitalize(),
        )
        for t in words[limit:]
    ]


def exclamations(f: FieldText, opts: CheckOptions) -> list[Violation]:
    limit = f.guide.style_for(opts.kind).max_exclamations
    positions = [i for i, ch in enumerate(f.text) if ch == "!"]
    if len(positions) <= limit:
        return []
    out: list[Violation] = []
    kept = 0
    for i in positions:
        in_run = i > 0 and f.text[i - 1] in "!?"
        if not in_run and kept < limit:
            kept += 1
            continue
        out.append(
            f.violation(
                "style.exclamation",
                "block",
                f"{len(positions)} exclamation marks (the guide allows {limit})",
                i,
                i + 1,
                suggestion="drop the extra '!'" if in_run else "use a full stop",
                replacement="" if in_run else ".",
            )
        )
    return out


def emoji(f: FieldText, opts: CheckOptions) -> list[Violation]:
    limit = f.guide.style_for(opts.kind).max_emoji
    found = list(EMOJI_RE.finditer(f.text))
    if len(found) <= limit:
        return []
    return [
        f.violation(
            "style.emoji",
            "block",
            f"{len(found)} emoji (the guide allows {limit}): '{m.group()}'",
            m.start(),
            m.end(),
            suggestion="remove the emoji",
            replacement="",
        )
        for m in found[limit:]
    ]


def spelling(f: FieldText, opts: CheckOptions) -> list[Violation]:
    table, exceptions = f.cg.spelling, f.cg.spelling_exceptions
    severity = f.guide.spelling.severity
    locale = f.guide.locale
    out: list[Violation] = []
    for t in f.tokens:
        low = t.lower
        right = table.get(low)
        if right is None and f.cg.ize_rule and len(low) > 5 and low not in IZE_EXCEPTIONS:
            m = _IZE_RE.search(low)
            if m:
                stem = low[: m.start()]
                right = stem + ("is" if m.group().startswith("iz") else "ys") + m.group(1)
        if right is None or low in exceptions:
            continue
        out.append(
            f.violation(
                "spelling.locale",
                severity,
                f"'{t.text}' is not {locale} spelling",
                t.start,
                t.end,
                replacement=match_case(t.text, right),
            )
        )
    return out

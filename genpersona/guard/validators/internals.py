"""Internals: the prompt's fixed text, repair notes, rule ids and template syntax stay inside.

A small model that cannot answer tends to continue its prompt: it repeats the
template ("(no fact found: offer to pass the question to a colleague)"), the
re-ask note it was given, or a rule id it saw there ("[length.too_short]").
Placeholders like ``{first_name}`` are the ``leak.placeholder`` rule's job; this
module catches the rest. The template's fixed sentences arrive as
``CheckOptions.prompt_static`` (the agent reads them from the template files), so
an edited template is covered without editing this list.
"""

from __future__ import annotations

import re
from functools import lru_cache

from genpersona.guard.validators.base import CheckOptions, FieldText
from genpersona.guard.validators.injection import words
from genpersona.types.violations import Violation

#: rule families whose ids the guard reports (kept in sync by a test with the registry)
RULE_PREFIXES = (
    "banned_term", "preferred_term", "casing", "pattern", "competitor", "claim", "length",
    "style", "spelling", "creepy", "sensitive", "leak", "output", "disclaimer", "harmful",
    "injection", "internal", "link", "support",
)  # fmt: skip
RULE_ID_RE = re.compile(
    r"\[\s*(?:" + "|".join(RULE_PREFIXES) + r")(?:\.[a-z_]+)*\s*\]"
    r"|(?<![\w/])(?:" + "|".join(RULE_PREFIXES) + r")\.[a-z]+(?:_[a-z]+)+(?![\w])"
    r"|\[(?:message|notes?|system|user|assistant)\]",
    re.IGNORECASE,
)
NOTE_RE = re.compile(
    r"(?<![\w])fix\s*:|(?:your )?previous (?:draft|answer|attempt) (?:broke|had|was)"
    r"|the last try\b|(?:previous|last) try needs|please correct|rewrite (?:it|the answer) so|<<<\s*\w+\s*>>>|</?\s*(?:message|notes)\s*>"
    r"|no (?:shop )?fact (?:found|matches)|shop facts\s*:",
    re.IGNORECASE,
)
#: consecutive words shared with a fixed prompt sentence that count as a leak
SHINGLE = 5


def _shingles(tokens: list[str], n: int) -> set[tuple[str, ...]]:
    return {tuple(tokens[i : i + n]) for i in range(len(tokens) - n + 1)}


@lru_cache(maxsize=64)
def _static_shingles(lines: tuple[str, ...]) -> frozenset[tuple[str, ...]]:
    """Every shingle of the template's fixed sentences, made once per template (a
    campaign checks thousands of fields against the same few sentences)."""
    return frozenset(s for line in lines for s in _shingles(words(line), SHINGLE))


def internals(f: FieldText, opts: CheckOptions) -> list[Violation]:
    out: list[Violation] = []
    for m in RULE_ID_RE.finditer(f.text):
        out.append(
            f.violation(
                "internal.rule_id",
                "block",
                "contains an internal rule name",
                m.start(),
                m.end(),
                suggestion="write only what the customer should read",
            )  # fmt: skip
        )
    for m in NOTE_RE.finditer(f.text):
        out.append(
            f.violation(
                "internal.note",
                "block",
                "contains instructions meant for the writer",
                m.start(),
                m.end(),
                suggestion="write only what the customer should read",
            )  # fmt: skip
        )
    said = _shingles(words(f.text), SHINGLE) if opts.prompt_static else set()
    if said & _static_shingles(tuple(opts.prompt_static)):
        out.append(
            f.violation(
                "internal.prompt_text",
                "block",
                "repeats the instructions it was given",
                suggestion="write only what the customer should read",
            )
        )
    return out

"""The creepy line: no sensitive traits, no facts the customer did not knowingly share.

A hit is dropped when it sits inside an innocent phrase ("heart-shaped",
"retail therapy") or when the customer told us that fact themselves
(``shared_facts``, matched on word stems so "pregnant" covers "pregnancy").
"""

from __future__ import annotations

from genpersona.guard.text import TOKEN_RE
from genpersona.guard.validators.base import CheckOptions, FieldText
from genpersona.types.violations import Violation

_FUNCTION_WORDS = {"your", "you", "you're", "we", "we've", "are", "at", "in", "the", "a", "of"}
_MESSAGES = {
    "surveillance": "alludes to tracking the customer (something they did not knowingly share)",
}


def _stems(text: str) -> set[str]:
    return {t.lower()[:5] for t in TOKEN_RE.findall(text) if t.lower() not in _FUNCTION_WORDS}


def creepy(f: FieldText, opts: CheckOptions) -> list[Violation]:
    hits = f.cg.sensitive.find(f.text, f.tokens)
    if not hits:
        return []
    innocent = [
        (m.start, m.end) for m in f.cg.sensitive_innocent.find(f.text, f.tokens, overlapping=True)
    ]
    shared = _stems(" ".join(opts.shared_facts)) if opts.shared_facts else set()
    severity = f.guide.sensitive.severity
    out: list[Violation] = []
    for m in hits:
        if any(s <= m.start and m.end <= e for s, e in innocent):
            continue
        stems = _stems(m.text)
        if shared and stems and stems <= shared:
            continue
        category = m.payload
        out.append(
            f.violation(
                f"creepy.{category}",
                severity,
                f"'{m.text}' "
                + _MESSAGES.get(
                    category, f"touches a sensitive topic ({category.replace('_', ' ')})"
                ),
                m.start,
                m.end,
                suggestion="remove it; personalise only with what the customer chose to share",
            )
        )
    return out

"""Length limits per content kind (and per secondary field), in characters and words.

Disclaimer text the pipeline appended does not count: the limit is on the copy.
"""

from __future__ import annotations

from genpersona.brands.guide import LengthLimit
from genpersona.guard.validators.base import CheckOptions, FieldText
from genpersona.types.violations import Violation

FIELD_KIND = {"subject": "subject_line", "headline": "hero", "answer": "chat_answer"}


def limit_for_field(f: FieldText) -> LengthLimit | None:
    kind = FIELD_KIND.get(f.name)
    if kind is not None:
        return f.guide.limits.get(kind)  # type: ignore[call-overload]
    return f.guide.field_limits.get(f.name)  # type: ignore[call-overload]


def copy_text(f: FieldText) -> str:
    """The field without any disclaimer text in it."""
    if not f.protected:
        return f.text.strip()
    parts, pos = [], 0
    for s, e in sorted(f.protected):
        parts.append(f.text[pos:s])
        pos = max(pos, e)
    parts.append(f.text[pos:])
    return " ".join(" ".join(parts).split())


def length(f: FieldText, opts: CheckOptions) -> list[Violation]:
    limit = limit_for_field(f)
    if limit is None:
        return []
    copy = copy_text(f)
    chars, words = len(copy), len(copy.split())
    out: list[Violation] = []
    label = f"{f.name} ({FIELD_KIND.get(f.name, f.name)})"
    if limit.max_chars is not None and chars > limit.max_chars:
        out.append(
            f.violation(
                "length.max_chars",
                "block",
                f"{label} is {chars} characters; the limit is {limit.max_chars}",
                suggestion=f"cut it to at most {limit.max_chars} characters",
            )
        )
    if limit.max_words is not None and words > limit.max_words:
        out.append(
            f.violation(
                "length.max_words",
                "block",
                f"{label} is {words} words; the limit is {limit.max_words}",
                suggestion=f"cut it to at most {limit.max_words} words",
            )
        )
    if chars < limit.min_chars or words < limit.min_words:
        out.append(
            f.violation(
                "length.too_short",
                "block",
                f"{label} is too short ({words} words, {chars} characters)",
                suggestion=f"write at least {limit.min_words} words / {limit.min_chars} characters",
            )
        )
    return out

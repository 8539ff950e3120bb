"""Support: a chat answer says only what the retrieved passages say.

Runs when the caller passes the passages the answer was grounded on (chat). Each
sentence of the answer must draw most of its content words from the passages,
and every number, price and e-mail address in it must appear there verbatim; a
short courtesy ("Good question!") and the brand's own handoff or fallback lines
are always fine. Lexical on purpose: fast, explainable, and strict enough that a
capable model paraphrasing the FAQ passes while an invented delivery time does not.
"""

from __future__ import annotations

import re

from genpersona.guard.validators.base import CheckOptions, FieldText
from genpersona.guard.validators.harmful import sentences
from genpersona.guard.validators.injection import words
from genpersona.types.violations import Violation

_STOP = set(
    ["a", "an", "the", "and", "or", "but", "if", "so", "to", "of", "in", "on", "at", "for", "with", "by", "from", "as", "is", "are", "was", "were", "be", "been", "it", "its", "this", "that", "these", "those", "you", "your", "yours", "we", "our", "us", "i", "me", "my", "they", "them", "their", "he", "she", "his", "her", "there", "here", "can", "could", "will", "would", "should", "may", "might", "do", "does", "did", "have", "has", "had", "not", "no", "yes", "just", "also", "very", "really", "all", "any", "some", "each", "more", "most", "about", "into", "than", "then", "too", "up", "out", "over", "only", "own", "same", "what", "which", "who", "when", "where", "why", "how", "please", "thanks", "thank", "hi", "hello", "sure", "of", "course"]
)
_FACT_RE = re.compile(r"[£$€]\s?\d[\d,.]*|\d[\d,.]*%?|[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
#: share of a sentence's content words that must appear in the passages
MIN_COVERAGE = 0.6


def _stem(word: str) -> str:
    for suffix in ("ing", "ed", "es", "s", "ly"):
        if len(word) > len(suffix) + 3 and word.endswith(suffix):
            return word[: -len(suffix)]
    return word


def content_words(text: str) -> list[str]:
    return [_stem(w) for w in words(text) if w not in _STOP and len(w) > 1]


def support(f: FieldText, opts: CheckOptions) -> list[Violation]:
    if opts.passages is None or opts.kind != "chat_answer":
        return []
    approved = " ".join(
        [f.guide.handoff_line, f.guide.decline_line, *f.guide.fallbacks.get("chat_answer", [])]
    )
    source = " ".join([*opts.passages, approved])
    vocab = set(content_words(source))
    facts = {m.group().rstrip(".,").replace(" ", "") for m in _FACT_RE.finditer(source)}
    out: list[Violation] = []
    for s, e, sentence in sentences(f.text):
        missing = [
            m.group().rstrip(".,").replace(" ", "")
            for m in _FACT_RE.finditer(sentence)
            if m.group().rstrip(".,").replace(" ", "") not in facts
        ]
        cw = content_words(sentence)
        coverage = sum(w in vocab for w in cw) / len(cw) if cw else 1.0
        if missing or (len(cw) > 3 and coverage < MIN_COVERAGE):
            what = f"states {', '.join(missing)}" if missing else "says things"
            out.append(
                f.violation(
                    "support.unsupported",
                    "block",
                    f"{what} the shop's facts do not support",
                    s,
                    e,
                    suggestion="say only what the shop's facts say, or offer to pass it on",
                )
            )
    return out
